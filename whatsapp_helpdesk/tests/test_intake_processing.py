import base64
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo import fields
from odoo.tests import TransactionCase, tagged

from ..tools import cloud_api, payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestInboundProcessing(WhatsappCase, TransactionCase):
    def conversation_of(self, wa_id):
        return self.env["whatsapp.conversation"].search(
            [("account_id", "=", self.account.id), ("wa_id", "=", wa_id)]
        )

    def test_text_from_known_customer_lands_on_partner(self):
        stored, duplicates = self.deliver(
            self.inbound(None, payloads.text_message(self.customer_wa_id, "Olá, meu pedido?"))
        )
        self.assertEqual((stored, duplicates), (1, 0))
        conversation = self.conversation_of(self.customer_wa_id)
        self.assertEqual(conversation.partner_id, self.customer)
        self.assertTrue(conversation.window_open)
        message = conversation.whatsapp_message_ids
        self.assertRecordValues(
            message,
            [
                {
                    "direction": "in",
                    "state": "received",
                    "body": "Olá, meu pedido?",
                    "partner_id": self.customer.id,
                }
            ],
        )
        self.assertIn("Olá, meu pedido?", message.mail_message_id.body)
        self.assertEqual(message.mail_message_id.author_id, self.customer)
        self.assertEqual(message.mail_message_id.res_id, conversation.id)
        self.assertIn(message, self.customer.whatsapp_message_ids)

    def test_unknown_number_creates_partner_named_after_profile(self):
        self.deliver(self.inbound("5215512340000", profile_name="Lucía H."))
        conversation = self.conversation_of("5215512340000")
        self.assertEqual(conversation.partner_id.name, "Lucía H.")
        self.assertEqual(conversation.partner_id.whatsapp_e164, "+525512340000")

    def test_whatsapp_spellings_of_a_number_match_the_partner(self):
        # Meta reports many Brazilian mobiles without the ninth digit, Mexican ones with a 1
        mexican = self.env["res.partner"].create(
            {
                "name": "Lucía",
                "mobile": "+52 55 1234 0001",
                "country_id": self.env.ref("base.mx").id,
            }
        )
        self.deliver(self.inbound("551181234567"))
        self.deliver(self.inbound("5215512340001"))
        self.assertEqual(self.conversation_of("551181234567").partner_id, self.customer)
        self.assertEqual(self.conversation_of("5215512340001").partner_id, mexican)

    def test_redelivery_is_stored_once(self):
        payload = self.inbound(None, payloads.text_message(self.customer_wa_id, "once"))
        self.assertEqual(self.intake(payload), (1, 0))
        self.assertEqual(self.intake(payload), (0, 1))
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(self.intake(payload), (0, 1))
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(len(self.conversation_of(self.customer_wa_id).whatsapp_message_ids), 1)

    def test_first_messages_of_new_customer_open_one_conversation(self):
        wa_id = "6281200000001"
        messages = [payloads.text_message(wa_id, f"m{i}") for i in range(5)]
        self.intake(self.inbound(wa_id, *messages[:2]))
        self.intake(self.inbound(wa_id, *messages[2:]))
        self.env["whatsapp.webhook.event"]._cron_process()
        conversation = self.conversation_of(wa_id)
        self.assertEqual(len(conversation), 1)
        self.assertEqual(len(conversation.whatsapp_message_ids), 5)
        partners = self.env["res.partner"].search([("whatsapp_e164", "=", f"+{wa_id}")])
        self.assertEqual(len(partners), 1)
        # made quietly, as the conversation is: no creation note, no follower
        self.assertFalse(partners.message_ids)
        self.assertFalse(partners.message_follower_ids)
        # the five texts, in the thread as the customer's, in order, each body written once
        chatter = conversation.whatsapp_message_ids.sorted("id").mail_message_id
        self.assertEqual(chatter.mapped("body"), [f"<p>m{i}</p>" for i in range(5)])
        self.assertEqual(chatter.author_id, partners)
        self.assertEqual(set(chatter.mapped("res_id")), {conversation.id})
        self.assertEqual(conversation.message_ids & chatter, chatter)

    def test_new_customers_get_what_odoo_gives_a_new_contact(self):
        """Their contacts take the defaults a contact created by hand takes (asked once for the
        batch), and their conversations what the ORM's create gives one (inserted by SQL)."""
        numbers = ["6281200000021", "6281200000022"]
        # one instant for both: a default "now" (calendar's last notification acknowledged) may
        # otherwise fall a second apart
        with freeze_time(fields.Datetime.now()):
            for wa_id in numbers:
                self.intake(
                    self.inbound(wa_id, payloads.text_message(wa_id, "oi"), profile_name="Ze")
                )
            self.env["whatsapp.webhook.event"]._cron_process()
            by_hand = self.env["res.partner"].create({"name": "Ze", "mobile": "+6281200000029"})
        with_defaults = [
            name for name, field in by_hand._fields.items() if field.default and field.store
        ]
        for wa_id in numbers:
            conversation = self.conversation_of(wa_id)
            partner = conversation.partner_id
            for name in with_defaults:
                self.assertEqual(partner[name], by_hand[name], name)
            self.assertEqual(partner.name, "Ze")
            self.assertFalse(partner.message_ids)
            self.assertRecordValues(
                conversation,
                [
                    {
                        "phone_e164": f"+{wa_id}",
                        "wa_id": wa_id,
                        "profile_name": "Ze",
                        "name": f"Ze (+{wa_id})",
                        "state": "open",
                        "company_id": self.account.company_id.id,
                        "unread_count": 1,
                    }
                ],
            )
            self.assertTrue(conversation.window_open)
            self.assertFalse(conversation.message_follower_ids)

    def store_step_queries(self, customers, per_customer, first_digit):
        """Queries of the step that makes ``customers`` new customers' ``per_customer`` messages
        each visible (stored with their chatter messages), in one batch."""
        for c in range(customers):
            wa_id = f"62812{first_digit}{c:07d}"
            texts = [
                payloads.text_message(wa_id, f"q{i}", wamid=f"wamid.Q{wa_id}x{i}")
                for i in range(per_customer)
            ]
            self.intake(self.inbound(wa_id, *texts, profile_name=f"Q {c}"))
        Event = self.env["whatsapp.webhook.event"]
        events = Event._claim(1000)[0]
        self.assertEqual(len(events), customers * per_customer)
        if customers:
            # the claim tells how long its oldest event waited, from its own query
            self.env.cr.execute(
                "UPDATE whatsapp_webhook_event SET received_at = received_at - interval '90 s'"
                " WHERE id = %s",
                [events[-1].id],
            )
            again, waited = Event._claim(1000)
            self.assertEqual(again, events)
            self.assertGreaterEqual(waited, 90)
            self.assertLess(waited, 90 + 60)
            self.assertEqual(Event._claim(1000, state="error"), (Event, 0.0))
        before = self.env.cr.sql_log_count
        events._process()
        self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(set(events.mapped("state")), {"stored"})
        self.assertEqual(
            len(
                self.env["whatsapp.message"].search(
                    [("wamid", "=like", f"wamid.Q62812{first_digit}%")]
                )
            ),
            customers * per_customer,
        )
        return queries

    def test_a_batch_costs_queries_by_the_batch_not_by_its_events(self):
        self.store_step_queries(2, 1, 0)  # the caches a first batch fills
        few_messages = self.store_step_queries(3, 2, 1)
        many_messages = self.store_step_queries(3, 12, 2)
        many_customers = self.store_step_queries(12, 3, 3)
        self.assertEqual(many_messages, few_messages, "messages of known senders cost no query")
        # Odoo's account module counts the invoice reports once per new partner: that alone
        self.assertLessEqual(many_customers - few_messages, 12 - 3)

    def test_the_routing_notes_of_a_batch_are_logged_with_one_create(self):
        team = self.service_team("Routing notes", self.env["res.users"])
        Conversation = self.env["whatsapp.conversation"].with_context(tracking_disable=False)
        conversations = Conversation.browse(
            self.account._get_conversation(
                self.make_customer(f"Note {i}", f"+55 11 98123-01{i:02d}")
            ).id
            for i in range(3)
        )
        conversations.team_id = False
        self.env.cr.precommit.run()
        notes_before = conversations.message_ids
        conversations._route()  # as the reactions route a batch
        self.assertEqual(conversations.team_id, team)
        MailMessage = type(self.env["mail.message"])
        creates = []
        create = MailMessage.create

        def counted(model, vals_list):
            creates.append(len(vals_list))
            return create(model, vals_list)

        with patch.object(MailMessage, "create", counted):
            self.env.cr.precommit.run()
        self.assertEqual(creates, [3], "one create for the batch's notes")
        mt_note = self.env.ref("mail.mt_note")
        for conversation in conversations:
            note = conversation.message_ids - notes_before
            self.assertEqual(len(note), 1)
            # as Odoo's _message_log writes it
            self.assertEqual(note.message_type, "notification")
            self.assertEqual(note.subtype_id, mt_note)
            self.assertTrue(note.is_internal)
            self.assertEqual(note.author_id, self.env.user.partner_id)
            self.assertEqual(note.model, "whatsapp.conversation")
            tracking = note.sudo().tracking_value_ids
            self.assertEqual(tracking.field_id.name, "team_id")
            self.assertEqual(tracking.new_value_char, team.display_name)
            self.assertFalse(tracking.old_value_char)

    def test_every_message_type_is_kept(self):
        wa_id = self.customer_wa_id
        messages = [
            payloads.location_message(wa_id, -23.55, -46.63, name="Loja Paulista"),
            payloads.interactive_reply(wa_id, "button_reply", "yes", "Yes, confirm"),
            payloads.button_message(wa_id, "STOP_PROMO", "Stop promotions"),
            payloads.reaction_message(wa_id, "wamid.X", "👍"),
            payloads.unsupported_message(wa_id),
        ]
        self.deliver(self.inbound(None, *messages))
        stored = self.conversation_of(wa_id).whatsapp_message_ids
        self.assertEqual(
            set(stored.mapped("message_type")),
            {"location", "interactive", "button", "reaction", "unsupported"},
        )
        self.assertIn("Yes, confirm", stored.mapped("body"))

    def test_media_is_downloaded_into_an_attachment(self):
        wa_id = self.customer_wa_id
        image = payloads.media_message(
            wa_id, "image", "MEDIA1", mime_type="image/png", caption="photo"
        )
        answers = [
            {"url": "http://127.0.0.1:9/media/MEDIA1", "mime_type": "image/png", "id": "MEDIA1"},
        ]
        with (
            self.mock_cloud_api(*answers),
            patch.object(cloud_api.CloudApiClient, "download_media", return_value=b"\x89PNG-bytes"),
        ):
            self.deliver(self.inbound(None, image))
        message = self.conversation_of(wa_id).whatsapp_message_ids
        self.assertEqual(message.media_state, "done")
        self.assertEqual(base64.b64decode(message.attachment_id.datas), b"\x89PNG-bytes")
        self.assertIn(message.attachment_id, message.mail_message_id.attachment_ids)

    def test_unknown_phone_number_id_is_kept_but_ignored(self):
        payload = payloads.inbound_payload(
            waba_id="1",
            phone_number_id="999",
            display_phone_number="1",
            wa_id="1555",
            profile_name="x",
            messages=[payloads.text_message("1555", "hi")],
        )
        self.assertEqual(self.intake(payload), (1, 0))
        event = self.env["whatsapp.webhook.event"].search([("wa_id", "=", "1555")])
        self.assertEqual(event.state, "ignored")


