import time
from collections import defaultdict

from odoo import api, fields, models

from ..tools import autoreply


class WhatsappAutoReply(models.Model):
    """Automatic answers: a welcome, keyword answers, an out-of-hours notice; each with a cool-down
    so that a customer is never answered twice by the same rule in a short time."""

    _name = "whatsapp.auto.reply"
    _inherit = ["whatsapp.inbound.hook"]
    _whatsapp_inbound_sequence = 90  # last: once the conversation is routed and tickets opened
    _description = "WhatsApp Auto-Reply"
    _order = "priority, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [("welcome", "Welcome"), ("keyword", "Keyword"), ("out_of_hours", "Out of Hours")],
        required=True,
        default="keyword",
    )
    match = fields.Selection(
        [("contains", "Contains"), ("exact", "Is Exactly"), ("regex", "Regular Expression")],
        default="contains",
        required=True,
    )
    pattern = fields.Char(help="Words or phrases separated by |, or a regular expression.")
    languages = fields.Char(help="Comma-separated language codes; empty: every language.")
    priority = fields.Integer(default=10, help="Lower first.")
    cooldown_hours = fields.Float(default=1.0)
    silence_hours = fields.Float(
        help="Welcome only: greet again after this much silence (0: first contact only)."
    )
    answer_type = fields.Selection(
        [("text", "Text"), ("template", "Approved Template"), ("list", "Interactive List")],
        default="text",
        required=True,
    )
    body = fields.Text("Answer", required=True, translate=True)
    template_id = fields.Many2one(
        "whatsapp.template", check_company=True, help="Sent instead of the text."
    )
    list_options = fields.Text(
        translate=True,
        help="Interactive list: one option per line (at most 10, 24 characters each).",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="Answers customers writing to this company's WhatsApp numbers only.",
    )

    def _to_rule(self):
        self.ensure_one()
        return autoreply.Rule(
            id=self.id,
            kind=self.kind,
            match=self.match,
            pattern=self.pattern or "",
            languages=frozenset(
                part.strip() for part in (self.languages or "").split(",") if part.strip()
            ),
            priority=self.priority,
            cooldown_seconds=int(self.cooldown_hours * 3600),
            silence_seconds=int(self.silence_hours * 3600),
        )

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """Answer new customer messages with the rules that apply (the assistant, after them,
        answers questions no keyword rule answered, and hands over to a person)."""
        rules = self.sudo().search([("active", "=", True)])
        # the processing cron runs as superuser: each company's rules answer its numbers only
        plain_by_company = defaultdict(list)
        for rule in rules:
            plain_by_company[rule.company_id.id].append(rule._to_rule())
        now = time.time()
        previous = messages._previous_inbound()
        for message in messages.filtered(lambda m: m.direction == "in").sorted("id"):
            conversation = message.conversation_id.sudo()
            plain = plain_by_company[conversation.company_id.id]
            reply_id = message.reply_id or ""
            if reply_id.startswith("csat:"):
                self.env["helpdesk.ticket"]._whatsapp_record_satisfaction(reply_id, conversation)
                continue
            if reply_id.startswith("wa_"):
                continue  # a person asked for, an assistant's choice: the assistant's
            owns, live = conversation._person_presence()
            kinds = autoreply.allowed_kinds(person_owns=owns, person_live=live)
            fired = self._fire(
                conversation,
                message,
                [r for r in plain if r.kind in kinds],
                now,
                previous.get(message.id),
            )
            if fired.filtered(lambda r: r.kind == "keyword"):
                message.sudo().bot_reply = "keyword"

    @api.model
    def _fire(self, conversation, message, plain, now, previous=None):
        """Send the answers ``autoreply.choose`` picks among ``plain`` rules; remember when.
        ``previous``: (id, received_at) of the customer's message before this one, if any."""
        silence = (message.received_at - previous[1]).total_seconds() if previous else None
        team = conversation.team_id
        in_hours = team._whatsapp_in_hours(fields.Datetime.now()) if team else True
        last_fired = {int(k): v for k, v in (conversation.auto_reply_fired or {}).items()}
        chosen = autoreply.choose(
            plain,
            text=message.body or "",
            language=conversation.language,
            first_contact=not previous,
            silence_seconds=silence,
            in_hours=in_hours,
            now=now,
            last_fired=last_fired,
        )
        fired = self.browse([rule.id for rule in chosen])
        for rule in fired:
            rule.with_context(lang=conversation.language)._answer(conversation)
            last_fired[rule.id] = now
        if fired:
            conversation.auto_reply_fired = {str(k): v for k, v in last_fired.items()}
        return fired

    def _answer(self, conversation):
        """Send this rule's answer in its form: text, an approved template, or a list."""
        self.ensure_one()
        if (
            self.answer_type == "template"
            and self.template_id.status == "approved"
            and not conversation._send_problem(self.template_id)
        ):
            return conversation._send_template(self.template_id)
        if self.answer_type == "list" and self.list_options:
            options = [line.strip() for line in self.list_options.splitlines() if line.strip()]
            return conversation._send_bot_text(
                self.body, list_options=[(f"opt:{self.id}:{i}", o) for i, o in enumerate(options)]
            )
        return conversation._send_bot_text(self.body)
