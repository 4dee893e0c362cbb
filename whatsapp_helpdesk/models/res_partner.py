from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools.sql import column_exists, create_column, table_exists

from ..tools import audience
from ..tools import language as wa_language
from ..tools import phone as wa_phone
from .common import refresh_consent, refresh_tags


class ResPartner(models.Model):
    _inherit = "res.partner"

    whatsapp_e164 = fields.Char(
        "WhatsApp Number",
        compute="_compute_whatsapp_e164",
        store=True,
        index=True,
        help="Mobile (else phone) in E.164, with the partner's country or else the company's: "
        "what inbound WhatsApp numbers are matched against.",
    )
    whatsapp_consent = fields.Char(
        "WhatsApp Consent",
        compute="_compute_whatsapp_consent",
        store=True,
        readonly=True,
        help="The opt-ins of the WhatsApp number, one mark per company and category (kept in step "
        "by the opt-ins): segments read it here instead of joining the opt-ins.",
    )
    whatsapp_tags = fields.Char(
        "WhatsApp Segment Tags",
        compute="_compute_whatsapp_tags",
        store=True,
        readonly=True,
        help="The ids of the contact's tags (kept in step by its tags): segments read them here, "
        "next to the number and the consent, instead of joining the tags.",
    )
    whatsapp_conversation_ids = fields.One2many("whatsapp.conversation", "partner_id")
    whatsapp_conversation_count = fields.Integer(compute="_compute_whatsapp_conversation_count")
    whatsapp_message_ids = fields.One2many("whatsapp.message", "partner_id")
    whatsapp_cost = fields.Float(
        "WhatsApp Cost",
        compute="_compute_whatsapp_cost",
        store=True,
        digits=(16, 4),
        help="What Meta charged for the messages to this contact (companies' currencies).",
    )
    whatsapp_segment_id = fields.Many2one(
        "whatsapp.segment",
        "In WhatsApp Segment",
        compute="_compute_whatsapp_segment_id",
        search="_search_whatsapp_segment_id",
        help="Search only: the contacts of a segment.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_whatsapp_consent_writer(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_whatsapp_consent_writer(vals)
        return super().write(vals)

    @api.model
    def _check_whatsapp_consent_writer(self, vals):
        if not self.env.su and "whatsapp_consent" in vals:
            raise AccessError(
                self.env._("A contact's WhatsApp consent follows its opt-ins; it is not edited.")
            )
        if not self.env.su and "whatsapp_tags" in vals:
            raise AccessError(
                self.env._(
                    "A contact's WhatsApp segment tags follow its tags; they are not edited."
                )
            )

    def _auto_init(self):
        # A new column is filled by SQL (an upgrade with a million contacts would otherwise
        # compute it record by record).
        cr = self.env.cr
        if not column_exists(cr, "res_partner", "whatsapp_consent"):
            create_column(cr, "res_partner", "whatsapp_consent", "varchar")
            if table_exists(cr, "whatsapp_optin") and column_exists(
                cr, "res_partner", "whatsapp_e164"
            ):
                refresh_consent(cr)
        if not column_exists(cr, "res_partner", "whatsapp_tags"):
            create_column(cr, "res_partner", "whatsapp_tags", "varchar")
            if table_exists(cr, "res_partner_res_partner_category_rel"):
                refresh_tags(cr)
        return super()._auto_init()

    def init(self):
        # A segment's count (number, company, consent, tags) reads this index alone, without
        # the table or the tags' rel table (the earlier index lacked the tags).
        self.env.cr.execute("DROP INDEX IF EXISTS res_partner_whatsapp_audience_idx")
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS res_partner_whatsapp_segment_idx
                ON res_partner (id) INCLUDE (company_id, whatsapp_consent, whatsapp_tags)
             WHERE active AND whatsapp_e164 IS NOT NULL AND whatsapp_e164 <> ''
            """
        )

    @api.depends("category_id")
    def _compute_whatsapp_tags(self):
        # every tag of the rel table, archived ones too, as the segment's tags are
        for partner in self.with_context(active_test=False):
            partner.whatsapp_tags = audience.tags_text(partner.category_id.ids) or False

    @api.model
    def _whatsapp_refresh_tags(self, partner_ids=None):
        """The stored tags of every partner, or of ``partner_ids`` only, from the tags' rel
        table, set-wise (after a change of tags by SQL, which the ORM did not see: an import, a
        tag deleted, a merge); returns how many partners changed."""
        self.flush_model(["category_id", "whatsapp_tags"])
        self.env["res.partner.category"].flush_model(["partner_ids"])
        changed = refresh_tags(self.env.cr, partner_ids)
        self.invalidate_model(["category_id", "whatsapp_tags"])
        self.env["res.partner.category"].invalidate_model(["partner_ids"])
        return changed

    @api.depends("whatsapp_e164")
    def _compute_whatsapp_consent(self):
        consents = self.env["whatsapp.optin"]._consent_texts(
            {partner.whatsapp_e164 for partner in self if partner.whatsapp_e164}
        )
        for partner in self:
            partner.whatsapp_consent = consents.get(partner.whatsapp_e164) or False

    @api.model
    def _whatsapp_consent_changed(self, numbers):
        """The opt-ins of ``numbers`` changed: their partners' consent is computed again (at the
        next flush), for every partner with one of these numbers, active or not."""
        numbers = [number for number in numbers if number]
        if not numbers:
            return
        self.flush_model(["whatsapp_e164"])
        self.env.cr.execute(
            "SELECT id FROM res_partner WHERE whatsapp_e164 = ANY(%s)", [list(set(numbers))]
        )
        partners = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.env.add_to_compute(self._fields["whatsapp_consent"], partners)

    @api.depends("whatsapp_message_ids.cost")
    def _compute_whatsapp_cost(self):
        costs = self.env["whatsapp.message"]._cost_by("partner_id", self.ids)
        for partner in self:
            partner.whatsapp_cost = costs.get(partner.id, 0.0)

    def _compute_whatsapp_segment_id(self):
        self.whatsapp_segment_id = False

    def _search_whatsapp_segment_id(self, operator, value):
        """The contacts of segment ``value``, by its rules (evaluated in SQL)."""
        if operator != "=" or isinstance(value, bool) or not isinstance(value, int):
            raise UserError(self.env._("Search contacts of one segment by its id."))
        segment = self.env["whatsapp.segment"].browse(value).exists()
        if not segment:
            return expression.FALSE_DOMAIN
        segment.check_access("read")
        return segment._partner_domain() or expression.TRUE_DOMAIN

    @api.depends("mobile", "phone", "country_id", "company_id.country_id")
    def _compute_whatsapp_e164(self):
        for partner in self:
            country = (
                partner.country_id or partner.company_id.country_id or self.env.company.country_id
            )
            number = False
            for candidate in (partner.mobile, partner.phone):
                if candidate:
                    number = partner._phone_format(number=candidate, country=country)
                    if not number and candidate.strip().startswith("+"):
                        # an international number phonenumbers does not know (yet): WhatsApp
                        # delivered it, so it is real; keep it matchable
                        number = wa_phone.wa_id_to_e164(candidate)
                    if number:
                        break
            partner.whatsapp_e164 = number

    def _compute_whatsapp_conversation_count(self):
        groups = self.env["whatsapp.conversation"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.whatsapp_conversation_count = counts.get(partner.id, 0)

    def action_open_whatsapp_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_conversation_action"
        )
        conversations = self.whatsapp_conversation_ids
        if len(conversations) == 1:
            action.update(res_id=conversations.id, view_mode="form", views=[(False, "form")])
        else:
            action["domain"] = [("partner_id", "=", self.id)]
            action["context"] = {"default_partner_id": self.id}
        return action

    def action_whatsapp_compose(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send WhatsApp"),
            "res_model": "whatsapp.composer",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_res_model": self._name,
                "default_res_id": self.id,
                "default_partner_id": self.id,
            },
        }

    # Customers writing on WhatsApp (called by the webhook processing, in bulk)

    @api.model
    def _whatsapp_for_numbers(self, profiles):
        """{E.164: partner} for ``profiles`` ({E.164: profile name}), created when unknown."""
        Partner = self.sudo()
        partners = {}
        if not profiles:
            return partners
        for partner in Partner.search([("whatsapp_e164", "in", list(profiles))], order="id"):
            partners.setdefault(partner.whatsapp_e164, partner)
        unknown = [number for number in profiles if number not in partners]
        if not unknown:
            return partners
        locales = self._whatsapp_locales(unknown)
        Quiet = Partner._whatsapp_quiet()
        # the defaults, asked once for the batch: the ORM asks them per contact, and one of
        # them (account's invoice report) counts the reports every time
        defaults = Quiet.default_get([name for name, f in Quiet._fields.items() if f.default])
        created = Quiet.create(
            [
                {**defaults, "name": profiles[number] or number, "mobile": number} | locales[number]
                for number in unknown
            ]
        )
        partners.update(zip(unknown, created, strict=True))
        return partners

    @api.model
    def _whatsapp_locales(self, numbers):
        """{number: {field: value}}: the country and language each number tells of a new
        customer (the language when installed; the words may correct it later)."""
        codes = {number: wa_language.number_country(number) for number in numbers}
        countries = {
            country.code: country
            for country in self.env["res.country"].search(
                [("code", "in", list(set(codes.values()) - {None}))]
            )
        }
        installed = [lang for lang, _name in self.env["res.lang"].get_installed()]
        locales = {}
        for number, code in codes.items():
            values = {"country_id": countries[code].id} if code in countries else {}
            lang = wa_language.installed_variant(wa_language.country_language(code), installed)
            if lang:
                values["lang"] = lang
            locales[number] = values
        return locales

    @api.model
    def _whatsapp_for_users(self, profiles):
        """{BSUID: new partner} for customers known only by a username (no number to match)."""
        if not profiles:
            return {}
        created = (
            self.sudo()
            ._whatsapp_quiet()
            .create([{"name": profiles[user_id] or user_id} for user_id in profiles])
        )
        return dict(zip(profiles, created, strict=True))

    @api.model
    def _whatsapp_quiet(self):
        """This model to create the contacts of new customers with, as the intake creates their
        conversations: no "contact created" note, no follower, no tracking (the note and the
        follower cost a third of a contact's creation, for nobody to read)."""
        return self.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        )
