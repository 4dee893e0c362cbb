from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    whatsapp_delivered_at = fields.Datetime(
        "Delivered at Customer", copy=False, readonly=True, tracking=True
    )

    def _whatsapp_outgoing(self):
        return self.filtered(lambda p: p.picking_type_code == "outgoing" and p.partner_id)

    def _whatsapp_notified(self):
        """The deliveries whose shipping a WhatsApp notification rule announces."""
        rules = (
            self.env["whatsapp.notification.rule"]
            .sudo()
            .search([("event", "=", "delivery_shipped")])
        )
        notified = self.browse()
        for rule in rules:
            scoped = self._whatsapp_outgoing().filtered(
                lambda p, rule=rule: p.company_id == rule.company_id
            )
            notified |= rule._matching(scoped)
        return notified

    def _check_warn_sms(self):
        # stock_sms (installed with sms) asks whether to text the customer on validation: a
        # customer told on WhatsApp is not texted as well
        return super()._check_warn_sms() - self._whatsapp_notified()

    def _send_confirmation_email(self):
        # stock_sms texts the customer after the e-mail unless skip_sms is in the context
        on_whatsapp = self._whatsapp_notified()
        res = super(StockPicking, self - on_whatsapp)._send_confirmation_email()
        if on_whatsapp:
            super(StockPicking, on_whatsapp.with_context(skip_sms=True))._send_confirmation_email()
        return res

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
