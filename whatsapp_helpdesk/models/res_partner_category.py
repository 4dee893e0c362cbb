from odoo import models


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    def unlink(self):
        # the database deletes the tags' rel rows (ON DELETE CASCADE), which the ORM does not
        # tell the contacts' stored tags
        partners = self.env["res.partner"]
        if self.ids:
            self.flush_model(["partner_ids"])
            self.env.cr.execute(
                "SELECT DISTINCT partner_id FROM res_partner_res_partner_category_rel"
                " WHERE category_id = ANY(%s)",
                [self.ids],
            )
            partners = partners.browse([row[0] for row in self.env.cr.fetchall()])
        result = super().unlink()
        partners._whatsapp_tags_changed()
        return result
