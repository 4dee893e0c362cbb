from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_confirm(self):
        res = super().action_confirm()
        self.env["whatsapp.notification.rule"]._notify_event("sale_confirmed", self)
        return res

    def action_whatsapp_conversation(self):
        self.ensure_one()
        return self.partner_id.action_open_whatsapp_conversations()
