from odoo import models

from .common import CRON_PASS


class IrCron(models.Model):
    """Tells the WhatsApp jobs when the cron worker's pass started (see tools/cron_pass.py):
    Odoo's limits apply to the pass as a whole, and long jobs end it in time."""

    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, db, cron_cr, job):
        CRON_PASS.enter(cron_cr)
        try:
            return super()._process_job(db, cron_cr, job)
        finally:
            CRON_PASS.leave()
