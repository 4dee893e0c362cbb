from odoo import api, fields, models

from ..tools import faq

DEFAULT_THRESHOLD = 0.6


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
    def _answer(self, conversation, text):
        """Answer ``text`` when an entry matches confidently, with a "talk to a person" button."""
        # the processing cron runs as superuser: a company's entries answer its numbers only
        entries = self.sudo().search(
            [("active", "=", True), ("company_id", "=", conversation.company_id.id)]
        )
        if not entries or not (text or "").strip():
            return False
        matcher = faq.Matcher([entry._to_entry() for entry in entries], threshold=self._threshold())
        match = matcher.match(text, conversation.language)
        if not match:
            return False
        conversation._send_bot_text(match.entry.answer, offer_person=True)
        return match
