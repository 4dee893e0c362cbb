from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    website_whatsapp_account_id = fields.Many2one(
        related="website_id.whatsapp_account_id", readonly=False
    )
    website_whatsapp_button = fields.Boolean(related="website_id.whatsapp_button", readonly=False)
    website_whatsapp_product_button = fields.Boolean(
        related="website_id.whatsapp_product_button", readonly=False
    )
    website_whatsapp_prefill = fields.Char(related="website_id.whatsapp_prefill", readonly=False)
    website_whatsapp_team_id = fields.Many2one(
        related="website_id.whatsapp_team_id", readonly=False
    )
    website_whatsapp_outside_hours = fields.Selection(
        related="website_id.whatsapp_outside_hours", readonly=False
    )
