from odoo import models
from odoo.addons.bus.models.bus import get_notify_payloads
from odoo.tools.misc import OrderedSet

from .common import notify_postgres


class BusBus(models.Model):
    _inherit = "bus.bus"

    def _ensure_hooks(self):
        """Odoo's hooks of a transaction's bus notices, the NOTIFY after its commit sent over
        the connection this process keeps (see common.notify_postgres): Odoo's opens a new
        PostgreSQL connection for it, in every transaction that notifies (the intake's batches
        tell the agents' screens of every customer message: a new backend per batch)."""
        postcommit = self.env.cr.postcommit
        if "bus.bus.channels" not in postcommit.data:
            postcommit.data["bus.bus.channels"] = OrderedSet()

            @postcommit.add
            def notify():
                channels = list(postcommit.data.pop("bus.bus.channels"))
                notify_postgres("imbus", get_notify_payloads(channels))

        return super()._ensure_hooks()
