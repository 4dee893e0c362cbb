from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from markupsafe import Markup
from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase

FRIDAY = datetime(2026, 3, 6, 16, 0)
AGENT_GROUPS = (
    "base.group_user,whatsapp_helpdesk.group_whatsapp_user,helpdesk_mgmt.group_helpdesk_user"
)


@tagged("post_install", "-at_install")
class TestServiceLevels(WhatsappCase, TransactionCase):
    """Deadlines in the team's working hours, breaches flagged by the cron whether or not anyone
    acts, the team leader told, a late first answer handed to another online agent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader = new_test_user(cls.env, login="sla_leader", groups=AGENT_GROUPS)
        cls.ana = new_test_user(cls.env, login="sla_ana", groups=AGENT_GROUPS)
        cls.bruno = new_test_user(cls.env, login="sla_bruno", groups=AGENT_GROUPS)
        cls.team = cls.service_team(
            "SLA team", cls.ana | cls.bruno, first_response=2, resolution=8, user_id=cls.leader.id
        )
        # agents get the conversations at once (no assistant answering first: see the end)
        cls.assistant = cls.env.ref("whatsapp_helpdesk.whatsapp_assistant_main")
        cls.assistant.agents_after_handoff = False
        cls.office = cls.env["resource.calendar"].create(
            {
                "name": "9-17 weekdays",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (0, 0, {"name": f"d{d}", "dayofweek": str(d), "hour_from": 9, "hour_to": 17})
                    for d in range(5)
                ],
            }
        )

    def waiting(self, hours_ago, *, number="5511983000001", user=None, answered=None):
        """A conversation whose customer wrote ``hours_ago`` hours ago."""
        started = fields.Datetime.now() - timedelta(hours=hours_ago)
        return self.service_request(
            number, started, team=self.team, user=user or self.ana, answered=answered
        )

    def notes_to(self, record, user):
        return record.message_ids.filtered(lambda m: user.partner_id in m.partner_ids)

    # -- deadlines --------------------------------------------------------------------------

    def test_deadlines_without_calendar_run_round_the_clock(self):
        conversation = self.service_request("5511983000009", FRIDAY, team=self.team)
        self.assertRecordValues(
            conversation,
            [
                {
                    "whatsapp_sla_first_response_due": FRIDAY + timedelta(hours=2),
                    "whatsapp_sla_resolution_due": FRIDAY + timedelta(hours=8),
                    "whatsapp_sla_deadline": FRIDAY + timedelta(hours=2),
                    "whatsapp_sla_warn_at": FRIDAY + timedelta(hours=1.5),
                }
            ],
        )

    def test_deadlines_in_working_hours_skip_weekends_and_public_holidays(self):
        self.team.whatsapp_calendar_id = self.office
        conversation = self.service_request("5511983000008", FRIDAY, team=self.team)
        # Friday 16:00 + 2 working hours: 1 h on Friday, 1 h on Monday
        self.assertEqual(
            conversation.whatsapp_sla_first_response_due, datetime(2026, 3, 9, 10, 0)
        )  # fmt: skip
        self.assertEqual(conversation.whatsapp_sla_warn_at, datetime(2026, 3, 9, 9, 30))
        # Monday is a public holiday of the company's calendar (not of the team's)
        company_calendar = self.env["resource.calendar"].create({"name": "Company", "tz": "UTC"})
        self.env.company.resource_calendar_id = company_calendar
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": company_calendar.id,
                "date_from": datetime(2026, 3, 9, 0, 0),
                "date_to": datetime(2026, 3, 9, 23, 59),
            }
        )
        conversation.team_id = False
        conversation.team_id = self.team
        self.assertEqual(
            conversation.whatsapp_sla_first_response_due, datetime(2026, 3, 10, 10, 0)
        )  # fmt: skip
        # 8 working hours: Friday 1 h, Tuesday 8 h... ends Tuesday 16:00
        self.assertEqual(conversation.whatsapp_sla_resolution_due, datetime(2026, 3, 10, 16, 0))
        # the working hours of a first answer count the same calendar
        hours = self.team._whatsapp_work_hours(FRIDAY, datetime(2026, 3, 10, 9, 30))
        self.assertAlmostEqual(hours, 1.5)

    def test_the_next_deadline_follows_the_first_answer_and_the_close(self):
        conversation = self.waiting(1)
        self.assertEqual(
            conversation.whatsapp_sla_deadline, conversation.whatsapp_sla_first_response_due
        )  # fmt: skip
        conversation.with_user(self.ana).message_post(
            body=Markup("<p>Olá!</p>"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(conversation.first_response_at)
        self.assertEqual(
            conversation.whatsapp_sla_deadline, conversation.whatsapp_sla_resolution_due
        )  # fmt: skip
        conversation.with_user(self.ana).action_close()
        self.assertFalse(conversation.whatsapp_sla_deadline)
        conversation.with_user(self.ana).action_reopen()
        self.assertFalse(conversation.resolved_at, "reopened by an agent: not resolved")
        self.assertEqual(
            conversation.whatsapp_sla_deadline, conversation.whatsapp_sla_resolution_due
        )  # fmt: skip

    def test_a_customer_writing_after_the_close_starts_a_new_clock(self):
        conversation = self.waiting(30, answered=1)
        conversation.action_close()
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertTrue(conversation.whatsapp_sla_resolution_breached, "closed 30 h after")
        wa_id = conversation.wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "Ainda não chegou")))
        self.assertEqual(conversation.state, "open")
        self.assertFalse(conversation.whatsapp_sla_resolution_breached)
        self.assertGreater(conversation.whatsapp_sla_deadline, fields.Datetime.now())
        self.assertEqual(
            conversation.whatsapp_sla_deadline,
            conversation.service_started_at + timedelta(hours=2),
        )

    # -- the cron ---------------------------------------------------------------------------

    def test_the_cron_flags_a_late_first_answer_and_tells_the_leader(self):
        conversation = self.waiting(3)
        self.assertEqual(conversation.whatsapp_sla_state, "red")
        self.assertFalse(conversation.sla_breached, "nobody acted yet")
        with patch.object(type(self.env["res.users"]), "_bus_send", autospec=True) as send:
            flagged = self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertEqual(flagged["first_response"], conversation)
        self.assertTrue(conversation.whatsapp_sla_first_response_breached)
        self.assertTrue(conversation.sla_breached)
        self.assertFalse(conversation.whatsapp_sla_resolution_breached)
        note = self.notes_to(conversation, self.leader)
        self.assertEqual(len(note), 1)
        self.assertIn("first response target of SLA team was missed", note.body)
        notices = [
            users for users, kind, _payload in (c.args for c in send.call_args_list)
            if kind == "simple_notification"
        ]  # fmt: skip
        self.assertEqual(notices, [self.leader])
        self.assertEqual(conversation.user_id, self.ana, "the team does not ask to hand over")
        # told once
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertEqual(len(self.notes_to(conversation, self.leader)), 1)

    def test_a_late_first_answer_goes_to_another_online_agent(self):
        self.team.whatsapp_sla_reassign = True
        for user in self.ana | self.bruno:
            self.env["bus.presence"].create({"user_id": user.id, "status": "online"})
        conversation = self.waiting(3)
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertEqual(conversation.user_id, self.bruno)
        handover = conversation.message_ids.filtered(lambda m: "handed from" in (m.body or ""))
        self.assertEqual(handover.partner_ids, self.bruno.partner_id, "Bruno is told")

    def test_nobody_online_nobody_handed_over(self):
        self.team.whatsapp_sla_reassign = True
        conversation = self.waiting(3)
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertEqual(conversation.user_id, self.ana)
        self.assertEqual(len(self.notes_to(conversation, self.leader)), 1)

    def test_answered_late_is_flagged_but_not_escalated(self):
        conversation = self.waiting(5, answered=3)
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertTrue(conversation.whatsapp_sla_first_response_breached)
        self.assertFalse(self.notes_to(conversation, self.leader))

    def test_answered_in_time_and_resolved_in_time_are_never_flagged(self):
        conversation = self.waiting(20, answered=1)
        conversation.sudo().write(
            {"state": "closed", "resolved_at": fields.Datetime.now() - timedelta(hours=15)}
        )
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertFalse(conversation.whatsapp_sla_first_response_breached)
        self.assertFalse(conversation.whatsapp_sla_resolution_breached)

    def test_resolution_breach_of_an_answered_conversation(self):
        conversation = self.waiting(10, answered=1)
        self.assertEqual(conversation.whatsapp_sla_state, "red")
        flagged = self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertEqual(flagged["resolution"], conversation)
        self.assertIn("resolution target", self.notes_to(conversation, self.leader).body)

    def test_an_old_breach_is_flagged_without_a_notice(self):
        conversation = self.waiting(40)
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertTrue(conversation.whatsapp_sla_first_response_breached)
        self.assertTrue(conversation.whatsapp_sla_resolution_breached)
        self.assertFalse(self.notes_to(conversation, self.leader), "missed a day ago: too late")

    def test_conversations_from_before_the_requests_count_from_their_first_message(self):
        conversation = self.service_request("5511983000007", FRIDAY, team=self.team)
        conversation.sudo().service_started_at = False
        self.assertEqual(
            conversation.whatsapp_sla_first_response_due, FRIDAY + timedelta(hours=2)
        )  # fmt: skip

    def test_a_team_without_leader_still_keeps_the_note(self):
        self.team.user_id = False
        conversation = self.waiting(3)
        self.env["whatsapp.conversation"]._whatsapp_sla_cron()
        self.assertTrue(
            conversation.message_ids.filtered(lambda m: "was missed" in (m.body or ""))
        )  # fmt: skip

    def test_a_whatsapp_ticket_breaches_too(self):
        conversation = self.waiting(1, answered=0.1)
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(conversation, "Broken chair")
        self.assertEqual(
            ticket.whatsapp_sla_first_response_due, ticket.create_date + timedelta(hours=2)
        )  # fmt: skip
        self.env.cr.execute(
            "UPDATE helpdesk_ticket SET create_date = create_date - interval '3 hours'"
            " WHERE id = %s",
            [ticket.id],
        )
        ticket.invalidate_recordset(["create_date"])
        ticket.modified(["create_date"])
        flagged = self.env["helpdesk.ticket"]._whatsapp_sla_cron()
        self.assertEqual(flagged["first_response"], ticket)
        self.assertEqual(len(self.notes_to(ticket, self.leader)), 1)
        plain = self.env["helpdesk.ticket"].create(
            {"name": "By e-mail", "description": "x", "team_id": self.team.id}
        )
        self.assertFalse(plain.whatsapp_sla_deadline, "not a WhatsApp ticket")

    # -- what users see and may not do --------------------------------------------------------

    def test_late_and_close_conversations_are_searchable(self):
        late = self.waiting(3, number="5511983000002")
        close = self.waiting(1.75, number="5511983000003")
        fine = self.waiting(0.1, number="5511983000004")
        Conversation = self.env["whatsapp.conversation"]
        mine = [("id", "in", (late | close | fine).ids)]
        self.assertEqual(Conversation.search([*mine, ("whatsapp_sla_state", "=", "red")]), late)
        self.assertEqual(Conversation.search([*mine, ("whatsapp_sla_state", "=", "amber")]), close)
        self.assertEqual(Conversation.search([*mine, ("whatsapp_sla_state", "=", "green")]), fine)
        self.assertEqual(
            Conversation.search([*mine, ("whatsapp_sla_state", "not in", ["red"])]), close | fine
        )
        for operator, value in [("=", "purple"), ("like", "red"), ("in", [1, 2]), ("=", None)]:
            with self.assertRaises(UserError):
                Conversation.search([("whatsapp_sla_state", operator, value)])

    def test_the_workspace_colours_follow_the_working_hours(self):
        """The workspace list's clock is the service level's: a customer who wrote at Friday
        16:00 to a 9-17 team is not late on Saturday (1 working hour gone, 2 allowed)."""
        self.team.whatsapp_calendar_id = self.office
        conversation = self.service_request("5511983000011", FRIDAY, team=self.team)
        Workspace = self.env["whatsapp.workspace"]
        for now, colour in (
            (FRIDAY + timedelta(hours=20), "success"),  # Saturday: 1 of 2 working hours gone
            (datetime(2026, 3, 9, 9, 45), "warning"),  # Monday, past the warning
            (datetime(2026, 3, 9, 10, 30), "danger"),  # Monday, past the deadline
        ):
            with freeze_time(now):
                conversation.invalidate_recordset(["whatsapp_sla_state"])
                self.assertEqual(Workspace._sla_colour(conversation), colour, now)

    def test_users_cannot_move_deadlines_or_hide_breaches(self):
        conversation = self.waiting(3)
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(conversation, "Broken")
        for record, values in [
            (conversation, {"whatsapp_sla_first_response_breached": False}),
            (conversation, {"whatsapp_sla_deadline": "2099-01-01 00:00:00"}),
            (conversation, {"service_started_at": "2099-01-01 00:00:00"}),
            (conversation, {"person_since": "2099-01-01 00:00:00"}),  # would restart the clock
            (ticket, {"whatsapp_sla_resolution_breached": False}),
            (ticket, {"whatsapp_sla_first_response_due": False}),
        ]:
            with self.assertRaises(AccessError):
                record.with_user(self.ana).write(values)
        with self.assertRaises(AccessError):
            self.env["helpdesk.ticket"].with_user(self.ana).create(
                {"name": "x", "description": "x", "whatsapp_sla_resolution_breached": True}
            )

    def test_managers_set_the_hand_over_on_the_team(self):
        manager = new_test_user(
            self.env,
            login="sla_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager,"
            "helpdesk_mgmt.group_helpdesk_manager",
        )
        with Form(self.team.with_user(manager)) as form:
            form.whatsapp_sla_reassign = True
            form.whatsapp_calendar_id = self.office
        self.assertTrue(self.team.whatsapp_sla_reassign)
        with self.assertRaises(AccessError):
            self.team.with_user(self.ana).whatsapp_sla_reassign = False
        for hostile in (-1, 1e12, float("nan"), float("inf")):
            with self.subTest(hostile=hostile), self.assertRaises(ValidationError):
                self.team.with_user(manager).whatsapp_sla_resolution = hostile
        with self.assertRaises(ValueError):
            self.team.with_user(manager).write({"whatsapp_sla_first_response": "two hours"})
        self.assertEqual(
            (self.team.whatsapp_sla_first_response, self.team.whatsapp_sla_resolution), (2, 8)
        )
        self.assertEqual(self.team._whatsapp_work_hours(FRIDAY, FRIDAY + timedelta(days=2)), 1.0)

    # -- the assistant answers first -------------------------------------------------------

    def assistant_answers_first(self):
        self.assistant.write(
            {"active": True, "company_id": self.env.company.id, "agents_after_handoff": True}
        )

    def test_the_clock_starts_when_the_assistant_hands_over(self):
        self.assistant_answers_first()
        conversation = self.service_request("5511983000020", FRIDAY, team=self.team)
        self.assertRecordValues(
            conversation,
            [{"whatsapp_sla_first_response_due": False, "whatsapp_sla_deadline": False}],
        )
        handed = FRIDAY + timedelta(hours=5)  # the assistant answered for five hours
        with freeze_time(handed):
            conversation._person_takes_over("asked")
        self.assertRecordValues(
            conversation,
            [
                {
                    "person_since": handed,
                    "whatsapp_sla_first_response_due": handed + timedelta(hours=2),
                    "whatsapp_sla_resolution_due": handed + timedelta(hours=8),
                    "whatsapp_sla_deadline": handed + timedelta(hours=2),
                }
            ],
        )
        with freeze_time(handed + timedelta(hours=1)):
            conversation.user_id = self.ana
            conversation._record_first_response()
        with freeze_time(handed + timedelta(hours=4)):
            conversation.action_close()
        # 9 hours after the customer's first message, 4 after the hand-off: within the targets
        self.assertRecordValues(
            conversation,
            [{"first_response_hours": 1.0, "resolution_hours": 4.0, "sla_breached": False}],
        )

    def test_a_request_the_assistant_settles_alone_has_no_clock(self):
        self.assistant_answers_first()
        conversation = self.service_request("5511983000021", FRIDAY, team=self.team)
        with freeze_time(FRIDAY + timedelta(hours=10)):
            flagged = self.env["whatsapp.conversation"]._whatsapp_sla_cron()
            self.assertNotIn(conversation, flagged["resolution"])
            conversation.action_close()
        self.assertRecordValues(
            conversation,
            [
                {
                    "whatsapp_sla_resolution_due": False,
                    "resolution_hours": 10.0,
                    "sla_breached": False,
                }
            ],
        )
        # the next request of the same customer, handed over at once: the clock runs from then
        later = FRIDAY + timedelta(days=1)
        conversation.sudo().write({"state": "open", "service_started_at": later})
        self.assertFalse(conversation.whatsapp_sla_deadline, "the assistant holds it")
        with freeze_time(later + timedelta(minutes=1)):
            conversation._person_takes_over("asked")
        self.assertEqual(conversation.whatsapp_sla_deadline, later + timedelta(minutes=1, hours=2))
