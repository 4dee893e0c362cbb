from odoo import api, fields, models

from ..tools import audience, template_spec, text
from .common import refresh_consent

CATEGORIES = [("utility", "Utility (orders, payments, deliveries)"), ("marketing", "Marketing")]
# Meta's template categories and the opt-in they need (authentication codes are asked for: none)
TEMPLATE_CATEGORIES = {template_spec.MARKETING: "marketing", template_spec.UTILITY: "utility"}
DEFAULT_OPTOUT_KEYWORDS = (
    "STOP, STOP ALL, UNSUBSCRIBE, CANCEL, 退订, 取消订阅, 停止, BAJA, CANCELAR, ALTO, "
    "PARAR, SAIR, DESCADASTRAR, BERHENTI"
)
DEFAULT_OPTIN_KEYWORDS = "START, SUBSCRIBE, 订阅, ALTA, SUSCRIBIR, ASSINAR, MULAI"


class WhatsappOptin(models.Model):
    """Whether a customer's number agreed to WhatsApp messages of a category from a company, and
    how. Consent is given to a company: a STOP to one company's number leaves the others'."""

    _name = "whatsapp.optin"
    _inherit = ["whatsapp.inbound.hook"]
    _whatsapp_inbound_sequence = 10  # before anything answers the customer
    _description = "WhatsApp Opt-in"
    _order = "date desc, id desc"
    _rec_name = "phone_e164"

    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null")
    phone_e164 = fields.Char("Number", required=True, index=True)
    category = fields.Selection(CATEGORIES, required=True, default="utility")
    state = fields.Selection(
        [("opted_in", "Opted In"), ("opted_out", "Opted Out")], required=True, default="opted_in"
    )
    source = fields.Selection(
        [
            ("website", "Website Form"),
            ("chat", "WhatsApp Chat"),
            ("import", "Import"),
            ("manual", "Manual"),
            ("keyword", "Keyword"),
            ("meta", "Meta (customer stopped marketing)"),
        ],
        required=True,
        default="manual",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user)
    note = fields.Char()
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _sql_constraints = [
        (
            "number_category_uniq",
            "unique(company_id, phone_e164, category)",
            "One opt-in per company, number and category.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        optins = super().create(vals_list)
        self.env["res.partner"]._whatsapp_consent_changed(optins.mapped("phone_e164"))
        return optins

    def write(self, vals):
        before = set(self.mapped("phone_e164"))
        res = super().write(vals)
        if {"phone_e164", "company_id", "category", "state"} & set(vals):
            after = set(self.mapped("phone_e164"))
            self.env["res.partner"]._whatsapp_consent_changed(before | after)
        return res

    def unlink(self):
        numbers = set(self.mapped("phone_e164"))
        res = super().unlink()
        self.env["res.partner"]._whatsapp_consent_changed(numbers)
        return res

    @api.model
    def _consent_texts(self, numbers):
        """{number: the consent its partners store} for ``numbers`` (see tools/audience)."""
        if not numbers:
            return {}
        self.flush_model(["phone_e164", "company_id", "category", "state"])
        self.env.cr.execute(
            "SELECT phone_e164, company_id, category, state FROM whatsapp_optin"
            " WHERE phone_e164 = ANY(%s)",
            [list(numbers)],
        )
        optins = {}
        for number, company_id, category, state in self.env.cr.fetchall():
            optins.setdefault(number, []).append((company_id, category, state))
        return {number: audience.consent_text(marks) for number, marks in optins.items()}

    @api.model
    def _refresh_consent(self):
        """Every partner's stored consent from the opt-ins, set-wise (after an import by SQL,
        which the ORM did not see); returns how many partners changed."""
        self.env["res.partner"].flush_model(["whatsapp_e164", "whatsapp_consent"])
        self.flush_model(["phone_e164", "company_id", "category", "state"])
        changed = refresh_consent(self.env.cr)
        self.env["res.partner"].invalidate_model(["whatsapp_consent"])
        return changed

    @api.model
    def _states(self, numbers, category, company=None):
        """{number: state} for ``numbers`` in ``category`` with ``company`` (default: the
        current one; missing: never asked)."""
        company = company or self.env.company
        records = self.sudo().search(
            [
                ("phone_e164", "in", list(numbers)),
                ("category", "=", category),
                ("company_id", "=", company.id),
            ]
        )
        return {record.phone_e164: record.state for record in records}

    @api.model
    def _is_opted_in(self, number, category, company=None):
        return self._states([number], category, company).get(number) == "opted_in"

    @api.model
    def _opted_out(self, number, template_category, company=None):
        """Whether a template of ``template_category`` (Meta's: MARKETING, UTILITY...) may no
        longer go to ``number`` from ``company`` (default: the current one)."""
        company = company or self.env.company
        return bool(self._opted_out_keys({(company.id, number, template_category)}))

    @api.model
    def _opted_out_keys(self, keys):
        """The (company id, number, template category) of ``keys`` that may no longer be sent:
        the customer opted out of that category with that company, or, for marketing, is on the
        blacklist. Authentication codes are asked for: they always go. Two queries for a batch.
        """
        keys = {key for key in keys if key[1] and key[2] in TEMPLATE_CATEGORIES}
        if not keys:
            return set()
        numbers = list({number for _company, number, _category in keys})
        opted_out = {
            (optin.company_id.id, optin.phone_e164, optin.category)
            for optin in self.sudo().search(
                [("phone_e164", "in", numbers), ("state", "=", "opted_out")]
            )
        }
        blacklisted = set()
        if any(TEMPLATE_CATEGORIES[category] == "marketing" for _c, _n, category in keys):
            blacklisted = self._blacklisted(numbers)
        return {
            (company_id, number, category)
            for company_id, number, category in keys
            if (company_id, number, TEMPLATE_CATEGORIES[category]) in opted_out
            or (TEMPLATE_CATEGORIES[category] == "marketing" and number in blacklisted)
        }

    @api.model
    def _blacklisted(self, numbers):
        """The E.164 ``numbers`` on the (active) blacklist: one query, no number re-parsed (the
        blacklist's own search sanitizes every value, a second per thousand numbers)."""
        blacklist = self.env["phone.blacklist"]
        blacklist.flush_model(["number", "active"])
        self.env.cr.execute(
            "SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)", [list(numbers)]
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _record(
        self,
        number,
        state,
        *,
        partner=None,
        categories=None,
        source="manual",
        note=None,
        company=None,
    ):
        """Set ``state`` for ``number`` in ``categories`` (default: all) with ``company`` (default:
        the current one). The blacklist, shared by all companies, holds the numbers that opted
        out of everything with at least one company."""
        categories = categories or [key for key, _label in CATEGORIES]
        company = company or self.env.company
        Optin = self.sudo()
        existing = {
            o.category: o
            for o in Optin.search([("phone_e164", "=", number), ("company_id", "=", company.id)])
        }
        values = {
            "state": state,
            "source": source,
            "date": fields.Datetime.now(),
            "user_id": self.env.user.id,
            "note": note,
        }
        for category in categories:
            if category in existing:
                existing[category].write(values)
            else:
                Optin.create(
                    {
                        **values,
                        "phone_e164": number,
                        "category": category,
                        "partner_id": partner.id if partner else False,
                        "company_id": company.id,
                    }
                )
        blacklist = self.env["phone.blacklist"].sudo()
        if state == "opted_out" and set(categories) >= {key for key, _label in CATEGORIES}:
            blacklist._add([number], message=note)
        elif state == "opted_in" and not self._opted_out_of_everything(number):
            blacklist._remove([number], message=note)

    @api.model
    def _record_marketing_stops(self, messages):
        """Opt the customers of ``messages`` out of marketing: Meta refused them with 131050
        (the customer stopped marketing messages from this business on WhatsApp), so that the
        next campaigns skip them. Their utility messages go on."""
        done = set()
        for message in messages:
            conversation = message.conversation_id
            key = (conversation.company_id.id, conversation.phone_e164)
            if not conversation.phone_e164 or key in done:
                continue
            done.add(key)
            self._record(
                conversation.phone_e164,
                "opted_out",
                partner=message.partner_id or conversation.partner_id,
                categories=["marketing"],
                source="meta",
                note=self.env._(
                    "Meta error 131050: the customer stopped marketing messages from this business"
                ),
                company=conversation.company_id,
            )

    @api.model
    def _opted_out_of_everything(self, number):
        """Whether some company still has ``number`` opted out of every category."""
        groups = self.sudo()._read_group(
            [("phone_e164", "=", number), ("state", "=", "opted_out")],
            ["company_id"],
            ["__count"],
        )
        return any(count >= len(CATEGORIES) for _company, count in groups)

    @api.model
    def _keywords(self, kind):
        param = f"whatsapp_helpdesk.{kind}_keywords"
        default = DEFAULT_OPTOUT_KEYWORDS if kind == "optout" else DEFAULT_OPTIN_KEYWORDS
        raw = self.env["ir.config_parameter"].sudo().get_param(param, default)
        return {text.normalize(word) for word in raw.split(",") if word.strip()}

    @api.model
    def _apply_keywords(self, messages):
        """Opt-out (or back in) customers whose inbound text is exactly a configured keyword.

        Only the keyword itself counts: an ordinary later message never clears an opt-out.
        """
        optout, optin = self._keywords("optout"), self._keywords("optin")
        for message in messages:
            word = text.normalize(message.body)
            number = message.conversation_id.phone_e164
            if not word or not number:
                continue
            if word in optout:
                state = "opted_out"
            elif word in optin:
                state = "opted_in"
            else:
                continue
            self._record(
                number,
                state,
                partner=message.partner_id,
                source="keyword",
                note=self.env._("Keyword %(word)s received on WhatsApp", word=word),
                company=message.conversation_id.company_id,
            )

    @api.model
    def _whatsapp_on_inbound(self, messages):
        self._apply_keywords(messages.filtered("body"))
