from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    whatsapp_conversation_count = fields.Integer(
        "WhatsApp Questions",
        compute="_compute_whatsapp_conversation_count",
        groups="whatsapp_helpdesk.group_whatsapp_user",
    )

    def _compute_whatsapp_conversation_count(self):
        groups = self.env["whatsapp.conversation"]._read_group(
            [("entry_product_id", "in", self.ids)], ["entry_product_id"], ["__count"]
        )
        counts = {product.id: count for product, count in groups}
        for product in self:
            product.whatsapp_conversation_count = counts.get(product.id, 0)

    def action_open_whatsapp_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_conversation_action"
        )
        action["domain"] = [("entry_product_id", "=", self.id)]
        action["context"] = {}
        return action
