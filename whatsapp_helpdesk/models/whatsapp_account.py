import logging
import os
import secrets
import threading
from collections import namedtuple
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..tools import campaign_plan, cloud_api, formatting, sender, webhook
from .common import notification

_logger = logging.getLogger(__name__)

SECRET_FIELDS = ("token", "app_secret", "verify_token")
# Meta's messaging limit tiers: different customers a business may start conversations with in a
# rolling 24 hours.
MESSAGING_LIMITS = [
    ("250", "250"),
    ("1000", "1,000"),
    ("2000", "2,000"),
    ("10000", "10,000"),
    ("100000", "100,000"),
    ("unlimited", "Unlimited"),
]
_LIMIT_BY_TIER = {
    "TIER_50": "250",
    "TIER_250": "250",
    "TIER_1K": "1000",
    "TIER_2K": "2000",
    "TIER_10K": "10000",
    "TIER_100K": "100000",
    "TIER_UNLIMITED": "unlimited",
}
_BAN_STATES = {
    "SCHEDULE_FOR_DISABLE": "ban_scheduled",
    "DISABLE": "banned",
    "REINSTATE": "active",
}
WebhookCredentials = namedtuple(
    "WebhookCredentials", ["app_secrets", "verify_tokens", "accounts_by_secret", "routes"]
)
_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()


