from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestReportTour(WhatsappCase, HttpCase):
    def test_a_manager_opens_the_dashboard_and_a_pivot(self):
        agent = new_test_user(
            self.env,
            login="tour_agent",
            name="Tour Agent",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
        )
        team = self.service_team("Tour team", agent, first_response=1)
        now = fields.Datetime.now()
        for number, days, answered in [("01", 1, 1.0), ("02", 2, 3.0), ("03", 20, None)]:
            self.service_request(
                f"55119850000{number}",
                now - timedelta(days=days),
                team=team,
                user=agent,
                answered=answered,
            )
        self.env["whatsapp.dashboard"]._cron_refresh_reports()
        self.start_tour(
            "/odoo/action-whatsapp_helpdesk.whatsapp_dashboard_action",
            "whatsapp_helpdesk_report_tour",
            login="admin",
        )
