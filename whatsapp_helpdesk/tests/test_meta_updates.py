"""What Meta really sends: username senders, account and phone number changes, webhook-level
errors, template rejection details and category notices, reactions, unsupported edits."""

from odoo.tests import Form, TransactionCase, tagged

from ..tools import payloads
from .common import DISPLAY_NUMBER, PHONE_NUMBER_ID, WABA_ID, WhatsappCase

BSUID = "BR.1502576394655843"


@tagged("post_install", "-at_install")
class TestMetaUpdates(WhatsappCase, TransactionCase):
    def account_change(self, field, value, time=1750000000):
        return payloads.envelope(WABA_ID, [{"field": field, "value": value}], time=time)

    def username_message(self, text, wamid=None, with_number=False):
        message = payloads.text_message("", text, wamid=wamid)
        message.pop("from")
        message["from_user_id"] = BSUID
        contact = {"user_id": BSUID, "profile": {"name": "Jane", "username": "@jane.s"}}
        if with_number:
            message["from"] = contact["wa_id"] = "5511977776666"
        change = payloads.messages_change(
            PHONE_NUMBER_ID, DISPLAY_NUMBER, contacts=[contact], messages=[message]
        )
        return payloads.envelope(WABA_ID, [change])

    # -- username senders ----------------------------------------------------------------

    def test_a_username_sender_gets_a_conversation_and_replies_go_to_the_user_id(self):
        self.deliver(self.username_message("Oi, sem número"))
        conversation = self.env["whatsapp.conversation"].search([("wa_user_id", "=", BSUID)])
        self.assertEqual(len(conversation), 1)
        self.assertRecordValues(
            conversation,
            [
                {
                    "phone_e164": False,
                    "wa_id": False,
                    "wa_username": "@jane.s",
                    "profile_name": "Jane",
                }
            ],
        )
        self.assertEqual(conversation.partner_id.name, "Jane")
        self.assertTrue(conversation.window_open)
        self.assertIn("@jane.s", conversation.name)
        self.deliver(self.username_message("de novo"))
        self.assertEqual(len(conversation.whatsapp_message_ids), 2, "one conversation per user id")
        with self.mock_cloud_api(self.sent_answer("wamid.TOUSER")) as calls:
            message = conversation._send_text("Olá Jane")
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        body = calls[0][2]["json"]
        self.assertEqual(body["recipient"], BSUID)
        self.assertNotIn("to", body)

    def test_the_number_shared_later_joins_the_same_conversation(self):
        self.deliver(self.username_message("first"))
        conversation = self.env["whatsapp.conversation"].search([("wa_user_id", "=", BSUID)])
        self.deliver(self.username_message("now with my number", with_number=True))
        self.assertEqual(conversation.phone_e164, "+5511977776666")
        self.assertEqual(conversation.wa_id, "5511977776666")
        self.assertEqual(len(conversation.whatsapp_message_ids), 2)
        self.assertEqual(
            self.env["whatsapp.conversation"].search_count([("account_id", "=", self.account.id)]),
            1,
        )

    def test_a_known_number_learns_its_user_id(self):
        conversation = self.open_window()
        message = payloads.text_message(self.customer_wa_id, "with id")
        message["from_user_id"] = BSUID
        contact = {"wa_id": self.customer_wa_id, "user_id": BSUID, "profile": {"name": "Ana"}}
        change = payloads.messages_change(
            PHONE_NUMBER_ID, DISPLAY_NUMBER, contacts=[contact], messages=[message]
        )
        self.deliver(payloads.envelope(WABA_ID, [change]))
        self.assertEqual(conversation.wa_user_id, BSUID)
        self.deliver(self.username_message("hidden number now"))
        self.assertEqual(
            len(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "in")), 3
        )

    # -- account and phone number changes ------------------------------------------------

    def test_a_ban_is_shown_on_the_account_and_managers_are_told(self):
        manager = self.env["res.users"].create(
            {
                "name": "WA Manager",
                "login": "wa_manager_ban",
                "groups_id": [(4, self.env.ref("whatsapp_helpdesk.group_whatsapp_manager").id)],
            }
        )
        self.deliver(
            self.account_change(
                "account_update",
                {
                    "event": "DISABLED_UPDATE",
                    "ban_info": {"waba_ban_state": ["DISABLE"], "waba_ban_date": "2026-12-01"},
                },
            )
        )
        self.assertEqual(self.account.meta_state, "banned")
        notice = self.account.message_ids.filtered(lambda m: "DISABLED_UPDATE" in (m.body or ""))
        self.assertTrue(notice)
        self.assertIn(manager.partner_id, notice.notification_ids.res_partner_id)
        event = self.env["whatsapp.webhook.event"].search([("kind", "=", "account")], limit=1)
        self.assertEqual((event.state, event.account_id), ("done", self.account))

    def test_restrictions_and_their_lifting(self):
        self.deliver(
            self.account_change(
                "account_update",
                {
                    "event": "ACCOUNT_RESTRICTION",
                    "restriction_info": [
                        {
                            "restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                            "expiration": "2026-12-07",
                        }
                    ],
                },
            )
        )
        self.assertEqual(self.account.meta_state, "restricted")
        self.assertIn("RESTRICTED_BIZ_INITIATED_MESSAGING", self.account.restrictions)
        self.deliver(
            self.account_change(
                "account_update",
                {"event": "ACCOUNT_RESTRICTION", "restriction_info": []},
                time=1750000500,
            )
        )
        self.assertEqual(self.account.meta_state, "active")
        self.assertFalse(self.account.restrictions)

    def test_violation_is_recorded(self):
        self.deliver(
            self.account_change(
                "account_update",
                {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}},
            )
        )
        self.assertEqual(self.account.last_violation, "SCAM")
        self.assertTrue(self.account.last_violation_at)

    def test_quality_and_messaging_limit_tiers(self):
        self.deliver(
            self.account_change(
                "phone_number_quality_update",
                {
                    "display_phone_number": DISPLAY_NUMBER,
                    "event": "UPGRADE",
                    "current_limit": "TIER_10K",
                },
            )
        )
        self.assertEqual(self.account.messaging_limit, "10000")
        self.deliver(
            self.account_change(
                "phone_number_quality_update",
                {"display_phone_number": DISPLAY_NUMBER, "event": "FLAGGED"},
                time=1750000100,
            )
        )
        self.assertEqual((self.account.meta_state, self.account.quality_rating), ("flagged", "red"))
        self.deliver(
            self.account_change(
                "phone_number_quality_update",
                {"display_phone_number": DISPLAY_NUMBER, "event": "UNFLAGGED"},
                time=1750000200,
            )
        )
        self.assertEqual(self.account.meta_state, "active")

    def test_display_name_decision(self):
        self.deliver(
            self.account_change(
                "phone_number_name_update",
                {
                    "display_phone_number": DISPLAY_NUMBER,
                    "decision": "APPROVED",
                    "requested_verified_name": "Loja Exemplo",
                },
            )
        )
        self.assertEqual(self.account.verified_name, "Loja Exemplo")

    def test_a_redelivered_account_change_is_applied_once(self):
        change = self.account_change("account_update", {"event": "ACCOUNT_VIOLATION"})
        self.assertEqual(self.deliver(change), (1, 0))
        self.assertEqual(self.deliver(change), (0, 1))

    def test_webhook_level_errors_are_kept_with_their_account(self):
        change = payloads.messages_change(PHONE_NUMBER_ID, DISPLAY_NUMBER)
        change["value"]["errors"] = [{"code": 130429, "title": "Rate limit hit"}]
        self.deliver(payloads.envelope(WABA_ID, [change], time=1750000000))
        event = self.env["whatsapp.webhook.event"].search([("kind", "=", "error")])
        self.assertEqual((event.account_id, event.state), (self.account, "done"))
        self.assertIn("130429", self.account.last_webhook_error)
        self.assertIn(
            event,
            self.env["whatsapp.webhook.event"].search(
                self.account.action_open_webhook_issues()["domain"]
            ),
        )
        self.assertEqual(self.account.webhook_issue_count, 1)

    def test_the_account_form_shows_what_meta_says(self):
        self.account.meta_state = "restricted"
        form = Form(self.account)
        self.assertEqual(form.meta_state, "restricted")
        self.assertEqual(form.messaging_limit, "250")

    # -- templates ------------------------------------------------------------------------

    def template(self):
        return self.env["whatsapp.template"].create(
            {
                "name": "promo_week",
                "language": "en_US",
                "category": "UTILITY",
                "body": "Hello, this week only: free shipping on every order.",
                "account_id": self.account.id,
                "meta_template_id": "7001",
            }
        )

    def test_rejection_info_is_kept_on_the_template(self):
        template = self.template()
        value = {
            "event": "REJECTED",
            "message_template_id": 7001,
            "message_template_name": "promo_week",
            "message_template_language": "en_US",
            "message_template_category": "MARKETING",
            "reason": "INCORRECT_CATEGORY",
            "rejection_info": {
                "reason": "The content is promotional",
                "recommendation": "Submit it as a marketing template",
            },
        }
        self.deliver(self.account_change("message_template_status_update", value))
        self.assertRecordValues(
            template,
            [
                {
                    "status": "rejected",
                    "rejected_reason": "The content is promotional",
                    "rejection_recommendation": "Submit it as a marketing template",
                    "category": "MARKETING",
                }
            ],
        )

    def test_a_category_notice_is_not_a_change_yet(self):
        template = self.template()
        notice = {
            "message_template_id": 7001,
            "message_template_name": "promo_week",
            "message_template_language": "en_US",
            "correct_category": "MARKETING",
            "category_update_timestamp": 1767225600,
        }
        self.deliver(self.account_change("template_category_update", notice))
        self.assertEqual(template.category, "UTILITY", "nothing changed yet")
        self.assertEqual(template.pending_category, "MARKETING")
        self.assertEqual(str(template.pending_category_at), "2026-01-01 00:00:00")
        change = {
            "message_template_id": 7001,
            "previous_category": "UTILITY",
            "new_category": "MARKETING",
        }
        self.deliver(self.account_change("template_category_update", change, time=1767225601))
        self.assertEqual((template.category, template.pending_category), ("MARKETING", False))

    # -- inbound details -------------------------------------------------------------------

    def test_a_reaction_shows_on_the_message_it_reacts_to(self):
        conversation = self.open_window()
        with self.mock_cloud_api(self.sent_answer("wamid.OURS")):
            ours = conversation._send_text("Your order shipped")
            self.env["whatsapp.message"]._cron_send()
        self.deliver(
            self.inbound(None, payloads.reaction_message(self.customer_wa_id, "wamid.OURS", "❤️"))
        )
        self.assertEqual(ours.customer_reaction, "❤️")
        reaction = conversation.whatsapp_message_ids.filtered(
            lambda m: m.message_type == "reaction"
        )
        self.assertEqual(reaction.reply_to_wamid, "wamid.OURS")
        self.deliver(
            self.inbound(None, payloads.reaction_message(self.customer_wa_id, "wamid.OURS", ""))
        )
        self.assertFalse(ours.customer_reaction, "an empty emoji removes the reaction")

    def test_an_edited_message_is_labelled_as_such(self):
        raw = payloads.unsupported_message(self.customer_wa_id)
        raw["unsupported"] = {"type": "edit"}
        self.deliver(self.inbound(None, raw))
        message = self.env["whatsapp.message"].search([("wamid", "=", raw["id"])])
        self.assertEqual(message.body, "[unsupported message: edit]")
        self.assertEqual(message.message_type, "unsupported")