class WhatsappAccount(models.Model):
    """A WhatsApp Business phone number of the Cloud API, with what Odoo needs to talk to Meta."""

    _name = "whatsapp.account"
    _description = "WhatsApp Business Account"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    phone_number_id = fields.Char(
        "Phone Number ID", required=True, index=True, help="Meta's id of the business number."
    )
    waba_id = fields.Char("WhatsApp Business Account ID", help="Owner of the message templates.")
    display_phone_number = fields.Char(help="The business number as customers see it.")
    token = fields.Char("Access Token", groups="base.group_system", copy=False)
    app_secret = fields.Char(
        groups="base.group_system", copy=False, help="Signs Meta's webhooks (X-Hub-Signature-256)."
    )
    verify_token = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(24),
        help="Meta sends it back when the webhook URL is registered.",
    )
    api_base_url = fields.Char(
        "API Base URL",
        required=True,
        default=cloud_api.DEFAULT_BASE_URL,
        help="Graph API root; the local sandbox in demo databases.",
    )
    api_version = fields.Char(required=True, default=cloud_api.DEFAULT_API_VERSION)
    api_timeout = fields.Float("Read Timeout (s)", default=20.0)
    throughput_tier = fields.Selection(
        [("80", "80 messages/s (standard)"), ("1000", "1,000 messages/s (upgraded)")],
        required=True,
        default="80",
    )
    recipient_gap = fields.Float(
        "Gap per Customer (s)",
        default=1.0,
        help="Least time between two messages to one customer (Meta answers 131056 below it).",
    )
    send_workers = fields.Integer(
        "Concurrent Sends",
        help="Requests in flight at once; 0 = enough for the throughput tier at 500 ms latency.",
    )
    monthly_budget = fields.Float(
        "Monthly Marketing Budget",
        digits=(16, 2),
        help="In the company's currency: when the month's estimated spend (charged messages, "
        "and marketing messages not priced by Meta yet) reaches it, marketing campaigns pause "
        "and marketing templates are refused (composer, notifications, automatic replies); "
        "what is already queued still goes. 0: no budget.",
    )
    month_cost = fields.Float("Spent This Month", compute="_compute_month_cost", digits=(16, 2))
    webhook_url = fields.Char(compute="_compute_webhook_url")
    conversation_count = fields.Integer(compute="_compute_conversation_count")
    # What Meta says about the account, from account and phone number webhooks.
    meta_state = fields.Selection(
        [
            ("active", "Active"),
            ("flagged", "Flagged (low quality)"),
            ("restricted", "Restricted"),
            ("ban_scheduled", "Ban Scheduled"),
            ("banned", "Banned"),
        ],
        "State at Meta",
        default="active",
        required=True,
        readonly=True,
        tracking=True,
    )
    messaging_limit = fields.Selection(
        MESSAGING_LIMITS,
        default="250",
        required=True,
        tracking=True,
        help="Different customers the business may start conversations with in a rolling 24 "
        "hours (Meta's messaging limit tier); updated by Meta's webhooks.",
    )
    daily_conversation_limit = fields.Integer(
        readonly=True, help="Numeric limit of Meta's last capability update (0: not given)."
    )
    quality_rating = fields.Selection(
        [("green", "High"), ("yellow", "Medium"), ("red", "Low"), ("unknown", "Unknown")],
        default="unknown",
        required=True,
        readonly=True,
        tracking=True,
    )
    restrictions = fields.Text(readonly=True, help="Meta's current restrictions, one per line.")
    last_violation = fields.Char(readonly=True)
    last_violation_at = fields.Datetime(readonly=True)
    verified_name = fields.Char(readonly=True, help="Display name as Meta approved it.")
    verified_name_state = fields.Char(readonly=True)
    last_webhook_error = fields.Char(readonly=True, help="Last error Meta reported by webhook.")
    last_webhook_error_at = fields.Datetime(readonly=True)
    webhook_event_ids = fields.One2many("whatsapp.webhook.event", "account_id")
    webhook_issue_count = fields.Integer(compute="_compute_webhook_issue_count")

    _sql_constraints = [
        (
            "phone_number_id_uniq",
            "unique(phone_number_id)",
            "A WhatsApp phone number can only be configured once.",
        ),
        # bounded above too: in PostgreSQL, NaN is greater than any number
        (
            "api_timeout_range",
            "CHECK(api_timeout > 0 AND api_timeout <= 300)",
            "The read timeout must be more than 0 and at most 300 seconds.",
        ),
        (
            "monthly_budget_range",
            "CHECK(monthly_budget >= 0 AND monthly_budget < 1e12)",
            "The monthly budget is between 0 and 10^12.",
        ),
        (
            "recipient_gap_range",
            "CHECK(recipient_gap >= 0 AND recipient_gap <= 3600)",
            "The gap per customer must be between 0 and 3600 seconds.",
        ),
    ]

    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for account in self:
            account.webhook_url = f"{base_url.rstrip('/')}/whatsapp/webhook"

    def _compute_conversation_count(self):
        groups = self.env["whatsapp.conversation"]._read_group(
            [("account_id", "in", self.ids)], ["account_id"], ["__count"]
        )
        counts = {account.id: count for account, count in groups}
        for account in self:
            account.conversation_count = counts.get(account.id, 0)

    def _compute_webhook_issue_count(self):
        groups = self.env["whatsapp.webhook.event"]._read_group(
            [("account_id", "in", self.ids), ("kind", "in", ("account", "error", "invalid"))],
            ["account_id"],
            ["__count"],
        )
        counts = {account.id: count for account, count in groups}
        for account in self:
            account.webhook_issue_count = counts.get(account.id, 0)

    @api.constrains("api_base_url")
    def _check_api_base_url(self):
        for account in self:
            if not (account.api_base_url or "").startswith(("http://", "https://")):
                raise ValidationError(self.env._("The API base URL must start with http(s)://."))

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env.registry.clear_cache()
        return accounts

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    # ------------------------------------------------------------------
    # Webhook: what the controller needs before it touches any record
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _webhook_credentials(self):
        """What the webhook needs to tell who signed a body and whom it speaks for.

        ``app_secrets`` and ``verify_tokens`` of the active accounts, ``accounts_by_secret``
        ({app secret: frozenset of account ids}: one Meta app may serve several numbers) and the
        :class:`~..tools.webhook.Routes` from Meta's ids to account ids. Cached per registry so
        that a webhook is checked without a query; any change to an account clears the cache.
        """
        accounts = self.sudo().search([("active", "=", True)])
        by_secret, by_waba = {}, {}
        for account in accounts:
            if account.app_secret:
                by_secret.setdefault(account.app_secret, set()).add(account.id)
            if account.waba_id:
                by_waba.setdefault(account.waba_id, set()).add(account.id)
        routes = webhook.Routes(
            by_phone={a.phone_number_id: a.id for a in accounts},
            by_waba={waba: frozenset(ids) for waba, ids in by_waba.items()},
            by_display={
                digits: a.id
                for a in accounts
                if (digits := "".join(ch for ch in a.display_phone_number or "" if ch.isdigit()))
            },
        )
        return WebhookCredentials(
            app_secrets=tuple(by_secret),
            verify_tokens=tuple({a.verify_token for a in accounts if a.verify_token}),
            accounts_by_secret={secret: frozenset(ids) for secret, ids in by_secret.items()},
            routes=routes,
        )

    # ------------------------------------------------------------------
    # What Meta says about the account (account and phone number webhooks)
    # ------------------------------------------------------------------

    def _apply_meta_update(self, update):
        """Record an account, review, capability or phone number change on these accounts.

        Bans, restrictions, violations, flags and lower limits are posted on the account and
        notify the WhatsApp managers.
        """
        values, alarm = self._meta_update_values(update)
        summary = self._meta_update_summary(update)
        for account in self.sudo():
            account.write(values)
            account.message_post(
                body=summary,
                subtype_xmlid="mail.mt_comment" if alarm else "mail.mt_note",
                partner_ids=account._whatsapp_manager_partners().ids if alarm else [],
            )
        if alarm:
            _logger.warning("WhatsApp account(s) %s: %s", self.ids, update.field)

    def _meta_update_values(self, update):
        """(values to write, whether managers must be told) for one account update."""
        values, alarm = {}, False
        event = (update.event or "").upper()
        if update.field == "account_update":
            if update.ban_state:
                states = [_BAN_STATES.get(s.strip().upper()) for s in update.ban_state.split(",")]
                state = next((s for s in states if s), None)
                if state:
                    values["meta_state"] = state
                    alarm = state != "active"
            if update.violation_type or event == "ACCOUNT_VIOLATION":
                values.update(
                    last_violation=update.violation_type or event,
                    last_violation_at=fields.Datetime.now(),
                )
                alarm = True
            if event == "ACCOUNT_RESTRICTION" or update.restrictions:
                lines = [
                    self.env._("%(type)s (until %(date)s)", type=r.type, date=r.expiration)
                    if r.expiration
                    else r.type
                    for r in update.restrictions
                ]
                values["restrictions"] = "\n".join(lines) or False
                if lines:
                    values["meta_state"] = "restricted"
                    alarm = True
                elif self.filtered(lambda a: a.meta_state == "restricted"):
                    values["meta_state"] = "active"
        elif update.field == "phone_number_quality_update":
            if event == "FLAGGED":
                values.update(meta_state="flagged", quality_rating="red")
                alarm = True
            elif event == "UNFLAGGED":
                values.update(meta_state="active", quality_rating="green")
            if event == "DOWNGRADE":
                alarm = True
        elif update.field == "phone_number_name_update":
            values["verified_name_state"] = update.decision or event or False
            if (update.decision or event).upper() == "APPROVED" and update.requested_name:
                values["verified_name"] = update.requested_name
        elif update.field == "business_capability_update" and update.daily_conversation_limit:
            values["daily_conversation_limit"] = update.daily_conversation_limit
        limit = _LIMIT_BY_TIER.get((update.messaging_limit or "").upper())
        if limit:
            values["messaging_limit"] = limit
        return values, alarm

    def _meta_update_summary(self, update):
        """A readable line for the account's chatter."""
        parts = [
            (self.env._("Event"), update.event),
            (self.env._("Ban"), update.ban_state),
            (self.env._("Ban date"), update.ban_date),
            (self.env._("Violation"), update.violation_type),
            (self.env._("Restrictions"), ", ".join(r.type for r in update.restrictions)),
            (self.env._("Messaging limit"), update.messaging_limit),
            (self.env._("Previous limit"), update.previous_limit),
            (self.env._("Requested name"), update.requested_name),
            (self.env._("Rejection reason"), update.rejection_reason),
        ]
        items = Markup("").join(
            Markup("<li>%s: %s</li>") % (label, value) for label, value in parts if value
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Meta: %(field)s", field=update.field),
            items,
        )

    def _record_webhook_error(self, error):
        """An error Meta reported by webhook for this number (not about one message)."""
        text = " - ".join(
            str(part) for part in (error.code, error.title, error.message, error.details) if part
        )
        self.sudo().write(
            {
                "last_webhook_error": text[:255] or False,
                "last_webhook_error_at": fields.Datetime.now(),
            }
        )
        _logger.warning("WhatsApp account(s) %s: Meta reported %s", self.ids, text)

    def _whatsapp_manager_partners(self):
        managers = self.env.ref("whatsapp_helpdesk.group_whatsapp_manager").sudo().users
        return managers.filtered(lambda u: not u.share and u.active and u.id != 1).partner_id

    def action_open_webhook_issues(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_webhook_event_action"
        )
        action["domain"] = [
            ("account_id", "=", self.id),
            ("kind", "in", ("account", "error", "invalid")),
        ]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Cloud API
    # ------------------------------------------------------------------

    def _get_api_client(self, session=None, async_pool=None):
        """The Cloud API client of this account; every Graph call of the addon goes through it
        (the outbox's sends through ``async_pool``, see ``_sending_session``)."""
        self.ensure_one()
        account = self.sudo()
        if not account.token:
            raise UserError(self.env._("The WhatsApp account %s has no access token.", self.name))
        return cloud_api.CloudApiClient(
            token=account.token,
            phone_number_id=account.phone_number_id,
            waba_id=account.waba_id,
            base_url=account.api_base_url,
            api_version=account.api_version,
            timeout=account.api_timeout or 20.0,
            session=session,
            async_pool=async_pool,
        )

    def _sending_workers(self):
        self.ensure_one()
        if self.send_workers > 0:
            return self.send_workers
        # in flight = rate x latency; room for 500 ms answers (a send in flight is a coroutine
        # and a kept-alive connection, not a thread: see tools/sender.py)
        return max(8, min(1024, int(int(self.throughput_tier) * 0.5)))

    def _sending_session(self):
        """``(session, async_pool)``: the pooled HTTP session and the sends' pool of this account
        in this process, kept across cron runs (keep-alive)."""
        self.ensure_one()
        key = (os.getpid(), self.env.cr.dbname, self.id, self._sending_workers())
        with _SESSIONS_LOCK:
            pools = _SESSIONS.get(key)
            if pools is None:
                pools = _SESSIONS[key] = (
                    sender.pooled_session(key[3]),
                    sender.async_pool(key[3]),
                )
        return pools

    def _compute_month_cost(self):
        for account in self:
            account.month_cost = account._month_spend() if account.id else 0.0

    def _month_spend(self):
        """This month's estimated spend in the company's currency: what Meta charged, plus the
        marketing templates queued or sent that Meta has not priced yet."""
        self.ensure_one()
        start = fields.Datetime.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT coalesce(sum(cost), 0) FROM whatsapp_message"
            " WHERE account_id = %s AND create_date >= %s AND cost != 0",
            [self.id, start],
        )
        charged = self.env.cr.fetchone()[0]
        unpriced = SQL(
            """(SELECT c.phone_e164 FROM whatsapp_message m
                  JOIN whatsapp_conversation c ON c.id = m.conversation_id
                  JOIN whatsapp_template t ON t.id = m.template_id
                 WHERE m.account_id = %s AND m.create_date >= %s AND m.direction = 'out'
                   AND t.category = 'MARKETING' AND m.pricing_category IS NULL
                   AND m.state IN ('queued', 'sending', 'sent', 'delivered', 'read'))""",
            self.id,
            start,
        )
        Rate = self.env["whatsapp.rate"]
        markets = Rate._markets_of_numbers(unpriced)
        return charged + Rate._estimate(self.company_id, "marketing", markets)

    def _budget_refusal(self):
        """Why no marketing template may be queued now: the month's estimated spend
        (:meth:`_month_spend`, the measure campaigns pause on) reached the monthly budget;
        None when it did not, or without a budget."""
        self.ensure_one()
        if not self.monthly_budget:
            return None
        spent = self._month_spend()
        if spent < self.monthly_budget:
            return None
        currency = self.company_id.currency_id
        lang = self.env.lang or "en_US"

        def money(amount):
            return formatting.format_money(
                amount, currency.name, lang, digits=currency.decimal_places
            )

        return self.env._(
            "The monthly marketing budget of %(account)s is reached (%(spent)s spent this month "
            "of %(budget)s): no marketing template is sent until next month or until a manager "
            "raises the budget.",
            account=self.name,
            spent=money(spent),
            budget=money(self.monthly_budget),
        )

    def _messaging_used(self):
        """Different customers this number sent a template to in the last 24 hours: what Meta
        counts against the messaging limit (messages that never reached Meta excluded)."""
        self.ensure_one()
        self.env["whatsapp.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT count(DISTINCT conversation_id) FROM whatsapp_message
                 WHERE account_id = %s AND direction = 'out' AND message_type = 'template'
                   AND create_date >= %s AND state NOT IN ('skipped', 'canceled')
                   AND NOT (state = 'failed' AND wamid IS NULL)
                """,
                self.id,
                fields.Datetime.now() - timedelta(hours=24),
            )
        )
        return self.env.cr.fetchone()[0]

    def _messaging_headroom(self):
        """New customers this number may still start conversations with now (None: no limit)."""
        self.ensure_one()
        limit = campaign_plan.limit_of(self.messaging_limit)
        if limit is campaign_plan.UNLIMITED:
            return None
        return campaign_plan.headroom(limit, self._messaging_used())

    def _get_conversation(self, partner):
        """The conversation of this account with ``partner``'s number, created if needed."""
        self.ensure_one()
        if not partner.whatsapp_e164:
            raise UserError(
                self.env._(
                    "%(partner)s has no valid mobile or phone number for WhatsApp.",
                    partner=partner.display_name,
                )
            )
        return self.env["whatsapp.conversation"]._get_or_create(
            self, partner.whatsapp_e164, partner=partner
        )

    @api.model
    def _get_default_account(self, company=None):
        company = company or self.env.company
        return self.search([("company_id", "=", company.id)], limit=1)

    def action_test_connection(self):
        """List the templates: a harmless authenticated call that proves token and ids."""
        self.ensure_one()
        try:
            templates = self._get_api_client().list_templates(limit=1)
        except cloud_api.CloudApiError as error:
            raise UserError(
                self.env._("Meta answered: %(error)s", error=error.message or str(error))
            ) from error
        return notification(
            self.env._("Connection works (%(count)s template(s) seen).", count=len(templates))
        )

    def action_sync_templates(self):
        """Refresh statuses from Meta and import the templates created in Meta's manager."""
        Template = self.env["whatsapp.template"]
        for account in self:
            try:
                remote = account._get_api_client().list_templates()
            except cloud_api.CloudApiError as error:
                raise UserError(self.env._("Meta answered: %(error)s", error=str(error))) from error
            for data in remote:
                Template._import_from_meta(account, data)
        return notification(self.env._("Templates synchronised with Meta."), close=True)

    def action_open_templates(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_template_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_open_conversations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "whatsapp_helpdesk.whatsapp_conversation_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Hardening: random demo credentials, the API URL for administrators
    # ------------------------------------------------------------------

    def _generate_demo_credentials(self):
        """Draw the token and secrets of these (demo) accounts at random: the demo data calls this
        at install, since a secret written in the repository would be public."""
        for account in self.sudo():
            account.write(
                {
                    "token": secrets.token_urlsafe(32),
                    "app_secret": secrets.token_urlsafe(32),
                    "verify_token": secrets.token_urlsafe(24),
                }
            )

    @api.model
    def check_field_access_rights(self, operation, field_names):
        """As the secrets, where the access token is sent (``api_base_url``) is set by Settings
        administrators only; WhatsApp managers still read it."""
        if (
            operation in ("create", "write")
            and "api_base_url" in (field_names or ())
            and not self.env.is_system()
        ):
            raise AccessError(
                self.env._(
                    "Only administrators can change the API base URL of a WhatsApp account: "
                    "its access token is sent there."
                )
            )
        return super().check_field_access_rights(operation, field_names)

    def _prepare_create_values(self, vals_list):
        # create() checks no field access of its own: the same rules as write(), defaults included
        defaults = [key[8:] for key in self.env.context if key.startswith("default_")]
        for vals in vals_list:
            self.check_field_access_rights("create", [*vals, *defaults])
        return super()._prepare_create_values(vals_list)
