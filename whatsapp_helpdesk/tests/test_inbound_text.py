"""Issue 8, section 4, finding 4: what a customer writes stays text wherever Odoo shows it."""

from odoo.tests import TransactionCase, tagged

from ..tools import payloads
from .common import WhatsappCase

HOSTILE = "Chegou quebrado <img src=x onerror=alert(1)> <b>urgente</b> & rápido"


@tagged("post_install", "-at_install")
class TestInboundTextIsNeverMarkup(WhatsappCase, TransactionCase):
    def assert_escaped(self, html, where):
        html = str(html)
        self.assertNotIn("<img", html, where)
        self.assertNotIn("<b>", html, where)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", html, where)
        self.assertIn("&lt;b&gt;urgente&lt;/b&gt;", html, where)

    def customer_writes(self, text):
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, text)))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", self.customer_wa_id)])

    def test_ticket_opened_by_keyword_or_by_hand(self):
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Support", "whatsapp_enabled": True, "whatsapp_ticket_keywords": "quebrado"}
        )
        conversation = self.customer_writes(HOSTILE)
        self.assertEqual(conversation.team_id, team)
        ticket = conversation.ticket_ids
        self.assertEqual(len(ticket), 1)
        self.assert_escaped(ticket.description, "ticket opened by keyword")
        self.assertEqual(ticket.name, HOSTILE, "a plain-text name, shown escaped")
        action = conversation.action_create_ticket()
        by_hand = self.env["helpdesk.ticket"].browse(action["res_id"])
        self.assert_escaped(by_hand.description, "ticket opened by hand")

    def test_conversation_thread_and_order_chatter(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        conversation = self.customer_writes(f"{HOSTILE} pedido {order.name}")
        inbound = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "in")
        self.assert_escaped(inbound.mail_message_id.body, "conversation thread")
        self.assertEqual(conversation.sale_order_ids, order)
        note = order.message_ids.filtered(lambda m: "WhatsApp from" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assert_escaped(note.body, "note on the sales order")
