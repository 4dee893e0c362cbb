"""18.0.1.2.0: webhook events are processed by two jobs, one per half of the customers (the
second job comes with the data file); the first one, kept from before (its data is not
updated), now takes only its half."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("whatsapp_helpdesk.ir_cron_whatsapp_process_events", raise_if_not_found=False)
    if cron and cron.code.strip() == "model._cron_process()":
        cron.code = "model._cron_process(part=0)"
