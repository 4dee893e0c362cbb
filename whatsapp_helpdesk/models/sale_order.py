from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    whatsapp_conversation_ids = fields.Many2many(
        "whatsapp.conversation",
        "whatsapp_conversation_sale_order_rel",
        "order_id",
        "conversation_id",
        "WhatsApp Conversations",
        copy=False,
    )

    def action_confirm(self):
        res = super().action_confirm()
        self.env["whatsapp.notification.rule"]._notify_event("sale_confirmed", self)
        return res

    def action_whatsapp_conversation(self):
        """The conversation about this order, else the customer's conversations."""
        self.ensure_one()
        if len(self.whatsapp_conversation_ids) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "whatsapp.conversation",
                "res_id": self.whatsapp_conversation_ids.id,
                "view_mode": "form",
            }
        return self.partner_id.action_open_whatsapp_conversations()
