"""Long WhatsApp jobs end the cron worker's pass before Odoo's limits kill it mid-send."""

from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from ..models import common
from ..tools import cron_pass


@tagged("post_install", "-at_install")
class TestCronPass(TransactionCase):
    def setUp(self):
        super().setUp()
        self.cron = self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send")
        self.progress = self.env["ir.cron.progress"].create({"cron_id": self.cron.id})
        self.job_env = self.env(
            context={"cron_id": self.cron.id, "ir_cron_progress_id": self.progress.id}
        )

    def triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def test_with_time_left_the_job_runs_again_in_the_pass(self):
        before = self.triggers()
        with patch.object(common, "cron_time_left", return_value=300.0):
            common.report_progress(self.job_env, 40, 7, 50)
        self.assertEqual((self.progress.done, self.progress.remaining), (40, 7))
        self.assertEqual(self.triggers(), before)

    def test_when_another_run_no_longer_fits_the_pass_ends_and_the_job_comes_back(self):
        before = self.triggers()
        with patch.object(common, "cron_time_left", return_value=45.0):
            common.report_progress(self.job_env, 40, 7, 50)
        # Odoo then reschedules instead of a run the watchdog would kill mid-send ...
        self.assertEqual((self.progress.done, self.progress.remaining), (40, 0))
        # ... and the trigger, made after the pass took the job, brings it back at once
        self.assertEqual(self.triggers(), before + 1)

    def test_nothing_left_or_outside_a_cron_changes_nothing(self):
        before = self.triggers()
        with patch.object(common, "cron_time_left", return_value=1.0):
            common.report_progress(self.job_env, 40, 0, 50)
            common.report_progress(self.env, 40, 7, 50)  # called by hand, not by a cron
        self.assertEqual((self.progress.done, self.progress.remaining), (40, 0))
        self.assertEqual(self.triggers(), before)

    def test_runs_fit_in_what_odoo_limits_leave(self):
        # a test runs outside any cron pass: budgets are the jobs' own
        self.assertIsNone(common.cron_time_left())
        self.assertEqual(common.cron_run_budget(50), 50)
        with patch.object(common, "cron_time_left", return_value=20.0):
            self.assertEqual(common.cron_run_budget(50), common.CRON_RUN_FLOOR)
        with patch.object(common, "cron_time_left", return_value=60.0):
            self.assertEqual(common.cron_run_budget(50), 60 - common.CRON_STOP_MARGIN)

    def test_the_pass_clock_follows_odoos_pass(self):
        """The job hook tells the clock which pass runs the job (its cursor)."""
        seen = []

        def job(cls, db, cron_cr, job):
            seen.append(common.CRON_PASS.elapsed())

        cursor = object.__new__(type("PassCursor", (), {}))
        with patch("odoo.addons.base.models.ir_cron.ir_cron._process_job", classmethod(job)):
            self.env.registry["ir.cron"]._process_job(None, cursor, {})
        self.assertIsNotNone(seen[0])
        self.assertLessEqual(seen[0], cron_pass.SLEEP_MAX + 1)
