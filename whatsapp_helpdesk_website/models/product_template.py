from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    whatsapp_conversation_count = fields.Integer(
        "WhatsApp Questions",
        compute="_compute_whatsapp_conversation_count",
        groups="whatsapp_helpdesk.group_whatsapp_user",
    )

    def _compute_whatsapp_conversation_count(self):
        counts = self.env["whatsapp.conversation"]._count_per("entry_product_id", self)
        for product in self:
            product.whatsapp_conversation_count = counts.get(product.id, 0)

    def action_open_whatsapp_conversations(self):
        self.ensure_one()
        return self.env["whatsapp.conversation"]._action_where("entry_product_id", self)
