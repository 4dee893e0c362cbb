"""One event, one fate: a failing event, download or send costs only itself."""

from datetime import timedelta
from unittest.mock import patch

import psycopg2
from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..tools import cloud_api, payloads
from .common import WhatsappCase


def _serialization_failure():
    return psycopg2.errors.SerializationFailure("could not serialize access")


@tagged("post_install", "-at_install")
class TestIntakeIsolation(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the registry's classes: patching them reaches every file that defines the model
        cls.Message = type(cls.env["whatsapp.message"])
        cls.Event = type(cls.env["whatsapp.webhook.event"])

    def events_of(self, *wamids):
        return self.env["whatsapp.webhook.event"].search([("wamid", "in", list(wamids))])

    def three_messages(self):
        return self.inbound(
            None,
            payloads.text_message(self.customer_wa_id, "one", wamid="wamid.ONE"),
            payloads.text_message(self.customer_wa_id, "poison", wamid="wamid.POISON"),
            payloads.text_message(self.customer_wa_id, "three", wamid="wamid.THREE"),
        )

    def test_a_poisonous_event_costs_only_itself(self):
        original = self.Message._inbound_values

        def poisoned(self, conversation, message, moment):
            if message.wamid == "wamid.POISON":
                raise ValueError("cannot digest this one")
            return original(self, conversation, message, moment)

        with patch.object(self.Message, "_inbound_values", poisoned):
            self.deliver(self.three_messages())
        events = self.events_of("wamid.ONE", "wamid.POISON", "wamid.THREE")
        states = {e.wamid: e.state for e in events}
        self.assertEqual(
            states, {"wamid.ONE": "done", "wamid.POISON": "error", "wamid.THREE": "done"}
        )
        poison = events.filtered(lambda e: e.wamid == "wamid.POISON")
        self.assertIn("ValueError: cannot digest this one", poison.note)
        self.assertIn("poisoned", poison.note, "the summary says where it failed")
        self.assertEqual(poison.attempts, 1)
        stored = self.env["whatsapp.message"].search([("wamid", "like", "wamid.")])
        self.assertEqual(
            set(stored.mapped("wamid")) & {"wamid.ONE", "wamid.THREE"},
            {
                "wamid.ONE",
                "wamid.THREE",
            },
        )

    def test_the_cron_goes_on_after_a_poisonous_event_and_later_events_pass(self):
        with patch.object(self.Event, "_process_messages", side_effect=RuntimeError("bug")):
            self.deliver(self.three_messages())
        self.assertEqual(set(self.events_of("wamid.ONE").mapped("state")), {"error"})
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "later")))
        self.assertTrue(
            self.env["whatsapp.message"].search([("body", "=", "later"), ("direction", "=", "in")])
        )

    def test_a_concurrent_transaction_means_a_bounded_retry(self):
        with patch.object(self.Event, "_process_messages", side_effect=_serialization_failure()):
            self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "x")))
        event = self.env["whatsapp.webhook.event"].search([("kind", "=", "message")], limit=1)
        self.assertEqual((event.state, event.attempts), ("pending", 1))
        self.assertTrue(event.retry_at)
        event.attempts = 4
        event.retry_at = False
        with patch.object(self.Event, "_process_messages", side_effect=_serialization_failure()):
            self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual((event.state, event.attempts), ("error", 5))
        event.action_retry()
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(event.state, "done")

    @mute_logger("odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event")
    def test_a_failing_reaction_never_loses_the_message(self):
        with patch.object(
            type(self.env["whatsapp.auto.reply"]),
            "_whatsapp_on_inbound",
            side_effect=RuntimeError("bot crashed"),
        ):
            self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "kept")))
        message = self.env["whatsapp.message"].search([("body", "=", "kept")])
        self.assertEqual(len(message), 1)
        event = self.env["whatsapp.webhook.event"].search([("wamid", "=", message.wamid)])
        self.assertEqual(event.state, "done")

    def test_a_worker_dying_between_visible_and_reacted_reacts_once_later(self):
        Hook = type(self.env["whatsapp.auto.reply"])
        original, reacted = Hook._whatsapp_on_inbound, []

        def counting(hook, messages):
            reacted.extend(messages.mapped("wamid"))
            return original(hook, messages)

        Event = self.env["whatsapp.webhook.event"]
        self.intake(
            self.inbound(None, payloads.text_message(self.customer_wa_id, "hi", wamid="wamid.ONCE"))
        )
        with patch.object(Hook, "_whatsapp_on_inbound", counting):
            # the first step of a run, committed; then the worker dies
            Event._claim(10)[0]._process()
            message = self.env["whatsapp.message"].search([("wamid", "=", "wamid.ONCE")])
            self.assertTrue(message.mail_message_id, "visible in the thread before any reaction")
            event = self.events_of("wamid.ONCE")
            self.assertEqual(event.state, "stored")
            self.assertFalse(reacted)
            self.assertEqual(self.intake(self.inbound(None, message.payload)), (0, 1))
            Event._cron_process()
            Event._cron_process()
        self.assertEqual(reacted, ["wamid.ONCE"])
        self.assertEqual(event.state, "done")

    def test_behind_the_intake_messages_are_made_visible_before_the_reactions(self):
        Hook = type(self.env["whatsapp.auto.reply"])
        original, visible_then = Hook._whatsapp_on_inbound, []

        def counting(hook, messages):
            visible_then.append(
                self.env["whatsapp.message"].search_count([("body", "=like", "b%")])
            )
            return original(hook, messages)

        wa_id = self.customer_wa_id
        texts = [payloads.text_message(wa_id, f"b{i}", wamid=f"wamid.B{i}") for i in range(7)]
        self.intake(self.inbound(None, *texts))
        module = "odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event"
        with (
            patch(f"{module}.BACKLOG", 2),
            patch(f"{module}.REACTIONS_BATCH", 2),
            patch.object(Hook, "_whatsapp_on_inbound", counting),
        ):
            self.env["whatsapp.webhook.event"]._cron_process(batch_size=3)
        self.assertEqual(visible_then[0], 7, "all stored (3 + 3 + 1) before the first reaction")
        self.assertEqual(
            set(self.events_of(*[f"wamid.B{i}" for i in range(7)]).mapped("state")), {"done"}
        )
        self.assertEqual(len(visible_then), 4, "then the reactions, a small batch (2) at a time")

    def claims(self, wamid, waited):
        """The claims (state, events) of a processing run of one event received ``waited``
        seconds ago: a claim far below BACKLOG."""
        self.intake(
            self.inbound(None, payloads.text_message(self.customer_wa_id, "w", wamid=wamid))
        )
        event = self.events_of(wamid)
        event.sudo().received_at = fields.Datetime.now() - timedelta(seconds=waited)
        Event = type(self.env["whatsapp.webhook.event"])
        original, claims = Event._claim, []

        def spying(model, limit, state="pending", part=None):
            claimed, oldest = original(model, limit, state=state, part=part)
            claims.append((state, len(claimed)))
            return claimed, oldest

        with patch.object(Event, "_claim", spying):
            self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(event.state, "done")
        return claims

    def test_behind_the_reactions_go_in_smaller_steps(self):
        wa_id = self.customer_wa_id
        wamids = [f"wamid.S{i}" for i in range(3)]
        texts = [payloads.text_message(wa_id, f"s{i}", wamid=w) for i, w in enumerate(wamids)]
        self.intake(self.inbound(None, *texts))
        events = self.events_of(*wamids)
        events.sudo().received_at = fields.Datetime.now() - timedelta(seconds=30)
        Event = type(self.env["whatsapp.webhook.event"])
        original, claims = Event._claim, []

        def spying(model, limit, state="pending", part=None):
            claimed, oldest = original(model, limit, state=state, part=part)
            claims.append((state, limit, len(claimed)))
            return claimed, oldest

        module = "odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event"
        with (
            patch(f"{module}.REACTIONS_AT_LEAST_EVERY", 0),  # behind, they still run each time
            patch(f"{module}.REACTIONS_BATCH_BEHIND", 1),
            patch.object(Event, "_claim", spying),
        ):
            self.env["whatsapp.webhook.event"]._cron_process(batch_size=2)
        self.assertEqual(
            claims[:6],
            [
                ("pending", 2, 2),  # behind (they waited): one reaction only
                ("stored", 1, 1),
                ("pending", 2, 1),
                ("stored", 1, 1),
                ("pending", 2, 0),  # caught up: the usual step
                ("stored", 2, 1),
            ],
        )
        self.assertEqual(set(events.mapped("state")), {"done"})

    def test_an_event_that_waited_is_stored_before_any_reaction(self):
        # the claim is small, but its event waited: storing lags, it goes on first
        claims = self.claims("wamid.LATE", waited=30)
        self.assertEqual(claims[:3], [("pending", 1), ("pending", 0), ("stored", 1)])
        # a fresh event: its reactions follow its claim
        claims = self.claims("wamid.FRESH", waited=0)
        self.assertEqual(claims[:2], [("pending", 1), ("stored", 1)])

    @mute_logger("odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event")
    def test_a_failing_reaction_step_never_blocks_the_next_messages(self):
        with patch.object(self.Event, "_react", side_effect=RuntimeError("bug")):
            self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "a")))
        first = self.env["whatsapp.webhook.event"].search([("kind", "=", "message")], limit=1)
        self.assertEqual(first.state, "done")
        self.assertIn("RuntimeError: bug", first.note)
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "b")))
        self.assertEqual(self.env["whatsapp.message"].search_count([("body", "in", ["a", "b"])]), 2)

    def test_media_downloads_fail_one_by_one(self):
        self.deliver(
            self.inbound(
                None,
                payloads.media_message(
                    self.customer_wa_id, "image", "M1", mime_type="image/jpeg", wamid="wamid.M1"
                ),
                payloads.media_message(
                    self.customer_wa_id, "image", "M2", mime_type="image/jpeg", wamid="wamid.M2"
                ),
            )
        )

        def answer(method, path, kwargs):
            if path.endswith("M1"):
                return {"id": "M1"}  # no url: Meta's answer is broken
            if path.endswith("M2"):
                return {"id": "M2", "url": "https://lookaside.example/M2"}
            raise AssertionError(path)

        original = cloud_api.CloudApiClient.download_media
        with (
            self.mock_cloud_api(answer),
            patch.object(
                cloud_api.CloudApiClient,
                "download_media",
                lambda client, url, **kw: b"img" if url.endswith("M2") else original(client, url),
            ),
        ):
            self.env["whatsapp.message"]._fetch_pending_media()
        m1, m2 = (
            self.env["whatsapp.message"].search([("wamid", "=", w)])
            for w in ("wamid.M1", "wamid.M2")
        )
        self.assertEqual((m1.media_state, m2.media_state), ("failed", "done"))
        self.assertIn("no download URL", m1.failure_reason)
        self.assertEqual(m2.attachment_id.raw, b"img")

    def test_media_download_without_token_is_marked_not_raised(self):
        self.deliver(
            self.inbound(
                None,
                payloads.media_message(self.customer_wa_id, "image", "M3", mime_type="image/png"),
            )
        )
        self.account.token = False
        self.env["whatsapp.message"]._fetch_pending_media()
        message = self.env["whatsapp.message"].search([("media_id", "=", "M3")])
        self.assertEqual(message.media_state, "failed")
        self.assertIn("no access token", message.failure_reason)

    def test_media_url_from_the_webhook_is_downloaded_directly(self):
        raw = payloads.media_message(self.customer_wa_id, "image", "M4", mime_type="image/png")
        raw["image"]["url"] = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=4"
        downloaded = []

        def download(client, url, **kwargs):
            downloaded.append(url)
            return b"png"

        with (
            self.mock_cloud_api() as calls,
            patch.object(cloud_api.CloudApiClient, "download_media", download),
        ):
            self.deliver(self.inbound(None, raw))
        message = self.env["whatsapp.message"].search([("media_id", "=", "M4")])
        self.assertEqual(message.media_state, "done")
        self.assertEqual(downloaded, [raw["image"]["url"]])
        self.assertFalse(calls, "no metadata call when Meta gave the URL")

    @mute_logger("odoo.addons.whatsapp_helpdesk.models.whatsapp_message_outbox")
    def test_one_accounts_trouble_does_not_hold_up_another(self):
        conversation = self.open_window()
        other = self.account.copy(
            {"phone_number_id": "100000000000055", "token": "t2", "name": "Second"}
        )
        other_partner = self.env["res.partner"].create(
            {"name": "Rahul", "mobile": "+91 98200 12345"}
        )
        other_conversation = other._get_conversation(other_partner)
        other_conversation.last_inbound_at = conversation.last_inbound_at
        broken = conversation._send_text("from the broken account")
        fine = other_conversation._send_text("from the fine account")
        original = self.Message._send_payload

        def send_payload(message, client, *args):
            if message == broken:
                raise KeyError("surprise")
            return original(message, client, *args)

        with (
            patch.object(self.Message, "_send_payload", send_payload),
            self.mock_cloud_api(self.sent_answer("wamid.FINE")),
        ):
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual((broken.state, broken.failure_type), ("failed", "unknown_error"))
        self.assertIn("KeyError", broken.failure_reason)
        self.assertEqual((fine.state, fine.wamid), ("sent", "wamid.FINE"))

    def test_losing_a_race_while_recording_answers_is_retried_not_unknown(self):
        conversation = self.open_window()
        message = conversation._send_text("race")
        original = self.Message._apply_outcomes
        failures = [_serialization_failure()]

        def flaky(self_, outcomes):
            if failures:
                raise failures.pop()
            return original(self_, outcomes)

        with (
            patch.object(self.Message, "_apply_outcomes", flaky),
            self.mock_cloud_api(self.sent_answer("wamid.RACE")),
        ):
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual((message.state, message.wamid), ("sent", "wamid.RACE"))


