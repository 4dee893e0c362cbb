from markupsafe import Markup
from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import autoreply, text


class WhatsappTagRule(models.Model):
    """Keeps customer tags in step with what customers do: a keyword they write, a button they
    press ("Interested"), the orders they place. Every change is logged on the customer."""

    _name = "whatsapp.tag.rule"
    _inherit = ["whatsapp.inbound.hook"]
    _whatsapp_inbound_sequence = 15  # after opt-outs, before anything answers
    _description = "WhatsApp Auto-Tag Rule"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    trigger = fields.Selection(
        [
            ("keyword", "Customer Writes a Keyword"),
            ("button", "Customer Presses a Button"),
            ("orders", "Customer's Orders Reach"),
        ],
        required=True,
        default="keyword",
    )
    match = fields.Selection(
        [("contains", "Contains"), ("exact", "Is Exactly")], default="contains", required=True
    )
    pattern = fields.Char(
        "Keywords / Button", help="Alternatives separated by |; a button's id or its title."
    )
    order_min_count = fields.Integer("Min. Confirmed Orders")
    order_min_amount = fields.Float("Min. Order Total")
    add_tag_ids = fields.Many2many(
        "res.partner.category", "whatsapp_tag_rule_add_rel", string="Add Tags"
    )
    remove_tag_ids = fields.Many2many(
        "res.partner.category", "whatsapp_tag_rule_remove_rel", string="Remove Tags"
    )

    _sql_constraints = [
        (
            "order_thresholds",
            "CHECK(order_min_count >= 0 AND order_min_amount >= 0 AND order_min_amount < 1e15)",
            "Order thresholds are positive.",
        ),
    ]

    def _matches_message(self, message):
        """Whether this keyword or button rule fires on the customer ``message``."""
        self.ensure_one()
        if self.trigger == "keyword":
            return autoreply.keyword_matches(self, message.body)
        if self.trigger == "button" and message.message_type in ("button", "interactive"):
            wanted = autoreply.alternatives(self.pattern)
            return (
                text.normalize(message.reply_id) in wanted or text.normalize(message.body) in wanted
            )
        return False

    def _apply(self, partner, why):
        """Add and remove this rule's tags on ``partner``; log what changed on it."""
        self.ensure_one()
        partner = partner.sudo()
        added = self.add_tag_ids - partner.category_id
        removed = self.remove_tag_ids & partner.category_id
        if not (added or removed):
            return False
        partner.category_id = [fields.Command.link(tag.id) for tag in added] + [
            fields.Command.unlink(tag.id) for tag in removed
        ]
        parts = []
        if added:
            parts.append(self.env._("added %(tags)s", tags=", ".join(added.mapped("name"))))
        if removed:
            parts.append(self.env._("removed %(tags)s", tags=", ".join(removed.mapped("name"))))
        partner.message_post(
            body=Markup("%s")
            % self.env._(
                "WhatsApp rule %(rule)s (%(why)s): %(changes)s",
                rule=self.name,
                why=why,
                changes="; ".join(parts),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return True

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """Keyword and button rules on new customer messages."""
        rules = self.search([("trigger", "in", ("keyword", "button"))])
        if not rules:
            return
        for message in messages.filtered("partner_id"):
            company = message.conversation_id.company_id
            for rule in rules.filtered(lambda r, company=company: r.company_id == company):
                if rule._matches_message(message):
                    rule._apply(message.partner_id, self.env._("WhatsApp message"))

    @api.model
    def _apply_order_rules(self, orders):
        """Order rules for the customers of ``orders`` (just confirmed)."""
        self.env["sale.order"].flush_model()
        for company in orders.company_id:
            rules = self.sudo().search(
                [("trigger", "=", "orders"), ("company_id", "=", company.id)]
            )
            if not rules:
                continue
            customers = orders.filtered(lambda o, c=company: o.company_id == c).partner_id
            customers = customers.commercial_partner_id
            self.env.cr.execute(
                SQL(
                    """
                    SELECT p.commercial_partner_id, count(*), coalesce(sum(o.amount_total), 0)
                      FROM sale_order o JOIN res_partner p ON p.id = o.partner_id
                     WHERE o.state = 'sale' AND o.company_id = %s
                       AND p.commercial_partner_id = ANY(%s)
                     GROUP BY p.commercial_partner_id
                    """,
                    company.id,
                    customers.ids,
                )
            )
            totals = {pid: (count, amount) for pid, count, amount in self.env.cr.fetchall()}
            for customer in customers:
                count, amount = totals.get(customer.id, (0, 0.0))
                for rule in rules:
                    if count >= max(rule.order_min_count, 1) and amount >= rule.order_min_amount:
                        rule._apply(customer, self.env._("%(count)s orders", count=count))
