import logging
import time
from collections import Counter
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..tools import campaign_plan, pricing
from .common import cron_report, cron_run_budget, is_testing
from .whatsapp_optin import TEMPLATE_CATEGORIES

_logger = logging.getLogger(__name__)

# Recipients released to the outbox per step: a few seconds of the account's throughput tier
# (at most RELEASE_CHUNK). The recipient rows are the campaign's queue;
# outbox rows are made this short a lead ahead of the dispatcher, so that a pause, a cancellation
# or Meta's spam limit acts on recipients waiting in line, and few outbox rows are made only to
# be withdrawn. The outbox's cron releases the next step while its batches are on the wire (see
# whatsapp.message._send_queued).
RELEASE_CHUNK = 5000
RELEASE_STEP_SECONDS = 6
RELEASE_TIME_BUDGET = 40  # seconds per cron run
# With no headroom left, look again this much later (the rolling 24 hours free up gradually).
HEADROOM_RETRY = timedelta(minutes=30)
# Once the outbox holds a step's worth of queued messages, the release cron hands over: the
# outbox's cron releases the next step while it sends (see _release_for_outbox), so that one
# cron worker never holds the sends up for a release; the release cron looks again a step's
# sending time later (the outbox's run may end with its short queue empty: nobody would wake it).
FEED_RETRY = timedelta(seconds=RELEASE_STEP_SECONDS)
DEFAULT_FREQUENCY_CAP_HOURS = 24
MAX_HOURS = 24 * 366
# Fields a draft's audience check depends on: changing one clears the check.
AUDIENCE_CHECK_DEPENDS = {
    "account_id",
    "company_id",
    "template_id",
    "audience",
    "segment_id",
    "partner_ids",
    "frequency_cap_hours",
}


def id_range(ids):
    """(lowest, highest) of ``ids``: bounds an UPDATE joined to an unnest of ids to the ids' range
    of the primary key, else PostgreSQL hashes the whole table (every campaign's recipients)."""
    ids = list(ids)
    return min(ids), max(ids)


def _default_frequency_cap(env):
    param = (
        env["ir.config_parameter"]
        .sudo()
        .get_param("whatsapp_helpdesk.campaign_frequency_cap_hours")
    )
    try:
        return max(0, min(int(param), MAX_HOURS)) if param else DEFAULT_FREQUENCY_CAP_HOURS
    except ValueError:
        return DEFAULT_FREQUENCY_CAP_HOURS