@tagged("post_install", "-at_install")
class TestIntakeInParallel(WhatsappCase, TransactionCase):
    """Two processing jobs, one per part of the customers, and what a concurrent transaction
    costs when the jobs commit (as in a cron worker, not in tests)."""

    MODULE = "odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = type(cls.env["whatsapp.webhook.event"])
        cls.Hook = type(cls.env["whatsapp.auto.reply"])

    def deliver_from(self, numbers, per_number=2):
        texts = [
            payloads.text_message(number, f"{number} {i}", wamid=f"wamid.P{number}x{i}")
            for i in range(per_number)
            for number in numbers
        ]
        self.intake(self.inbound(None, *texts))

    def test_each_customer_is_in_one_part_and_each_event_processed_once(self):
        numbers = [f"55119876543{d:02d}" for d in range(10)]
        self.deliver_from(numbers)
        Event = self.env["whatsapp.webhook.event"]
        parts = [Event._claim(100, part=part)[0] for part in (0, 1)]
        self.assertFalse(parts[0] & parts[1])
        self.assertEqual(len(parts[0] | parts[1]), 20)
        for events in parts:
            self.assertEqual(len(events), 10, "an even split of numbers ending in 0 to 9")
        wa_ids = [set(events.mapped("wa_id")) for events in parts]
        self.assertFalse(wa_ids[0] & wa_ids[1], "a customer's events are all in one part")
        # each job processes its own part, in order, and only that
        self.assertEqual(Event._cron_process(part=1), 10)
        self.assertEqual(set(parts[1].mapped("state")), {"done"})
        self.assertEqual(set(parts[0].mapped("state")), {"pending"})
        self.assertEqual(Event._cron_process(part=0), 10)
        self.assertEqual(set((parts[0] | parts[1]).mapped("state")), {"done"})
        stored = self.env["whatsapp.message"].search([("wamid", "like", "wamid.P%")])
        self.assertEqual(len(stored), 20)
        for conversation in stored.conversation_id:
            mine = stored.filtered(lambda m, c=conversation: m.conversation_id == c)
            self.assertEqual(mine.sorted("id").mapped("body"), sorted(mine.mapped("body")))

    def test_the_job_of_the_customers_part_is_woken(self):
        crons = self.env["whatsapp.webhook.event"]._processing_crons()
        self.assertEqual(len(crons), 2)
        Trigger = self.env["ir.cron.trigger"]
        Trigger.search([("cron_id", "in", crons.ids)]).unlink()
        self.deliver_from(["5511987654300"], per_number=1)  # "0": part 0
        self.assertEqual(Trigger.search([("cron_id", "in", crons.ids)]).cron_id, crons[0])
        self.deliver_from(["5511987654301"], per_number=1)  # "1": part 1
        self.assertEqual(Trigger.search([("cron_id", "in", crons.ids)]).cron_id, crons)

    def committing(self):
        """The cron as a worker runs it: commits (here without effect) and rolls back (here only
        what the savepoints already undid)."""
        cr = self.env.cr
        return (
            patch(f"{self.MODULE}.is_testing", return_value=False),
            patch.object(cr, "commit"),
            patch.object(cr, "rollback"),
        )

    def test_a_concurrency_failure_in_storing_takes_the_batch_again_at_once(self):
        self.deliver_from(["5511987654300", "5511987654302"])
        original = self.Event._process_messages
        calls = []

        def once_stale(event_model, pairs):
            calls.append(len(pairs))
            if len(calls) == 1:
                raise _serialization_failure()
            return original(event_model, pairs)

        no_test, commit, rollback = self.committing()
        with no_test, commit, rollback as rolled_back:
            with patch.object(self.Event, "_process_messages", once_stale):
                self.env["whatsapp.webhook.event"]._cron_process(part=0)
        self.assertEqual(calls, [4, 4], "the whole batch again, not event by event")
        self.assertEqual(rolled_back.call_count, 1)
        events = self.env["whatsapp.webhook.event"].search([("wamid", "like", "wamid.P%")])
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(set(events.mapped("attempts")), {0}, "no retry an hour away")
        self.assertEqual(
            self.env["whatsapp.message"].search_count([("wamid", "like", "wamid.P%")]), 4
        )

    def test_a_concurrency_failure_in_reacting_reacts_once_later(self):
        self.deliver_from(["5511987654300"], per_number=1)
        original, reacted = self.Hook._whatsapp_on_inbound, []

        def once_stale(hook, messages):
            if not reacted:
                reacted.append(None)
                raise _serialization_failure()
            reacted.extend(messages.mapped("wamid"))
            return original(hook, messages)

        no_test, commit, rollback = self.committing()
        with no_test, commit, rollback as rolled_back:
            with patch.object(self.Hook, "_whatsapp_on_inbound", once_stale):
                self.env["whatsapp.webhook.event"]._cron_process(part=0)
        self.assertEqual(rolled_back.call_count, 1)
        self.assertEqual(reacted, [None, "wamid.P5511987654300x0"], "reacted to once, after")
        event = self.env["whatsapp.webhook.event"].search([("wamid", "like", "wamid.P%")])
        self.assertEqual((event.state, event.note), ("done", False))

    def test_concurrency_failures_in_a_row_fall_back_to_the_bounded_retry(self):
        self.deliver_from(["5511987654300"], per_number=1)
        no_test, commit, rollback = self.committing()
        with no_test, commit, rollback as rolled_back:
            with patch.object(
                self.Event, "_process_messages", side_effect=_serialization_failure()
            ):
                self.env["whatsapp.webhook.event"]._cron_process(part=0)
        self.assertEqual(rolled_back.call_count, 3)
        event = self.env["whatsapp.webhook.event"].search([("wamid", "like", "wamid.P%")])
        self.assertEqual((event.state, event.attempts), ("pending", 1))
        self.assertTrue(event.retry_at, "then the event waits, as any concurrent failure did")
