import dataclasses

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.assistant import hours, orders, phrases, returns, summary, turn
from ..tools.assistant import understand as u

# The FAQ entries a language model may phrase an answer from: those scoring at least this.
MIN_RETRIEVAL_SCORE = 0.3
# The customer messages the hand-off summary is made of (at most).
SUMMARY_MESSAGES = 20
# Misses in a row before a hand-off, at most.
MAX_HANDOFF_MISSES = 20


class WhatsappAssistant(models.Model):
    """The first-line assistant of a company's WhatsApp numbers: it answers the customer's own
    order status, invoices, returns and opening hours from Odoo, the FAQ, and hands over to a
    person when asked, when the customer is unhappy or when it does not understand twice. It
    stays silent while a person owns the conversation.

    Without an active assistant, a company's bot is the FAQ bot with "talk to a person".
    The understanding is local and deterministic (``tools.assistant``); a language model
    (``whatsapp.assistant.provider``) may classify and phrase FAQ answers, never order facts.
    """

    _name = "whatsapp.assistant"
    _inherit = ["whatsapp.inbound.hook"]
    # after the automatic replies (90): a welcome comes before the first answer, and a keyword
    # rule the company wrote answers instead of the assistant
    _whatsapp_inbound_sequence = 95
    _description = "WhatsApp Assistant"
    _check_company_auto = True

    name = fields.Char(required=True, default=lambda self: self.env._("Assistant"))
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    answer_order_status = fields.Boolean("Order Status", default=True)
    answer_invoices = fields.Boolean("Invoices and Payments", default=True)
    answer_returns = fields.Boolean("Returns and Exchanges", default=True)
    answer_hours = fields.Boolean("Opening Hours and Address", default=True)
    agents_after_handoff = fields.Boolean(
        "Agents After the Hand-off",
        default=True,
        help="New conversations get a team but no agent until the assistant hands them over "
        "(agents can still claim them). Off: routing assigns an agent at once, and the "
        "assistant only answers conversations nobody owns.",
    )
    handoff_misses = fields.Integer(
        "Hand Over After Misses",
        default=2,
        help="Messages in a row the assistant did not understand before it hands over (0: never).",
    )
    handoff_on_negative = fields.Boolean("Hand Over Unhappy Customers", default=True)
    help_menu = fields.Boolean(
        default=True, help="When it does not understand, the assistant shows what it can do."
    )
    recent_days = fields.Integer(
        "Recent Orders (days)",
        default=90,
        help="Orders and invoices listed without a reference: those of the last days.",
    )
    return_team_id = fields.Many2one(
        "helpdesk.ticket.team",
        "Returns Team",
        check_company=True,
        help="Team of the return tickets (empty: the conversation's).",
    )
    provider_id = fields.Many2one(
        "whatsapp.assistant.provider",
        "Language Model",
        check_company=True,
        help="Optional: it understands the messages and phrases FAQ answers; order facts come "
        "from Odoo only. Without one, or when it fails, the local understanding answers.",
    )
    return_category_id = fields.Many2one(
        "helpdesk.ticket.category",
        "Returns Category",
        default=lambda self: self.env.ref(
            "whatsapp_helpdesk.helpdesk_ticket_category_return", raise_if_not_found=False
        ),
    )

    _sql_constraints = [
        ("company_uniq", "unique(company_id)", "A company has one WhatsApp assistant."),
    ]

    @api.constrains("recent_days", "handoff_misses")
    def _check_bounds(self):
        for assistant in self:
            if not 1 <= assistant.recent_days <= orders.MAX_RECENT_DAYS:
                raise ValidationError(
                    self.env._("Recent orders: between 1 and %s days.", orders.MAX_RECENT_DAYS)
                )
            if not 0 <= assistant.handoff_misses <= MAX_HANDOFF_MISSES:
                raise ValidationError(
                    self.env._("Hand over after misses: between 0 and %s.", MAX_HANDOFF_MISSES)
                )

    # -- settings --------------------------------------------------------------------------------

    @api.model
    def _for_companies(self, companies):
        """{company id: active assistant} of ``companies`` (missing: none, the FAQ bot)."""
        found = self.sudo().search([("company_id", "in", companies.ids)])
        return {assistant.company_id.id: assistant for assistant in found}

    @api.model
    def _holding(self, conversations):
        """Those of ``conversations`` this company's assistant answers until it hands them over:
        routing gives them a team, but no agent yet ("agents after the hand-off")."""
        return self._holds_until_handoff(conversations).filtered(lambda c: not c.handed_over_at)

    @api.model
    def _holds_until_handoff(self, conversations):
        """Those of ``conversations`` whose company's assistant answers first and gives them to
        a person only at the hand-off (handed over or not yet)."""
        assistants = self._for_companies(conversations.company_id)
        return conversations.filtered(
            lambda c: (
                c.company_id.id in assistants and assistants[c.company_id.id].agents_after_handoff
            )
        )

    def _settings(self):
        """How this assistant behaves (an empty recordset: the FAQ bot)."""
        if not self:
            return turn.Settings(intents=frozenset())
        self.ensure_one()
        answers = {
            u.ORDER_STATUS: self.answer_order_status,
            u.INVOICE: self.answer_invoices,
            u.RETURN: self.answer_returns,
            u.HOURS: self.answer_hours,
        }
        return turn.Settings(
            intents=frozenset(intent for intent, on in answers.items() if on),
            handoff_misses=max(self.handoff_misses, 0),
            handoff_on_negative=self.handoff_on_negative,
            help_menu=self.help_menu,
        )

    # -- reacting to customer messages -----------------------------------------------------------

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """Answer each new customer message of a conversation nobody owns (as superuser, from
        the processing cron: each company's assistant answers its own numbers)."""
        inbound = messages.filtered(lambda m: m.direction == "in").sorted("id")
        if not inbound:
            return
        assistants = self._for_companies(inbound.conversation_id.company_id)
        batch = {"matchers": {}, "down": set()}
        for message in inbound:
            conversation = message.conversation_id.sudo()
            assistant = assistants.get(conversation.company_id.id, self.sudo().browse())
            assistant._react(message, conversation, batch)

    def _react(self, message, conversation, batch):
        """One customer message: a button or list answer, else the text understood and acted on.
        ``batch``: what the batch shares (FAQ matchers, providers found down)."""
        if message.bot_reply or conversation._person_presence()[0]:
            return
        reply_id = message.reply_id or ""
        if reply_id == turn.HUMAN_BUTTON:
            self._hand_over(message, conversation, turn.ASKED)
            return
        if reply_id.startswith("wa_ai:"):
            self._follow_up(message, conversation, reply_id, batch)
            return
        text = message.body or ""
        if reply_id or not text.strip():
            return  # a template's quick reply, a rating, media without a caption: not ours
        state = conversation._assistant_state()
        matcher = self._faq_matcher(conversation.company_id, batch)
        understood = self._understand(conversation, message, text, matcher, batch)
        if self and self._continues_flow(message, conversation, state, understood):
            return
        action = turn.decide(understood, settings=self._settings(), misses=state.get("misses", 0))
        self._act(action, message, conversation, understood, state, matcher, batch)

    def _act(self, action, message, conversation, understood, state, matcher, batch):
        if action.kind == turn.HANDOFF:
            self._hand_over(message, conversation, action.reason)
        elif action.kind == turn.INTENT:
            self._answer_intent(action.intent, message, conversation, understood)
        elif action.kind == turn.FAQ:
            if not self._answer_faq(message, conversation, understood, matcher, batch):
                missed = dataclasses.replace(understood, intent=u.NONE, faq_match=None)
                settings = self._settings()
                again = turn.decide(missed, settings=settings, misses=state.get("misses", 0))
                if again.kind != turn.FAQ:
                    self._act(again, message, conversation, missed, state, matcher, batch)
        elif action.kind == turn.MENU:
            self._show_menu(message, conversation, action.misses)
        elif action.misses != state.get("misses", 0):
            message.sudo().bot_reply = "missed"
            conversation._set_assistant_state({"misses": action.misses})

    def _continues_flow(self, message, conversation, state, understood):
        """Whether ``message`` answers what the assistant waits for: a return's reason in the
        customer's own words, or the reference it asked for."""
        step = state.get("step")
        if step == "reason" and state.get("flow") == "return":
            if understood.intent in (u.NONE, u.FAQ) and not understood.smalltalk:
                code, words = returns.reason(None, message.body)
                self._finish_return(message, conversation, state, code, words)
                return True
            return False
        if (
            step == "reference"
            and understood.order_refs
            and understood.intent
            in (
                u.NONE,
                u.FAQ,
                u.ORDER_STATUS,
                state.get("flow"),
            )
        ):
            intent = {"order": u.ORDER_STATUS, "invoice": u.INVOICE, "return": u.RETURN}.get(
                state.get("flow"), u.ORDER_STATUS
            )
            self._answer_intent(intent, message, conversation, understood, state=state)
            return True
        return False

    def _follow_up(self, message, conversation, reply_id, batch):
        """A choice of one of the assistant's lists (an order, an item, a reason, the menu).
        Only what the assistant offered in this conversation is taken; an expired choice starts
        the question again."""
        if not self:
            return
        state = conversation._assistant_state()
        intent = turn.menu_intent(reply_id)
        if intent:
            if intent in self._settings().intents:
                self._answer_intent(intent, message, conversation, u.Understanding(intent))
            return
        if reply_id.startswith("wa_ai:order:"):
            self._pick_order(message, conversation, reply_id, state)
        elif reply_id.startswith(returns.ORDER_PREFIX):
            self._pick_return_order(message, conversation, reply_id, state)
        elif reply_id.startswith(returns.LINE_PREFIX):
            self._pick_return_lines(message, conversation, reply_id, state)
        elif reply_id.startswith(returns.REASON_PREFIX):
            if state.get("flow") == "return" and state.get("step") == "reason":
                code, words = returns.reason(reply_id, "")
                self._finish_return(message, conversation, state, code, words)
            else:
                self._answer_intent(u.RETURN, message, conversation, u.Understanding(u.RETURN))

    # -- sending ---------------------------------------------------------------------------------

    def _send_reply(self, message, conversation, reply, outcome):
        """Send ``reply`` (``tools.assistant.phrases.Reply``) in the customer's language and
        remember what the assistant now waits for."""
        language = conversation.language
        labels = {
            "person": phrases.say("handoff.button", language),
            "list_button": reply.list_button or phrases.say("menu.button", language),
            "section": phrases.say("section", language),
        }
        rows = [(row.id, row.title, row.description) for row in reply.rows]
        conversation._send_bot_text(
            reply.text,
            list_options=rows or None,
            offer_person=reply.offer_person and not rows,
            labels=labels,
        )
        conversation._set_assistant_state(reply.state)
        message.sudo().bot_reply = outcome

    def _show_menu(self, message, conversation, misses):
        language = conversation.language
        rows = [
            phrases.Row(f"{turn.MENU_PREFIX}{intent}", phrases.say(f"menu.{intent}", language))
            for intent in u.SELF_SERVICE
            if intent in self._settings().intents
        ]
        rows.append(phrases.Row(turn.HUMAN_BUTTON, phrases.say("handoff.button", language)))
        reply = phrases.Reply(phrases.say("menu.help", language), rows=tuple(rows))
        self._send_reply(message, conversation, reply, "menu")
        conversation._set_assistant_state({"misses": misses})

    def _hand_over(self, message, conversation, reason):
        message.sudo().bot_reply = "handoff"
        conversation._hand_to_person(reason)

    def _answer_faq(self, message, conversation, understood, matcher, batch):
        """The FAQ's answer (phrased by the language model from the closest entries when the
        company has one); False when no entry answers. An entry given to this conversation
        within the cool-down is not repeated (the customer read it)."""
        if matcher is None:
            return False
        language = conversation.language
        entries = [understood.faq_match.entry] if understood.faq_match else []
        for match in matcher.match_all(
            message.body, language, limit=3, min_score=MIN_RETRIEVAL_SCORE
        ):
            if match.entry not in entries:
                entries.append(match.entry)
        if not entries:
            return False
        Faq = self.env["whatsapp.faq"]
        if Faq._cooling_down(conversation, entries[0].id):
            message.sudo().bot_reply = "faq"
            return True
        body = entries[0].answer if understood.faq_match else ""
        if self.provider_id._on("faq", conversation, batch):
            body = self.provider_id._phrase(conversation, message, entries, batch) or body
        if not body:
            return False
        conversation._send_bot_text(
            body, offer_person=True, labels={"person": phrases.say("handoff.button", language)}
        )
        Faq._remember(conversation, entries[0].id)
        message.sudo().bot_reply = "faq"
        if self:
            conversation._set_assistant_state({})
        return True

    @api.model
    def _faq_matcher(self, company, batch):
        matchers = batch["matchers"]
        if company.id not in matchers:
            matchers[company.id] = self.env["whatsapp.faq"]._matcher(company)
        return matchers[company.id]

    def _understand(self, conversation, message, text, matcher, batch):
        """The local understanding of ``text``, or the language model's when the company has one
        and it answers usably ("talk to a person" is always the local one's)."""
        settings = self._settings()
        local = u.understand(text, conversation.language, matcher, intents=settings.intents)
        if local.intent == u.HUMAN or not self.provider_id._on("classify", conversation, batch):
            return local
        remote = self.provider_id._classify(
            conversation, message, text, intents=settings.intents, matcher=matcher, batch=batch
        )
        if remote is None or (remote.intent == u.NONE and local.intent != u.NONE):
            return local  # unusable, or it found nothing where the local rules found something
        return dataclasses.replace(
            remote,
            faq_match=local.faq_match if remote.intent == u.FAQ else None,
            negative=remote.negative or local.negative,
            smalltalk=remote.intent == u.NONE and local.smalltalk,
            exchange=local.exchange,
        )

    # -- the hand-off ----------------------------------------------------------------------------

    @api.model
    def _announce_handoff(self, conversation, reason):
        """Once ``conversation`` is handed over (and routed): tell the customer when a person
        will answer (outside the team's working hours: when it is back, with a ticket when the
        team wants one), and give the agent a summary of what the customer asked."""
        language = conversation.language
        team = conversation.team_id
        back = ""
        if team:
            intervals, tz = team._whatsapp_intervals()
            back = hours.when_back(
                intervals,
                fields.Datetime.now(),
                tz,
                language,
                customer_tz=conversation.partner_id.tz,
            )
        ticket = self.env["helpdesk.ticket"]
        if (
            back
            and team.whatsapp_handoff_ticket
            and not conversation.ticket_ids.filtered(lambda t: not t.closed)
        ):
            ticket = ticket.sudo()._whatsapp_open_for(
                conversation, self._handoff_title(conversation, reason)
            )
        if back:
            text = phrases.join(
                [
                    phrases.say("handoff.later", language, when=back),
                    phrases.say("handoff.ticket", language, ticket=ticket.number) if ticket else "",
                ]
            )
        else:
            text = phrases.say("handoff.now", language)
        conversation._send_bot_text(text)
        note = self._handoff_note(conversation, reason)
        bot = self.env["ir.model.data"]._xmlid_to_res_id("base.partner_root")
        conversation._post_automatic(note, "mail.mt_note", bot, message_type="notification")
        if ticket:
            ticket.message_post(body=note, subtype_xmlid="mail.mt_note", author_id=bot)

    @api.model
    def _handoff_title(self, conversation, reason):
        name = conversation.name
        titles = {
            "asked": self.env._("WhatsApp: %(name)s asked for a person", name=name),
            "negative": self.env._("WhatsApp: %(name)s is unhappy", name=name),
            "misses": self.env._("WhatsApp: the assistant could not help %(name)s", name=name),
        }
        return titles.get(reason, self.env._("WhatsApp conversation with %(name)s", name=name))

    @api.model
    def _handoff_note(self, conversation, reason):
        """What the customer asked since a person last wrote, for the person taking over (HTML,
        the customer's words escaped)."""
        domain = [("conversation_id", "=", conversation.id), ("direction", "=", "in")]
        since = [conversation.resolved_at, conversation.last_agent_reply_at]
        if any(since):
            domain.append(("received_at", ">", max(filter(None, since))))
        messages = (
            self.env["whatsapp.message"]
            .sudo()
            .search(domain, order="id desc", limit=SUMMARY_MESSAGES)
        )
        found = summary.summarize(
            [summary.Turn(m.body or "", m.bot_reply or "") for m in messages.sorted("id")]
        )
        reasons = {
            "asked": self.env._("The customer asked for a person."),
            "negative": self.env._("The customer sounds unhappy."),
            "misses": self.env._("The assistant did not understand the customer twice in a row."),
        }
        labels = dict(self.env["whatsapp.message"]._fields["bot_reply"].selection)
        parts = [
            Markup("<p><b>%s</b> %s</p>") % (self.env._("Handed over."), reasons.get(reason, ""))
        ]
        if found.questions:
            items = Markup("").join(Markup("<li>%s</li>") % q for q in found.questions)
            parts.append(
                Markup("<p>%s</p><ul>%s</ul>") % (self.env._("The customer wrote:"), items)
            )
        if found.intents:
            topics = ", ".join(labels.get(i, i) for i in found.intents)
            parts.append(Markup("<p>%s %s</p>") % (self.env._("Topics:"), topics))
        if found.references:
            references = ", ".join(found.references)
            parts.append(Markup("<p>%s %s</p>") % (self.env._("References:"), references))
        return Markup("").join(parts)
