from odoo.tests import HttpCase, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestInboxTour(WhatsappCase, HttpCase):
    def test_agent_claims_and_replies_from_the_inbox(self):
        wa_id = "5511966660000"
        self.env["res.partner"].create({"name": "Tour Customer", "mobile": f"+{wa_id}"})
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "Preciso de ajuda")))
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])
        self.assertFalse(conversation.user_id)
        self.start_tour(
            "/odoo/action-whatsapp_helpdesk.whatsapp_conversation_action",
            "whatsapp_helpdesk_inbox_tour",
            login="admin",
        )
        self.assertEqual(conversation.user_id, self.env.ref("base.user_admin"))
        reply = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(reply.body, "Olá! Posso ajudar?")
        self.assertEqual(reply.state, "queued")
