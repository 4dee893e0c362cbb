import time

from odoo import api, fields, models

from ..tools import faq

DEFAULT_THRESHOLD = 0.6
# The same entry is not given twice to a conversation within this many minutes (the
# whatsapp_helpdesk.faq_cooldown_minutes system parameter overrides it).
DEFAULT_COOLDOWN_MINUTES = 60


class WhatsappFaq(models.Model):
    """The first-line bot's knowledge: questions in several phrasings and their answer."""

    _name = "whatsapp.faq"
    _description = "WhatsApp FAQ Entry"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    language = fields.Char(help="Language code (pt_BR, es, en_US...); empty: every language.")
    questions = fields.Text(required=True, help="One phrasing per line.")
    keywords = fields.Char(help="Comma-separated words that point to this entry.")
    answer = fields.Text(required=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="Answers customers writing to this company's WhatsApp numbers only.",
    )

    def _to_entry(self):
        self.ensure_one()
        return faq.Entry(
            id=self.id,
            language=self.language or "",
            questions=tuple(q.strip() for q in (self.questions or "").splitlines() if q.strip()),
            keywords=tuple(k.strip() for k in (self.keywords or "").split(",") if k.strip()),
            answer=self.answer or "",
        )

    @api.model
    def _threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param("whatsapp_helpdesk.faq_threshold")
        try:
            return float(value) if value else DEFAULT_THRESHOLD
        except ValueError:
            return DEFAULT_THRESHOLD

    @api.model
    def _cooldown_seconds(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("whatsapp_helpdesk.faq_cooldown_minutes")
        )
        try:
            return 60 * (int(value) if value else DEFAULT_COOLDOWN_MINUTES)
        except ValueError:
            return 60 * DEFAULT_COOLDOWN_MINUTES

    @api.model
    def _matcher(self, company):
        """The matcher of ``company``'s active entries, or None when it has none."""
        entries = self.sudo().search([("active", "=", True), ("company_id", "=", company.id)])
        if not entries:
            return None
        return faq.Matcher([entry._to_entry() for entry in entries], threshold=self._threshold())

    @api.model
    def _cooling_down(self, conversation, entry_id):
        """Whether the entry ``entry_id`` was given to ``conversation`` within the cool-down (the
        customer read it; repeating it answers nothing new). The assistant answers; see
        ``whatsapp.assistant``."""
        last = (conversation.faq_answered or {}).get(str(entry_id))
        return isinstance(last, int | float) and time.time() - last < self._cooldown_seconds()

    @api.model
    def _remember(self, conversation, entry_id):
        """The entry ``entry_id`` was just given to ``conversation``."""
        answered = dict(conversation.faq_answered or {})
        answered[str(entry_id)] = time.time()
        conversation.sudo().faq_answered = answered
