from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..tools import formatting, pricing

CATEGORIES = [
    (pricing.MARKETING, "Marketing"),
    (pricing.UTILITY, "Utility"),
    (pricing.AUTHENTICATION, "Authentication"),
    (pricing.AUTHENTICATION_INTERNATIONAL, "Authentication (international)"),
    (pricing.SERVICE, "Service"),
]


class WhatsappRate(models.Model):
    """Meta's price of a message (or, under conversation-based pricing, of a conversation) of a
    category to a market from a date: the rate card, as editable data."""

    _name = "whatsapp.rate"
    _description = "WhatsApp Rate"
    _order = "country_id, category, pricing_model, date_from desc"

    country_id = fields.Many2one("res.country", "Market", help="Empty: the rest of the world.")
    category = fields.Selection(CATEGORIES, required=True)
    pricing_model = fields.Selection(
        [(pricing.PMP, "Per message"), (pricing.CBP, "Per conversation (until June 2025)")],
        required=True,
        default=pricing.PMP,
    )
    date_from = fields.Date("Valid From", required=True)
    price = fields.Float(required=True, digits=(16, 6))
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.ref("base.USD")
    )
    source = fields.Char(help="Where the price comes from (Meta's rate card and its date).")
    company_id = fields.Many2one("res.company", index=True, help="Empty: every company.")

    _sql_constraints = [
        ("price_range", "CHECK(price >= 0 AND price < 1000)", "A price is between 0 and 1,000."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        rates = super().create(vals_list)
        self.env.registry.clear_cache()
        return rates

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    @api.model
    @tools.ormcache("company_id")
    def _card(self, company_id):
        """{currency id: [pricing.Rate]} of the card that applies to ``company_id``."""
        card = defaultdict(list)
        for rate in self.sudo().search(
            [("company_id", "in", [False, company_id])], order="company_id, id"
        ):
            card[rate.currency_id.id].append(
                pricing.Rate(
                    rate.country_id.code or None,
                    rate.category,
                    rate.pricing_model,
                    rate.date_from,
                    rate.price,
                )
            )
        return dict(card)

    @api.model
    def _price(self, company, country, category, pricing_model, on_date):
        """(price, currency) of the card, or (None, None)."""
        for currency_id, rates in self._card(company.id).items():
            price = pricing.pick_rate(rates, country, category, pricing_model, on_date)
            if price is not None:
                return price, self.env["res.currency"].browse(currency_id)
        return None, None

    @api.model
    def _in_company_currency(self, amount, currency, company, on_date, cache=None):
        """``amount`` of ``currency`` in ``company``'s currency on ``on_date``."""
        target = company.currency_id
        if not amount or not currency or currency == target:
            return amount or 0.0
        key = (currency.id, target.id, company.id, on_date)
        if cache is None or key not in cache:
            rate = currency._get_conversion_rate(currency, target, company, on_date)
            if cache is None:
                return amount * rate
            cache[key] = rate
        return amount * cache[key]

    # ------------------------------------------------------------------
    # Estimates before sending
    # ------------------------------------------------------------------

    @api.model
    def _estimate(self, company, category, markets):
        """The estimated price in ``company``'s currency of ``markets`` ({country code or
        None: messages}) of pricing ``category`` (None: free), sent today."""
        if not category:
            return 0.0
        today = fields.Date.context_today(self)
        total = 0.0
        for country, count in markets.items():
            price, currency = self._price(company, country, category, pricing.PMP, today)
            total += count * self._in_company_currency(price or 0.0, currency, company, today)
        return total

    @api.model
    def _markets_of_numbers(self, numbers_sql):
        """{country code: count} of the E.164 numbers that ``numbers_sql`` (an SQL subquery of
        one column) selects, grouped by prefix in SQL (no number is parsed in Python)."""
        self.env.cr.execute(
            SQL(
                "SELECT substr(n, 1, 4), count(*) FROM %s AS t(n) WHERE n IS NOT NULL GROUP BY 1",
                numbers_sql,
            )
        )
        markets = defaultdict(int)
        for prefix, count in self.env.cr.fetchall():
            markets[pricing.market_of_prefix(prefix)] += count
        return dict(markets)

    @api.model
    def _estimate_text(self, company, category, markets, lang=None):
        """ "≈ R$ 0,35 marketing message to Brazil", "≈ R$ 350,00 for 1,000 marketing messages",
        or why it is free."""
        count = sum(markets.values())
        if not category:
            return self.env._("Free: inside the customer-service window")
        if not count:
            return False
        amount = self._estimate(company, category, markets)
        lang = lang or self.env.lang or "en_US"
        money = formatting.format_money(
            amount, company.currency_id.name, lang, digits=company.currency_id.decimal_places
        )
        label = dict(CATEGORIES).get(category, category).lower()
        if count == 1:
            country = next(iter(markets))
            name = (
                self.env["res.country"].search([("code", "=", country)], limit=1).name
                if country
                else self.env._("the rest of the world")
            )
            return self.env._(
                "≈ %(money)s %(category)s message to %(country)s",
                money=money,
                category=label,
                country=name,
            )
        return self.env._(
            "≈ %(money)s for %(count)s %(category)s messages",
            money=money,
            count=formatting.format_number(count, lang, digits=0),
            category=label,
        )
