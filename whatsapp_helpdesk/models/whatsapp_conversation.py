import functools
import logging
import time
import uuid
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, html2plaintext

from ..tools import language as wa_language
from ..tools import media_limits, pricing, window
from ..tools import messages as wa_messages
from .common import computed_after_insert

_logger = logging.getLogger(__name__)

# The bot stays quiet this long after a person wrote in the conversation (minutes; the
# whatsapp_helpdesk.bot_quiet_minutes system parameter overrides it).
DEFAULT_BOT_QUIET_MINUTES = 30
# What the assistant waits for (a choice, a reference, a reason) is forgotten after this long.
ASSISTANT_STATE_SECONDS = 3600
# Where a conversation sends and whether its window is open: written by the webhook processing and
# the send methods (as superuser), never by a user: a user moving the number or the window would
# send past the checks. Set once by a user creating a conversation: account and number.
IDENTITY_FIELDS = frozenset({"account_id", "phone_e164", "wa_id", "wa_user_id"})
SYSTEM_FIELDS = IDENTITY_FIELDS | {
    "last_inbound_at",
    "window_end",
    "first_inbound_at",
    "service_started_at",
    "last_message_at",
    "last_direction",
    "unread_count",
    "first_response_at",
    "first_response_hours",
    "resolved_at",
    "resolution_hours",
    "auto_reply_fired",
    "faq_answered",
    "handed_over_at",
    "person_since",
    "handoff_reason",
    "assistant_state",
    "last_agent_reply_at",
    "wa_username",
    "language_detected",
}


def _name_of(label, handle):
    """A conversation's name: the customer's name and handle (number, username or user id)."""
    return f"{label} ({handle})" if label else handle or ""


def _language_of(installed, *, agent, spoken, profile, number):
    """(language, its source) of a conversation, or (False, False); the number is parsed only
    when nothing else tells the language (parsing costs a tenth of a millisecond a number)."""
    country = None if agent or spoken or profile else wa_language.number_country(number)
    guess = wa_language.infer(agent=agent, spoken=spoken, profile=profile, country=country)
    code = guess and wa_language.installed_variant(guess.language, installed)
    return (code, guess.source) if code else (False, False)


def _frozen(rendered):
    """A hashable form of rendered template values ({location: {placeholder: text}})."""
    return tuple(
        sorted((location, tuple(sorted(texts.items()))) for location, texts in rendered.items())
    )


def _inbox_state_of(state, last_direction, user):
    if state == "closed":
        return "resolved"
    if last_direction != "in":
        # we wrote last, or only we wrote (a campaign's or a notification's conversation)
        return "waiting"
    return "open" if user else "new"


# The stored computed fields of a conversation _get_or_create_many inserts with their values:
# a new one has no team, no agent, no customer message yet (no window, no service-level clock).
INSERTED_COMPUTED_FIELDS = frozenset(
    {
        "name",
        "company_id",
        "language",
        "language_source",
        "inbox_state",
        "window_end",
        "sla_breached",
        "whatsapp_sla_first_response_due",
        "whatsapp_sla_resolution_due",
        "whatsapp_sla_deadline",
        "whatsapp_sla_warn_at",
    }
)


