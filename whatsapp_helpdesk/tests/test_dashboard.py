from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import WhatsappCase

USER = "base.group_user,whatsapp_helpdesk.group_whatsapp_user"
MANAGER = "base.group_user,whatsapp_helpdesk.group_whatsapp_manager"


@tagged("post_install", "-at_install")
class TestDashboard(WhatsappCase, TransactionCase):
    """The headline figures: a manager's are his companies', an agent's his own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="dash_manager", groups=MANAGER, email="boss@example.com"
        )
        cls.ana = new_test_user(cls.env, login="dash_ana", groups=USER)
        cls.bo = new_test_user(cls.env, login="dash_bo", groups=USER)
        cls.team = cls.service_team(
            "Dashboard team", cls.ana | cls.bo, first_response=1, resolution=8
        )
        now = fields.Datetime.now()
        day = timedelta(days=1)
        # this week: Ana answers after 0.5 h and 3 h, Bo after 2 h; the week before: Ana, 1 h
        cls.service_request(
            "5511984000001", now - day, team=cls.team, user=cls.ana, answered=0.5, resolved=4
        )
        cls.service_request("5511984000002", now - 2 * day, team=cls.team, user=cls.ana, answered=3)
        cls.service_request("5511984000003", now - 3 * day, team=cls.team, user=cls.bo, answered=2)
        cls.service_request("5511984000004", now - 9 * day, team=cls.team, user=cls.ana, answered=1)
        cls.env["whatsapp.dashboard"]._cron_refresh_reports()

    def dashboard(self, user, period=7):
        return self.env["whatsapp.dashboard"].with_user(user).get_data(period)

    @staticmethod
    def tiles(data):
        return {tile["key"]: tile for tile in data["tiles"]}

    def test_a_manager_sees_every_agent(self):
        data = self.dashboard(self.manager)
        self.assertEqual(data["scope"], "all")
        tiles = self.tiles(data)
        self.assertEqual(tiles["conversations"]["value"], 3)
        self.assertEqual(tiles["first_response_median"]["value"], 2.0)
        self.assertEqual(tiles["first_response_median"]["display"], "2 h 00")
        self.assertEqual(tiles["first_response_median"]["previous"], "1 h 00")
        self.assertEqual(tiles["first_response_median"]["trend"], 100)
        self.assertFalse(tiles["first_response_median"]["good"], "slower is worse")
        self.assertAlmostEqual(tiles["answered_in_target"]["value"], 100 / 3)
        self.assertEqual(tiles["csat"]["display"], "–", "nobody rated")
        agents = {row["name"]: row for row in data["agents"]}
        self.assertEqual(agents[self.ana.name]["conversations"], 2)
        self.assertEqual(agents[self.bo.name]["first_response_median"], "2 h 00")
        live = {item["key"]: item["value"] for item in data["live"]}
        self.assertEqual(live["open"], 3, "the three unresolved requests")
        self.assertEqual(live["late"], 3, "all three past their 8-hour resolution target")
        per_month = self.dashboard(self.manager, 30)
        self.assertEqual(self.tiles(per_month)["conversations"]["value"], 4)
        self.assertEqual(sum(day["conversations"] for day in per_month["daily"]), 4)

    def test_an_agent_sees_his_own_figures(self):
        data = self.dashboard(self.ana)
        self.assertEqual(data["scope"], "mine")
        tiles = self.tiles(data)
        self.assertEqual(tiles["conversations"]["value"], 2)
        self.assertEqual(tiles["first_response_median"]["value"], 1.75)
        self.assertEqual(data["agents"], [], "no league table for agents")
        live = {item["key"]: item["value"] for item in data["live"]}
        self.assertEqual(live["open"], 2)
        report = self.env["whatsapp.report.service"].with_user(self.ana).search([])
        self.assertEqual(set(report.user_id), {self.ana}, "the rows of others stay hidden")

    def test_hostile_periods(self):
        for period in [
            "7; DROP TABLE res_users",
            "",
            None,
            0,
            -7,
            10**12,
            7.5,
            [7],
            {"d": 7},
            True,
        ]:
            with self.assertRaises(UserError):
                self.dashboard(self.manager, period)
        self.assertEqual(self.dashboard(self.manager, "30")["period"], 30)

    def test_users_without_whatsapp_get_nothing(self):
        clerk = new_test_user(self.env, login="dash_clerk", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.dashboard(clerk)
        for model in (
            "whatsapp.report.service",
            "whatsapp.report.message",
            "whatsapp.report.ticket",
        ):
            with self.assertRaises(AccessError):
                self.env[model].with_user(clerk).search([])
        with self.assertRaises(AccessError):
            self.env["whatsapp.report.backlog"].with_user(self.ana).search([])

    def test_another_company_stays_out(self):
        company, account = self.make_company_account()
        other = self.env["whatsapp.conversation"].create(
            {"account_id": account.id, "phone_e164": "+5511984000009", "wa_id": "5511984000009"}
        )
        other.write(
            {
                "first_inbound_at": fields.Datetime.now(),
                "service_started_at": fields.Datetime.now(),
                "first_response_at": fields.Datetime.now(),
                "first_response_hours": 50.0,
            }
        )
        self.env["whatsapp.report.service"]._refresh()
        tiles = self.tiles(self.dashboard(self.manager))
        self.assertEqual(tiles["conversations"]["value"], 3)
        self.assertEqual(tiles["first_response_median"]["value"], 2.0)
        self.manager.company_ids |= company
        both = self.env["whatsapp.dashboard"].with_user(self.manager)
        both = both.with_context(allowed_company_ids=[self.env.company.id, company.id])
        self.assertEqual(self.tiles(both.get_data(7))["conversations"]["value"], 4)

    def test_the_weekly_summary_reaches_the_managers(self):
        sent = self.env["whatsapp.dashboard"]._cron_weekly_summary()
        self.assertGreaterEqual(sent, 1)
        mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", self.manager.partner_id.ids)], order="id desc", limit=1
        )
        self.assertIn("your week in figures", mail.subject)
        self.assertIn("First response (median)", mail.body_html)
        self.assertIn("2 h 00", mail.body_html)
        self.assertIn("whatsapp_dashboard_action", mail.body_html)
        agents_mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", (self.ana | self.bo).partner_id.ids)]
        )
        self.assertFalse(agents_mail, "agents get no summary")
