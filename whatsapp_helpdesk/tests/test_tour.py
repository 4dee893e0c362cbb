import threading
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from ..tools import payloads
from .common import LiveTourCase, WhatsappCase


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
class TestCampaignTour(LiveTourCase, HttpCase):
    def test_manager_builds_a_segment_and_launches_a_campaign(self):
        self.account.sequence = -1  # the account the campaign form proposes
        self.marketing_template("tour_promo", body="Oi {{1}}!")
        tag = self.env["res.partner.category"].create({"name": "TourVIP"})
        partners = self.make_customer("Tour Ana", "+55 11 96000-0001") | self.make_customer(
            "Tour Bia", "+55 11 96000-0002"
        )
        partners.category_id = tag
        self.opt_in(partners)

        # Meta's side acts once the browser has shown the running campaign (at 0 %): the form's
        # next read is its own poll, a few seconds later, not a reload
        shown_running = threading.Event()
        Campaign = type(self.env["whatsapp.campaign"])
        web_read = Campaign.web_read

        def web_read_and_tell(records, *args, **kwargs):
            result = web_read(records, *args, **kwargs)
            if any(values.get("state") == "running" for values in result):
                shown_running.set()
            return result

        self.startPatcher(patch.object(Campaign, "web_read", web_read_and_tell))

        def launched(env):
            return shown_running.is_set()

        def released_and_sent(env):
            # the crons' work while the manager watches the open form (no reload)
            Campaign = env["whatsapp.campaign"]
            Campaign._cron_release()
            with self.mock_cloud_api(self.sent_answers()):
                env["whatsapp.message"]._cron_send()
            Campaign._cron_release()  # nothing left: the campaign is done

        with self.while_touring((launched, released_and_sent)):
            self.start_tour(
                "/odoo/action-whatsapp_helpdesk.whatsapp_segment_action",
                "whatsapp_helpdesk_campaign_tour",
                login="admin",
            )
        campaign = self.env["whatsapp.campaign"].search([("name", "=", "Tour promo")])
        self.assertEqual(campaign.state, "done")
        self.assertEqual(
            sorted(campaign.whatsapp_message_ids.mapped("body")),
            ["Oi Tour Ana!", "Oi Tour Bia!"],
        )
        self.assertEqual(set(campaign.whatsapp_message_ids.mapped("state")), {"sent"})
