import base64
import json
import time
from datetime import timedelta
from unittest.mock import patch

import psycopg2
from markupsafe import Markup
from odoo import fields, sql_db
from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import SQL

from ..models.common import trigger_cron_at_commit, trigger_cron_now
from ..tools import cloud_api, payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestOutbox(WhatsappCase, TransactionCase):
    def test_window_closed_refuses_free_text(self):
        conversation = self.account._get_conversation(self.customer)
        self.assertFalse(conversation.window_open)
        with self.assertRaisesRegex(UserError, "24-hour"):
            conversation._send_text("hello")
        self.assertFalse(conversation.whatsapp_message_ids)

    def test_window_expires_after_24_hours(self):
        conversation = self.open_window()
        self.assertTrue(conversation.window_open)
        conversation.last_inbound_at = fields.Datetime.now() - timedelta(hours=24, minutes=1)
        self.assertFalse(conversation.window_open)
        self.assertIn(conversation, conversation.search([("window_open", "=", False)]))

    def test_send_goes_through_the_outbox_and_the_cron(self):
        conversation = self.open_window()
        with self.mock_cloud_api(self.sent_answer("wamid.A1")) as calls:
            message = conversation._send_text("Olá Ana")
            self.assertEqual(message.state, "queued")
            self.assertFalse(calls, "nothing leaves inside the user's request")
            self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(message, [{"state": "sent", "wamid": "wamid.A1"}])
        method, path, kwargs = calls[0]
        self.assertEqual(method, "POST")
        self.assertIn("messages", path)
        body = kwargs["json"]
        self.assertEqual(body["to"], self.customer_wa_id)
        self.assertEqual(body["text"]["body"], "Olá Ana")
        self.assertEqual(body["biz_opaque_callback_data"], message.uuid)

    def test_media_rows_send_what_their_type_can_carry(self):
        """A document leaves with its caption and file name; a voice message's caption stays in
        Odoo's thread, since Meta refuses captions on audio."""
        conversation = self.open_window()
        files = {
            name: self.env["ir.attachment"].create(
                {"name": name, "datas": base64.b64encode(b"file"), "mimetype": mimetype}
            )
            for name, mimetype in (("invoice.pdf", "application/pdf"), ("hello.ogg", "audio/ogg"))
        }
        document = conversation._send_media(files["invoice.pdf"], caption="Sua fatura")
        voice = conversation._send_media(files["hello.ogg"], caption="Ouça")
        self.assertEqual((document.message_type, voice.message_type), ("document", "audio"))

        def answer(method, path, kwargs):
            if path.endswith("/media"):
                return {"id": "media.1"}
            return self.sent_answer(payloads.new_wamid())

        with self.mock_cloud_api(answer) as calls:
            self.env["whatsapp.message"]._cron_send()
        sent = {
            kwargs["json"]["type"]: kwargs["json"]
            for _method, path, kwargs in calls
            if path.endswith("/messages")
        }
        self.assertEqual(
            sent["document"]["document"],
            {"id": "media.1", "caption": "Sua fatura", "filename": "invoice.pdf"},
        )
        self.assertEqual(sent["audio"]["audio"], {"id": "media.1"})
        self.assertEqual(voice.body, "Ouça")

    def test_cron_is_woken_when_a_message_is_queued(self):
        conversation = self.open_window()
        cron = self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        conversation._send_text("wake up")
        self.env.cr.flush()  # the trigger is made when the transaction flushes (at commit)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), 1)

    def test_triggers_wake_the_cron_workers_once_per_transaction(self):
        send = self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send")
        intake = self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_process_events")
        Trigger = self.env["ir.cron.trigger"]
        Trigger.search([("cron_id", "in", (send | intake).ids)]).unlink()
        # a retry set for later is not a pending wake-up
        send._trigger(at=fields.Datetime.now() + timedelta(hours=1))
        self.env.cr.postcommit.clear()
        self.assertTrue(trigger_cron_now(send))
        self.assertTrue(trigger_cron_now(send))  # without unless_pending: a trigger per call
        self.assertTrue(trigger_cron_now(intake, unless_pending=True))
        self.assertFalse(trigger_cron_now(intake, unless_pending=True))  # one is due
        self.assertEqual(Trigger.search_count([("cron_id", "in", (send | intake).ids)]), 4)
        self.assertEqual(len(self.env.cr.postcommit._funcs), 1)  # one NOTIFY at commit
        # queuing messages makes one trigger, however many are queued
        soon = fields.Datetime.now() + timedelta(minutes=5)  # the retry is an hour away
        due = [("cron_id", "=", send.id), ("call_at", "<=", soon)]
        Trigger.search(due).unlink()
        conversation = self.open_window()
        for text in ("one", "two", "three"):
            conversation._send_text(text)
        self.assertEqual(Trigger.search_count(due), 0, "made when the transaction flushes")
        self.env.cr.flush()
        self.assertEqual(Trigger.search_count(due), 1)
        intake.active = False
        self.assertFalse(trigger_cron_now(intake))  # an inactive cron ignores triggers
        self.env.cr.postcommit.clear()

    def test_trigger_at_commit_once_per_transaction(self):
        crons = self.env["whatsapp.webhook.event"]._processing_crons()
        Trigger = self.env["ir.cron.trigger"]
        Trigger.search([("cron_id", "in", crons.ids)]).unlink()
        self.env.cr.flush()
        for _ in range(3):
            trigger_cron_at_commit(crons[0])
        self.env["whatsapp.webhook.event"]._wake_processing_cron()  # both jobs, at the commit
        self.assertEqual(Trigger.search_count([("cron_id", "in", crons.ids)]), 0)
        self.env.cr.flush()
        self.assertEqual(Trigger.search_count([("cron_id", "=", crons[0].id)]), 1)
        self.assertEqual(Trigger.search_count([("cron_id", "=", crons[1].id)]), 1)
        # a new transaction (the hooks ran) asks again: a trigger is pending, none more
        trigger_cron_at_commit(crons[0])
        self.env.cr.flush()
        self.assertEqual(Trigger.search_count([("cron_id", "=", crons[0].id)]), 1)
        self.env.cr.postcommit.clear()

    def test_bus_notices_are_announced_over_the_kept_connection(self):
        """The bus's NOTIFY after a commit reaches the listeners of the postgres database, over
        the connection the process keeps (Odoo's own opens a new one each time)."""
        _dsn, info = sql_db.connection_info_for("postgres")
        listener = psycopg2.connect(**info)
        self.addCleanup(listener.close)
        listener.autocommit = True
        listener.cursor().execute("LISTEN imbus")
        self.env.cr.precommit.clear()
        self.env.cr.postcommit.clear()
        self.env["bus.bus"]._sendone(self.env.user.partner_id, "whatsapp_helpdesk/test", {})
        self.env.cr.precommit.run()  # the bus rows (rolled back with the test)
        with patch.object(
            sql_db, "db_connect", side_effect=AssertionError("a new connection")
        ) as connect:
            self.env.cr.postcommit.run()
        connect.assert_not_called()
        for _ in range(50):
            listener.poll()
            if listener.notifies:
                break
            time.sleep(0.1)
        channels = [json.loads(n.payload) for n in listener.notifies if n.channel == "imbus"]
        self.assertIn([self.env.cr.dbname, "res.partner", self.env.user.partner_id.id], channels[0])

    def test_chatter_comment_is_sent_but_note_is_not(self):
        conversation = self.open_window()
        conversation.message_post(
            body="internal only", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        mail = conversation.message_post(
            body=Markup("<p>From the chatter</p>"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        outbound = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(outbound.body, "From the chatter")
        self.assertEqual(outbound.mail_message_id, mail)

    def test_retryable_error_is_queued_again_with_backoff(self):
        conversation = self.open_window()
        error = cloud_api.RetryableError(
            "(#130429) Rate limit hit", code=130429, failure_type="throttled"
        )
        with self.mock_cloud_api(error) as calls:
            message = conversation._send_text("busy")
            self.env["whatsapp.message"]._cron_send()
            self.assertEqual(len(calls), 1, "a back-off message is not picked again at once")
        self.assertRecordValues(
            message,
            [
                {
                    "state": "queued",
                    "attempt_count": 1,
                    "error_code": 130429,
                    "failure_type": "throttled",
                }
            ],
        )
        self.assertGreater(message.next_attempt_at, fields.Datetime.now())
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        with self.mock_cloud_api(self.sent_answer("wamid.R1")):
            self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(message, [{"state": "sent", "wamid": "wamid.R1"}])

    def test_retryable_error_gives_up_after_max_attempts(self):
        conversation = self.open_window()
        error = cloud_api.RetryableError("unavailable", code=133004, failure_type="server")
        message = conversation._send_text("again and again")
        with self.mock_cloud_api(error) as calls:
            for _attempt in range(10):
                message.next_attempt_at = False
                self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "failed")
        self.assertEqual(len(calls), 5)

    def test_permanent_error_fails_with_reason(self):
        conversation = self.open_window()
        error = cloud_api.PermanentError(
            "Re-engagement message", code=131047, failure_type="window_closed"
        )
        with self.mock_cloud_api(error):
            message = conversation._send_text("too late")
            self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(
            message, [{"state": "failed", "failure_type": "window_closed", "error_code": 131047}]
        )
        self.assertIn("Re-engagement", message.failure_reason)

    def test_read_timeout_is_unknown_and_never_resent(self):
        conversation = self.open_window()
        error = cloud_api.OutcomeUnknownError("read timeout", failure_type="timeout")
        with self.mock_cloud_api(error) as calls:
            message = conversation._send_text("maybe")
            self.env["whatsapp.message"]._cron_send()
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "unknown")
        self.assertEqual(len(calls), 1)

    def test_a_claim_takes_at_most_its_limit_in_id_order(self):
        """Each claim takes its limit of due rows, the oldest first, whatever plan PostgreSQL
        picks (a join re-running the locking part once took 5 rows for a limit of 1)."""
        conversation = self.open_window()
        messages = self.env["whatsapp.message"]
        for body in ("um", "dois", "três", "quatro", "cinco", "seis"):
            messages |= conversation._send_text(body)
        Message = self.env["whatsapp.message"]
        self.env.flush_all()
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_hashagg", "enable_sort"):
            self.env.cr.execute(SQL("SET LOCAL %s = off", SQL.identifier(setting)))
        self.assertEqual(Message._claim_queued(1), messages[0])
        self.assertEqual(Message._claim_queued(2), messages[1:3])
        self.assertEqual(Message._claim_queued(10), messages[3:])
        self.assertFalse(Message._claim_queued(10))
        self.assertEqual(set(messages.mapped("state")), {"sending"})

    def test_a_message_back_for_a_retry_is_not_overtaken(self):
        """A message sent back to the queue for a retry keeps its place: the customer's later
        messages wait until it is due and leave after it; other customers' do not wait, nor do
        messages behind a notification queued with a delay (it was never sent)."""
        conversation = self.open_window()
        other = self.open_window(self.make_customer("Bia", "+55 11 98888-7777"))
        Message = self.env["whatsapp.message"]
        first = conversation._send_text("um")
        self.assertEqual(Message._claim_queued(10), first)
        first._record_retryable(
            cloud_api.RetryableError("unavailable", code=133004, failure_type="server")
        )
        self.assertGreater(first.next_attempt_at, fields.Datetime.now())
        second = conversation._send_text("dois")
        elsewhere = other._send_text("oi")
        self.assertEqual(Message._claim_queued(10), elsewhere)
        self.assertEqual(second.state, "queued")
        first.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(Message._claim_queued(10).ids, [first.id, second.id])

        later = other._send_text("depois")
        later.next_attempt_at = fields.Datetime.now() + timedelta(minutes=30)  # a delayed notice
        after = other._send_text("agora")
        self.assertEqual(Message._claim_queued(10), after)

    def test_a_run_starts_with_a_small_claim_then_full_batches(self):
        """Nothing is on the wire when a run starts: its first claim is a quarter of a batch (its
        sends leave soon), the next ones full batches, in id order, each message sent once."""
        conversation = self.open_window()
        messages = self.env["whatsapp.message"]
        for body in ("um", "dois", "três", "quatro", "cinco", "seis", "sete"):
            messages |= conversation._send_text(body)
        Message = type(self.env["whatsapp.message"])
        claim = Message._claim_queued
        claims = []

        def noted_claim(self_, limit):
            claimed = claim(self_, limit)
            claims.append((limit, claimed.ids))
            return claimed

        with (
            patch.object(Message, "_claim_queued", noted_claim),
            self.mock_cloud_api(self.sent_answers()) as calls,
        ):
            self.assertEqual(self.env["whatsapp.message"]._cron_send(batch_size=4), 7)
        self.assertEqual(
            claims[:3], [(1, messages[:1].ids), (4, messages[1:5].ids), (4, messages[5:].ids)]
        )
        self.assertFalse([ids for _limit, ids in claims[3:] if ids])
        self.assertEqual(len(calls), 7)
        self.assertEqual(set(messages.mapped("state")), {"sent"})

    def test_worker_killed_mid_send_leaves_unknown_not_resent(self):
        conversation = self.open_window()
        message = conversation._send_text("killed")
        claimed = self.env["whatsapp.message"]._claim_queued(10)
        self.assertEqual(claimed, message)
        self.assertEqual(message.state, "sending")
        # the worker dies here; another run within the lease must not touch it
        with self.mock_cloud_api(self.sent_answer("wamid.NO")) as calls:
            self.env["whatsapp.message"]._cron_send()
            self.assertEqual(message.state, "sending")
            message.sending_since = fields.Datetime.now() - timedelta(minutes=10)
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "unknown")
        self.assertFalse(calls)

    def test_retry_action_requeues_failed(self):
        conversation = self.open_window()
        with self.mock_cloud_api(
            cloud_api.PermanentError("boom", code=100, failure_type="invalid_request")
        ):
            message = conversation._send_text("x")
            self.env["whatsapp.message"]._cron_send()
        message.action_retry()
        self.assertEqual(message.state, "queued")
        self.assertFalse(message.failure_type)

    def test_composer_sends_from_partner_within_window(self):
        self.open_window()
        composer = Form(
            self.env["whatsapp.composer"]
            .with_user(self.wa_user)
            .with_context(
                default_res_model="res.partner",
                default_res_id=self.customer.id,
                default_partner_id=self.customer.id,
            )
        )
        composer.account_id = self.account
        self.assertTrue(composer.window_open)
        composer.body = "Hello from the partner form"
        composer.save().action_send()
        outbound = self.env["whatsapp.message"].search([("direction", "=", "out")])
        self.assertEqual(outbound.body, "Hello from the partner form")
        self.assertEqual(outbound.res_model, "res.partner")
        self.assertEqual(outbound.partner_id, self.customer)

    def test_composer_refuses_when_window_closed(self):
        composer = (
            self.env["whatsapp.composer"]
            .with_user(self.wa_user)
            .create({"partner_id": self.customer.id, "account_id": self.account.id, "body": "x"})
        )
        self.assertFalse(composer.window_open)
        with self.assertRaisesRegex(UserError, "24-hour"):
            composer.action_send()

    def test_quick_reply_fills_placeholders(self):
        self.open_window()
        canned = self.env["mail.canned.response"].create(
            {
                "source": "hello",
                "substitution": "Olá {first_name}, aqui é {agent} da {company}. {x}",
            }
        )
        composer = Form(
            self.env["whatsapp.composer"].with_context(
                default_res_model="res.partner",
                default_res_id=self.customer.id,
                default_partner_id=self.customer.id,
            )
        )
        composer.account_id = self.account
        composer.canned_response_id = canned
        self.assertEqual(
            composer.body,
            f"Olá Ana, aqui é {self.env.user.name} da {self.env.company.name}. {{x}}",
        )
