from odoo import models


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    def unlink(self):
        # the database deletes the tags' rel rows (ON DELETE CASCADE), which the ORM does not
        # tell the contacts' stored tags: they are refreshed by SQL (a tag may have a million)
        partner_ids = []
        if self.ids:
            self.flush_model(["partner_ids"])
            self.env.cr.execute(
                "SELECT DISTINCT partner_id FROM res_partner_res_partner_category_rel"
                " WHERE category_id = ANY(%s)",
                [self.ids],
            )
            partner_ids = [row[0] for row in self.env.cr.fetchall()]
        result = super().unlink()
        self.env["res.partner"]._whatsapp_refresh_tags(partner_ids)
        return result
