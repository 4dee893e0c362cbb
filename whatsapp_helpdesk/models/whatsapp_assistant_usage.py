from odoo import api, fields, models


class WhatsappAssistantUsage(models.Model):
    """One call of the assistant's language model: what for, the tokens it took, what it cost
    and how it went; on the conversation it served (its totals are the conversation's)."""

    _name = "whatsapp.assistant.usage"
    _description = "WhatsApp Assistant Model Call"
    _order = "id desc"

    provider_id = fields.Many2one(
        "whatsapp.assistant.provider", "Language Model", required=True, ondelete="cascade"
    )
    conversation_id = fields.Many2one(
        "whatsapp.conversation", required=True, index=True, ondelete="cascade"
    )
    message_id = fields.Many2one("whatsapp.message", ondelete="set null")
    company_id = fields.Many2one(related="conversation_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    purpose = fields.Selection(
        [("classify", "Understand the Message"), ("faq", "Phrase an FAQ Answer")], required=True
    )
    model = fields.Char()
    outcome = fields.Selection(
        [
            ("ok", "Used"),
            ("invalid", "Unusable Answer"),
            ("timeout", "Timeout"),
            ("network", "Unreachable"),
            ("http", "Error Answer"),
            ("bad_response", "Unreadable Answer"),
            ("config", "Configuration"),
        ],
        required=True,
        help="Anything but Used: the local understanding answered instead.",
    )
    error = fields.Char()
    prompt_tokens = fields.Integer("Input Tokens")
    completion_tokens = fields.Integer("Output Tokens")
    total_tokens = fields.Integer(compute="_compute_total_tokens", store=True)
    cost = fields.Monetary(currency_field="currency_id")
    duration_ms = fields.Integer("Duration (ms)")

    @api.depends("prompt_tokens", "completion_tokens")
    def _compute_total_tokens(self):
        for usage in self:
            usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
