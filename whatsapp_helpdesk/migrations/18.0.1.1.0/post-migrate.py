"""18.0.1.1.0: the cron that only woke the processing cron every minute is gone (the processing
cron runs every minute itself and serves the waiting conversations)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("whatsapp_helpdesk.ir_cron_whatsapp_route", raise_if_not_found=False)
    if cron:
        cron.unlink()
