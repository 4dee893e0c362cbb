from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import mute_logger, sql

from ..tools import campaign_plan, cloud_api, payloads
from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestCampaigns(TemplateCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager.partner_id.mobile = "+55 11 97000-0001"
        cls.template = cls.marketing_template()
        cls.campaign_audience()
        cls.recent = cls.make_customer("Recent", "+55 41 99333-4444")
        cls.opt_in(cls.customer | cls.bruno | cls.listed | cls.recent)
        cls.env["phone.blacklist"].sudo()._add([cls.listed.whatsapp_e164])
        # Recent got a template an hour ago: the frequency cap holds it back
        conversation = cls.account._get_conversation(cls.recent)
        conversation._send_template(cls.template, record=cls.recent)
        cls.audience = (
            cls.customer | cls.bruno | cls.carla | cls.twin | cls.nonum | cls.listed | cls.recent
        )

    def launch(self, **values):
        campaign = self.make_campaign(self.audience, self.template, **values)
        campaign.with_user(self.manager).action_launch()
        return campaign

    def campaign_messages(self, campaign, state=None):
        return campaign.whatsapp_message_ids.filtered(lambda m: state is None or m.state == state)

    def test_launch_fixes_recipients_once_with_skip_reasons(self):
        campaign = self.launch()
        reasons = {r.partner_id: (r.state, r.skip_reason) for r in campaign.recipient_ids}
        self.assertEqual(
            reasons, {**self.audience_reasons(), self.recent: ("skipped", "frequency_cap")}
        )
        self.assertRecordValues(
            campaign, [{"state": "running", "recipient_count": 7, "skipped_count": 5}]
        )
        self.assertIn("No opt-in", campaign.funnel_details)
        with self.assertRaises(UserError):
            campaign.with_user(self.manager).action_launch()
        self.assertEqual(len(campaign.recipient_ids), 7)

    def test_utility_template_needs_utility_optin_and_no_cap(self):
        utility = self.approved_template("order_news", body="News", category="UTILITY")
        self.opt_in(self.carla, category="utility")
        campaign = self.make_campaign(self.carla | self.customer, utility, frequency_cap_hours=0)
        campaign.action_launch()
        self.assertEqual(
            {r.partner_id: r.skip_reason for r in campaign.recipient_ids},
            {self.carla: False, self.customer: "no_optin"},
        )

    def test_release_goes_through_the_outbox_and_the_funnel_counts(self):
        campaign = self.launch()
        self.env["whatsapp.campaign"]._cron_release()
        queued = self.campaign_messages(campaign, "queued")
        self.assertEqual(len(queued), 2)
        ana = queued.filtered(lambda m: m.partner_id == self.customer)
        self.assertEqual(ana.body, "Oi Ana Souza, 20% off today!")
        self.assertEqual(ana.template_values, {"body": {"1": "Ana Souza"}})
        with self.mock_cloud_api(self.sent_answers()) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(len(calls), 3, "the two of the campaign and Recent's earlier one")
        self.assertEqual(campaign.sent_count, 2)
        self.assertEqual(campaign.progress, 100.0)
        ana = self.campaign_messages(campaign).filtered(lambda m: m.partner_id == self.customer)
        bruno = self.campaign_messages(campaign) - ana
        wa_ana, wa_bruno = self.customer_wa_id, bruno.conversation_id.wa_id
        self.deliver(
            self.statuses(
                payloads.status(ana.wamid, "read", wa_ana, category="marketing"),
                payloads.status(
                    bruno.wamid,
                    "failed",
                    wa_bruno,
                    errors=[payloads.error(131049, "Not delivered to maintain ecosystem")],
                ),
            )
        )
        self.deliver(self.inbound(wa_ana, payloads.text_message(wa_ana, "Quero!")))
        self.deliver(self.inbound(wa_bruno, payloads.text_message(wa_bruno, "STOP")))
        campaign.invalidate_recordset()
        self.assertRecordValues(
            campaign,
            [
                {
                    "sent_count": 1,
                    "delivered_count": 1,
                    "read_count": 1,
                    "failed_count": 0,
                    "not_receiving_count": 1,
                    "replied_count": 1,
                    "opted_out_count": 1,
                    "state": "running",
                }
            ],
        )
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(campaign.state, "done")

    def test_a_customer_who_stopped_marketing_is_opted_out_and_skipped_next_time(self):
        """Meta's 131050 ("user stopped marketing messages from this business") is the
        customer's choice, not a failure: counted as not receiving, recorded as a marketing
        opt-out of the number, and the next campaign skips the number as opted out. Utility
        messages are not concerned."""
        self.opt_in(self.bruno, category="utility")
        campaign = self.launch()
        self.env["whatsapp.campaign"]._cron_release()
        with self.mock_cloud_api(self.sent_answers()):
            self.env["whatsapp.message"]._cron_send()
        bruno = self.campaign_messages(campaign).filtered(lambda m: m.partner_id == self.bruno)
        error = payloads.error(131050, "Unable to deliver message", "User stopped marketing")
        self.deliver(
            self.statuses(
                payloads.status(bruno.wamid, "failed", bruno.conversation_id.wa_id, errors=[error])
            )
        )
        self.assertRecordValues(bruno, [{"state": "failed", "failure_type": "opted_out"}])
        campaign.invalidate_recordset()
        self.assertRecordValues(
            campaign, [{"sent_count": 1, "failed_count": 0, "not_receiving_count": 1}]
        )
        self.assertNotIn("Customer opted out", campaign.funnel_details)
        number = self.bruno.whatsapp_e164
        Optin = self.env["whatsapp.optin"]
        self.assertEqual(Optin._states([number], "marketing"), {number: "opted_out"})
        self.assertEqual(Optin._states([number], "utility"), {number: "opted_in"})
        optin = Optin.search([("phone_e164", "=", number), ("category", "=", "marketing")])
        self.assertRecordValues(optin, [{"source": "meta", "partner_id": self.bruno.id}])
        self.assertIn("131050", optin.note)
        self.assertFalse(self.env["phone.blacklist"].sudo()._search([("number", "=", number)]))
        # a second 131050 on the same number changes nothing
        Optin._record_marketing_stops(bruno)
        self.assertEqual(
            Optin.search_count([("phone_e164", "=", number), ("category", "=", "marketing")]), 1
        )

        following = self.make_campaign(self.bruno | self.customer, self.template)
        following.frequency_cap_hours = 0
        following.with_user(self.manager).action_launch()
        self.assertEqual(
            {r.partner_id: r.skip_reason for r in following.recipient_ids},
            {self.bruno: "opted_out", self.customer: False},
        )
        self.assertIn("Opted out of the template", following.funnel_details)

    def test_a_stop_from_meta_at_send_time_is_recorded_too(self):
        """131050 may also come in the answer to the send itself."""
        campaign = self.launch()
        self.env["whatsapp.campaign"]._cron_release()
        refusal = cloud_api.PermanentError(
            "User stopped marketing", failure_type="opted_out", code=131050
        )
        with mute_logger("odoo.addons.whatsapp_helpdesk.models.whatsapp_message_outbox"):
            with self.mock_cloud_api(refusal):
                self.env["whatsapp.message"]._cron_send()
        messages = self.campaign_messages(campaign)
        self.assertEqual(set(messages.mapped("failure_type")), {"opted_out"})
        campaign.invalidate_recordset()
        self.assertRecordValues(campaign, [{"failed_count": 0, "not_receiving_count": 2}])
        self.assertEqual(
            self.env["whatsapp.optin"]._states(
                [self.customer.whatsapp_e164, self.bruno.whatsapp_e164], "marketing"
            ),
            {self.customer.whatsapp_e164: "opted_out", self.bruno.whatsapp_e164: "opted_out"},
        )

    def test_a_customer_who_opts_out_after_launch_is_refused_at_release(self):
        """The send rule is applied again per recipient when the release queues it: a customer
        who opted out since the launch is skipped as refused with the rule's sentence, nothing
        is queued or posted for them, and the others' chatter trace, written when the customer
        writes (none before: a mail.message per recipient is a quarter of a large campaign's
        enqueue), is the one message_post of the one-by-one path writes (body, author, subtype,
        thread), dated when the message was queued, before the customer's message."""
        campaign = self.launch()
        self.opt_in(self.bruno, state="opted_out")
        self.assertEqual(campaign._release_step(), 1)
        bruno, ana = (
            campaign.recipient_ids.filtered(lambda r, p=partner: r.partner_id == p)
            for partner in (self.bruno, self.customer)
        )
        self.assertRecordValues(
            bruno, [{"state": "skipped", "skip_reason": "refused", "message_id": False}]
        )
        self.assertIn("opted out", bruno.note)
        bruno_conversation = self.account._get_conversation(self.bruno)
        self.assertFalse(bruno_conversation.whatsapp_message_ids)
        self.assertFalse(bruno_conversation.message_ids.filtered(lambda m: m.body))
        self.assertEqual(ana.state, "released")
        self.assertFalse(ana.message_id.mail_message_id)
        self.deliver(
            self.inbound(self.customer_wa_id, payloads.text_message(self.customer_wa_id, "Oi"))
        )
        trace = ana.message_id.mail_message_id
        self.assertTrue(trace)
        self.assertEqual(trace.date, ana.message_id.create_date)
        answer = ana.message_id.conversation_id.whatsapp_message_ids.filtered(
            lambda m: m.direction == "in"
        )
        self.assertLess(trace.id, answer.mail_message_id.id, "the campaign's message first")
        single = ana.message_id.conversation_id._send_template(self.template, record=self.customer)
        expected = single.mail_message_id
        fields_compared = ["body", "author_id", "subtype_id", "message_type", "model", "res_id"]
        self.assertEqual(
            trace.read(fields_compared)[0] | {"id": 0},
            expected.read(fields_compared)[0] | {"id": 0},
        )
        campaign.invalidate_recordset()
        self.assertIn("Refused when queued", campaign.funnel_details)

    def test_the_outbox_releases_the_next_recipients_while_it_sends(self):
        """One cron worker both releases and sends: when the outbox's queue runs short, its
        cron releases the running campaigns' next recipients itself (the release cron hands
        over once a step's worth is queued), through the same release; a paused campaign
        releases nothing, whoever asks."""
        paused = self.make_campaign(self.bruno, self.template)
        paused.action_launch()
        paused.action_pause()
        self.assertEqual(paused._release_step(), 0)
        campaign = self.make_campaign(self.customer, self.template)
        campaign.action_launch()
        with self.mock_cloud_api(self.sent_answers()) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(len(calls), 2, "Recent's earlier template and the campaign's")
        self.assertEqual(campaign.recipient_ids.state, "released")
        self.assertEqual(campaign.sent_count, 1)
        self.assertEqual(paused.recipient_ids.state, "pending")
        self.assertFalse(paused.whatsapp_message_ids)
        paused.action_resume()
        with (
            patch.object(type(campaign), "_outbox_ahead", side_effect=[False, True]),
            patch.object(type(campaign), "_trigger_release") as trigger,
        ):
            self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(paused.recipient_ids.state, "released")
        trigger.assert_called_once()

    def test_the_outbox_releases_ahead_of_its_claims(self):
        """The outbox's cron releases a campaign's next step while its batches are on the wire,
        once the queue holds less than its next claim: the claims never wait for a release (nor
        does the wire), a claim comes back short only when nobody waits, nothing is sent
        twice, and the campaign ends done."""
        fans = self.env["res.partner"].concat(
            *(self.make_customer(f"Fan {i}", f"+55 11 97100-00{i:02d}") for i in range(7))
        )
        self.opt_in(fans)
        campaign = self.make_campaign(fans, self.template)
        campaign.action_launch()
        Message, Campaign = type(self.env["whatsapp.message"]), type(campaign)
        Recipient = self.env["whatsapp.campaign.recipient"]
        claim, plan, release = Message._claim_queued, Message._plan_sends, Campaign._release_steps
        events = []

        def claiming(records, limit):
            waiting = Recipient.search_count(
                [("campaign_id", "=", campaign.id), ("state", "=", "pending")]
            )
            claimed = claim(records, limit)
            events.append(("claim", limit, len(claimed), waiting))
            return claimed

        def planning(records):
            events.append(("plan", len(records)))
            return plan(records)

        def releasing(records, commit=False):
            released = release(records, commit=commit)
            events.append(("release", released))
            return released

        with (
            patch.object(Campaign, "_release_chunk", return_value=2),
            patch.object(Message, "_claim_queued", autospec=True, side_effect=claiming),
            patch.object(Message, "_plan_sends", autospec=True, side_effect=planning),
            patch.object(Campaign, "_release_steps", autospec=True, side_effect=releasing),
            self.mock_cloud_api(self.sent_answers()) as calls,
        ):
            self.env["whatsapp.message"]._send_queued(batch_size=2)
        self.assertEqual(len(calls), 8, "Recent's earlier template, then each fan once")
        self.assertEqual(set(campaign.recipient_ids.mapped("state")), {"released"})
        self.assertEqual(campaign.sent_count, 7)
        releases = [i for i, event in enumerate(events) if event[0] == "release" and event[1]]
        self.assertEqual(len(releases), 4, "steps of 2, 2, 2 and 1")
        for i in releases:
            self.assertEqual(
                events[i - 1][0], "plan", f"released with a batch on the wire: {events}"
            )
        for _kind, limit, claimed, waiting in (e for e in events if e[0] == "claim"):
            self.assertTrue(claimed == limit or not waiting, f"a claim waited: {events}")
        campaign._release_step()
        self.assertEqual(campaign.state, "done")

    def test_a_trickle_of_replies_does_not_hold_a_campaign_back(self):
        """Agents' replies claimed one by one, batch after batch, never leave the claim empty:
        the outbox's cron still releases the campaign's next step with them on the wire."""
        chats = [self.make_customer(f"Chat {i}", f"+55 11 97200-00{i:02d}") for i in range(4)]
        conversations = [self.open_window(partner) for partner in chats]
        fans = self.make_customer("Fan", "+55 11 97100-0099") | self.customer
        self.opt_in(fans)
        campaign = self.make_campaign(fans, self.template)
        campaign.action_launch()
        Message, Campaign = type(self.env["whatsapp.message"]), type(campaign)
        claim, release = Message._claim_queued, Campaign._release_steps
        events = []

        def claiming(records, limit):
            if len(events) < len(conversations):  # one more reply before each claim
                conversations[len(events)]._send_text("On it")
            claimed = claim(records, limit)
            events.append(("claim", len(claimed)))
            return claimed

        def releasing(records, commit=False):
            released = release(records, commit=commit)
            events.append(("release", released))
            return released

        with (
            patch.object(type(campaign), "_release_chunk", return_value=2),
            patch.object(Message, "_claim_queued", autospec=True, side_effect=claiming),
            patch.object(Campaign, "_release_steps", autospec=True, side_effect=releasing),
            self.mock_cloud_api(self.sent_answers()),
        ):
            self.env["whatsapp.message"]._send_queued(batch_size=10)
        first = next(i for i, event in enumerate(events) if event == ("release", 2))
        self.assertTrue(all(count for _kind, count in events[:first] if _kind == "claim"), events)
        self.assertLess(first, len(conversations), f"released during the replies: {events}")
        self.assertEqual(campaign.sent_count, 2)

    def test_a_campaign_due_for_release_is_work_left_for_the_outbox_cron(self):
        """A run of the outbox's cron may end with its queue empty and a campaign's recipients
        still waiting: it reports them as work left, so Odoo runs it again in the same pass
        (a paused campaign is no work)."""
        campaign = self.launch()
        outbox = "odoo.addons.whatsapp_helpdesk.models.whatsapp_message_outbox"
        for state, left in (("running", 1), ("paused", 0)):
            campaign.state = state
            with (
                patch.object(type(campaign), "_release_for_outbox", return_value=0),
                patch(f"{outbox}.report_progress") as progress,
                self.mock_cloud_api(self.sent_answers()),
            ):
                self.env["whatsapp.message"]._cron_send()
            self.assertEqual(progress.call_args.args[2], left, state)

    def test_a_release_step_is_a_few_seconds_of_the_tier(self):
        """The recipients are the campaign's queue: a step puts a few seconds of the account's
        tier in the outbox (at most RELEASE_CHUNK), the next step waits for the dispatcher, and what
        was not released is never made an outbox row. The screens hear of the rows when they
        are sent, not of thousands queued per step."""
        self.assertEqual(self.account.throughput_tier, "80")
        campaign = self.launch()
        self.assertEqual(campaign._release_chunk(), 480)
        self.account.throughput_tier = "1000"
        self.assertEqual(campaign._release_chunk(), 5000)
        self.env.cr.precommit.run()
        Bus = self.env["bus.bus"].sudo()
        Bus.search([]).unlink()
        with patch.object(type(campaign), "_release_chunk", return_value=1):
            self.assertEqual(campaign._release_step(), 1)
            self.env.cr.precommit.run()
            self.assertFalse(Bus.search([("message", "like", "whatsapp_helpdesk/messages")]))
            self.assertRecordValues(
                campaign.whatsapp_message_ids, [{"create_uid": False, "write_uid": False}]
            )
            # nor its recipients (two foreign-key checks less a row; the conversations a
            # release makes: test_batch_send_gives_the_rows_and_refusals_of_one_by_one); the
            # company is the campaign's, not a column of its own
            self.assertFalse(campaign.recipient_ids.create_uid | campaign.recipient_ids.write_uid)
            self.assertEqual(campaign.recipient_ids.company_id, campaign.company_id)
            self.assertFalse(
                sql.column_exists(self.env.cr, "whatsapp_campaign_recipient", "company_id")
            )
            self.assertTrue(campaign._outbox_ahead())
            with patch.object(type(campaign), "_trigger_release") as trigger:
                self.env["whatsapp.campaign"]._cron_release()
            self.assertEqual(campaign.waiting_count, 1, "a step is queued: the rest waits")
            trigger.assert_called_once()
            self.assertEqual(len(campaign.whatsapp_message_ids), 1)
            campaign.with_user(self.manager).action_cancel()
        self.assertEqual(
            sorted(campaign.recipient_ids.mapped("state")),
            ["canceled", "canceled", "skipped", "skipped", "skipped", "skipped", "skipped"],
        )
        self.assertEqual(campaign.whatsapp_message_ids.state, "canceled")

    def test_messaging_limit_spreads_the_campaign_over_days(self):
        self.env.flush_all()  # Recent's template of setUpClass left the rolling 24 hours
        self.env.cr.execute(
            "UPDATE whatsapp_message SET create_date = create_date - interval '25 hours'"
        )
        campaign = self.make_campaign(self.customer | self.bruno | self.carla, self.template)
        self.opt_in(self.carla)
        with patch.object(campaign_plan, "limit_of", return_value=2):
            self.assertIn("2 customers per 24 hours", campaign.plan_summary)
            campaign.action_launch()
            self.assertEqual(campaign.plan_summary.count(": "), 3)  # the limit, then two days
            self.env["whatsapp.campaign"]._cron_release()
            self.assertEqual(len(campaign.whatsapp_message_ids), 2)
            self.assertEqual(campaign.waiting_count, 1)
            self.assertTrue(campaign.next_release_at)
            self.env["whatsapp.campaign"]._cron_release()
            self.assertEqual(
                len(campaign.whatsapp_message_ids), 2, "no headroom in the same 24 hours"
            )
            # a day later the first customers leave the rolling window
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE whatsapp_message SET create_date = create_date - interval '25 hours'"
                " WHERE campaign_id = %s",
                [campaign.id],
            )
            self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(len(campaign.whatsapp_message_ids), 3)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.waiting_count, 0)

    def test_check_audience_counts_as_the_launch_and_plans_the_days(self):
        """A manager checks a draft's audience before launching: the skip counts by reason the
        launch will record, and the customers left planned across days within the messaging
        limit; nothing is fixed yet, and changing the audience clears the check."""
        self.opt_in(self.bruno, state="opted_out")
        campaign = self.make_campaign(self.audience, self.template)
        self.assertFalse(campaign.audience_check)
        with patch.object(campaign_plan, "limit_of", return_value=1):
            campaign.with_user(self.manager).action_check_audience()
        self.assertFalse(campaign.recipient_ids)
        self.assertTrue(campaign.audience_checked_at)
        self.assertEqual(
            campaign.audience_check_data["skipped"],
            {
                "opted_out": 1,
                "no_optin": 1,
                "duplicate": 1,
                "invalid_number": 1,
                "blacklisted": 1,
                "frequency_cap": 1,
            },
        )
        check = campaign.audience_check
        self.assertIn("7 customer(s) in the audience: 1 to send, 6 skipped.", check)
        self.assertIn("Opted out of the template&#39;s category: 1", check)
        self.assertIn("Messaging limit: 1 customers per 24 hours", check)
        campaign.with_user(self.manager).action_launch()
        launched = {r.skip_reason for r in campaign.recipient_ids if r.state == "skipped"}
        self.assertEqual(launched, set(campaign.audience_check_data["skipped"]))
        with self.assertRaises(UserError):
            campaign.with_user(self.manager).action_check_audience()

        draft = self.make_campaign(self.customer | self.bruno, self.template)
        form = Form(draft.with_user(self.manager))
        form.save()
        draft.with_user(self.manager).action_check_audience()
        self.assertEqual(draft.audience_check_data["eligible"], 1)
        form = Form(draft.with_user(self.manager))
        form.frequency_cap_hours = 0
        form.save()
        self.assertFalse(draft.audience_checked_at)
        self.assertFalse(draft.audience_check)
        with self.assertRaises(AccessError):
            draft.with_user(self.wa_user).action_check_audience()

    def test_an_audience_check_written_by_hand_is_shown_only_when_sound(self):
        """The stored check is JSON a manager's client could write: a malformed one (wrong
        types, NUL, absurd numbers) shows nothing instead of breaking the form, and a reason's
        text is escaped."""
        campaign = self.make_campaign(self.customer | self.bruno, self.template)
        campaign.with_user(self.manager).action_check_audience()
        sound = dict(campaign.audience_check_data)
        hostile = [
            [1, 2],
            "total",
            {},
            {**sound, "total": "7"},
            {**sound, "eligible": 10**30},
            {**sound, "used": -1},
            {**sound, "limit": True},
            {**sound, "skipped": ["no_optin"]},
            {**sound, "skipped": {"no_optin": 1.5}},
            {**sound, "skipped": {"no\x00optin": 1}},
            {**sound, "days": "1,2"},
            {**sound, "days": [[1, 2]]},
            {**sound, "days": [1] * 10**4},
        ]
        for data in hostile:
            campaign.with_user(self.manager).write({"audience_check_data": data})
            self.assertFalse(campaign.audience_check, data)
            Form(campaign.with_user(self.manager))  # the form opens
        campaign.with_user(self.manager).write(
            {"audience_check_data": {**sound, "skipped": {"<script>x</script>": 1}}}
        )
        self.assertIn("&lt;script&gt;x&lt;/script&gt;: 1", campaign.audience_check)
        self.assertNotIn("<script>", campaign.audience_check)

    def test_pause_resume_cancel_never_send_twice(self):
        campaign = self.launch()
        self.env["whatsapp.campaign"]._cron_release()
        messages = self.campaign_messages(campaign)
        # one row is already claimed by a sender: it is on its way and stays
        claimed = messages[0]
        claimed.sudo().state = "sending"
        campaign.with_user(self.manager).action_pause()
        self.assertEqual(campaign.state, "paused")
        self.assertEqual((messages - claimed).mapped("state"), ["canceled"])
        self.assertEqual(claimed.state, "sending")
        self.assertEqual(campaign.waiting_count, 1)
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(len(campaign.whatsapp_message_ids), 2, "nothing released while paused")
        campaign.with_user(self.manager).action_resume()
        self.env["whatsapp.campaign"]._cron_release()
        live = campaign.whatsapp_message_ids.filtered(lambda m: m.state != "canceled")
        self.assertEqual(len(live), 2)
        self.assertEqual(len(live.conversation_id), 2, "one live message per customer")
        campaign.with_user(self.manager).action_cancel()
        self.assertEqual(campaign.state, "canceled")
        self.assertEqual(claimed.state, "sending")
        self.assertEqual(
            (live - claimed).state, "canceled", "the resumed row was withdrawn by the cancel"
        )

    def test_spam_limit_pauses_and_tells_the_managers(self):
        campaign = self.launch()
        self.env["whatsapp.campaign"]._cron_release()
        error = cloud_api.PermanentError(
            "Spam rate limit hit", code=131048, failure_type="spam_limit"
        )
        with self.mock_cloud_api(error):
            self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(campaign, [{"state": "paused", "pause_reason": "spam_limit"}])
        posted = self.env["mail.message"].search(
            [("model", "=", "whatsapp.campaign"), ("res_id", "=", campaign.id)], limit=1
        )
        self.assertIn("131048", posted.body)
        self.assertIn(self.manager.partner_id, posted.partner_ids)

    def test_schedule_and_local_hours(self):
        later = fields.Datetime.now() + timedelta(hours=3)
        campaign = self.launch(schedule="at", scheduled_at=later)
        self.env["whatsapp.campaign"]._cron_release()
        self.assertFalse(campaign.whatsapp_message_ids)
        self.customer.tz = "Asia/Tokyo"
        self.bruno.tz = "Asia/Tokyo"
        hour_there = (fields.Datetime.now() + timedelta(hours=9)).hour
        closed = self.launch(
            schedule="local",
            local_hour_from=(hour_there + 2) % 24,
            local_hour_to=(hour_there + 3) % 24,
        )
        self.env["whatsapp.campaign"]._cron_release()
        self.assertFalse(closed.whatsapp_message_ids)
        self.assertTrue(closed.next_release_at)
        opened = self.make_campaign(
            self.customer | self.bruno,
            self.template,
            schedule="local",
            local_hour_from=hour_there,
            local_hour_to=(hour_there + 1) % 24,
            frequency_cap_hours=0,
        )
        opened.action_launch()
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(len(opened.whatsapp_message_ids), 2)

    def test_local_hours_of_a_customer_without_tz_are_their_numbers(self):
        """A customer without a time zone of their own is reached in their number's local hours
        (+55 11: São Paulo), not UTC's; the zone is fixed at launch."""
        self.customer.tz = False
        self.bruno.tz = "Asia/Tokyo"
        self.env.company.partner_id.tz = "Asia/Tokyo"
        now = fields.Datetime.now()
        hour_in_sao_paulo = campaign_plan.local_hour(now, "America/Sao_Paulo")
        campaign = self.make_campaign(
            self.customer | self.bruno,
            self.template,
            schedule="local",
            local_hour_from=int(hour_in_sao_paulo),
            local_hour_to=(int(hour_in_sao_paulo) + 1) % 24,
            frequency_cap_hours=0,
        )
        campaign.action_launch()
        self.assertEqual(
            {r.partner_id: r.tz for r in campaign.recipient_ids},
            {self.customer: "America/Sao_Paulo", self.bruno: "Asia/Tokyo"},
        )
        self.customer.tz = "Asia/Tokyo"  # too late: the launch fixed the zone
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(campaign.whatsapp_message_ids.partner_id, self.customer)
        self.assertEqual(
            campaign.recipient_ids.filtered(lambda r: r.partner_id == self.bruno).state, "pending"
        )

    def test_test_send_goes_to_the_user_only(self):
        campaign = self.make_campaign(self.audience, self.template)
        campaign.with_user(self.manager).action_test_send()
        conversation = self.env["whatsapp.conversation"].search(
            [("phone_e164", "=", self.manager.partner_id.whatsapp_e164)]
        )
        message = self.assertWhatsappOutgoing(conversation, template=self.template)
        self.assertFalse(message.campaign_id)
        self.assertEqual(campaign.state, "draft")

    def test_form_and_hostile_input(self):
        form = Form(self.env["whatsapp.campaign"].with_user(self.manager))
        form.name = "Promo"
        form.account_id = self.account
        form.template_id = self.template
        form.audience = "list"
        form.partner_ids.add(self.customer)
        campaign = form.save()
        self.assertIn("1", campaign.plan_summary)
        with self.assertRaises(AccessError):
            campaign.with_user(self.wa_user).action_launch()
        with self.assertRaises(AccessError):
            campaign.with_user(self.wa_user).write({"name": "mine"})
        for bad in (
            {"local_hour_from": 25.0},
            {"local_hour_to": float("nan")},
            {"frequency_cap_hours": -1},
            {"reply_window_hours": 10**9},
        ):
            with self.assertRaises(Exception), mute_logger("odoo.sql_db"), self.env.cr.savepoint():  # noqa: B017
                campaign.write(bad)
                campaign.flush_recordset()
        _company, other_account = self.make_company_account()
        with self.assertRaises(UserError):
            campaign.write({"account_id": other_account.id})
        other_template = self.env["whatsapp.template"].create(
            {"name": "x", "account_id": other_account.id, "body": "x", "language": "en_US"}
        )
        with self.assertRaises(UserError):
            campaign.write({"template_id": other_template.id})
        at = self.make_campaign(self.audience, self.template, schedule="at")
        with self.assertRaises(UserError):
            at.action_launch()

    def test_a_template_paused_by_meta_pauses_the_campaign(self):
        campaign = self.launch()
        self.template.with_context(whatsapp_no_resubmit=True).status = "paused"
        self.env["whatsapp.campaign"]._cron_release()
        self.assertRecordValues(campaign, [{"state": "paused", "pause_reason": "template"}])
        self.assertFalse(campaign.whatsapp_message_ids)
        self.assertEqual(campaign.waiting_count, 2)

    def test_batch_send_gives_the_rows_and_refusals_of_one_by_one(self):
        """The campaign's batch path (conversations and outbox rows inserted by SQL) leaves the
        same rows and refuses the same customers with the same reasons as the one-message path
        (the ORM's create and _send_template), for twins of the same customers."""
        Conversation = self.env["whatsapp.conversation"]

        def customers(prefix):
            made = {
                kind: self.make_customer(f"Twin {kind}", f"+55 61 9{prefix}{index:03d}-0000")
                for index, kind in enumerate(("fresh", "known", "blacklisted", "opted_out"))
            }
            # no language of its own: the conversation's comes from the number's country
            made["no_language"] = self.make_customer(
                "Twin no_language", f"+55 61 9{prefix}004-0000", lang=False
            )
            self.opt_in(made["fresh"] | made["known"] | made["blacklisted"] | made["no_language"])
            self.opt_in(made["opted_out"], state="opted_out")
            self.env["phone.blacklist"].sudo()._add([made["blacklisted"].whatsapp_e164])
            self.account._get_conversation(made["known"])
            return made

        one, many = customers("1"), customers("2")
        singles, single_problems = {}, {}
        for kind, partner in one.items():
            conversation = self.account._get_conversation(partner)
            variant = self.template._variant_for(partner, conversation.language)
            single_problems[kind] = conversation._send_problem(variant)
            if not single_problems[kind]:
                singles[kind] = conversation._send_template(self.template, record=partner)
        conversations = Conversation._get_or_create_many(
            self.account, {p.whatsapp_e164: p for p in many.values()}
        )
        batch = Conversation.browse([conversations[p.whatsapp_e164].id for p in many.values()])
        results = batch._send_template_many(self.template)
        self.env.flush_all()
        self.env.invalidate_all()

        def stored(record, skip):
            return {
                name: record[name]
                for name, field in record._fields.items()
                if field.store and field.type not in ("one2many", "many2many") and name not in skip
            }

        conversation_skip = {"id", "name", "phone_e164", "wa_id", "partner_id"} | {
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
            "message_main_attachment_id",
        }
        message_skip = {"id", "uuid", "conversation_id", "partner_id", "res_id"} | {
            "mail_message_id",
            "create_date",
            "write_date",
        }
        for kind, partner in many.items():
            conversation = conversations[partner.whatsapp_e164]
            twin = self.account._get_conversation(one[kind])
            self.assertEqual(
                stored(conversation, conversation_skip), stored(twin, conversation_skip), kind
            )
            self.assertEqual(conversation.partner_id, partner)
            self.assertEqual(conversation.name, f"Twin {kind} ({partner.whatsapp_e164})")
            if kind != "known":  # inserted by the batch: created by nobody (no FK checks)
                self.assertRecordValues(conversation, [{"create_uid": False, "write_uid": False}])
            result = results[conversation.id]
            if single_problems[kind]:
                self.assertEqual(result[0], single_problems[kind][0], kind)
                self.assertFalse(conversation.whatsapp_message_ids)
                continue
            self.assertEqual(
                stored(result, message_skip), stored(singles[kind], message_skip), kind
            )
            self.assertEqual(result.partner_id, partner)
            self.assertEqual(result.res_id, partner.id)
            self.assertEqual(result.mail_message_id.body, singles[kind].mail_message_id.body)
            self.assertEqual(result.mail_message_id.res_id, conversation.id)
        self.assertEqual(
            [(single_problems[k] or (None,))[0] for k in one],
            [None, None, "opted_out", "opted_out", None],
        )
        # the fields the INSERTs write themselves, as their computes give them
        fresh = conversations[many["fresh"].whatsapp_e164]
        unknown = conversations[many["no_language"].whatsapp_e164]
        self.assertRecordValues(
            fresh | unknown,
            [
                {"language": "en_US", "language_source": "profile", "inbox_state": "waiting"},
                {"language": "pt_BR", "language_source": "country", "inbox_state": "waiting"},
            ],
        )
        sent = results[fresh.id]
        self.assertRecordValues(
            sent, [{"account_id": self.account.id, "company_id": fresh.company_id.id, "cost": 0}]
        )

    def test_batch_renders_each_customers_own_text(self):
        """The batch renders a text once per different values: customers of the same name read
        the same words, every other customer their own, in the outbox row and, escaped, in the
        conversation's chatter."""
        Conversation = self.env["whatsapp.conversation"]
        partners = [
            self.make_customer(name, f"+55 61 98100-000{index}")
            for index, name in enumerate(("Ana & Co", "Ana & Co", "Rui <b>"))
        ]
        self.opt_in(self.env["res.partner"].concat(*partners))
        conversations = Conversation._get_or_create_many(
            self.account, {p.whatsapp_e164: p for p in partners}
        )
        batch = Conversation.browse([conversations[p.whatsapp_e164].id for p in partners])
        results = batch._send_template_many(self.template)
        self.assertEqual(
            [results[c.id].body for c in batch],
            ["Oi Ana & Co, 20% off today!"] * 2 + ["Oi Rui <b>, 20% off today!"],
        )
        self.assertEqual(
            [str(results[c.id].mail_message_id.body) for c in batch],
            ["<p>Oi Ana &amp; Co, 20% off today!</p>"] * 2
            + ["<p>Oi Rui &lt;b&gt;, 20% off today!</p>"],
        )
        self.assertEqual([results[c.id].partner_id for c in batch], partners)
        self.assertEqual(len({results[c.id].uuid for c in batch}), 3)

    def test_release_queries_do_not_grow_with_the_batch(self):
        """The release is set-wise: a batch of twenty recipients costs no more queries than a
        batch of one (a chunk of five thousand neither)."""

        def released(count, prefix):
            partners = self.env["res.partner"].concat(
                *(
                    self.make_customer(f"Many {prefix}{i}", f"+55 62 9{prefix}{i:03d}-0000")
                    for i in range(count)
                )
            )
            self.opt_in(partners)
            campaign = self.make_campaign(partners, self.template, frequency_cap_hours=0)
            campaign.action_launch()
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.assertEqual(campaign._release_step(), count)
            self.env.flush_all()
            self.env.cr.precommit.run()  # the live notices of the batch
            return self.env.cr.sql_log_count - before, campaign

        one, _campaign = released(1, "1")
        twenty, campaign = released(20, "2")
        self.assertLessEqual(twenty, one)
        self.assertEqual(campaign.queued_count, 20)
        self.assertEqual(len(campaign.whatsapp_message_ids.conversation_id), 20)

    def test_campaign_message_shows_in_the_conversation_before_the_reply(self):
        """What the agent sees when a customer answers a campaign: the campaign's message, then
        the answer, in the workspace's thread and in the conversation's chatter."""
        campaign = self.launch()
        campaign._release_step()
        message = self.campaign_messages(campaign).filtered(lambda m: m.partner_id == self.customer)
        conversation = message.conversation_id
        self.deliver(
            self.inbound(self.customer_wa_id, payloads.text_message(self.customer_wa_id, "Quero!"))
        )
        thread = self.env["whatsapp.workspace"].with_user(self.manager).load_thread(conversation.id)
        bubbles = [(b["direction"], b["body"]) for b in thread["messages"]][-2:]
        self.assertEqual(bubbles, [("out", "Oi Ana Souza, 20% off today!"), ("in", "Quero!")])
        self.assertIn("Oi Ana Souza, 20% off today!", message.mail_message_id.body)
        self.assertEqual(message.mail_message_id.res_id, conversation.id)
        self.assertIn(message.mail_message_id, conversation.message_ids)

    def test_an_agents_template_outside_the_window_comes_after_the_campaigns_message(self):
        """The customer has not answered the campaign (no window): an agent's template in the
        same conversation writes the campaign's trace first, so the chatter reads as the
        customer's phone does."""
        campaign = self.launch()
        campaign._release_step()
        ana = self.campaign_messages(campaign).filtered(lambda m: m.partner_id == self.customer)
        self.assertFalse(ana.mail_message_id)
        conversation = ana.conversation_id
        self.assertFalse(conversation.window_open)
        sent = conversation.with_user(self.manager)._send_template(
            self.template, record=self.customer
        )
        trace = ana.mail_message_id
        self.assertTrue(trace, "written before the agent's message")
        self.assertLess(trace.id, sent.mail_message_id.id, "the campaign's message first")
        self.assertEqual(trace.date, ana.create_date)

    def test_campaign_traces_are_written_once_and_not_for_withdrawn_messages(self):
        """The chatter trace of a campaign message comes with the customer's first message after
        it, once; a message a pause withdrew (never sent) gets none."""
        campaign = self.launch()
        campaign._release_step()
        ana = self.campaign_messages(campaign).filtered(lambda m: m.partner_id == self.customer)
        bruno = self.campaign_messages(campaign) - ana
        bruno.sudo().state = "sending"  # on its way: a pause leaves it
        campaign.with_user(self.manager).action_pause()
        self.assertEqual(ana.state, "canceled")
        wa_bruno = bruno.conversation_id.wa_id
        for text in ("Oi", "Oi de novo"):
            self.deliver(self.inbound(wa_bruno, payloads.text_message(wa_bruno, text)))
            self.deliver(
                self.inbound(self.customer_wa_id, payloads.text_message(self.customer_wa_id, text))
            )
        self.assertFalse(ana.mail_message_id)
        self.assertTrue(bruno.mail_message_id)
        traces = bruno.conversation_id.message_ids.filtered(lambda m: bruno.body in (m.body or ""))
        self.assertEqual(traces, bruno.mail_message_id, "one trace, written once")
