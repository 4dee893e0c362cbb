from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    whatsapp_delivered_at = fields.Datetime(
        "Delivered at Customer", copy=False, readonly=True, tracking=True
    )

    def _whatsapp_outgoing(self):
        return self.filtered(lambda p: p.picking_type_code == "outgoing" and p.partner_id)

    def _action_done(self):
        res = super()._action_done()
        shipped = self._whatsapp_outgoing().filtered(lambda p: p.state == "done")
        self.env["whatsapp.notification.rule"]._notify_event("delivery_shipped", shipped)
        return res

    def action_whatsapp_mark_delivered(self):
        """The carrier or the driver confirmed the delivery at the customer."""
        pickings = self._whatsapp_outgoing().filtered(
            lambda p: p.state == "done" and not p.whatsapp_delivered_at
        )
        pickings.write({"whatsapp_delivered_at": fields.Datetime.now()})
        self.env["whatsapp.notification.rule"]._notify_event("delivery_delivered", pickings)
        return True