@tagged("post_install", "-at_install")
class TestStatusProcessing(WhatsappCase, TransactionCase):
    def setUp(self):
        super().setUp()
        self.conversation = self.open_window()
        with self.mock_cloud_api(self.sent_answer("wamid.OUT1")):
            self.message = self.conversation._send_text("Your order ships today")
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(self.message.state, "sent")

    def status(self, status, **kwargs):
        return payloads.status(self.message.wamid, status, self.customer_wa_id, **kwargs)

    def test_statuses_move_forward_and_never_back(self):
        self.deliver(self.statuses(self.status("read")))
        self.assertEqual(self.message.state, "read")
        self.assertTrue(self.message.read_at)
        self.deliver(self.statuses(self.status("delivered")))
        self.assertEqual(self.message.state, "read")
        self.assertTrue(self.message.delivered_at)

    def test_pricing_block_is_kept(self):
        self.deliver(self.statuses(self.status("delivered", category="utility", billable=True)))
        self.assertRecordValues(
            self.message,
            [
                {
                    "state": "delivered",
                    "billable": True,
                    "pricing_category": "utility",
                    "pricing_model": "PMP",
                }
            ],
        )

    def test_failed_status_records_meta_error(self):
        failed = self.status("failed", errors=[payloads.undeliverable_error()])
        self.deliver(self.statuses(failed))
        self.assertRecordValues(
            self.message,
            [{"state": "failed", "failure_type": "undeliverable", "error_code": 131026}],
        )

    def test_status_before_its_message_is_recorded_waits(self):
        early = payloads.status("wamid.LATER", "delivered", self.customer_wa_id)
        self.deliver(self.statuses(early))
        event = self.env["whatsapp.webhook.event"].search([("wamid", "=", "wamid.LATER")])
        self.assertEqual(event.state, "pending")
        self.assertTrue(event.retry_at)
        with self.mock_cloud_api(self.sent_answer("wamid.LATER")):
            later = self.conversation._send_text("second")
            self.env["whatsapp.message"]._cron_send()
        event.retry_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(later.state, "delivered")
        self.assertEqual(event.state, "done")

    def test_orphan_status_is_set_aside_after_an_hour(self):
        self.intake(self.statuses(payloads.status("wamid.NEVER", "sent", self.customer_wa_id)))
        event = self.env["whatsapp.webhook.event"].search([("wamid", "=", "wamid.NEVER")])
        event.received_at = fields.Datetime.now() - timedelta(hours=2)
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(event.state, "ignored")

    def test_callback_data_resolves_an_unknown_outcome(self):
        with self.mock_cloud_api(
            cloud_api.OutcomeUnknownError("read timeout", failure_type="timeout")
        ):
            lost = self.conversation._send_text("did it leave?")
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(lost.state, "unknown")
        status = payloads.status("wamid.FOUND", "delivered", self.customer_wa_id)
        status["biz_opaque_callback_data"] = lost.uuid
        self.deliver(self.statuses(status))
        self.assertRecordValues(lost, [{"state": "delivered", "wamid": "wamid.FOUND"}])
