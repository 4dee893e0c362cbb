from odoo import api, models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_foreign_keys(self, src_partners, dst_partner):
        # the merge moves the tags of the merged contacts to the kept one by SQL
        result = super()._update_foreign_keys(src_partners, dst_partner)
        self.env["res.partner"]._whatsapp_refresh_tags(dst_partner.ids)
        return result
