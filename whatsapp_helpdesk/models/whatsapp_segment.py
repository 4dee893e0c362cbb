from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools import audience
from .common import index_friendly_planner

OPTIN_MODES = [
    (audience.OPTIN_ANY, "Any"),
    (audience.OPTIN_IN, "Opted in"),
    (audience.OPTIN_NOT_OUT, "Not opted out"),
]
PREVIEW_SIZE = 10
RULE_FIELDS = (
    "only_company_contacts",
    "require_whatsapp",
    "tag_all_ids",
    "tag_any_ids",
    "tag_none_ids",
    "country_ids",
    "lang_ids",
    "marketing_optin",
    "utility_optin",
    "inbound_days",
    "order_min_count",
    "order_min_amount",
    "order_days",
    "extra_domain",
    "company_id",
)


class WhatsappSegment(models.Model):
    """A saved audience of customers: rules on tags, consent, country, language, recent chats and
    orders, evaluated by PostgreSQL as one domain on ``res.partner`` (never partner by partner)."""

    _name = "whatsapp.segment"
    _description = "WhatsApp Segment"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    only_company_contacts = fields.Boolean(
        "Company's Contacts Only",
        default=True,
        help="Contacts of this company, or shared by all companies.",
    )
    require_whatsapp = fields.Boolean("Has a WhatsApp Number", default=True)
    tag_all_ids = fields.Many2many(
        "res.partner.category", "whatsapp_segment_tag_all_rel", string="With All Tags"
    )
    tag_any_ids = fields.Many2many(
        "res.partner.category", "whatsapp_segment_tag_any_rel", string="With Any Tag"
    )
    tag_none_ids = fields.Many2many(
        "res.partner.category", "whatsapp_segment_tag_none_rel", string="Without Tags"
    )
    country_ids = fields.Many2many("res.country", string="Countries")
    lang_ids = fields.Many2many("res.lang", string="Languages")
    marketing_optin = fields.Selection(
        OPTIN_MODES, "Marketing Opt-in", required=True, default=audience.OPTIN_ANY
    )
    utility_optin = fields.Selection(
        OPTIN_MODES, "Utility Opt-in", required=True, default=audience.OPTIN_ANY
    )
    inbound_days = fields.Integer(
        "Wrote Within (days)", help="Customers who wrote on WhatsApp in the last N days (0: any)."
    )
    order_min_count = fields.Integer("Min. Confirmed Orders")
    order_min_amount = fields.Float("Min. Order Total", help="Sum of the orders' totals.")
    order_days = fields.Integer(
        "Orders Within (days)", help="Count only orders of the last N days (0: all time)."
    )
    extra_domain = fields.Char(
        "Extra Filter", help='A domain on contacts, e.g. [("city", "=", "São Paulo")].'
    )
    partner_count = fields.Integer("Customers", compute="_compute_partner_count")
    preview = fields.Html(compute="_compute_preview", sanitize=False)

    _sql_constraints = [
        (
            "inbound_days_range",
            "CHECK(inbound_days >= 0 AND inbound_days <= 36500)",
            "Between 0 and 36500 days.",
        ),
        ("order_days_range", "CHECK(order_days >= 0 AND order_days <= 36500)", "0-36500 days."),
        ("order_min_count_positive", "CHECK(order_min_count >= 0)", "A count is not negative."),
        (
            "order_min_amount_range",
            "CHECK(order_min_amount >= 0 AND order_min_amount < 1e15)",
            "The order total must be between 0 and 10^15.",
        ),
    ]

    @api.constrains("extra_domain")
    def _check_extra_domain(self):
        Partner = self.env["res.partner"]
        for segment in self:
            try:
                domain = audience.check_extra_domain(segment.extra_domain)
                Partner._search(domain)  # unknown fields and bad operators refused now
            except (ValueError, TypeError, KeyError) as error:
                raise ValidationError(
                    self.env._("The extra filter is not valid: %(error)s", error=error)
                ) from None

    # ------------------------------------------------------------------
    # Rules as domains
    # ------------------------------------------------------------------

    def _rule_parts(self):
        """[(rule key, domain)] of this segment's rules (see tools/audience)."""
        self.ensure_one()
        # the subqueries read these tables directly: pending ORM writes go first
        self.env["whatsapp.conversation"].flush_model(["phone_e164", "last_inbound_at"])
        self.env["sale.order"].flush_model(["partner_id", "state", "date_order", "amount_total"])
        company = self.company_id.id
        subqueries = {}
        now = fields.Datetime.now()
        if self.inbound_days:
            subqueries["inbound"] = SQL(
                "(SELECT phone_e164 FROM whatsapp_conversation"
                " WHERE company_id = %s AND phone_e164 IS NOT NULL AND last_inbound_at >= %s)",
                company,
                audience.since(now, self.inbound_days),
            )
        if self.order_min_count or self.order_min_amount:
            since = audience.since(now, self.order_days) if self.order_days else None
            subqueries["orders"] = SQL(
                """(SELECT p.commercial_partner_id FROM sale_order o
                      JOIN res_partner p ON p.id = o.partner_id
                     WHERE o.state = 'sale' AND o.company_id = %s %s
                     GROUP BY p.commercial_partner_id
                    HAVING count(*) >= %s AND coalesce(sum(o.amount_total), 0) >= %s)""",
                company,
                SQL("AND o.date_order >= %s", since) if since else SQL(),
                max(self.order_min_count, 1 if not self.order_min_amount else 0),
                self.order_min_amount,
            )
        rules = {
            "company": company if self.only_company_contacts else None,
            "whatsapp": self.require_whatsapp,
            "tags_all": self.tag_all_ids.ids,
            "tags_any": self.tag_any_ids.ids,
            "tags_none": self.tag_none_ids.ids,
            "country": self.country_ids.ids,
            "language": self.lang_ids.mapped("code"),
            "marketing_optin": self.marketing_optin,
            "utility_optin": self.utility_optin,
            "consent_company": company,
            "extra": audience.check_extra_domain(self.extra_domain),
        }
        return audience.rule_domains(rules, subqueries)

    def _partner_domain(self):
        """The segment as one domain on res.partner (subqueries inside: for searches only)."""
        self.ensure_one()
        return audience.combine(self._rule_parts())

    def _partner_query(self):
        """The segment's partners as a Query, with the reader's rights (record rules apply)."""
        self.ensure_one()
        return self.env["res.partner"]._search(self._partner_domain())

    @api.depends(*RULE_FIELDS)
    def _compute_partner_count(self):
        Partner = self.env["res.partner"]
        for segment in self:
            try:
                with index_friendly_planner(self.env.cr):
                    segment.partner_count = Partner.search_count(segment._partner_domain())
            except ValueError:
                segment.partner_count = 0

    @api.depends(*RULE_FIELDS)
    def _compute_preview(self):
        for segment in self:
            try:
                segment.preview = segment._preview_html()
            except ValueError as error:
                segment.preview = Markup("<p>%s</p>") % error

    def _preview_partners(self, limit=PREVIEW_SIZE):
        """(partners in, [(partner out, [reasons])]): a sample of each side, the reasons being
        the rules that leave a partner out (one query per rule for the whole sample)."""
        self.ensure_one()
        Partner = self.env["res.partner"]
        parts = self._rule_parts()
        domain = audience.combine(parts)
        inside = Partner.search(domain, limit=limit, order="write_date desc, id desc")
        base = [("whatsapp_e164", "!=", False)] if self.require_whatsapp else []
        outside = Partner.search(
            expression.AND([base, ["!", *domain]]) if domain else expression.FALSE_DOMAIN,
            limit=limit,
            order="write_date desc, id desc",
        )
        if not outside and domain:
            outside = Partner.search(["!", *domain], limit=limit, order="write_date desc, id desc")
        reasons = {partner.id: [] for partner in outside}
        for key, part in parts:
            kept = set(Partner.search(expression.AND([[("id", "in", outside.ids)], part])).ids)
            for partner_id in reasons:
                if partner_id not in kept:
                    reasons[partner_id].append(self._rule_label(key))
        return inside, [(partner, reasons[partner.id]) for partner in outside]

    def _rule_label(self, key):
        labels = {
            "company": self.env._("not a contact of this company"),
            "whatsapp": self.env._("no WhatsApp number"),
            "tags_all": self.env._("lacks a required tag"),
            "tags_any": self.env._("has none of the tags"),
            "tags_none": self.env._("has an excluded tag"),
            "country": self.env._("another country"),
            "language": self.env._("another language"),
            "marketing_optin": self.env._("marketing opt-in"),
            "utility_optin": self.env._("utility opt-in"),
            "inbound": self.env._("has not written recently"),
            "orders": self.env._("orders"),
            "extra": self.env._("extra filter"),
        }
        return labels.get(key, key)

    def _preview_html(self):
        inside, outside = self._preview_partners()
        rows_in = Markup("").join(
            Markup("<li>%s <small class='text-muted'>%s</small></li>")
            % (partner.display_name, partner.whatsapp_e164 or "")
            for partner in inside
        )
        rows_out = Markup("").join(
            Markup("<li>%s: <span class='text-danger'>%s</span></li>")
            % (partner.display_name, ", ".join(reasons))
            for partner, reasons in outside
        )
        return Markup(
            "<div class='row'><div class='col-6'><h5>%s</h5><ul class='o_wa_segment_in'>%s</ul>"
            "</div><div class='col-6'><h5>%s</h5><ul class='o_wa_segment_out'>%s</ul></div></div>"
        ) % (
            escape(self.env._("In (sample)")),
            rows_in,
            escape(self.env._("Out, and why (sample)")),
            rows_out,
        )

    def action_open_partners(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("whatsapp_segment_id", "=", self.id)],
        }
