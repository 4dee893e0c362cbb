from datetime import datetime, timedelta

from lxml import etree
from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..tools import payloads
from .common import WhatsappCase

MONDAY = datetime(2026, 3, 2, 12, 0)


@tagged("post_install", "-at_install")
class TestServiceReport(WhatsappCase, TransactionCase):
    """Service figures on a fixed data set: one row per customer request, percentiles computed
    by PostgreSQL per group, rates of targets met, reopened requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_ana = new_test_user(
            cls.env, login="rep_ana", groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user"
        )
        cls.agent_bo = new_test_user(
            cls.env, login="rep_bo", groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user"
        )
        Team = cls.env["helpdesk.ticket.team"]
        cls.team_a = Team.create(
            {
                "name": "Team A",
                "whatsapp_enabled": True,
                "whatsapp_sla_first_response": 2,
                "whatsapp_sla_resolution": 8,
                "user_ids": [(6, 0, cls.agent_ana.ids)],
            }
        )
        cls.team_b = Team.create(
            {"name": "Team B", "whatsapp_enabled": True, "user_ids": [(6, 0, cls.agent_bo.ids)]}
        )
        Service = cls.env["whatsapp.report.service"]
        # Team A: first answers after 1, 2, 3, 4 and 10 h; resolved after 4, 6, 9, 12 h
        cls.a = [
            cls.service_request(f"551198000{i:04d}", MONDAY + timedelta(days=i), team=cls.team_a,
                                user=cls.agent_ana, answered=answered, resolved=resolved)
            for i, (answered, resolved) in enumerate(
                [(1, 4), (2, 6), (3, 9), (4, 12), (10, None)]
            )
        ]  # fmt: skip
        # Team B: one answered after 30 min, one waiting
        cls.b = [
            cls.service_request("5511980000010", MONDAY, team=cls.team_b, user=cls.agent_bo,
                                answered=0.5, source="ad_referral"),
            cls.service_request("5511980000011", MONDAY, team=cls.team_b),
        ]  # fmt: skip
        Service._refresh()

    def figures(self, domain, groupby, aggregates):
        return self.env["whatsapp.report.service"]._read_group(domain, groupby, aggregates)

    def test_one_row_per_request_with_its_times(self):
        rows = self.env["whatsapp.report.service"].search([("team_id", "=", self.team_a.id)])
        self.assertEqual(len(rows), 5)
        last = rows.filtered(lambda r: r.conversation_id == self.a[4])
        self.assertRecordValues(
            last,
            [
                {
                    "started_at": MONDAY + timedelta(days=4),
                    "first_response_hours": 10.0,
                    "resolution_hours": 0.0,
                    "answered": 1,
                    "resolved": 0,
                    "answered_in_target": 0.0,
                    "breached": 1,
                    "started_weekday": "4",
                }
            ],
        )
        self.assertFalse(last.resolved_at)

    def test_medians_and_90th_percentiles_per_team(self):
        groups = self.figures(
            [],
            ["team_id"],
            [
                "__count",
                "first_response_median:percentile",
                "first_response_p90:percentile",
                "resolution_median:percentile",
                "resolution_p90:percentile",
            ],
        )
        by_team = {team: values for team, *values in groups}
        # 1 2 3 4 10: median 3; 90th percentile 4 + 0.6 * (10 - 4); resolutions 4 6 9 12
        self.assertEqual(by_team[self.team_a][:2], [5, 3.0])
        self.assertAlmostEqual(by_team[self.team_a][2], 7.6)
        self.assertAlmostEqual(by_team[self.team_a][3], 7.5)
        self.assertAlmostEqual(by_team[self.team_a][4], 11.1)
        # the request nobody answered yet counts, but has no time
        self.assertEqual(by_team[self.team_b][:3], [2, 0.5, 0.5])

    def test_percentiles_by_agent_and_day(self):
        per_agent = dict(
            self.figures([], ["user_id"], ["first_response_median:percentile"])
        )  # fmt: skip
        self.assertEqual(per_agent[self.agent_ana], 3.0)
        self.assertEqual(per_agent[self.agent_bo], 0.5)
        per_day = self.figures(
            [("team_id", "=", self.team_a.id)],
            ["started_at:day"],
            ["first_response_median:percentile"],
        )
        self.assertEqual([median for _day, median in per_day], [1.0, 2.0, 3.0, 4.0, 10.0])

    def test_targets_met(self):
        [(answered, resolved, missed)] = self.figures(
            [("team_id", "=", self.team_a.id)],
            [],
            ["answered_in_target:avg", "resolved_in_target:avg", "breached:sum"],
        )
        self.assertEqual(answered, 40.0, "1 h and 2 h met the 2-hour target, 3, 4, 10 did not")
        self.assertEqual(resolved, 50.0, "4 and 6 h met the 8-hour target, 9 and 12 did not")
        self.assertEqual(missed, 3)
        # a team without targets has no rate, not a perfect one
        [(rate,)] = self.figures(
            [("team_id", "=", self.team_b.id)], [], ["answered_in_target:avg"]
        )  # fmt: skip
        self.assertFalse(rate)

    def test_by_source_and_hour_of_day_in_the_company_time_zone(self):
        self.env.company.resource_calendar_id.tz = "America/Sao_Paulo"
        self.env["whatsapp.report.service"]._record_periods()
        hours = dict(
            self.figures([("team_id", "=", self.team_b.id)], ["started_hour"], ["__count"])
        )
        self.assertEqual(hours, {9: 2}, "12:00 UTC is 9:00 in São Paulo")
        sources = dict(self.figures([("team_id", "=", self.team_b.id)], ["source"], ["__count"]))
        self.assertEqual(sources, {"ad_referral": 1, False: 1})

    def test_a_customer_writing_again_starts_a_new_request_and_reopens_the_last(self):
        closed = self.a[0]
        closed.sudo().resolved_at = fields.Datetime.now() - timedelta(days=1)
        wa_id = closed.wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "It broke again")))
        self.assertEqual(closed.state, "open")
        self.assertFalse(closed.first_response_at, "the new request waits for its first answer")
        self.assertFalse(closed.resolved_at)
        self.assertGreater(closed.service_started_at, MONDAY + timedelta(days=1))
        self.assertEqual(closed.first_inbound_at, MONDAY, "the first message ever stays")
        self.env["whatsapp.report.service"]._refresh()
        rows = self.env["whatsapp.report.service"].search(
            [("conversation_id", "=", closed.id)], order="started_at"
        )
        self.assertRecordValues(
            rows,
            [
                {"started_at": MONDAY, "reopened": 1, "reopen_rate": 100.0},
                {"started_at": closed.service_started_at, "reopened": 0, "reopen_rate": 0.0},
            ],
        )
        self.assertEqual(rows.mapped("resolved"), [1, 0])
        [(rate,)] = self.figures([("id", "=", rows[1].id)], [], ["reopen_rate:avg"])
        self.assertFalse(rate, "an open request is not in the reopen rate")
        [(rate,)] = self.figures([("team_id", "=", self.team_a.id)], [], ["reopen_rate:avg"])
        self.assertEqual(rate, 25.0, "one of the four resolved requests came back")

    def test_a_customer_coming_back_much_later_is_not_a_reopen(self):
        closed = self.a[1]
        self.deliver(self.inbound(closed.wa_id, payloads.text_message(closed.wa_id, "Hi again")))
        self.env["whatsapp.report.service"]._refresh()
        first = self.env["whatsapp.report.service"].search(
            [("conversation_id", "=", closed.id), ("started_at", "=", closed.first_inbound_at)]
        )
        self.assertRecordValues(first, [{"reopened": 0, "reopen_rate": 0.0}])

    def test_the_refresh_writes_what_changed_since_the_last(self):
        Service = self.env["whatsapp.report.service"]
        self.b[1].sudo().write({"first_response_at": MONDAY, "first_response_hours": 1.5})
        Service._refresh()
        row = Service.search([("conversation_id", "=", self.b[1].id)])
        self.assertEqual(row.first_response_hours, 1.5)
        self.assertEqual(Service._record_periods(since=datetime(2100, 1, 1)), 0)
        self.assertEqual(Service._record_periods(self.b[1]), 1)

    def test_the_pivot_and_graph_ask_for_percentiles_like_any_measure(self):
        Service = self.env["whatsapp.report.service"]
        described = Service.fields_get(["first_response_median", "resolution_p90"], ["aggregator"])
        self.assertEqual(described["first_response_median"]["aggregator"], "percentile")
        groups = Service.web_read_group(
            [], ["first_response_median:percentile", "answered_in_target:avg"], ["team_id"]
        )["groups"]
        medians = {g["team_id"][0]: g["first_response_median"] for g in groups}
        self.assertEqual(medians[self.team_a.id], 3.0)
        with self.assertRaises(ValueError):
            Service._read_group([], [], ["first_response_hours:percentile"])
        with self.assertRaises(ValueError):
            Service._read_group([], [], ["first_response_median:median; DROP TABLE x"])


@tagged("post_install", "-at_install")
class TestBacklogAndTicketReports(WhatsappCase, TransactionCase):
    def test_open_conversations_by_age_bucket_and_team(self):
        team = self.service_team("Backlog", self.env["res.users"])
        now = fields.Datetime.now()
        ages = [0.5, 2, 10, 30, 100]
        for index, age in enumerate(ages):
            self.service_request(
                f"551198100{index:04d}", now - timedelta(hours=age), team=team, user=self.wa_user
            )
        self.service_request("551198100009", now - timedelta(hours=3), team=team)
        self.service_request("551198100008", now - timedelta(hours=50), team=team, resolved=1)
        Backlog = self.env["whatsapp.report.backlog"]
        buckets = dict(
            Backlog._read_group([("team_id", "=", team.id)], ["age_bucket"], ["__count"])
        )
        self.assertEqual(buckets, {"0_1h": 1, "1_4h": 2, "4_24h": 1, "1_3d": 1, "3d": 1})
        [(waiting,)] = Backlog._read_group(
            [("team_id", "=", team.id)], [], ["unassigned_hours:avg"]
        )  # fmt: skip
        self.assertAlmostEqual(waiting, 3.0, delta=0.05, msg="only the unassigned one")

    def test_satisfaction_distribution_and_average_per_agent(self):
        conversation = self.open_window()
        Ticket = self.env["helpdesk.ticket"]
        other = new_test_user(self.env, login="rep_carla", groups="base.group_user")
        answers = [("good", self.wa_user), ("good", self.wa_user), ("ok", self.wa_user)]
        answers += [("bad", other), (False, other)]
        for index, (answer, user) in enumerate(answers):
            ticket = Ticket._whatsapp_open_for(conversation, f"Problem {index}")
            ticket.write({"user_id": user.id, "whatsapp_csat": answer})
        Report = self.env["whatsapp.report.ticket"]
        spread = dict(Report._read_group([], ["csat"], ["__count"]))
        self.assertEqual(spread, {"good": 2, "ok": 1, "bad": 1, False: 1})
        per_agent = {
            user: (satisfied, score, rated)
            for user, satisfied, score, rated in Report._read_group(
                [], ["user_id"], ["csat_satisfied:avg", "csat_score:avg", "rated:sum"]
            )
        }
        self.assertAlmostEqual(per_agent[self.wa_user][0], 200 / 3)
        self.assertAlmostEqual(per_agent[self.wa_user][1], 250 / 3)
        self.assertEqual(per_agent[other], (0.0, 0.0, 1))


@tagged("post_install", "-at_install")
class TestMessageReport(WhatsappCase, TransactionCase):
    """Volumes and template results counted per hour, refreshed from what changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.service_team("Rio", cls.wa_user)
        cls.template_en = cls.approved_template("order_ready", "Your order is ready")
        cls.template_pt = cls.approved_template(
            "order_ready", "Seu pedido está pronto", language="pt_BR"
        )
        cls.conversation = cls.service_request(
            "5511982000001", MONDAY, team=cls.team, user=cls.wa_user
        )

    def message(self, direction="out", state="sent", template=None, **values):
        return (
            self.env["whatsapp.message"]
            .sudo()
            .create(
                {
                    "conversation_id": self.conversation.id,
                    "direction": direction,
                    "state": state,
                    "message_type": "template" if template else "text",
                    "template_id": template.id if template else False,
                    **values,
                }
            )
        )

    def totals(self, domain=(), groupby=()):
        return self.env["whatsapp.report.message"]._read_group(
            [("team_id", "=", self.team.id), *domain],
            list(groupby),
            [
                "message_count:sum",
                "sent_count:sum",
                "delivered_count:sum",
                "read_count:sum",
                "replied_count:sum",
                "failed_count:sum",
            ],
        )

    def test_template_results_per_template_and_language(self):
        now = fields.Datetime.now()
        self.message(template=self.template_en, state="sent")
        self.message(template=self.template_en, state="delivered")
        self.message(template=self.template_en, state="read")
        self.message(template=self.template_en, state="failed", failure_type="opted_out")
        self.message(template=self.template_pt, state="read", sent_at=now)
        self.message(template=self.template_pt, state="failed", failure_type="template_paused")
        self.message("in", "received", received_at=now + timedelta(hours=1), body="Obrigada!")
        self.env["whatsapp.report.message"]._refresh(full=True)
        results = {
            (template.name, language): values
            for template, language, *values in self.totals(
                [("template_id", "!=", False)], ["template_id", "language"]
            )
        }
        self.assertEqual(
            results,
            {
                ("order_ready", "en_US"): [4, 3, 2, 1, 0, 1],
                ("order_ready", "pt_BR"): [2, 1, 1, 1, 1, 1],
            },
        )
        reasons = dict(
            self.env["whatsapp.report.message"]._read_group(
                [("team_id", "=", self.team.id), ("failed_count", ">", 0)],
                ["failure_type"],
                ["failed_count:sum"],
            )
        )
        self.assertEqual(reasons, {"opted_out": 1, "template_paused": 1})
        [(read_rate, reply_rate)] = self.env["whatsapp.report.message"]._read_group(
            [("team_id", "=", self.team.id), ("template_id", "!=", False)],
            [],
            ["read_rate:ratio", "reply_rate:ratio"],
        )
        self.assertAlmostEqual(read_rate, 200 / 3, msg="2 read of 3 delivered")
        self.assertAlmostEqual(reply_rate, 100 / 3)

    def test_cost_per_month_category_and_campaign(self):
        """The report's cost is the ledger's: what each delivered billable template cost."""
        campaign = self.make_campaign(self.env["res.partner"], self.template_en)
        charged = self.message(
            template=self.template_en,
            state="delivered",
            billable=True,
            pricing_model="PMP",
            pricing_category="marketing",
            campaign_id=campaign.id,
        )
        self.message(template=self.template_en, state="read", billable=False)
        self.assertGreater(charged.cost, 0, "a marketing template to Brazil is charged")
        self.env["whatsapp.report.message"]._refresh(full=True)
        rows = self.env["whatsapp.report.message"]._read_group(
            [("team_id", "=", self.team.id)],
            ["campaign_id", "pricing_category"],
            ["cost:sum", "billable_count:sum"],
        )
        by_key = {(c.id, category): (cost, count) for c, category, cost, count in rows}
        self.assertAlmostEqual(by_key[campaign.id, "marketing"][0], charged.cost, places=4)
        self.assertEqual(by_key[campaign.id, "marketing"][1], 1)
        self.assertEqual(sum(cost for cost, _count in by_key.values()), charged.cost)
        action = self.env.ref("whatsapp_helpdesk.whatsapp_report_cost_action")
        self.assertEqual(action.res_model, "whatsapp.report.message")

    def test_campaign_results_side_by_side(self):
        """The Campaign Results menu: a campaign a bar, as many as its form's funnel says."""
        spring = self.make_campaign(self.env["res.partner"], self.template_en, name="Spring")
        autumn = self.make_campaign(self.env["res.partner"], self.template_pt, name="Autumn")
        for campaign, states in (
            (spring, ["sent", "delivered", "read", "read", "failed"]),
            (autumn, ["delivered", "failed", "failed"]),
        ):
            for state in states:
                self.message(
                    template=campaign.template_id,
                    state=state,
                    campaign_id=campaign.id,
                    failure_type="template_paused" if state == "failed" else False,
                )
        self.message(template=self.template_en, state="read")  # no campaign: not a bar
        self.env["whatsapp.report.message"]._refresh(full=True)
        action = self.env.ref("whatsapp_helpdesk.whatsapp_report_campaign_action")
        context = safe_eval(action.context)
        self.assertEqual(context["graph_groupbys"], ["campaign_id"])
        view = self.env["whatsapp.report.message"].get_views([(False, "search")])
        (campaigns_filter,) = etree.fromstring(view["views"]["search"]["arch"]).xpath(
            "//filter[@name='campaigns']"
        )
        self.assertTrue(context["search_default_campaigns"])
        measures = ["sent_count", "delivered_count", "read_count", "failed_count"]
        rows = self.env["whatsapp.report.message"]._read_group(
            safe_eval(campaigns_filter.get("domain")),
            context["graph_groupbys"],
            [f"{measure}:sum" for measure in measures],
        )
        by_campaign = {campaign: values for campaign, *values in rows}
        self.assertEqual(by_campaign, {spring: [4, 3, 2, 1], autumn: [1, 1, 0, 2]})
        for campaign in spring | autumn:
            funnel = [campaign[measure] for measure in measures]
            self.assertEqual(funnel, by_campaign[campaign], "the report and the funnel agree")
        self.assertIn(context["graph_measure"], measures)
        self.assertTrue(
            set(context["pivot_measures"]) <= set(self.env["whatsapp.report.message"]._fields)
        )

    def test_volumes_by_direction_and_local_hour(self):
        self.team.whatsapp_calendar_id = self.env["resource.calendar"].create(
            {"name": "Rio", "tz": "America/Sao_Paulo"}
        )
        for hour in (13, 13, 14):
            self.message("in", "received", received_at=MONDAY.replace(hour=hour), body="oi")
        self.message(body="olá")
        self.env["whatsapp.report.message"]._refresh(full=True)
        inbound = [("team_id", "=", self.team.id), ("direction", "=", "in")]
        Report = self.env["whatsapp.report.message"]
        by_hour = dict(Report._read_group(inbound, ["hour"], ["message_count:sum"]))
        self.assertEqual(by_hour, {10: 2, 11: 1}, "UTC 13:00 is 10:00 in Rio")
        weekdays = dict(Report._read_group(inbound, ["weekday"], ["__count"]))
        self.assertEqual(list(weekdays), ["0"], "a Monday")
        directions = dict(
            Report._read_group(
                [("team_id", "=", self.team.id)], ["direction"], ["message_count:sum"]
            )
        )
        self.assertEqual(directions, {"in": 3, "out": 1})

    def test_a_rebuild_counts_again_from_an_hour_on(self):
        Report = self.env["whatsapp.report.message"]
        old = self.message("in", "received", received_at=MONDAY, body="old")
        sent = self.message(template=self.template_en, state="sent")
        Report._refresh()
        self.assertEqual(self.totals()[0][:3], (2, 1, 0))
        sent.state = "delivered"
        old.state = "failed"  # not counted again: its hour is before the rebuild
        Report._rebuild(since=MONDAY + timedelta(days=1))
        self.assertEqual(self.totals()[0][:4], (2, 1, 1, 0))
        self.assertEqual(self.totals()[0][5], 0, "the old hour was kept as it was")
        Report._rebuild()
        self.assertEqual(self.totals()[0][5], 1)

    def test_the_refresh_starts_from_the_oldest_message_written(self):
        Report = self.env["whatsapp.report.message"]
        Report._refresh(full=True)
        self.assertFalse(self.totals()[0][0])
        self.message("in", "received", received_at=MONDAY, body="late webhook")
        self.assertGreaterEqual(Report._refresh(), 1)
        self.assertEqual(self.totals([("date", "=", MONDAY)])[0][0], 1)
