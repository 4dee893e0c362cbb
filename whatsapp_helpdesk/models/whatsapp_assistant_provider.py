import logging
import math
import secrets

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import chat_api
from ..tools.assistant import llm

_logger = logging.getLogger(__name__)

# A price per million tokens beyond this is a typing error.
MAX_PRICE = 10_000.0
# Failures that mean the endpoint is unreachable for now: the rest of the batch does without it.
DOWN_KINDS = frozenset({"timeout", "network", "config"})


class WhatsappAssistantProvider(models.Model):
    """A language model behind a company's assistant: any OpenAI-compatible chat-completions
    endpoint (a local Ollama or vLLM, or a hosted provider). It classifies a customer's message
    and finds the order reference it holds, and phrases FAQ answers from the closest entries;
    order facts never go to it and never come from it. A timeout, an error or an unusable answer
    falls back to the local understanding; every call is logged with its tokens and cost on the
    conversation it served (``whatsapp.assistant.usage``)."""

    _name = "whatsapp.assistant.provider"
    _description = "WhatsApp Assistant Language Model"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    url = fields.Char(
        "Endpoint",
        required=True,
        groups="base.group_system",
        help="Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 (Ollama) or "
        "https://api.openai.com/v1; requests go to <URL>/chat/completions. The key is sent "
        "there: set by administrators only.",
    )
    model = fields.Char(required=True, help="e.g. llama3.1:8b, gpt-4o-mini")
    api_key = fields.Char("API Key", groups="base.group_system", copy=False)
    timeout = fields.Float(
        "Timeout (s)", default=8.0, help="After this, the local understanding answers."
    )
    classify = fields.Boolean(
        "Understands Messages", default=True, help="The model classifies each message."
    )
    phrase_faq = fields.Boolean(
        "Phrases FAQ Answers",
        default=True,
        help="The model answers FAQ questions from the closest entries, and only from them.",
    )
    price_prompt = fields.Float(
        "Price per Million Input Tokens", digits=(16, 4), help="In the company's currency."
    )
    price_completion = fields.Float("Price per Million Output Tokens", digits=(16, 4))
    usage_ids = fields.One2many("whatsapp.assistant.usage", "provider_id", "Calls")

    @api.constrains("url", "timeout", "price_prompt", "price_completion")
    def _check_settings(self):
        for provider in self.sudo():
            if not chat_api.valid_base_url(provider.url):
                raise ValidationError(
                    self.env._(
                        "The endpoint must be an http(s) URL, e.g. http://127.0.0.1:11434/v1."
                    )
                )
            if not chat_api.valid_timeout(provider.timeout):
                raise ValidationError(
                    self.env._(
                        "The timeout must be above 0 and at most %s seconds.",
                        int(chat_api.MAX_TIMEOUT),
                    )
                )
            for price in (provider.price_prompt, provider.price_completion):
                if not (math.isfinite(price) and 0 <= price <= MAX_PRICE):
                    raise ValidationError(
                        self.env._(
                            "Prices are between 0 and %s per million tokens.", int(MAX_PRICE)
                        )
                    )

    def _generate_demo_key(self):
        """Draw the key of these (demo) providers at random: the demo data calls this at install,
        ``make run`` hands it to the sandbox's language model."""
        for provider in self.sudo():
            provider.api_key = secrets.token_urlsafe(24)

    def _on(self, purpose, conversation, batch):
        """Whether the model is asked for ``purpose`` (classify, faq) in this batch: not when a
        call of the batch found it unreachable."""
        if not self:
            return False
        provider = self.sudo()
        wanted = provider.classify if purpose == "classify" else provider.phrase_faq
        return bool(
            provider.active
            and wanted
            and provider.url
            and conversation.company_id.id not in batch["down"]
        )

    def _call(self, conversation, message, purpose, prompt, batch):
        """(content, usage row) of one call; content None when it failed (logged, and for an
        unreachable endpoint, skipped for the rest of the batch)."""
        provider = self.sudo()
        Usage = self.env["whatsapp.assistant.usage"].sudo()
        values = {
            "provider_id": provider.id,
            "conversation_id": conversation.id,
            "message_id": message.id,
            "purpose": purpose,
            "model": provider.model,
        }
        try:
            client = chat_api.ChatClient(
                provider.url, provider.model, provider.api_key, timeout=provider.timeout
            )
            result = client.complete(prompt)
        except chat_api.ChatError as exc:
            _logger.info("assistant model %s: %s", provider.name, exc)
            if exc.kind in DOWN_KINDS:
                batch["down"].add(conversation.company_id.id)
            usage = Usage.create({**values, "outcome": exc.kind, "error": str(exc)[:500]})
            return None, usage
        usage = Usage.create(
            {
                **values,
                "model": result.model[:100],
                "outcome": "ok",
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "duration_ms": result.duration_ms,
                "cost": llm.cost(
                    result.prompt_tokens,
                    result.completion_tokens,
                    provider.price_prompt,
                    provider.price_completion,
                ),
            }
        )
        return result.content, usage

    def _classify(self, conversation, message, text, *, intents, matcher, batch):
        """The model's understanding of ``text``, or None (then the local one answers)."""
        questions = [e.questions[0] for e in matcher.entries if e.questions] if matcher else []
        prompt = llm.classify_messages(
            text, language=conversation.language, intents=intents, faq_questions=questions
        )
        content, usage = self._call(conversation, message, "classify", prompt, batch)
        if content is None:
            return None
        try:
            return llm.parse_classification(content, text, intents=intents)
        except llm.BadAnswer as exc:
            usage.write({"outcome": "invalid", "error": str(exc)[:500]})
            return None

    def _phrase(self, conversation, message, entries, batch):
        """The model's answer to the customer's question from ``entries``, or None."""
        prompt = llm.faq_messages(message.body, entries, language=conversation.language)
        content, usage = self._call(conversation, message, "faq", prompt, batch)
        if content is None:
            return None
        try:
            return llm.parse_faq_answer(content, entries)
        except llm.BadAnswer as exc:
            usage.write({"outcome": "invalid", "error": str(exc)[:500]})
            return None