class WhatsappConversation(models.Model):
    """One thread per business number and customer number: the WhatsApp chat as Odoo shows it."""

    _name = "whatsapp.conversation"
    _description = "WhatsApp Conversation"
    _inherit = ["mail.thread", "whatsapp.sla.mixin"]
    _order = "last_message_at desc, id desc"
    _rec_names_search = ["name", "wa_id", "partner_id"]
    _check_company_auto = True
    _whatsapp_sla_start_fields = ("service_started_at", "first_inbound_at")
    _whatsapp_sla_start_depends = ("person_since", "user_id")
    _whatsapp_sla_response_field = "first_response_at"
    _whatsapp_sla_resolved_field = "resolved_at"
    _whatsapp_sla_open_domain = (("state", "=", "open"),)

    name = fields.Char(compute="_compute_name", store=True)
    # no index of its own: the unique (account, number) index leads with it (see init)
    account_id = fields.Many2one(
        "whatsapp.account", required=True, ondelete="restrict", check_company=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    phone_e164 = fields.Char(
        "Number",
        index=True,
        help="The customer's number in E.164: the key (empty for a user known by username only).",
    )
    wa_id = fields.Char(
        "WhatsApp ID",
        help="The customer's number as Meta spells it (digits); messages are sent to it.",
    )
    wa_user_id = fields.Char(
        "WhatsApp User ID",
        index="btree_not_null",
        help="Meta's business-scoped user id (BSUID): the key of a customer who hides the number "
        "behind a username; messages go to it when the number is unknown.",
    )
    wa_username = fields.Char("WhatsApp Username")
    partner_id = fields.Many2one("res.partner", index=True, tracking=True)
    profile_name = fields.Char(help="The name the customer set in WhatsApp.")
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")], default="open", required=True, tracking=True
    )
    last_inbound_at = fields.Datetime("Customer Last Wrote", readonly=True)
    window_end = fields.Datetime(
        "Service Window Ends",
        compute="_compute_window_end",
        store=True,
        help="Free-form messages can be sent until then; afterwards only approved templates.",
    )
    window_open = fields.Boolean(compute="_compute_window_open", search="_search_window_open")
    last_message_at = fields.Datetime(readonly=True, index=True)
    whatsapp_message_ids = fields.One2many(
        "whatsapp.message", "conversation_id", "WhatsApp Messages"
    )
    ticket_ids = fields.One2many("helpdesk.ticket", "whatsapp_conversation_id", "Tickets")
    ticket_count = fields.Integer(compute="_compute_ticket_count")

    def _compute_ticket_count(self):
        groups = self.env["helpdesk.ticket"]._read_group(
            [("whatsapp_conversation_id", "in", self.ids)],
            ["whatsapp_conversation_id"],
            ["__count"],
        )
        counts = {conversation.id: count for conversation, count in groups}
        for conversation in self:
            conversation.ticket_count = counts.get(conversation.id, 0)

    customer_tag_ids = fields.Many2many(
        "res.partner.category",
        string="Customer Tags",
        compute="_compute_customer_notes",
        inverse="_inverse_customer_notes",
        help="The customer's contact tags (segments and campaigns use them).",
    )
    customer_notes = fields.Html(
        compute="_compute_customer_notes",
        inverse="_inverse_customer_notes",
        help="Notes on the customer's contact, for follow-up.",
    )

    @api.depends("partner_id.category_id", "partner_id.comment")
    def _compute_customer_notes(self):
        for conversation in self:
            partner = conversation.partner_id.sudo()
            conversation.customer_tag_ids = partner.category_id
            conversation.customer_notes = partner.comment

    def _inverse_customer_notes(self):
        """Whoever may work on the conversation keeps the customer's tags and notes, even without
        the right to edit contacts: only those two fields, of this conversation's customer."""
        self.check_access("write")
        for conversation in self.filtered("partner_id"):
            partner = conversation.partner_id.sudo()
            values = {}
            if partner.category_id != conversation.customer_tag_ids:
                values["category_id"] = [fields.Command.set(conversation.customer_tag_ids.ids)]
            if (partner.comment or "") != (conversation.customer_notes or ""):
                values["comment"] = conversation.customer_notes
            if values:
                partner.write(values)

    # (a campaign's conversations come without a team: only the teams' are indexed)
    team_id = fields.Many2one(
        "helpdesk.ticket.team", index="btree_not_null", tracking=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users", "Assigned To", index=True, tracking=True, check_company=True
    )
    source = fields.Char(help="Entry point: website, ad_referral, qr, keyword:<word>.")
    tag_ids = fields.Many2many(
        "helpdesk.ticket.tag",
        "whatsapp_conversation_tag_rel",
        "conversation_id",
        "tag_id",
        "Skills",
        help="Topics: routing prefers teams with these skills. Set when a customer names one.",
    )
    language = fields.Char(
        compute="_compute_language",
        store=True,
        help="The customer's language (an installed Odoo language): templates, automatic answers "
        "and routing follow it.",
    )
    language_source = fields.Selection(
        [
            (wa_language.AGENT, "Set by an agent"),
            (wa_language.WORDS, "The customer's words"),
            (wa_language.PROFILE, "The customer's profile"),
            (wa_language.COUNTRY, "The number's country"),
        ],
        compute="_compute_language",
        store=True,
    )
    language_override = fields.Char(
        "Language (set by an agent)",
        help="An agent's correction of the customer's language: wins over every inference.",
    )
    language_detected = fields.Char(
        readonly=True, help="The language the customer's last telling message was written in."
    )
    inbox_state = fields.Selection(
        [
            ("new", "New"),
            ("open", "Open"),
            ("waiting", "Waiting for Customer"),
            ("resolved", "Resolved"),
        ],
        compute="_compute_inbox_state",
        store=True,
        index=True,
    )
    last_direction = fields.Selection([("in", "Customer"), ("out", "Us")], readonly=True)
    unread_count = fields.Integer(
        help="Customer messages since an agent last answered.", readonly=True
    )
    first_inbound_at = fields.Datetime(readonly=True)
    service_started_at = fields.Datetime(
        "Waiting Since",
        readonly=True,
        help="When the customer's current request began: their first message, or their first "
        "message after the conversation was closed. Service levels count from then.",
    )
    first_response_at = fields.Datetime(readonly=True)
    first_response_hours = fields.Float(
        "First Response (h)", readonly=True, help="In the team's working hours."
    )
    resolved_at = fields.Datetime(readonly=True)
    resolution_hours = fields.Float("Resolution (h)", readonly=True)
    sla_breached = fields.Boolean(compute="_compute_sla_breached", store=True)
    auto_reply_fired = fields.Json(
        help="When each auto-reply rule last answered: {rule id: epoch}."
    )
    faq_answered = fields.Json(
        help="When the FAQ bot last gave each entry's answer: {entry id: epoch}."
    )
    handed_over_at = fields.Datetime(
        "Handed to a Person",
        readonly=True,
        help="A person owns the conversation (the customer asked for one, the assistant handed "
        "it over, an agent claimed it, was assigned or wrote): the bot and the automatic replies "
        "stay quiet until it is resolved.",
    )
    person_since = fields.Datetime(
        "With a Person Since",
        readonly=True,
        copy=False,
        help="When a person last got the conversation (kept after it is resolved). When the "
        "assistant answers first, the service-level clock of a request starts then.",
    )
    handoff_reason = fields.Selection(
        [
            ("asked", "Customer Asked"),
            ("negative", "Unhappy Customer"),
            ("misses", "Not Understood"),
            ("assigned", "Assigned"),
            ("agent", "Agent Wrote"),
        ],
        readonly=True,
    )
    assistant_state = fields.Json(
        help="What the assistant waits for and how many messages in a row it did not "
        "understand; forgotten after an hour and on resolution."
    )
    assistant_usage_ids = fields.One2many(
        "whatsapp.assistant.usage", "conversation_id", "Language Model Calls"
    )
    last_agent_reply_at = fields.Datetime(
        "Agent Last Wrote",
        readonly=True,
        help="A person's last message: the bot stays quiet for a while after it.",
    )
    sale_order_ids = fields.Many2many(
        "sale.order",
        "whatsapp_conversation_sale_order_rel",
        "conversation_id",
        "order_id",
        "Sales Orders",
        help="Orders this conversation is about: linked when the customer mentions them.",
    )

    whatsapp_message_count = fields.Integer(compute="_compute_whatsapp_message_count")

    _sql_constraints = [
        (
            "account_phone_uniq",
            "unique(account_id, phone_e164)",
            "There is already a conversation with this number on this WhatsApp account.",
        ),
        (
            "account_user_uniq",
            "unique(account_id, wa_user_id)",
            "There is already a conversation with this WhatsApp user on this account.",
        ),
        (
            "number_or_user",
            "CHECK(phone_e164 IS NOT NULL OR wa_user_id IS NOT NULL)",
            "A conversation needs the customer's number or WhatsApp user id.",
        ),
    ]

    def init(self):
        # A campaign inserts a hundred thousand conversations: the indexes no query needs go.
        # The account's (the unique (account, number) index leads with it), and the team's
        # that held every empty value (made again without them by the registry, after init;
        # the teams' queries always name a team).
        self.env.cr.execute("DROP INDEX IF EXISTS whatsapp_conversation__account_id_index")
        self.env.cr.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'whatsapp_conversation'"
            " AND indexname = 'whatsapp_conversation__team_id_index'"
            " AND indexdef NOT LIKE '%% WHERE %%'"
        )
        for (name,) in self.env.cr.fetchall():
            self.env.cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._check_system_fields(set(vals) - IDENTITY_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._check_system_fields(vals)
        res = super().write(vals)
        if vals.get("user_id"):
            self._person_takes_over("assigned")  # claimed, transferred or routed to an agent
        return res

    @api.model
    def _check_system_fields(self, field_names):
        forbidden = SYSTEM_FIELDS.intersection(field_names)
        if forbidden:
            raise AccessError(
                self.env._(
                    "These fields of a WhatsApp conversation are kept by the system: %(fields)s",
                    fields=", ".join(sorted(forbidden)),
                )
            )

    @api.depends("partner_id.name", "profile_name", "phone_e164", "wa_username", "wa_user_id")
    def _compute_name(self):
        for conversation in self:
            label = conversation.partner_id.name or conversation.profile_name
            handle = conversation.phone_e164 or conversation.wa_username or conversation.wa_user_id
            conversation.name = _name_of(label, handle)

    @api.depends(
        "first_response_hours",
        "resolution_hours",
        "whatsapp_sla_resolution_due",
        "team_id.whatsapp_sla_first_response",
        "team_id.whatsapp_sla_resolution",
        "whatsapp_sla_first_response_breached",
        "whatsapp_sla_resolution_breached",
    )
    def _compute_sla_breached(self):
        for conversation in self:
            team = conversation.team_id
            conversation.sla_breached = bool(
                conversation.whatsapp_sla_first_response_breached
                or conversation.whatsapp_sla_resolution_breached
                or (
                    team.whatsapp_sla_first_response
                    and conversation.first_response_hours > team.whatsapp_sla_first_response
                )
                or (
                    team.whatsapp_sla_resolution
                    and conversation.whatsapp_sla_resolution_due  # the clock ran
                    and conversation.resolution_hours > team.whatsapp_sla_resolution
                )
            )

    def _record_first_response(self):
        """Called when a person (not the bot, not a notification) answers."""
        for conversation in self.filtered(lambda c: not c.first_response_at):
            now = fields.Datetime.now()
            start = conversation._sla_clock_start() or now
            conversation.sudo().write(
                {
                    "first_response_at": now,
                    "first_response_hours": conversation.team_id._whatsapp_work_hours(start, now),
                }
            )

    @api.depends("partner_id.lang", "language_override", "language_detected", "phone_e164")
    def _compute_language(self):
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        for conversation in self:
            conversation.language, conversation.language_source = _language_of(
                installed,
                agent=conversation.language_override,
                spoken=conversation.language_detected,
                profile=conversation.partner_id.lang,
                number=conversation.phone_e164,
            )

    @api.constrains("language_override")
    def _check_language_override(self):
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        for conversation in self:
            if conversation.language_override and conversation.language_override not in installed:
                raise UserError(
                    self.env._(
                        "%(code)s is not an installed language.",
                        code=conversation.language_override[:40],
                    )
                )

    def _learn_language(self, messages):
        """Remember the language the customer's newest telling message is written in."""
        # grouped in one pass: a batch holds hundreds of conversations
        texts_of = defaultdict(list)
        for message in messages.sorted("id", reverse=True):
            if message.direction == "in":
                texts_of[message.conversation_id.id].append(message)
        for conversation in self:
            texts = texts_of[conversation.id]
            spoken = next(filter(None, (wa_language.detect(m.body) for m in texts)), None)
            if spoken and spoken != conversation.language_detected:
                conversation.sudo().language_detected = spoken

    @api.depends("state", "user_id", "last_direction")
    def _compute_inbox_state(self):
        for conversation in self:
            conversation.inbox_state = _inbox_state_of(
                conversation.state, conversation.last_direction, conversation.user_id
            )

    @api.depends("last_inbound_at")
    def _compute_window_end(self):
        for conversation in self:
            conversation.window_end = window.window_end(conversation.last_inbound_at) or False

    @api.depends("window_end")
    def _compute_window_open(self):
        now = fields.Datetime.now()
        for conversation in self:
            conversation.window_open = window.is_open(conversation.window_end, now)

    def _search_window_open(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on the service window."))
        is_open = (operator == "=") == bool(value)
        now = fields.Datetime.now()
        if is_open:
            return [("window_end", ">", now)]
        return ["|", ("window_end", "=", False), ("window_end", "<=", now)]

    def _compute_whatsapp_message_count(self):
        groups = self.env["whatsapp.message"]._read_group(
            [("conversation_id", "in", self.ids)], ["conversation_id"], ["__count"]
        )
        counts = {conversation.id: count for conversation, count in groups}
        for conversation in self:
            conversation.whatsapp_message_count = counts.get(conversation.id, 0)

    # ------------------------------------------------------------------
    # Finding and creating
    # ------------------------------------------------------------------

    @api.model
    def _get_or_create(
        self, account, phone_e164, wa_id=None, partner=None, profile_name=None, wa_user_id=None
    ):
        """The conversation of ``account`` with ``phone_e164`` (or, for a customer known only by
        a username, ``wa_user_id``), created once even under concurrency.

        The unique constraints decide between concurrent creators: the loser rolls back to its
        savepoint and reads the winner's row.
        """
        if phone_e164:
            domain = [("account_id", "=", account.id), ("phone_e164", "=", phone_e164)]
        else:
            domain = [("account_id", "=", account.id), ("wa_user_id", "=", wa_user_id)]
        conversation = self.sudo().with_context(active_test=False).search(domain, limit=1)
        if conversation:
            return conversation.with_env(self.env)
        values = {
            "account_id": account.id,
            "phone_e164": phone_e164 or False,
            "wa_id": wa_id or (phone_e164.lstrip("+") if phone_e164 else False),
            "wa_user_id": wa_user_id or False,
            "partner_id": partner.id if partner else False,
            "profile_name": profile_name,
        }
        try:
            with self.env.cr.savepoint():
                conversation = self.sudo().with_context(mail_create_nosubscribe=True).create(values)
        except psycopg2.errors.UniqueViolation:
            conversation = self.sudo().search(domain, limit=1)
        return conversation.with_env(self.env)

    def _recipient(self):
        """How Meta addresses the customer (tools/messages.address): the number, or the
        business-scoped user id of a customer known only by a username."""
        self.ensure_one()
        if not (self.wa_id or self.wa_user_id):
            raise UserError(self.env._("%(name)s has no WhatsApp number.", name=self.display_name))
        return wa_messages.address(self.wa_id, self.wa_user_id)

    # ------------------------------------------------------------------
    # Inbox: routing, claim, transfer
    # ------------------------------------------------------------------

    def _route(self):
        """Give these conversations, when unassigned, a team and an agent (see the teams)."""
        self.env["helpdesk.ticket.team"].sudo()._whatsapp_route(self)

    def _watchers(self):
        """The users who may handle these conversations: each one's assignee and team, and every
        WhatsApp user of the company for a conversation no team holds yet."""
        watchers = self.env["res.users"].sudo()
        for users in self._watchers_each().values():
            watchers |= users
        return watchers

    def _watchers_each(self):
        """{conversation: its watchers (see _watchers)}: worked out once per assignee, team and
        company, not once per conversation (a campaign's batch holds thousands)."""
        keys = {
            conversation: self._watcher_key(
                conversation.user_id.id, conversation.team_id.id, conversation.company_id.id
            )
            for conversation in self
        }
        users = self._watchers_by_key(set(keys.values()))
        return {conversation: users[key] for conversation, key in keys.items()}

    @api.model
    def _watcher_key(self, user_id, team_id, company_id):
        """What the watchers of a conversation depend on: its assignee, its team, and its company
        when no team holds it."""
        return (user_id or False, team_id or False, not team_id and (company_id or False))

    @api.model
    def _watchers_by_key(self, keys):
        """{key: the watchers of a conversation of that key (see _watcher_key)}."""
        group_users = None
        watchers = {}
        for user_id, team_id, company_id in keys:
            team = self.env["helpdesk.ticket.team"].sudo().browse(team_id or ())
            users = self.env["res.users"].sudo().browse(user_id or ()) | team.user_ids
            if not team:
                if group_users is None:
                    group_users = self.env.ref("whatsapp_helpdesk.group_whatsapp_user").sudo().users
                users |= group_users.filtered(lambda user, c=company_id: c in user.company_ids.ids)
            watchers[user_id, team_id, company_id] = users.sudo()
        return watchers

    def _notify_agents(self):
        """Live updates over Odoo's bus: the inboxes of whoever may handle these conversations
        reload, and the assigned agent gets a notice."""
        self._notify_inbox()
        for conversation in self.filtered("user_id"):
            conversation.user_id._bus_send(
                "simple_notification",
                {
                    "type": "info",
                    "title": self.env._("WhatsApp"),
                    "message": self.env._(
                        "New message from %(name)s", name=conversation.partner_id.display_name
                    ),
                },
            )

    def _notify_inbox(self):
        """The inboxes and workspaces of whoever watches these conversations reload them."""
        watchers = self._watchers()
        if watchers:
            watchers._bus_send("whatsapp_helpdesk/inbox", {"conversation_ids": self.ids})

    def action_mark_seen(self):
        """An agent opened these conversations: their unread badges go."""
        self.check_access("read")
        unread = self.filtered("unread_count")
        if unread:
            unread.sudo().write({"unread_count": 0})
            unread._notify_inbox()
        return True

    def action_claim(self):
        for conversation in self:
            conversation.user_id = self.env.user
            if not conversation.team_id:
                conversation.team_id = self.env["helpdesk.ticket.team"].search(
                    [
                        ("user_ids", "in", self.env.uid),
                        ("whatsapp_enabled", "=", True),
                        ("company_id", "=", conversation.company_id.id),
                    ],
                    limit=1,
                )

    def _check_can_reply(self):
        for conversation in self:
            team = conversation.team_id
            if (
                team.whatsapp_only_assignee
                and conversation.user_id
                and conversation.user_id != self.env.user
                and not self.env.user.has_group("whatsapp_helpdesk.group_whatsapp_manager")
            ):
                raise UserError(
                    self.env._(
                        "%(user)s is handling this conversation: claim it or ask for a transfer "
                        "before answering.",
                        user=conversation.user_id.name,
                    )
                )

    def _send_problem(self, template=None, opted_out=None, key=None, budget_refusal=None):
        """(failure type, sentence) when nothing may go to this customer now, else None.

        The one rule of the send methods, the composer and the outbox at claim time: a template
        may not go to a customer who opted out of its category (or, for marketing, is on the
        blacklist), nor a marketing template once the account's monthly budget is reached;
        anything else only inside the 24-hour window. ``opted_out``: the
        ``whatsapp.optin._opted_out_keys`` of a batch, looked up here when not given; ``key``:
        this conversation's (company id, number, template category), when a batch read them
        as values (three fields of a record cost tens of microseconds, thousands of times).
        ``budget_refusal``: the account's ``_budget_refusal()`` when a batch asked it once,
        looked up here when not given; False: not checked (the outbox at claim time: what was
        queued within the budget leaves).
        """
        self.ensure_one()
        if template:
            key = key or (self.company_id.id, self.phone_e164, template.category)
            if opted_out is None:
                opted_out = self.env["whatsapp.optin"]._opted_out_keys({key})
            if key in opted_out:
                return "opted_out", self.env._(
                    "%(name)s opted out of %(category)s messages.",
                    name=self.name,
                    category=dict(template._fields["category"].selection)[template.category],
                )
            if key[2] == "MARKETING":
                if budget_refusal is None:
                    budget_refusal = self.account_id.sudo()._budget_refusal()
                if budget_refusal:
                    return "budget", budget_refusal
            return None
        if not self.window_open:
            return "window_closed", self.env._(
                "The 24-hour customer service window with %(name)s is closed: the customer has "
                "not written in the last 24 hours. Only an approved message template can be sent "
                "now.",
                name=self.name,
            )
        return None

    def _price_estimate(self, template=None):
        """What Meta will charge for ``template`` (None: free text) to this customer now, as the
        screens say it: "Free: inside the customer-service window", "≈ R$ 0,35 marketing
        message to Brazil"; False without a number."""
        self.ensure_one()
        category = pricing.estimate_category(
            template.category if template else None, self.window_open
        )
        markets = {pricing.market_of(self.phone_e164): 1} if self.phone_e164 else {}
        return self.env["whatsapp.rate"]._estimate_text(self.company_id, category, markets)

    def _check_may_send(self, template=None):
        for conversation in self:
            problem = conversation._send_problem(template)
            if problem:
                raise UserError(problem[1])

    def _send_text(self, body, *, record=None, mail_message=None, reply_to=None):
        """Queue a free-form text for this conversation; the outbox cron sends it.

        :param record: the business record the message is about (sales order, ticket, ...)
        :param mail_message: the chatter message it comes from, when posted from the thread
        :param reply_to: the wamid of the message it answers (WhatsApp shows it quoted)
        """
        self.ensure_one()
        body = (body or "").strip()
        if not body:
            raise UserError(self.env._("A WhatsApp message needs some text."))
        self._check_may_send()
        if mail_message is None:
            mail_message = self.with_context(whatsapp_no_send=True).message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self._record_outbound()
        return self._queue(
            {
                "message_type": "text",
                "body": body,
                "reply_to_wamid": reply_to or False,
                "mail_message_id": mail_message.id,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
            }
        )

    def _record_outbound(self):
        """A person (not the bot, not a notification) wrote to the customer: the loop is closed
        for now and the bot keeps quiet for a while."""
        self.ensure_one()
        values = {"last_direction": "out", "unread_count": 0}
        by_person = not self.env.user._is_superuser() and not self.env.user.share
        if by_person:
            values["last_agent_reply_at"] = fields.Datetime.now()
        self.sudo().write(values)
        if by_person:
            self._person_takes_over("agent")
            self._record_first_response()

    def _person_takes_over(self, reason):
        """A person owns these conversations from now until they are resolved (``reason``: how
        they came to: asked, negative, misses, assigned, agent); the first reason is kept."""
        free = self.filtered(lambda c: not c.handed_over_at and c.state == "open")
        if free:
            now = fields.Datetime.now()
            free.sudo().write(
                {"handed_over_at": now, "person_since": now, "handoff_reason": reason}
            )

    def _person_presence(self):
        """(owns, live): whether a person owns this conversation (from the moment the customer
        was handed over, an agent claimed it, was assigned or wrote, until it is resolved) and
        whether a person wrote in it within the quiet period (also right after it was resolved).
        """
        self.ensure_one()
        param = (
            self.env["ir.config_parameter"].sudo().get_param("whatsapp_helpdesk.bot_quiet_minutes")
        )
        try:
            minutes = int(param) if param else DEFAULT_BOT_QUIET_MINUTES
        except ValueError:
            minutes = DEFAULT_BOT_QUIET_MINUTES
        since = fields.Datetime.now() - timedelta(minutes=minutes)
        live = bool(self.last_agent_reply_at and self.last_agent_reply_at > since)
        return live or bool(self.handed_over_at), live

    def _queue(self, values):
        """Queue an outbound message once the send method checked it (see
        whatsapp.message._insert_outbound): as superuser, since users never write the outbox
        themselves; returned in the caller's environment."""
        self.ensure_one()
        message = (
            self.env["whatsapp.message"]
            .sudo()
            ._insert_outbound([{**values, "conversation_id": self.id, "direction": "out"}])
        )
        return message.with_env(self.env)

    def _send_media(self, attachment, *, caption=None, record=None, mail_message=None):
        """Queue a file (image, video, audio or document) inside the 24-hour window.

        The attachment is checked with the sender's rights: nobody sends what they cannot open;
        and against Meta's limits, before anything is queued.
        :param mail_message: the chatter message it comes from, when posted from a thread
        """
        self.ensure_one()
        attachment.ensure_one()
        self._check_can_reply()
        self._check_may_send()
        self.env["whatsapp.message"]._check_attachment_readable(attachment)
        attachment = attachment.sudo()
        caption = (caption or "").strip()
        self._check_media_sendable(attachment, caption)
        if mail_message is None:
            mail_message = self.with_context(whatsapp_no_send=True).message_post(
                body=caption or attachment.name,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachment_ids=[attachment.id],
            )
        self._record_outbound()
        return self._queue(
            {
                "message_type": wa_messages.media_type(attachment.mimetype),
                "body": caption or False,
                "attachment_id": attachment.id,
                "media_mime_type": attachment.mimetype,
                "media_filename": attachment.name,
                "mail_message_id": mail_message.id,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
            }
        )

    @api.model
    def _check_media_sendable(self, attachment, caption=None):
        """Refuse, before queuing, a file Meta would refuse after the upload, saying why."""
        problem = media_limits.media_problem(attachment.mimetype, attachment.file_size, caption)
        if not problem:
            return
        if problem.code == "too_large":
            message = self.env._(
                "%(file)s is too large to send on WhatsApp: Meta takes %(kind)s files of up to "
                "%(limit)s.",
                file=attachment.name,
                kind=problem.kind,
                limit=media_limits.megabytes(problem.limit),
            )
        elif problem.code == "unsupported_type":
            message = self.env._(
                "%(file)s cannot be sent on WhatsApp: Meta takes images (JPEG, PNG), videos "
                "(MP4, 3GP), audio (AAC, AMR, MP3, M4A, OGG) and PDF, Word, Excel, PowerPoint or "
                "text documents, not %(type)s.",
                file=attachment.name,
                type=attachment.mimetype or self.env._("this format"),
            )
        elif problem.code == "caption_too_long":
            message = self.env._(
                "The caption of %(file)s is too long: WhatsApp takes up to %(limit)s characters.",
                file=attachment.name,
                limit=problem.limit,
            )
        else:
            message = self.env._("%(file)s is empty.", file=attachment.name)
        raise UserError(message)

    def _send_post(self, text, attachments, *, record=None, mail_message=None):
        """Queue what an agent posted (text and files, from a chatter or the composer): each
        file as a media message, the text as the caption of the first file that takes one, or
        as a text of its own before the files. Every file is checked before any is queued."""
        self.ensure_one()
        text = (text or "").strip()
        attachments = attachments.with_env(self.env)
        if not attachments:
            return self._send_text(text, record=record, mail_message=mail_message)
        self.env["whatsapp.message"]._check_attachment_readable(attachments)
        for attachment in attachments.sudo():
            self._check_media_sendable(attachment)
        carrier = attachments.sudo().filtered(
            lambda a: wa_messages.media_type(a.mimetype) in wa_messages.CAPTION_MEDIA_TYPES
        )[:1]
        if text and (not carrier or len(text) > media_limits.MAX_CAPTION):
            carrier = attachments.browse()
            messages = self._send_text(text, record=record, mail_message=mail_message)
        else:
            messages = self.env["whatsapp.message"]
        for attachment in attachments:
            messages |= self._send_media(
                attachment,
                caption=text if attachment == carrier else None,
                record=record,
                mail_message=mail_message,
            )
        return messages

    def _send_template(
        self,
        template,
        *,
        record=None,
        notification_key=None,
        exact=False,
        header_attachment=None,
        button_payloads=None,
    ):
        """Queue an approved template in the customer's language; allowed outside the window.

        ``exact``: send this very language variant (a person chose it), not the customer's.
        ``header_attachment``: the file of a media header for this message only (an order's
        PDF in a template whose header is a document), instead of the template's own.
        ``button_payloads``: {button index: payload} of quick-reply buttons, what the customer's
        tap sends back (``reply_id`` of the answer).
        With ``whatsapp_skip_reason`` in the context the message is recorded as skipped instead
        (a notification for a customer who did not opt in).
        """
        self.ensure_one()
        partner = self.partner_id
        variant = template if exact else template._variant_for(partner, self.language)
        variant._check_sendable()
        if header_attachment:
            header_attachment = self._check_header_file(variant, header_attachment)
        if variant.company_id and variant.company_id != self.company_id:
            raise UserError(
                self.env._(
                    "The template %(name)s belongs to another company than this conversation.",
                    name=variant.name,
                )
            )
        variant._check_header_attachment()
        if not self.env.context.get("whatsapp_skip_reason"):
            self._check_may_send(variant)
        # the message's uuid is also its click token (the suffix of a tracked URL button)
        token = uuid.uuid4().hex
        values = variant._render_values(record, partner, self.language, token)
        for index, payload in (button_payloads or {}).items():
            values.setdefault(f"button_{index}", {})["payload"] = payload
        preview = variant._preview_for(values)
        mail_message = self.env["mail.message"]
        if not self.env.context.get("whatsapp_skip_reason"):
            mail_message = self.with_context(whatsapp_no_send=True).message_post(
                body=preview, message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        return self._queue(
            {
                "message_type": "template",
                "template_id": variant.id,
                "template_values": values,
                "body": preview,
                "mail_message_id": mail_message.id,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
                "notification_key": notification_key,
                "uuid": token,
                **(
                    {
                        "attachment_id": header_attachment.id,
                        "media_mime_type": header_attachment.mimetype,
                        "media_filename": header_attachment.name,
                    }
                    if header_attachment
                    else {}
                ),
                **(
                    {"state": "skipped", "failure_reason": skip_reason}
                    if (skip_reason := self.env.context.get("whatsapp_skip_reason"))
                    else {}
                ),
            }
        )

    def _check_header_file(self, template, attachment):
        """The file of this message's template header, checked as any file sent (readable by
        the sender, within Meta's limits) and of the header's kind; returned as superuser."""
        attachment.ensure_one()
        self.env["whatsapp.message"]._check_attachment_readable(attachment)
        attachment = attachment.sudo()
        if template.header_type not in ("image", "video", "document") or (
            wa_messages.media_type(attachment.mimetype) != template.header_type
        ):
            raise UserError(
                self.env._(
                    "The template %(name)s cannot carry %(file)s: its header is not a %(kind)s.",
                    name=template.name,
                    file=attachment.name,
                    kind=wa_messages.media_type(attachment.mimetype),
                )
            )
        self._check_media_sendable(attachment)
        return attachment

    @api.model
    def _get_or_create_many(self, account, partners_by_number):
        """{E.164: conversation} of ``account`` with these numbers ({E.164: partner}): see
        :meth:`_get_or_create_ids`."""
        ids = self._get_or_create_ids(
            account, {number: partner.id for number, partner in partners_by_number.items()}
        )
        return {number: self.browse(cid) for number, cid in ids.items()}

    @api.model
    def _get_or_create_ids(self, account, partner_ids_by_number):
        """{E.164: conversation id} of ``account`` with these numbers ({E.164: partner id or
        False}), the missing ones inserted by one statement (a campaign's batch; the ORM's
        create costs milliseconds a row). A number a concurrent creator won is read back, as
        :meth:`_get_or_create` does. The INSERT writes the stored computed fields their computes
        would give a new conversation (:data:`INSERTED_COMPUTED_FIELDS`); the ORM computes the
        others, and marks what depends on the new rows, as after a create. Created by: nobody
        (a cron's or the webhook's user, never a person: the columns would cost each row two
        foreign-key checks), as the campaign's outbox rows. Ids, not records: a campaign's
        step reads thousands of them."""
        Conversation = self.sudo().with_context(active_test=False)
        self.flush_model()

        def read(numbers):
            self.env.cr.execute(
                "SELECT phone_e164, id FROM whatsapp_conversation"
                " WHERE account_id = %s AND phone_e164 = ANY(%s)",
                [account.id, list(numbers)],
            )
            return dict(self.env.cr.fetchall())

        found = read(partner_ids_by_number)  # {number: conversation id}
        missing = [number for number in partner_ids_by_number if number not in found]
        if missing:
            now = fields.Datetime.now()
            installed = [code for code, _name in self.env["res.lang"].get_installed()]
            partner_ids = [partner_ids_by_number[number] for number in missing]
            # the partners' name and language, as values (thousands of records' fields cost
            # tenths of a second)
            self.env["res.partner"].flush_model(["name", "lang"])
            self.env.cr.execute(
                "SELECT id, name, lang FROM res_partner WHERE id = ANY(%s)",
                [[pid for pid in partner_ids if pid]],
            )
            named = {pid: (name, lang) for pid, name, lang in self.env.cr.fetchall()}
            partners = [named.get(pid, (False, False)) for pid in partner_ids]
            languages = [
                _language_of(installed, agent=None, spoken=None, profile=lang, number=number)
                for number, (_name, lang) in zip(missing, partners, strict=True)
            ]
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO whatsapp_conversation
                        (account_id, company_id, phone_e164, wa_id, partner_id, state,
                         name, language, language_source, inbox_state, sla_breached,
                         create_date, write_date)
                    SELECT %(account)s, %(company)s, v.number, ltrim(v.number, '+'),
                           v.partner, 'open', v.name, v.language, v.source, %(inbox)s, false,
                           %(now)s, %(now)s
                      FROM unnest(%(numbers)s::varchar[], %(partners)s::int[],
                                  %(names)s::varchar[], %(languages)s::varchar[],
                                  %(sources)s::varchar[])
                           AS v(number, partner, name, language, source)
                    ON CONFLICT DO NOTHING
                    RETURNING phone_e164, id
                    """,
                    account=account.id,
                    company=account.company_id.id,
                    inbox=_inbox_state_of("open", None, None),
                    now=now,
                    numbers=missing,
                    partners=[pid or None for pid in partner_ids],
                    names=[
                        _name_of(name, n) for n, (name, _l) in zip(missing, partners, strict=True)
                    ],
                    languages=[language or None for language, _source in languages],
                    sources=[source or None for _language, source in languages],
                )
            )
            created = dict(self.env.cr.fetchall())
            new = Conversation.browse(list(created.values()))
            # the references the INSERT wrote (the others are empty), for marking the dependents
            computed_after_insert(
                new,
                written=INSERTED_COMPUTED_FIELDS,
                rows=[{"partner_id": partner_ids_by_number[number]} for number in created],
                shared={
                    "account_id": account.id,
                    "company_id": account.company_id.id,
                },
            )
            found.update(created)
            lost = [number for number in missing if number not in created]
            if lost:
                found.update(read(lost))
        return found

    def _send_template_many(
        self, template, *, records=None, values=None, post=True, notify=True, budget_checked=False
    ):
        """Queue ``template`` to each of these conversations, as :meth:`_send_template` does one
        by one and under the same rule (:meth:`_send_problem`), for a whole batch at once.

        ``records``: {conversation id: the record the variables are read on} (default: the
        customer). ``values``: extra values of every outbound row (a campaign). ``post``: each
        row gets its chatter message now; a campaign's rows get theirs when the customer writes
        (:meth:`_post_campaign_traces`). ``notify``: the screens are told of the queued rows
        now (a campaign's show when they are sent). ``budget_checked``: the caller sized the
        batch to what the monthly budget pays for (a campaign's step), so the rule does not ask
        it again. Returns {conversation id: message or (failure type, sentence)}.
        """
        # what the rows read, as values (a record's field costs microseconds, thousands of
        # times; the rule reads the record's name only to say why it refuses)
        self.flush_recordset(
            ["company_id", "phone_e164", "name", "language", "partner_id", "account_id"]
        )
        self.env["res.partner"].flush_model(["lang"])
        self.env.cr.execute(
            "SELECT c.id, c.company_id, c.phone_e164, c.name, c.language, c.partner_id, p.lang,"
            "       c.account_id"
            "  FROM whatsapp_conversation c LEFT JOIN res_partner p ON p.id = c.partner_id"
            " WHERE c.id = ANY(%s)",
            [self.ids],
        )
        info = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        Partner = self.env["res.partner"]
        partners = Partner.browse({row[4] for row in info.values() if row[4]})
        partner_of = dict(zip(partners.ids, partners, strict=True))
        variants = template._variants() or template
        chosen = {}  # (customer language) -> variant, picked once per batch
        companies = {}  # variant checked -> its company id, once per batch
        categories = {}  # variant checked -> its category, once per batch
        specs = {}  # variant -> its spec, read once per batch
        variables = {}  # variant checked -> its variables, read once per batch
        budget_refusals = {}  # account id -> its _budget_refusal(), asked once per batch
        # (each variant's category read once, not once per conversation)
        variant_categories = {variant.category for variant in variants}
        opted_out = self.env["whatsapp.optin"]._opted_out_keys(
            {
                (company_id, number, category)
                for company_id, number, *_rest in info.values()
                for category in variant_categories
            }
        )
        results, rows, posts, previews = {}, [], [], {}
        for conversation in self:
            company_id, number, name, language, partner_id, partner_lang, account_id = info[
                conversation.id
            ]
            partner = partner_of.get(partner_id, Partner)
            lang = language or partner_lang or self.env.lang
            if lang not in chosen:
                chosen[lang] = template._variant_for(partner, lang)
            variant = chosen[lang]
            if variant not in companies:
                variant._check_sendable()
                variant._check_header_attachment()
                companies[variant] = variant.company_id.id
                categories[variant] = variant.category
                variables[variant] = list(variant.variable_ids)
            if companies[variant] and companies[variant] != company_id:
                results[conversation.id] = (
                    "config",
                    self.env._(
                        "The template %(name)s belongs to another company than this conversation.",
                        name=variant.name,
                    ),
                )
                continue
            if (
                not budget_checked
                and categories[variant] == "MARKETING"
                and account_id not in budget_refusals
            ):
                budget_refusals[account_id] = (
                    self.env["whatsapp.account"].sudo().browse(account_id)._budget_refusal()
                    or False
                )
            problem = conversation._send_problem(
                variant,
                opted_out,
                key=(company_id, number, categories[variant]),
                budget_refusal=budget_refusals.get(account_id, False),
            )
            if problem:
                results[conversation.id] = problem
                continue
            record = (records or {}).get(conversation.id) or partner
            token = uuid.uuid4().hex  # the message's uuid, its click token
            rendered = variant._render_values(
                record, partner, lang, token, variables=variables[variant]
            )
            # a text rendered once per batch and values (a campaign's customers often read the
            # same words: the preview costs tens of microseconds a message)
            key = (variant.id, _frozen(rendered))
            preview = previews.get(key)
            if preview is None:
                if variant not in specs:
                    specs[variant] = variant._to_spec()
                preview = previews[key] = variant._preview_for(rendered, specs[variant])
            posts.append((token, conversation.id, name, preview, None, None))
            rows.append(
                {
                    **(values or {}),
                    "conversation_id": conversation.id,
                    "partner_id": partner_id or False,
                    "message_type": "template",
                    "template_id": variant.id,
                    "template_values": rendered,
                    "body": preview,
                    "res_model": record._name,
                    "res_id": record.id,
                    "uuid": token,
                }
            )
        if post:
            posted = self._post_many(posts)
            for row in rows:
                row["mail_message_id"] = posted[row["uuid"]]
        messages = self.env["whatsapp.message"].sudo()._insert_outbound(rows, notify=notify)
        Message = self.env["whatsapp.message"]
        for row, message_id in zip(rows, messages.ids, strict=True):
            results[row["conversation_id"]] = Message.browse(message_id)
        return results

    def _post_many(self, posts):
        """{key: mail.message id} of a comment per (key, conversation id, name, text, date or
        None: now, author partner id or None: the user's) in the conversations' threads: one
        INSERT for a batch (see mail.message._whatsapp_insert). ``key``: unique per post (the
        outbound row's uuid)."""
        if not posts:
            return {}
        MailMessage = self.env["mail.message"].sudo()
        # the paragraph of each text, made once per different text of the batch
        paragraph = functools.cache(MailMessage._whatsapp_paragraph)
        author = self.env.user.partner_id.id
        rows = [
            self._chatter_row(cid, name, paragraph(text), author_id or author, date=date)
            for _key, cid, name, text, date, author_id in posts
        ]
        messages = MailMessage._whatsapp_insert(rows)
        return {post[0]: message.id for post, message in zip(posts, messages, strict=True)}

    def _post_campaign_traces(self):
        """Give the campaign messages of these conversations queued without a chatter message
        (the release skips it: a mail.message per recipient is a quarter of a large campaign's
        enqueue) theirs, dated when they were queued, by whoever queued them: called before a
        customer's message is written, so that the chatter reads as the conversation went.
        The workspace's thread shows them all along (it reads the outbox rows)."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.uuid, m.conversation_id, c.name, m.body, m.create_date,
                       u.partner_id
                  FROM whatsapp_message m
                  JOIN whatsapp_conversation c ON c.id = m.conversation_id
                  LEFT JOIN res_users u ON u.id = m.create_uid
                 WHERE m.conversation_id = ANY(%s) AND %s
                 ORDER BY m.id
                """,
                self.ids,
                self._trace_awaited_sql(),
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return
        posted = self._post_many([row[1:] for row in rows])
        self.env.cr.execute(
            """
            UPDATE whatsapp_message m SET mail_message_id = v.mail_message_id
              FROM unnest(%s::int[], %s::int[]) AS v(id, mail_message_id)
             WHERE m.id = v.id
            """,
            [[row[0] for row in rows], [posted[row[1]] for row in rows]],
        )
        self.env["whatsapp.message"].invalidate_model(["mail_message_id"])

    @api.model
    def _trace_awaited_sql(self, alias="m"):
        """SQL: whether the outbound message ``alias`` (a row of whatsapp_message) is a campaign
        message still waiting for its chatter trace (see :meth:`_post_campaign_traces`);
        flushes what it reads."""
        self.env["whatsapp.message"].flush_model(
            ["conversation_id", "direction", "campaign_id", "mail_message_id", "state"]
        )
        return SQL(
            "%(m)s.direction = 'out' AND %(m)s.campaign_id IS NOT NULL"
            " AND %(m)s.mail_message_id IS NULL AND %(m)s.state != 'canceled'",
            m=SQL.identifier(alias),
        )

    def _send_bot_text(
        self, body, *, offer_person=False, buttons=None, list_options=None, labels=None
    ):
        """An automatic answer, shown in the thread as the bot's; the customer still waits for us.

        With ``offer_person`` it carries a "talk to a person" reply button; ``buttons`` is a list
        of (id, title) reply buttons (the first three are kept, Meta's limit); ``list_options``
        (id, title) or (id, title, description) rows of a list (the first ten), which win over
        buttons. ``labels``: {"person", "list_button", "section"} in the customer's language.
        """
        labels = labels or {}
        if offer_person:
            buttons = [("wa_human", labels.get("person") or self.env._("Talk to a person"))]
        self.ensure_one()
        # the id from the cached xmlid lookup: env.ref() would also query that the partner exists
        bot_id = self.env["ir.model.data"]._xmlid_to_res_id("base.partner_root")
        mail_message = self._post_automatic(body, "mail.mt_comment", bot_id)
        values = {"message_type": "text", "body": body, "mail_message_id": mail_message.id}
        # the interactive object is kept on the row as Meta takes it: the outbox sends it later
        if list_options:
            interactive = wa_messages.list_menu(
                body,
                list_options,
                button=labels.get("list_button") or self.env._("Options"),
                section_title=labels.get("section") or self.env._("Choose"),
            )
            values.update(message_type="interactive", payload=interactive)
        elif buttons:
            interactive = wa_messages.reply_buttons(body, buttons)
            values.update(message_type="interactive", payload=interactive)
        return self._queue(values)

    def _post_automatic(self, body, subtype_xmlid, author_id, message_type="comment"):
        """Post ``body`` (text, or Markup kept as is) in this thread as ``author_id``, without
        sending it to the customer: what the bot and the assistant write.

        message_post's reply-to, alias and notification work costs milliseconds a message and
        only matters to followers; a conversation without any (the usual case: they are made
        without) gets the chatter message directly, as the customer's own messages do.
        """
        self.ensure_one()
        if self.message_follower_ids:
            return self.with_context(whatsapp_no_send=True).message_post(
                body=body,
                message_type=message_type,
                subtype_xmlid=subtype_xmlid,
                author_id=author_id,
            )
        MailMessage = self.env["mail.message"].sudo()
        if isinstance(body, Markup):
            html = MailMessage._whatsapp_sanitized(body)
        else:
            html = MailMessage._whatsapp_paragraph(body)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid)
        row = self._chatter_row(self.id, self.name, html, author_id, subtype_id)
        return MailMessage._whatsapp_insert([{**row, "message_type": message_type}])

    @api.model
    def _chatter_row(self, conversation_id, name, body, author_id, subtype_id=None, date=None):
        """The row of a comment in the thread of conversation ``conversation_id`` (named
        ``name``) inserted directly, without message_post (see mail.message._whatsapp_insert):
        ``body`` as stored, ``subtype_id`` (default: a comment), ``date`` (default: now)."""
        row = {
            "model": self._name,
            "res_id": conversation_id,
            "record_name": name,
            "body": body,
            "author_id": author_id,
            "subtype_id": subtype_id
            or self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment"),
        }
        if date:
            row["date"] = date
        return row

    def _hand_to_person(self, reason="asked"):
        """Hand this conversation to a person (``reason``: asked, negative, misses): the bot goes
        quiet until it is resolved, routing looks for an agent, and the assistant tells the
        customer once when a person will answer and the agent what the customer asked."""
        self.ensure_one()
        if self.handed_over_at:
            return False
        now = fields.Datetime.now()
        self.sudo().write(
            {
                "handed_over_at": now,
                "person_since": now,
                "handoff_reason": reason,
                "assistant_state": False,
            }
        )
        self._route()
        self.env["whatsapp.assistant"]._announce_handoff(self, reason)
        return True

    def _assistant_state(self):
        """What the assistant waits for in this conversation: {} when nothing, or too old."""
        self.ensure_one()
        state = self.assistant_state if isinstance(self.assistant_state, dict) else {}
        at = state.get("at")
        if not isinstance(at, int | float) or time.time() - at > ASSISTANT_STATE_SECONDS:
            return {}
        return dict(state)

    def _set_assistant_state(self, state):
        self.ensure_one()
        self.sudo().assistant_state = {**state, "at": time.time()} if state else False

    @api.model
    def _is_whatsapp_reply(self, kwargs):
        """Whether a chatter post is a comment meant for the customer (not a note, not ours)."""
        return (
            not self.env.context.get("whatsapp_no_send")
            and kwargs.get("message_type", "notification") == "comment"
            and kwargs.get("subtype_xmlid", "mail.mt_note") == "mail.mt_comment"
        )

    def _prepare_reply(self, kwargs, partners=None):
        """Checks before a chatter comment goes to the customer on WhatsApp, from this thread or
        from a record linked to it (a ticket); the customer is never e-mailed from there."""
        self.ensure_one()
        self._check_can_reply()
        self._check_may_send()
        customers = set((self.partner_id | (partners or self.partner_id)).ids)
        kwargs["partner_ids"] = [
            pid for pid in kwargs.get("partner_ids") or [] if pid not in customers
        ]

    def message_post(self, **kwargs):
        """A comment written in the conversation's chatter goes to the customer on WhatsApp.
        The campaign messages it follows are written in the thread first (see
        :meth:`_post_campaign_traces`): an agent's template outside the window comes after
        them, as on the customer's phone."""
        if len(self) == 1:
            self._post_campaign_traces()
        sends = len(self) == 1 and self._is_whatsapp_reply(kwargs)
        if sends:
            self._prepare_reply(kwargs)
        message = super().message_post(**kwargs)
        if sends:
            self._send_post(
                html2plaintext(message.body or ""), message.attachment_ids, mail_message=message
            )
        return message

    def _message_get_suggested_recipients(self):
        # The customer answers on WhatsApp: do not suggest e-mailing them from the thread.
        return []

    def action_create_ticket(self):
        """Open a helpdesk ticket for what the customer asked; the WhatsApp thread stays on it."""
        self.ensure_one()
        last = self.whatsapp_message_ids.filtered(lambda m: m.direction == "in")[:1]
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(self, last.body)
        return {
            "type": "ir.actions.act_window",
            "res_model": "helpdesk.ticket",
            "res_id": ticket.id,
            "view_mode": "form",
        }

    def action_open_tickets(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tickets"),
            "res_model": "helpdesk.ticket",
            "view_mode": "list,form",
            "domain": [("whatsapp_conversation_id", "=", self.id)],
            "context": {"default_whatsapp_conversation_id": self.id},
        }

    def action_close(self):
        self.check_access("write")
        now = fields.Datetime.now()
        for conversation in self:
            # a request the assistant settled alone: its duration, no target to meet
            start = conversation._sla_clock_start() or conversation._service_start()
            conversation.sudo().write(
                {
                    "state": "closed",
                    "handed_over_at": False,
                    "handoff_reason": False,
                    "assistant_state": False,
                    "resolved_at": now,
                    "resolution_hours": conversation.team_id._whatsapp_work_hours(start, now),
                }
            )

    def action_reopen(self):
        """Reopened by an agent: the same request goes on, unresolved."""
        self.write({"state": "open"})
        self.sudo().write({"resolved_at": False, "resolution_hours": 0.0})

    def _service_start(self):
        """When the customer's current request began (older conversations: their first message)."""
        self.ensure_one()
        return self.service_started_at or self.first_inbound_at or self.create_date

    def _whatsapp_sla_starts(self):
        """While the assistant holds a conversation (its company's assistant gives conversations
        to agents only at the hand-off), the customer is being answered: the service-level clock
        of a request starts when a person gets it (handed over, claimed, assigned, or an agent
        wrote), and does not run for a request the assistant settles alone."""
        starts = super()._whatsapp_sla_starts()
        for conversation in self.env["whatsapp.assistant"]._holds_until_handoff(self):
            began, person = starts[conversation.id], conversation.person_since
            if person and (not began or person >= began):
                starts[conversation.id] = person  # a person got this request from the assistant
            elif not conversation.user_id:
                starts[conversation.id] = False  # the assistant holds it
        return starts

    def _sla_clock_start(self):
        """When the service-level clock of the current request started (see
        :meth:`_whatsapp_sla_starts`), False when it never ran."""
        self.ensure_one()
        return self._whatsapp_sla_starts()[self.id]

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }
