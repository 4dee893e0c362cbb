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


@tagged("post_install", "-at_install")
class TestCampaignTour(WhatsappCase, HttpCase):
    def test_manager_builds_a_segment_and_launches_a_campaign(self):
        self.account.sequence = -1  # the account the campaign form proposes
        self.marketing_template("tour_promo", body="Oi {{1}}!")
        tag = self.env["res.partner.category"].create({"name": "TourVIP"})
        partners = self.make_customer("Tour Ana", "+55 11 96000-0001") | self.make_customer(
            "Tour Bia", "+55 11 96000-0002"
        )
        partners.category_id = tag
        self.opt_in(partners)
        self.start_tour(
            "/odoo/action-whatsapp_helpdesk.whatsapp_segment_action",
            "whatsapp_helpdesk_campaign_tour",
            login="admin",
        )
        campaign = self.env["whatsapp.campaign"].search([("name", "=", "Tour promo")])
        self.assertEqual(campaign.state, "running")
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(
            sorted(campaign.whatsapp_message_ids.mapped("body")),
            ["Oi Tour Ana!", "Oi Tour Bia!"],
        )