class WhatsappCampaign(models.Model):
    """An approved template sent to a segment (or a list): recipients fixed once at launch, each
    skipped with its reason or released to the outbox within Meta's messaging limit, paced by the
    outbox's dispatcher; pause, resume and cancel never send a message twice."""

    _name = "whatsapp.campaign"
    _description = "WhatsApp Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    account_id = fields.Many2one(
        "whatsapp.account",
        required=True,
        check_company=True,
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    template_id = fields.Many2one(
        "whatsapp.template",
        required=True,
        check_company=True,
        domain="[('status', '=', 'approved'), ('account_id', '=', account_id),"
        " '|', ('model', '=', False), ('model', '=', 'res.partner')]",
        help="Approved template; each customer gets the language variant of their language.",
        tracking=True,
    )
    template_category = fields.Selection(related="template_id.category")
    audience = fields.Selection(
        [("segment", "Segment"), ("list", "Selected Customers")],
        required=True,
        default="segment",
    )
    segment_id = fields.Many2one("whatsapp.segment", check_company=True)
    partner_ids = fields.Many2many("res.partner", string="Customers")
    schedule = fields.Selection(
        [("now", "Now"), ("at", "At a Time"), ("local", "In the Customer's Local Hours")],
        required=True,
        default="now",
    )
    scheduled_at = fields.Datetime("Start At")
    local_hour_from = fields.Float("From (local)", default=9.0)
    local_hour_to = fields.Float("To (local)", default=20.0)
    frequency_cap_hours = fields.Integer(
        "Frequency Cap (hours)",
        default=lambda self: _default_frequency_cap(self.env),
        help="Skip customers who received a template from us within this many hours (0: off).",
    )
    reply_window_hours = fields.Integer(
        "Replies Within (hours)", default=72, help="A reply counts for the funnel within it."
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("done", "Done"),
            ("canceled", "Canceled"),
        ],
        required=True,
        default="draft",
        readonly=True,
        tracking=True,
        copy=False,
    )
    pause_reason = fields.Selection(
        [
            ("manual", "Paused by a user"),
            ("spam_limit", "Meta's spam rate limit (131048)"),
            ("budget", "Monthly budget reached"),
            ("template", "Template no longer sendable"),
        ],
        readonly=True,
        copy=False,
    )
    launched_at = fields.Datetime(readonly=True, copy=False)
    next_release_at = fields.Datetime(readonly=True, copy=False)
    recipient_ids = fields.One2many("whatsapp.campaign.recipient", "campaign_id", readonly=True)
    whatsapp_message_ids = fields.One2many("whatsapp.message", "campaign_id", readonly=True)
    plan_summary = fields.Text("Sending Plan", compute="_compute_plan_summary")
    # a draft's audience counted as the launch would fix it, on request (seconds at 100,000)
    audience_checked_at = fields.Datetime("Audience Checked On", readonly=True, copy=False)
    audience_check_data = fields.Json(readonly=True, copy=False)
    audience_check = fields.Html(compute="_compute_audience_check", sanitize=False)
    cost_estimate = fields.Char("Estimated Price", compute="_compute_cost_estimate")
    cost = fields.Float(
        compute="_compute_cost",
        store=True,
        digits=(16, 4),
        help="What Meta charged for the campaign's messages so far (company currency).",
    )
    # funnel
    recipient_count = fields.Integer("Recipients", compute="_compute_funnel")
    skipped_count = fields.Integer("Skipped", compute="_compute_funnel")
    waiting_count = fields.Integer("Waiting", compute="_compute_funnel")
    queued_count = fields.Integer("In Outbox", compute="_compute_funnel")
    sent_count = fields.Integer("Sent", compute="_compute_funnel")
    delivered_count = fields.Integer("Delivered", compute="_compute_funnel")
    read_count = fields.Integer("Read", compute="_compute_funnel")
    failed_count = fields.Integer("Failed", compute="_compute_funnel")
    not_receiving_count = fields.Integer(
        "Not Receiving Marketing",
        compute="_compute_funnel",
        help="Meta did not deliver because the customer does not receive marketing messages "
        "now (131049) or stopped marketing messages from the business (131050, then recorded "
        "as an opt-out): not a failure of the campaign.",
    )
    replied_count = fields.Integer("Replied", compute="_compute_funnel")
    clicked_count = fields.Integer(
        "Clicked",
        compute="_compute_funnel",
        help="Customers who opened a tracked URL button of the campaign's template.",
    )
    opted_out_count = fields.Integer("Opted Out After", compute="_compute_funnel")
    progress = fields.Float(compute="_compute_funnel", help="Share of recipients handled.")
    funnel_details = fields.Html(compute="_compute_funnel", sanitize=False)

    _sql_constraints = [
        (
            "local_hours_range",
            "CHECK(local_hour_from >= 0 AND local_hour_from < 24"
            " AND local_hour_to >= 0 AND local_hour_to <= 24)",
            "Local hours are between 0 and 24.",
        ),
        (
            "frequency_cap_range",
            f"CHECK(frequency_cap_hours >= 0 AND frequency_cap_hours <= {MAX_HOURS})",
            "The frequency cap is between 0 and a year of hours.",
        ),
        (
            "reply_window_range",
            f"CHECK(reply_window_hours >= 1 AND reply_window_hours <= {MAX_HOURS})",
            "The reply window is between 1 hour and a year.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._sound_audience_check(vals) for vals in vals_list])

    def write(self, vals):
        if AUDIENCE_CHECK_DEPENDS & set(vals) and "audience_check_data" not in vals:
            vals = dict(vals, audience_check_data=False, audience_checked_at=False)
        return super().write(self._sound_audience_check(vals))

    @api.model
    def _sound_audience_check(self, vals):
        """``vals`` with an audience check that is not what action_check_audience writes (the
        field is JSON any client may send: wrong types, NUL, absurd numbers) made empty."""
        if vals.get("audience_check_data") and not campaign_plan.audience_check(
            vals["audience_check_data"]
        ):
            vals = dict(vals, audience_check_data=False)
        return vals

    @api.onchange("account_id")
    def _onchange_account_id(self):
        if self.account_id:
            self.company_id = self.account_id.company_id

    @api.constrains("template_id", "account_id")
    def _check_template(self):
        for campaign in self:
            if campaign.template_id.account_id != campaign.account_id:
                raise ValidationError(
                    self.env._("The template must belong to the campaign's WhatsApp account.")
                )
            if campaign.template_id.model not in (False, "res.partner"):
                raise ValidationError(
                    self.env._("A campaign template reads its variables on the customer.")
                )

    # ------------------------------------------------------------------
    # Audience
    # ------------------------------------------------------------------

    def _audience_query(self):
        """The audience's partners, as a subquery of their ids."""
        self.ensure_one()
        if self.audience == "segment":
            if not self.segment_id:
                raise UserError(self.env._("Choose a segment."))
            query = self.segment_id._partner_query()
        else:
            query = self.env["res.partner"]._search([("id", "in", self.partner_ids.ids)])
        return query.subselect()

    def _required_optin(self):
        """The opt-in category the template needs (None: authentication, asked for)."""
        return TEMPLATE_CATEGORIES.get(self.template_id.category)

    def _audience_and_skips(self):
        """([(partner id, E.164 or None)] of the audience in id order, (blacklisted, opted in or
        None, opted out, recently messaged) among their numbers): the audience read with its
        blacklist and its consent to the template's category (opted in, or opted out: a STOP, a
        manager, or Meta's 131050 for marketing), one row each at most by their unique indexes,
        in one query (a hundred thousand numbers sent back for more queries cost more than the
        joins); the frequency cap's messages in a query of their own."""
        self.ensure_one()
        self.env.flush_all()
        category = self._required_optin()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id, p.whatsapp_e164, bl.id IS NOT NULL, o.state
                  FROM res_partner p
                  LEFT JOIN phone_blacklist bl
                         ON bl.number = p.whatsapp_e164 AND bl.active
                  LEFT JOIN whatsapp_optin o
                         ON o.phone_e164 = p.whatsapp_e164 AND o.company_id = %(company)s
                        AND o.category = %(category)s
                 WHERE p.id IN %(audience)s
                 ORDER BY p.id
                """,
                company=self.company_id.id,
                category=category or "",
                audience=self._audience_query(),
            )
        )
        rows, blacklisted, opted_in, opted_out = [], set(), set(), set()
        for partner, number, listed, consent in self.env.cr.fetchall():
            rows.append((partner, number))
            if listed:
                blacklisted.add(number)
            if consent == "opted_in":
                opted_in.add(number)
            elif consent == "opted_out":
                opted_out.add(number)
        recent = set()
        if self.frequency_cap_hours:
            self.env.cr.execute(
                """
                SELECT DISTINCT c.phone_e164 FROM whatsapp_message m
                  JOIN whatsapp_conversation c ON c.id = m.conversation_id
                 WHERE c.company_id = %s AND m.direction = 'out' AND m.message_type = 'template'
                   AND m.create_date >= %s AND m.state NOT IN ('skipped', 'canceled', 'failed')
                   AND c.phone_e164 = ANY(%s)
                """,
                [
                    self.company_id.id,
                    fields.Datetime.now() - timedelta(hours=self.frequency_cap_hours),
                    list({number for _partner, number in rows if number}),
                ],
            )
            recent = {row[0] for row in self.env.cr.fetchall()}
        if not category:
            opted_in, opted_out = None, set()
        return rows, (blacklisted, opted_in, opted_out, recent)

    def _audience_reasons(self):
        """(the audience's rows [(partner id, E.164 or None)], {partner id: skip reason or
        None}) as the launch fixes them now."""
        rows, (blacklisted, opted_in, opted_out, recent) = self._audience_and_skips()
        reasons = campaign_plan.skip_reasons(
            rows,
            blacklisted=blacklisted,
            opted_in=opted_in,
            recently_messaged=recent,
            opted_out=opted_out,
        )
        return rows, reasons

    def _materialise(self):
        """Fix the recipients once, each skipped with its reason or waiting to be released."""
        self.ensure_one()
        if self.recipient_ids:
            return
        rows, reasons = self._audience_reasons()
        self.env["whatsapp.campaign.recipient"]._insert(
            self, [(partner, number, reasons[partner]) for partner, number in rows]
        )

    def _assign_local_zones(self):
        """Fix the time zone of each waiting recipient, where its local hours are read: the
        customer's, else their number's or country's, else the company's (tools/campaign_plan's
        customer_zone); a customer without a zone of their own is not sent at UTC's hours."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT r.id, r.phone_e164, p.tz, c.code
              FROM whatsapp_campaign_recipient r
              LEFT JOIN res_partner p ON p.id = r.partner_id
              LEFT JOIN res_country c ON c.id = p.country_id
             WHERE r.campaign_id = %s AND r.state = 'pending'
            """,
            [self.id],
        )
        company_tz = self.company_id.partner_id.tz
        zones = {}
        for rid, number, tz, country in self.env.cr.fetchall():
            zone = campaign_plan.customer_zone(
                tz=tz, number=number, country=country, company_tz=company_tz
            )
            if zone:
                zones[rid] = zone
        if zones:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE whatsapp_campaign_recipient r SET tz = v.tz
                      FROM unnest(%s::int[], %s::varchar[]) AS v(id, tz)
                     WHERE r.id = v.id AND r.id BETWEEN %s AND %s
                    """,
                    list(zones),
                    list(zones.values()),
                    *id_range(zones),
                )
            )
            self.env["whatsapp.campaign.recipient"].invalidate_model(["tz"])

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "whatsapp_helpdesk.group_whatsapp_manager"
        ):
            raise AccessError(self.env._("Only WhatsApp managers run campaigns."))
        self.check_access("write")

    def action_launch(self):
        """Fix the recipients and start releasing them (at the scheduled time, if any)."""
        self._check_manager()
        for campaign in self:
            if campaign.state != "draft":
                raise UserError(self.env._("Only a draft campaign can be launched."))
            campaign.template_id._check_sendable()
            if campaign.schedule == "at" and not campaign.scheduled_at:
                raise UserError(self.env._("Choose when the campaign starts."))
            campaign._materialise()
            if campaign.schedule == "local":
                campaign._assign_local_zones()
            campaign.write({"state": "running", "launched_at": fields.Datetime.now()})
        self._trigger_release(self._release_moment())
        return True

    def action_check_audience(self):
        """Count a draft's audience as the launch would fix it (skipped by reason, customers
        left) and plan those across days within the messaging limit: read once, when asked (a
        large audience takes seconds), and shown until the audience changes."""
        self._check_manager()
        for campaign in self:
            if campaign.state != "draft":
                raise UserError(self.env._("Only a draft campaign's audience is checked."))
            _rows, reasons = campaign._audience_reasons()
            skipped = Counter(reason for reason in reasons.values() if reason)
            eligible = len(reasons) - sum(skipped.values())
            limit = campaign_plan.limit_of(campaign.account_id.messaging_limit)
            used = campaign.account_id.sudo()._messaging_used() if limit is not None else 0
            try:
                days = campaign_plan.plan_days(eligible, limit, used) if limit != 0 else []
            except ValueError:  # more than ten years at this limit
                days = []
            campaign.write(
                {
                    "audience_check_data": {
                        "total": len(reasons),
                        "eligible": eligible,
                        "skipped": dict(skipped),
                        "limit": limit,
                        "used": used,
                        "days": days,
                    },
                    "audience_checked_at": fields.Datetime.now(),
                }
            )
        return True

    def _release_moment(self):
        moments = [c.scheduled_at for c in self if c.schedule == "at" and c.scheduled_at]
        return max(moments) if moments else None

    def action_pause(self):
        self._check_manager()
        self.filtered(lambda c: c.state == "running")._pause("manual")

    def action_resume(self):
        self._check_manager()
        resumed = self.filtered(lambda c: c.state == "paused")
        resumed.write({"state": "running", "pause_reason": False})
        if resumed:
            self._trigger_release()

    def action_cancel(self):
        self._check_manager()
        for campaign in self.filtered(lambda c: c.state in ("draft", "running", "paused")):
            campaign._withdraw_queued()
            self.env.cr.execute(
                "UPDATE whatsapp_campaign_recipient SET state = 'canceled'"
                " WHERE campaign_id = %s AND state = 'pending'",
                [campaign.id],
            )
            campaign.recipient_ids.invalidate_recordset()
            campaign.state = "canceled"

    def action_test_send(self):
        """Send the template to the user's own WhatsApp number (not counted in the campaign)."""
        self.ensure_one()
        self._check_manager()
        partner = self.env.user.partner_id
        conversation = self.account_id._get_conversation(partner)
        conversation._send_template(self.template_id, record=partner)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Test message queued to %(number)s.", number=conversation.phone_e164
                ),
            },
        }

    def _pause(self, reason, withdraw=True):
        """Stop releasing and (``withdraw``) take back what waits in the outbox, never what is
        on its way."""
        for campaign in self:
            if withdraw:
                campaign._withdraw_queued()
            campaign.write({"state": "paused", "pause_reason": reason})

    def _withdraw_queued(self):
        """Cancel this campaign's outbox rows no sender has claimed yet and put their recipients
        back in the waiting line: a claimed row is locked or "sending" and is left alone, so no
        message leaves twice."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH withdrawn AS (
                    UPDATE whatsapp_message
                       SET state = 'canceled', write_date = now() AT TIME ZONE 'UTC'
                     WHERE id IN (SELECT id FROM whatsapp_message
                                   WHERE campaign_id = %(campaign)s AND state = 'queued'
                                     FOR UPDATE SKIP LOCKED)
                 RETURNING id)
                UPDATE whatsapp_campaign_recipient r SET state = 'pending', message_id = NULL
                  FROM withdrawn WHERE r.message_id = withdrawn.id
                RETURNING r.id
                """,
                campaign=self.id,
            )
        )
        withdrawn = len(self.env.cr.fetchall())
        self.env["whatsapp.message"].invalidate_model(["state"])
        self.env["whatsapp.campaign.recipient"].invalidate_model(["state", "message_id"])
        return withdrawn

    def _pause_for_spam_limit(self):
        """Meta answered 131048 (spam rate limit): pause and tell the managers."""
        self.sudo().filtered(lambda c: c.state == "running")._pause_and_tell(
            "spam_limit",
            self.env._(
                "Meta refused a message with its spam rate limit (131048): the campaign is "
                "paused. Check the template's quality and the audience before resuming."
            ),
        )

    def _pause_and_tell(self, reason, text, withdraw=True):
        """Pause and post ``text`` to the WhatsApp managers."""
        self._pause(reason, withdraw=withdraw)
        for campaign in self:
            campaign.message_post(
                body=text,
                subtype_xmlid="mail.mt_comment",
                partner_ids=campaign.account_id._whatsapp_manager_partners().ids,
            )

    # ------------------------------------------------------------------
    # Release to the outbox
    # ------------------------------------------------------------------

    @api.model
    def _trigger_release(self, at=None):
        self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_campaign_release").sudo()._trigger(at=at)

    @api.model
    def _cron_release(self):
        """Release waiting recipients of running campaigns within each account's messaging
        limit, the schedule and the customers' local hours; commit after each step."""
        with cron_report(_logger, "WhatsApp campaigns: recipients released") as report:
            started = time.monotonic()
            budget = cron_run_budget(RELEASE_TIME_BUDGET)
            auto_commit = not is_testing()
            while time.monotonic() - started < budget:
                campaigns = self.search([("state", "=", "running")], order="id")
                # a lead of one step: the recipients wait in line, not in the outbox
                if campaigns and campaigns._outbox_ahead():
                    self._trigger_release(fields.Datetime.now() + FEED_RETRY)
                    break
                released = campaigns._release_steps(commit=auto_commit)
                report["items"] += released
                if not released:
                    break

    def _outbox_ahead(self, lead=None):
        """Whether the outbox holds ``lead`` queued messages (default: the largest release step
        of these campaigns)."""
        if lead is None:
            lead = max((campaign._release_chunk() for campaign in self), default=RELEASE_CHUNK)
        self.env["whatsapp.message"].flush_model(["direction", "state"])
        self.env.cr.execute(
            "SELECT count(*) FROM (SELECT 1 FROM whatsapp_message"
            " WHERE direction = 'out' AND state = 'queued' LIMIT %s) AS queued",
            [lead],
        )
        return self.env.cr.fetchone()[0] >= lead

    def _release_chunk(self):
        """Recipients per release step: RELEASE_STEP_SECONDS of the account's tier, at most
        RELEASE_CHUNK (480 at 80 msg/s, 5,000 at 1,000)."""
        self.ensure_one()
        tier = int(self.account_id.throughput_tier or 80)
        return min(RELEASE_CHUNK, tier * RELEASE_STEP_SECONDS)

    @api.model
    def _due_for_release(self):
        """The running campaigns whose next release step is due (not waiting for the messaging
        limit's headroom, their schedule or their customers' local hours)."""
        now = fields.Datetime.now()
        return self.sudo().search(
            [
                ("state", "=", "running"),
                "|",
                ("next_release_at", "=", False),
                ("next_release_at", "<=", now),
                "|",
                ("schedule", "!=", "at"),
                ("scheduled_at", "<=", now),
            ],
            order="id",
        )

    @api.model
    def _release_for_outbox(self, lead):
        """One release step of each running campaign that is due, when the outbox holds fewer
        than ``lead`` queued messages (its next claim): the outbox's cron calls it while batches
        are on the wire. Returns how many recipients were released."""
        campaigns = self._due_for_release()
        if not campaigns or campaigns._outbox_ahead(lead):
            return 0
        return campaigns._release_steps()

    def _release_steps(self, commit=False):
        """One release step of each of these campaigns, committed after each when ``commit``;
        returns how many recipients were released."""
        released = 0
        for campaign in self:
            try:
                with self.env.cr.savepoint():
                    released += campaign._release_step()
            except Exception:  # pylint: disable=broad-except
                # one campaign's trouble never holds up the others; tried again later
                _logger.exception("WhatsApp campaign %s: release failed", campaign.id)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return released

    def _release_step(self, chunk=None):
        """Release the next waiting recipients of this campaign (``chunk``, default a step of
        its account's tier: :meth:`_release_chunk`); returns how many. Two cron
        workers (the release's and the outbox's) never release the same campaign at once, and a
        campaign paused meanwhile releases nothing."""
        self.ensure_one()
        self.flush_recordset(["state"])
        self.env.cr.execute(
            "SELECT state FROM whatsapp_campaign WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
            [self.id],
        )
        row = self.env.cr.fetchone()
        if not row or row[0] != "running":
            return 0
        now = fields.Datetime.now()
        if self.schedule == "at" and self.scheduled_at and self.scheduled_at > now:
            self._trigger_release(self.scheduled_at)
            return 0
        headroom = self.account_id._messaging_headroom()
        chunk = chunk or self._release_chunk()
        limit = chunk if headroom is None else min(chunk, headroom)
        if limit <= 0:
            self._trigger_release(now + HEADROOM_RETRY)
            self.next_release_at = now + HEADROOM_RETRY
            return 0
        limit = self._affordable(limit)
        if limit <= 0:
            self._pause_and_tell(
                "budget",
                self.env._(
                    "The account's monthly marketing budget is reached: the campaign is paused. "
                    "Raise the budget or wait for next month, then resume."
                ),
                withdraw=False,  # what is queued was within the budget
            )
            return 0
        recipients = self._next_recipients(limit, now)
        if not recipients:
            if not self._has_waiting() and not self._has_unsent():
                self.state = "done"
            return 0
        released = self._release(recipients)
        self.next_release_at = False
        return released

    def _affordable(self, limit):
        """How many of ``limit`` recipients the account's monthly budget still pays for."""
        budget = self.account_id.monthly_budget
        category = self._pricing_category()
        if not budget or category != pricing.MARKETING:
            return limit
        markets = self._markets()
        waiting = sum(markets.values())
        if not waiting:
            return limit
        unit = self.env["whatsapp.rate"]._estimate(self.company_id, category, markets) / waiting
        left = budget - self.account_id._month_spend()
        if left <= 0:
            return 0
        return limit if not unit else min(limit, int(left // unit))

    def _has_waiting(self):
        return bool(
            self.env["whatsapp.campaign.recipient"].search_count(
                [("campaign_id", "=", self.id), ("state", "=", "pending")], limit=1
            )
        )

    def _has_unsent(self):
        """Whether messages of this campaign still wait in the outbox (a pause takes them back)."""
        return bool(
            self.env["whatsapp.message"]
            .sudo()
            .search_count(
                [("campaign_id", "=", self.id), ("state", "in", ("queued", "sending"))], limit=1
            )
        )

    def _next_recipients(self, limit, now):
        """The next waiting recipients (in the local hours of their customers, when asked: in
        the zone fixed at launch, see _assign_local_zones), as [(id, E.164, partner id)] in id
        order: what the release reads of them, as values."""
        self.env.flush_all()
        if self.schedule != "local":
            self.env.cr.execute(
                "SELECT id, phone_e164, partner_id FROM whatsapp_campaign_recipient"
                " WHERE campaign_id = %s AND state = 'pending' ORDER BY id LIMIT %s",
                [self.id, limit],
            )
            return self.env.cr.fetchall()
        self.env.cr.execute(
            """
            SELECT DISTINCT coalesce(r.tz, p.tz, '') FROM whatsapp_campaign_recipient r
              LEFT JOIN res_partner p ON p.id = r.partner_id
             WHERE r.campaign_id = %s AND r.state = 'pending'
            """,
            [self.id],
        )
        zones = [row[0] for row in self.env.cr.fetchall()]
        open_zones = [
            zone
            for zone in zones
            if campaign_plan.in_local_window(now, zone, self.local_hour_from, self.local_hour_to)
        ]
        if not open_zones:
            if zones:
                opening = min(
                    campaign_plan.next_local_opening(now, zone, self.local_hour_from)
                    for zone in zones
                )
                self._trigger_release(opening)
                self.next_release_at = opening
            return []
        self.env.cr.execute(
            """
            SELECT r.id, r.phone_e164, r.partner_id FROM whatsapp_campaign_recipient r
              LEFT JOIN res_partner p ON p.id = r.partner_id
             WHERE r.campaign_id = %s AND r.state = 'pending'
               AND coalesce(r.tz, p.tz, '') = ANY(%s)
             ORDER BY r.id LIMIT %s
            """,
            [self.id, open_zones, limit],
        )
        return self.env.cr.fetchall()

    def _release(self, recipients):
        """Queue one template message per recipient ([(id, E.164, partner id)]: see
        :meth:`_next_recipients`) through the conversations' batch send (the one send rule
        applies); a recipient the rule refuses is skipped with its reason. Returns how many
        were queued."""
        self.ensure_one()
        rows = list(recipients)
        conversations = self.env["whatsapp.conversation"]._get_or_create_ids(
            self.account_id, {number: partner_id or False for _id, number, partner_id in rows}
        )
        conversation_ids = [conversations[number] for _id, number, _partner_id in rows]
        batch = self.env["whatsapp.conversation"].browse(conversation_ids)
        try:
            # (the chatter messages come when the customers write: _post_campaign_traces; the
            # screens hear of the rows when they are sent, a few seconds of the tier later).
            # Created by: nobody. A release runs as the cron's user, never the manager, so the
            # column would only repeat the superuser, at two foreign-key checks a row.
            results = batch._send_template_many(
                self.template_id,
                values={"campaign_id": self.id, "create_uid": False, "write_uid": False},
                post=False,
                notify=False,
                # the step is what the budget still pays for (_affordable): not asked again
                budget_checked=True,
            )
        except UserError as error:  # Meta paused or disabled the template meanwhile
            self._pause_and_tell("template", str(error), withdraw=False)
            return 0
        released, refused = [], []
        for (recipient_id, _number, _partner_id), conversation_id in zip(
            rows, conversation_ids, strict=True
        ):
            result = results.get(conversation_id)
            if isinstance(result, tuple) or result is None:
                refused.append((recipient_id, (result or ("refused", ""))[1]))
            else:
                released.append((recipient_id, result.id))
        if released:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE whatsapp_campaign_recipient r
                       SET state = 'released', message_id = v.message_id,
                           write_date = now() AT TIME ZONE 'UTC'
                      FROM unnest(%s::int[], %s::int[]) AS v(id, message_id)
                     WHERE r.id = v.id AND r.id BETWEEN %s AND %s
                    """,
                    [rid for rid, _m in released],
                    [mid for _r, mid in released],
                    *id_range(rid for rid, _m in released),
                )
            )
        if refused:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE whatsapp_campaign_recipient r
                       SET state = 'skipped', skip_reason = 'refused', note = v.note,
                           write_date = now() AT TIME ZONE 'UTC'
                      FROM unnest(%s::int[], %s::varchar[]) AS v(id, note)
                     WHERE r.id = v.id AND r.id BETWEEN %s AND %s
                    """,
                    [rid for rid, _s in refused],
                    [(sentence or "")[:255] for _r, sentence in refused],
                    *id_range(rid for rid, _s in refused),
                )
            )
        self.env["whatsapp.campaign.recipient"].invalidate_model()
        return len(released)

    # ------------------------------------------------------------------
    # Plan and funnel
    # ------------------------------------------------------------------

    def _eligible_count(self):
        """Recipients still to release once launched; the audience's size before."""
        self.ensure_one()
        if self.state != "draft":
            return self.env["whatsapp.campaign.recipient"].search_count(
                [("campaign_id", "=", self.id), ("state", "=", "pending")]
            )
        if self.audience == "segment":
            return self.segment_id.partner_count if self.segment_id else 0
        return len(self.partner_ids)

    @api.depends("account_id.messaging_limit", "segment_id", "partner_ids", "audience", "state")
    def _compute_plan_summary(self):
        for campaign in self:
            account = campaign.account_id
            if not account:
                campaign.plan_summary = False
                continue
            total = campaign._eligible_count()
            limit = campaign_plan.limit_of(account.messaging_limit)
            used = account.sudo()._messaging_used() if limit is not None else 0
            days = campaign_plan.plan_days(total, limit, used) if limit != 0 else []
            campaign.plan_summary = campaign._plan_text(total, limit, used, days)

    def _plan_text(self, total, limit, used, days):
        if not total:
            return self.env._("Nobody to send to yet.")
        if limit is None:
            return self.env._("%(total)s message(s), all today (no messaging limit).", total=total)
        lines = [
            self.env._(
                "Messaging limit: %(limit)s customers per 24 hours; %(used)s used in the last 24 "
                "hours.",
                limit=limit,
                used=used,
            )
        ]
        today = fields.Date.context_today(self)
        for offset, count in enumerate(days[:7]):
            lines.append(
                self.env._(
                    "%(day)s: %(count)s",
                    day=fields.Date.to_string(today + timedelta(days=offset)),
                    count=count,
                )
            )
        if len(days) > 7:
            lines.append(self.env._("... %(days)s days in all.", days=len(days)))
        return "\n".join(lines)

    @api.depends("audience_check_data")
    def _compute_audience_check(self):
        Recipient = self.env["whatsapp.campaign.recipient"]
        labels = dict(Recipient._fields["skip_reason"]._description_selection(self.env))
        for campaign in self:
            data = campaign.audience_check_data  # sound: see _sound_audience_check
            if not data:
                campaign.audience_check = False
                continue
            skipped = sum(data["skipped"].values())
            summary = self.env._(
                "%(total)s customer(s) in the audience: %(eligible)s to send, %(skipped)s skipped.",
                total=data["total"],
                eligible=data["eligible"],
                skipped=skipped,
            )
            plan = campaign._plan_text(data["eligible"], data["limit"], data["used"], data["days"])
            campaign.audience_check = Markup(
                "<p class='fw-bold'>%s</p><div class='row'>"
                "<div class='col-6'><h6>%s</h6><ul>%s</ul></div>"
                "<div class='col-6'><h6>%s</h6><p style='white-space: pre-line'>%s</p></div>"
                "</div>"
            ) % (
                summary,
                self.env._("Skipped, by reason"),
                campaign._count_items({labels.get(k, k): v for k, v in data["skipped"].items()}),
                self.env._("Sending plan"),
                plan,
            )

    @api.depends("whatsapp_message_ids.cost")
    def _compute_cost(self):
        costs = self.env["whatsapp.message"]._cost_by("campaign_id", self.ids)
        for campaign in self:
            campaign.cost = costs.get(campaign.id, 0.0)

    def _markets(self):
        """{country code: recipients} still to send (the audience's before launch)."""
        self.ensure_one()
        if self.state == "draft":
            if self.audience == "segment" and not self.segment_id:
                return {}
            query = (
                self.segment_id._partner_query()
                if self.audience == "segment"
                else self.env["res.partner"]._search([("id", "in", self.partner_ids.ids)])
            )
            numbers = SQL(
                "(SELECT whatsapp_e164 FROM res_partner WHERE id IN %s)", query.subselect()
            )
        else:
            self.env.flush_all()
            numbers = SQL(
                "(SELECT phone_e164 FROM whatsapp_campaign_recipient"
                " WHERE campaign_id = %s AND state = 'pending')",
                self.id,
            )
        return self.env["whatsapp.rate"]._markets_of_numbers(numbers)

    def _pricing_category(self):
        return pricing.estimate_category(self.template_id.category, window_open=False)

    @api.depends("template_id", "segment_id", "partner_ids", "audience", "state")
    def _compute_cost_estimate(self):
        Rate = self.env["whatsapp.rate"]
        for campaign in self:
            if not campaign.template_id or campaign.state in ("done", "canceled"):
                campaign.cost_estimate = False
                continue
            try:
                markets = campaign._markets()
            except ValueError:
                markets = {}
            campaign.cost_estimate = Rate._estimate_text(
                campaign.company_id, campaign._pricing_category(), markets
            )

    def _compute_funnel(self):
        Recipient = self.env["whatsapp.campaign.recipient"].sudo()
        Message = self.env["whatsapp.message"].sudo()
        recipient_groups = Recipient._read_group(
            [("campaign_id", "in", self.ids)], ["campaign_id", "state", "skip_reason"], ["__count"]
        )
        message_groups = Message._read_group(
            [("campaign_id", "in", self.ids)], ["campaign_id", "state", "failure_type"], ["__count"]
        )
        replied, opted_out = self._replied_and_opted_out()
        clicked = dict(
            Message._read_group(
                [("campaign_id", "in", self.ids), ("clicked_at", "!=", False)],
                ["campaign_id"],
                ["__count"],
            )
        )
        skip_labels = dict(Recipient._fields["skip_reason"]._description_selection(self.env))
        failure_labels = dict(Message._fields["failure_type"]._description_selection(self.env))
        for campaign in self:
            states, skips = {}, {}
            for group_campaign, state, reason, count in recipient_groups:
                if group_campaign == campaign:
                    states[state] = states.get(state, 0) + count
                    if state == "skipped":
                        skips[reason] = skips.get(reason, 0) + count
            sent_states, failures = {}, {}
            for group_campaign, state, failure, count in message_groups:
                if group_campaign == campaign:
                    sent_states[state] = sent_states.get(state, 0) + count
                    if state in ("failed", "unknown"):
                        failures[failure] = failures.get(failure, 0) + count
            total = sum(states.values())
            failed, not_receiving = campaign_plan.split_failures(failures)
            read = sent_states.get("read", 0)
            delivered = read + sent_states.get("delivered", 0)
            sent = delivered + sent_states.get("sent", 0)
            finished = sent + sum(failures.values())
            eligible = total - states.get("skipped", 0) - states.get("canceled", 0)
            campaign.update(
                {
                    "recipient_count": total,
                    "skipped_count": states.get("skipped", 0),
                    "waiting_count": states.get("pending", 0),
                    "queued_count": sent_states.get("queued", 0) + sent_states.get("sending", 0),
                    "sent_count": sent,
                    "delivered_count": delivered,
                    "read_count": read,
                    "failed_count": failed,
                    "not_receiving_count": not_receiving,
                    "replied_count": replied.get(campaign.id, 0),
                    "clicked_count": clicked.get(campaign, 0),
                    "opted_out_count": opted_out.get(campaign.id, 0),
                    "progress": campaign_plan.progress(finished, eligible),
                    "funnel_details": campaign._details_html(
                        {skip_labels.get(k, k): v for k, v in skips.items()},
                        {
                            failure_labels.get(k, k or "-"): v
                            for k, v in failures.items()
                            if k not in campaign_plan.NOT_RECEIVING_FAILURES
                        },
                    ),
                }
            )

    @staticmethod
    def _count_items(counts):
        """{label: count} as the items of an HTML list, by label."""
        return Markup("").join(
            Markup("<li>%s: %s</li>") % (label, count) for label, count in sorted(counts.items())
        ) or Markup("<li>-</li>")

    def _details_html(self, skips, failures):
        items = self._count_items
        return Markup(
            "<div class='row'><div class='col-6'><h6>%s</h6><ul>%s</ul></div>"
            "<div class='col-6'><h6>%s</h6><ul>%s</ul></div></div>"
        ) % (
            self.env._("Skipped, by reason"),
            items(skips),
            self.env._("Failed, by reason"),
            items(failures),
        )

    def _replied_and_opted_out(self):
        """({campaign id: customers who wrote within the reply window after our message},
        {campaign id: customers who opted out of the category after the launch})."""
        if not self.ids:
            return {}, {}
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """
            SELECT m.campaign_id, count(DISTINCT m.conversation_id)
              FROM whatsapp_message m
              JOIN whatsapp_campaign c ON c.id = m.campaign_id
             WHERE m.campaign_id = ANY(%s) AND m.state IN ('sent', 'delivered', 'read')
               AND EXISTS (
                   SELECT 1 FROM whatsapp_message i
                    WHERE i.conversation_id = m.conversation_id AND i.direction = 'in'
                      AND i.received_at >= m.sent_at
                      AND i.received_at < m.sent_at + c.reply_window_hours * interval '1 hour')
             GROUP BY m.campaign_id
            """,
            [self.ids],
        )
        replied = dict(cr.fetchall())
        cr.execute(
            """
            SELECT r.campaign_id, count(DISTINCT r.phone_e164)
              FROM whatsapp_campaign_recipient r
              JOIN whatsapp_campaign c ON c.id = r.campaign_id
              JOIN whatsapp_optin o ON o.phone_e164 = r.phone_e164
                   AND o.company_id = c.company_id AND o.state = 'opted_out'
                   AND o.date >= c.launched_at
             WHERE r.campaign_id = ANY(%s) AND r.state = 'released'
             GROUP BY r.campaign_id
            """,
            [self.ids],
        )
        return replied, dict(cr.fetchall())

    def action_open_recipients(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients"),
            "res_model": "whatsapp.campaign.recipient",
            "view_mode": "list,graph",
            "domain": [("campaign_id", "=", self.id)],
        }

    def action_open_messages(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Messages"),
            "res_model": "whatsapp.message",
            "view_mode": "graph,list,form",
            "domain": [("campaign_id", "=", self.id)],
            "context": {"graph_groupbys": ["state"]},
        }
