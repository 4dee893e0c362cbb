from odoo import api, fields, models
from odoo.exceptions import AccessError

ENTRY_FIELDS = frozenset(
    {
        "entry_at",
        "entry_point_id",
        "entry_website_id",
        "entry_product_id",
        "entry_page",
        "entry_campaign",
        "entry_source",
        "entry_medium",
    }
)


class WhatsappConversation(models.Model):
    _inherit = "whatsapp.conversation"

    entry_at = fields.Datetime("Came In", readonly=True, copy=False)
    entry_point_id = fields.Many2one(
        "whatsapp.entry.point", readonly=True, index="btree_not_null", copy=False
    )
    entry_website_id = fields.Many2one("website", "Website", readonly=True, copy=False)
    entry_product_id = fields.Many2one(
        "product.template", "Asked About", readonly=True, index="btree_not_null", copy=False
    )
    entry_page = fields.Char("Page", readonly=True, copy=False)
    entry_campaign = fields.Char("UTM Campaign", readonly=True, copy=False)
    entry_source = fields.Char("UTM Source", readonly=True, copy=False)
    entry_medium = fields.Char("UTM Medium", readonly=True, copy=False)

    @api.model
    def _check_system_fields(self, field_names):
        """Where the customer came from is recorded by the webhook processing, never by a user
        (reports count conversations per entry point)."""
        forbidden = sorted(name for name in field_names if name in ENTRY_FIELDS)
        if forbidden:
            raise AccessError(
                self.env._(
                    "These fields of a WhatsApp conversation are kept by the system: %(fields)s",
                    fields=", ".join(forbidden),
                )
            )
        return super()._check_system_fields(field_names)

    def _record_entry(self, source):
        """Record where the customer came from (a parsed click-to-chat tag): each id is kept
        only when it names a record of this conversation's company (the tag is typed text the
        customer may change). An entry point's team takes the conversation nobody holds."""
        self.ensure_one()
        company = self.company_id
        env = self.env(su=True)
        entry_point = env["whatsapp.entry.point"].browse(source.get("e") or []).exists()
        if entry_point and entry_point.company_id != company:
            entry_point = entry_point.browse()
        website = env["website"].browse(source.get("w") or []).exists()
        if website and website.company_id != company:
            website = website.browse()
        product = env["product.template"].browse(source.get("p") or []).exists()
        if product and product.company_id not in (company, company.browse()):
            product = product.browse()
        values = {
            "entry_at": fields.Datetime.now(),
            "entry_point_id": entry_point.id,
            "entry_website_id": (website or entry_point.website_id).id,
            "entry_product_id": (product or entry_point.product_id).id,
            "entry_page": source.get("pg") or False,
            "entry_campaign": source.get("c") or entry_point.utm_campaign or False,
            "entry_source": source.get("s") or entry_point.utm_source or False,
            "entry_medium": source.get("m") or entry_point.utm_medium or False,
        }
        if entry_point.team_id and not self.user_id and self.team_id != entry_point.team_id:
            values["team_id"] = entry_point.team_id.id
        self.sudo().write(values)
        if "team_id" in values:
            self._route()
        return values

    def _entry_summary(self):
        """Where the customer came from, in a few words (for the thread and the inbox)."""
        self.ensure_one()
        parts = [
            self.entry_point_id.name,
            self.entry_product_id.display_name,
            self.entry_page,
            self.entry_campaign,
        ]
        return " · ".join(part for part in parts if part)

    @api.model
    def _count_per(self, field_name, records):
        """{record id: number of conversations whose ``field_name`` is that record}."""
        groups = self._read_group([(field_name, "in", records.ids)], [field_name], ["__count"])
        return {record.id: count for record, count in groups}

    @api.model
    def _action_where(self, field_name, record):
        """The conversations action showing those whose ``field_name`` is ``record``."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_conversation_action"
        )
        action["domain"] = [(field_name, "=", record.id)]
        action["context"] = {}
        return action
