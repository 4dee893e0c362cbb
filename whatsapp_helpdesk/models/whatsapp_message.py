import base64
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg2
from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools import cloud_api, pacing, sender
from ..tools import messages as wa_messages
from ..tools import status as wa_status
from .common import is_testing

_logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
# A row left in "sending" longer than this belongs to a worker that died mid-send: whether the
# request reached Meta is unknown, so it becomes "unknown", never sent again on its own.
SENDING_LEASE = timedelta(minutes=5)
CRON_TIME_BUDGET = 50  # seconds of work per cron run before handing back to the scheduler
# A job whose recipient may not be written to before this many seconds goes back to the queue.
SEND_DEADLINE = 30
MAX_MEDIA_ATTEMPTS = 5
# Recording Meta's answers may lose a race with a status webhook updating the same rows: the
# answers are recorded again in a fresh transaction, never left to become "unknown".
OUTCOME_ATTEMPTS = 5
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)

MESSAGE_TYPES = [
    ("text", "Text"),
    ("image", "Image"),
    ("document", "Document"),
    ("audio", "Audio"),
    ("video", "Video"),
    ("sticker", "Sticker"),
    ("location", "Location"),
    ("contacts", "Contacts"),
    ("interactive", "Interactive Reply"),
    ("button", "Button Reply"),
    ("reaction", "Reaction"),
    ("template", "Template"),
    ("order", "Order"),
    ("system", "System"),
    ("unsupported", "Unsupported"),
]
FAILURE_TYPES = [
    ("window_closed", "24-hour window closed"),
    ("undeliverable", "Undeliverable"),
    ("number_not_registered", "Not on WhatsApp"),
    ("invalid_recipient", "Invalid recipient"),
    ("invalid_number", "Invalid number"),
    ("opted_out", "Customer opted out"),
    ("template_params", "Template parameters"),
    ("template_missing", "Template missing or not approved"),
    ("template_text_too_long", "Template text too long"),
    ("template_policy", "Template policy"),
    ("template_params_format", "Template parameter format"),
    ("template_paused", "Template paused"),
    ("template_disabled", "Template disabled"),
    ("throttled", "Throughput limit"),
    ("pair_rate_limit", "Too many messages to this customer"),
    ("spam_limit", "Spam rate limit"),
    ("ecosystem_limit", "Marketing limit"),
    ("auth", "Access token"),
    ("permission", "Permission"),
    ("policy", "Policy block"),
    ("account_locked", "Account locked"),
    ("payment", "Payment issue"),
    ("unsupported_type", "Unsupported type"),
    ("media", "Media"),
    ("media_too_large", "Media too large"),
    ("invalid_request", "Invalid request"),
    ("server", "Meta server error"),
    ("network", "Network"),
    ("timeout", "Timeout: outcome unknown"),
    ("bad_response", "Unreadable answer"),
    ("config", "Configuration"),
    ("unknown_error", "Unknown error"),
]
FAILURE_TYPE_KEYS = {key for key, _label in FAILURE_TYPES}


def _send_planned(planned):
    """Put planned jobs on the wire (HTTP only, no database): runs beside the cron's cursor."""
    outcomes = []
    for client, jobs, pacer, workers in planned:
        deadline = time.monotonic() + SEND_DEADLINE
        outcomes += sender.send_all(client, jobs, pacer, max_workers=workers, deadline=deadline)
    return outcomes


class WhatsappMessage(models.Model):
    """Every WhatsApp message, both ways: the outbox of what leaves and the log of what came in."""

    _name = "whatsapp.message"
    _description = "WhatsApp Message"
    _order = "id desc"
    _rec_name = "wamid"

    conversation_id = fields.Many2one(
        "whatsapp.conversation", required=True, index=True, ondelete="cascade"
    )
    account_id = fields.Many2one(related="conversation_id.account_id", store=True, index=True)
    company_id = fields.Many2one(related="conversation_id.company_id", store=True, index=True)
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null")
    direction = fields.Selection([("in", "Received"), ("out", "Sent")], required=True, index=True)
    wamid = fields.Char("WhatsApp Message ID", index=True, copy=False, readonly=True)
    uuid = fields.Char(
        default=lambda self: uuid.uuid4().hex,
        index=True,
        copy=False,
        readonly=True,
        help="Sent to Meta as biz_opaque_callback_data: ties a status back to a message whose "
        "answer was lost.",
    )
    message_type = fields.Selection(MESSAGE_TYPES, "Type", required=True, default="text")
    body = fields.Text()
    attachment_id = fields.Many2one("ir.attachment", ondelete="set null")
    media_id = fields.Char("Meta Media ID", copy=False)
    media_url = fields.Char("Meta Media URL", copy=False, help="Short-lived download link.")
    media_mime_type = fields.Char()
    media_filename = fields.Char()
    media_state = fields.Selection(
        [("none", "None"), ("pending", "To Download"), ("done", "Stored"), ("failed", "Failed")],
        default="none",
        index=True,
    )
    payload = fields.Json(help="What Meta sent for an inbound message.")
    template_id = fields.Many2one("whatsapp.template", index="btree_not_null", ondelete="set null")
    template_values = fields.Json(
        help="The template's variables as sent: {location: {name: text}}."
    )
    reply_to_wamid = fields.Char("In Reply To", index=True)
    customer_reaction = fields.Char(help="The emoji the customer reacted to this message with.")
    # What a customer message carries beyond its text, read once from Meta's webhook
    reply_id = fields.Char(
        help="The id of the reply button or list row the customer chose, or the payload of a "
        "template's quick-reply button."
    )
    reaction_emoji = fields.Char(help="A customer's reaction (empty: the reaction was removed).")
    entry_point = fields.Char(help="How the customer came: ad_referral for a click-to-WhatsApp ad.")
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("read", "Read"),
            ("received", "Received"),
            ("failed", "Failed"),
            ("unknown", "Outcome Unknown"),
            ("skipped", "Skipped"),
            ("canceled", "Canceled"),
        ],
        required=True,
        default="queued",
        index=True,
        copy=False,
    )
    failure_type = fields.Selection(FAILURE_TYPES, copy=False)
    error_code = fields.Integer("Graph Error Code", copy=False)
    failure_reason = fields.Text(copy=False)
    attempt_count = fields.Integer(copy=False)
    next_attempt_at = fields.Datetime(copy=False)
    sending_since = fields.Datetime(copy=False)
    sent_at = fields.Datetime(copy=False)
    delivered_at = fields.Datetime(copy=False)
    read_at = fields.Datetime(copy=False)
    received_at = fields.Datetime(copy=False)
    # Meta's pricing block of the status webhooks: the cost ledger is built on it.
    billable = fields.Boolean(copy=False)
    pricing_model = fields.Char(copy=False)
    pricing_category = fields.Char(copy=False, index=True)
    pricing_type = fields.Char(copy=False)
    meta_conversation_id = fields.Char(copy=False)
    meta_conversation_origin = fields.Char(copy=False)
    mail_message_id = fields.Many2one("mail.message", index="btree_not_null", ondelete="set null")
    notification_key = fields.Char(
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Event and record of an automatic notification: it is sent once.",
    )
    res_model = fields.Char("Related Model", index=True)
    res_id = fields.Many2oneReference("Related Record", model_field="res_model")

    _sql_constraints = [
        ("wamid_uniq", "unique(wamid)", "A WhatsApp message id is stored once."),
        (
            "notification_key_uniq",
            "unique(notification_key)",
            "An automatic notification is sent once per event and record.",
        ),
    ]

    @api.depends("direction", "message_type", "body")
    def _compute_display_name(self):
        for message in self:
            text = (message.body or "").strip().replace("\n", " ")
            message.display_name = text[:60] or message.wamid or self.env._("WhatsApp message")

    @api.model_create_multi
    def create(self, vals_list):
        self._check_outbox_writer()
        conversations = self.env["whatsapp.conversation"].browse(
            [vals["conversation_id"] for vals in vals_list if vals.get("conversation_id")]
        )
        partner_by_conversation = {c.id: c.partner_id.id for c in conversations.sudo()}
        for vals in vals_list:
            if "partner_id" not in vals and vals.get("conversation_id"):
                vals["partner_id"] = partner_by_conversation.get(vals["conversation_id"])
        messages = super().create(vals_list)
        if any(m.direction == "out" and m.state == "queued" for m in messages):
            self._trigger_send()
        return messages

    def write(self, vals):
        if vals:
            self._check_outbox_writer()
        return super().write(vals)

    @api.model
    def _check_outbox_writer(self):
        """Rows are written by code only: the conversation's send methods (after their checks),
        the outbox cron and the webhook processing, all as superuser. A user writing a row
        directly could send any attachment, payload or state past those checks."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "WhatsApp messages are sent from a conversation, a record or the composer; "
                    "they cannot be created or changed directly."
                )
            )

    @api.model
    def _check_attachment_readable(self, attachments):
        """Nobody sends on WhatsApp a file they could not open in Odoo: checked with the rights
        of the environment's user (the sender). On ir.attachment, ``check_access`` applies only
        the model's access rights; ``check`` applies the rules of the record the file is attached
        to, and keeps unattached files private to their creator."""
        attachments = attachments.with_env(self.env)
        attachments.check_access("read")
        attachments.check("read")

    @api.model
    def _trigger_send(self):
        self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send").sudo()._trigger()

    # ------------------------------------------------------------------
    # Outbox
    # ------------------------------------------------------------------

    @api.model
    def _cron_send(self, batch_size=None):
        """Send the queued messages; woken by a trigger whenever a row is queued.

        A two-stage pipeline: while one claimed batch is on the wire (threads doing HTTP only,
        paced per business number), the cron's cursor records the previous batch's outcomes and
        claims the next one. Every claim is committed before anything leaves, so a worker killed
        mid-batch leaves rows in "sending" that the lease turns into "unknown", never resent.
        """
        self._recover_stale_sending()
        auto_commit = not is_testing()
        started = time.monotonic()
        done = 0
        in_flight = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wa-batch") as stage:
            while True:
                batch = self.browse()
                if time.monotonic() - started < CRON_TIME_BUDGET:
                    batch = self._claim_queued(batch_size or self._batch_size())
                    if auto_commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                planned = batch._plan_sends() if batch else []
                future = stage.submit(_send_planned, planned) if planned else None
                if in_flight:
                    self._record_outcomes(in_flight.result(), auto_commit)
                    self.env.invalidate_all()
                in_flight = future
                done += len(batch)
                if not batch and not in_flight:
                    break
        remaining = self.search_count(self._due_domain())
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _record_outcomes(self, outcomes, auto_commit):
        """``_apply_outcomes``, again in a fresh transaction when a concurrent one (a status
        webhook on the same rows) won; rows whose answer cannot be recorded stay "sending" and
        the lease makes them "unknown", never resent."""
        for attempt in range(1, OUTCOME_ATTEMPTS + 1):
            try:
                with self.env.cr.savepoint():
                    self._apply_outcomes(outcomes)
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                return True
            except TRANSIENT_ERRORS as error:
                _logger.info("WhatsApp: recording answers lost a race (%s), again", error)
                if auto_commit:
                    self.env.cr.rollback()  # a new snapshot sees the winner's rows
                time.sleep(0.05 * attempt)
            except Exception:  # pylint: disable=broad-except
                _logger.exception(
                    "WhatsApp: Meta's answers for %s message(s) not recorded", len(outcomes)
                )
                return False
        _logger.error("WhatsApp: Meta's answers for %s message(s) not recorded", len(outcomes))
        return False

    @api.model
    def _batch_size(self):
        """About five seconds of the fastest account's throughput per claim."""
        accounts = self.env["whatsapp.account"].sudo().search([("active", "=", True)])
        tiers = accounts.mapped("throughput_tier")
        return max(100, 5 * max((int(tier) for tier in tiers), default=80))

    def _due_domain(self):
        now = fields.Datetime.now()
        return [
            ("direction", "=", "out"),
            ("state", "=", "queued"),
            "|",
            ("next_attempt_at", "=", False),
            ("next_attempt_at", "<=", now),
        ]

    @api.model
    def _claim_queued(self, limit):
        """Lock due rows no other worker holds and mark them "sending" under a lease."""
        self.env.flush_all()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                UPDATE whatsapp_message SET state = 'sending', sending_since = %(now)s
                 WHERE id IN (
                     SELECT id FROM whatsapp_message
                      WHERE direction = 'out' AND state = 'queued'
                        AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
                      ORDER BY id
                      LIMIT %(limit)s
                      FOR UPDATE SKIP LOCKED)
                RETURNING id
                """,
                now=now,
                limit=limit,
            )
        )
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        messages = self.browse(ids)
        messages.invalidate_recordset(["state", "sending_since"])
        return messages

    @api.model
    def _recover_stale_sending(self):
        """Rows whose worker died mid-send: the outcome is unknown, resending could double it."""
        stale = self.search(
            [
                ("state", "=", "sending"),
                ("sending_since", "<", fields.Datetime.now() - SENDING_LEASE),
            ]
        )
        if stale:
            _logger.warning("%s WhatsApp message(s) were left sending: outcome unknown", len(stale))
            stale.write(
                {
                    "state": "unknown",
                    "failure_type": "timeout",
                    "failure_reason": self.env._(
                        "The sending worker stopped before Meta's answer was recorded."
                    ),
                }
            )
        return stale

    def _plan_sends(self):
        """[(client, jobs, pacer, workers)] per account; payload problems fail their row now.

        One account's trouble (no token, an exception while preparing) never holds up another's.
        """
        planned = []
        sendable = self._fail_claim_time_problems()
        for account in sendable.account_id:
            messages = sendable.filtered(lambda m, account=account: m.account_id == account)
            try:
                with self.env.cr.savepoint():
                    plan = messages._plan_account_sends(account)
            except Exception as error:  # pylint: disable=broad-except
                _logger.exception("WhatsApp: sends of account %s could not be prepared", account.id)
                messages._record_failure("config", str(error) or type(error).__name__)
                continue
            if plan:
                planned.append(plan)
        return planned

    def _plan_account_sends(self, account):
        """(client, jobs, pacer, workers) for these messages of ``account``, or None."""
        try:
            client = account._get_api_client(session=account._sending_session())
        except UserError as error:
            for message in self:
                message._record_failure("config", str(error))
            return None
        jobs = []
        for message in self:
            try:
                payload = message._send_payload(client)
            except cloud_api.CloudApiError as error:
                message._record_error(error)
                continue
            except (UserError, ValueError) as error:
                message._record_failure("config", str(error))
                continue
            except Exception as error:  # pylint: disable=broad-except
                _logger.exception("WhatsApp: message %s could not be prepared", message.id)
                message._record_failure("unknown_error", f"{type(error).__name__}: {error}")
                continue
            recipient = message.conversation_id.wa_id or message.conversation_id.wa_user_id
            jobs.append(sender.Job(message.id, recipient, payload))
        if not jobs:
            return None
        pacer = pacing.get_pacer(
            (self.env.cr.dbname, account.id),
            rate=float(account.throughput_tier),
            gap=account.recipient_gap,
        )
        return client, jobs, pacer, account._sending_workers()

    def _fail_claim_time_problems(self):
        """Fail the claimed messages that may no longer leave; return the others."""
        opted_out = self._opted_out_recipients()
        blocked = self.browse()
        for message in self:
            problem = message._claim_time_problem(opted_out)
            if problem:
                message._record_failure(*problem)
                blocked |= message
        return self - blocked

    def _opted_out_recipients(self):
        """The (company id, number, template category) of these template messages whose
        customer opted out (see whatsapp.optin._opted_out_keys), for a whole batch at once."""
        return self.env["whatsapp.optin"]._opted_out_keys(
            {
                (
                    m.conversation_id.company_id.id,
                    m.conversation_id.phone_e164,
                    m.template_id.category,
                )
                for m in self
                if m.message_type == "template"
            }
        )

    def _claim_time_problem(self, opted_out=None):
        """(failure type, reason) when this message may no longer leave, else None.

        What the screens checked when the message was queued, checked again when it leaves: since
        then the customer may have opted out (a delayed notification), the window may have closed
        (a retry the next day), or the account or template may belong to another company.
        ``opted_out``: _opted_out_recipients() of the batch, looked up here when not given.
        """
        self.ensure_one()
        if opted_out is None:
            opted_out = self._opted_out_recipients()
        conversation = self.conversation_id
        company = conversation.company_id
        template_company = self.template_id.company_id
        if (
            self.account_id != conversation.account_id
            or self.account_id.company_id != company
            or (template_company and template_company != company)
        ):
            return "config", self.env._(
                "The WhatsApp account or template does not belong to the conversation's company."
            )
        if self.message_type == "template":
            if (company.id, conversation.phone_e164, self.template_id.category) in opted_out:
                return "opted_out", self.env._(
                    "The customer opted out of these messages after this one was queued."
                )
            return None
        if not conversation.window_open:
            return "window_closed", self.env._(
                "The 24-hour customer service window closed before the message left: only an "
                "approved template can be sent now."
            )
        return None

    @api.model
    def _apply_outcomes(self, outcomes):
        """Record what Meta answered; the common case (sent) in one statement."""
        sent = [o for o in outcomes if o.status == "sent"]
        if sent:
            now = fields.Datetime.now()
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE whatsapp_message m
                       SET state = 'sent', wamid = v.wamid, sent_at = %s, sending_since = NULL,
                           failure_type = NULL, failure_reason = NULL, error_code = NULL,
                           write_date = now() AT TIME ZONE 'UTC'
                      FROM (VALUES %s) AS v(id, wamid)
                     WHERE m.id = v.id AND m.state = 'sending'
                    """,
                    now,
                    SQL(", ").join(SQL("(%s, %s)", o.key, o.wamid) for o in sent),
                )
            )
            self.browse([o.key for o in sent]).invalidate_recordset()
        for outcome in outcomes:
            if outcome.status == "sent":
                continue
            message = self.browse(outcome.key)
            if outcome.status == "unknown":
                message._record_outcome_unknown(outcome.error)
            elif outcome.status == "retry":
                message._record_retryable(outcome.error, outcome.retry_after)
            else:
                message._record_error(outcome.error)

    def _record_error(self, error):
        if isinstance(error, cloud_api.CloudApiError):
            self._record_failure(error.failure_type, str(error), error.code)
        else:
            self._record_failure("unknown_error", str(error))

    def _send_payload(self, client):
        """The Cloud API payload of this message (media and template headers uploaded once)."""
        self.ensure_one()
        return wa_messages.message(
            self.conversation_id._recipient(),
            self._send_content(client),
            reply_to=self.reply_to_wamid,
            callback_data=self.uuid,
        )

    def _send_content(self, client):
        """What this row sends, asked of tools/messages."""
        if self.message_type == "text":
            return wa_messages.text(self.body)
        if self.message_type == "template":
            return self.template_id._send_content(self.template_values or {}, client)
        if self.message_type == "interactive" and self.payload:
            return wa_messages.interactive(self.payload)
        if self.message_type in wa_messages.MEDIA_TYPES:
            return wa_messages.media(
                self.message_type,
                media_id=self._uploaded_media_id(client),
                caption=self.body,
                filename=self.attachment_id.name,
                strict=False,
            )
        raise UserError(
            self.env._("Sending %(type)s messages is not supported.", type=self.message_type)
        )

    def _uploaded_media_id(self, client):
        """Meta's id of this message's file, uploaded on the first attempt only."""
        if not self.media_id:
            attachment = self.attachment_id.sudo()
            if not attachment:
                raise UserError(self.env._("The media message has no attachment."))
            self.media_id = client.upload_media(
                attachment.raw, attachment.mimetype, attachment.name
            )
        return self.media_id

    def _record_outcome_unknown(self, error):
        self.write(
            {
                "state": "unknown",
                "failure_type": "timeout",
                "failure_reason": self.env._(
                    "Meta did not answer in time: the message may or may not have been delivered. "
                    "It is not resent automatically (%(error)s).",
                    error=str(error or ""),
                ),
                "sending_since": False,
            }
        )

    def _record_retryable(self, error, retry_after=None):
        """Back to the queue, later; a job never sent (slot past the batch) costs no attempt."""
        if error is None:
            when = fields.Datetime.now() + timedelta(seconds=retry_after or 0)
            self.write({"state": "queued", "sending_since": False, "next_attempt_at": when})
            self._trigger_send_at(when)
            return
        attempts = self.attempt_count + 1
        if attempts >= MAX_SEND_ATTEMPTS:
            self._record_failure(error.failure_type, str(error), error.code)
            self.attempt_count = attempts
            return
        delay = timedelta(seconds=max(retry_after or 0, min(2**attempts * 5, 900)))
        self.write(
            {
                "state": "queued",
                "attempt_count": attempts,
                "next_attempt_at": fields.Datetime.now() + delay,
                "sending_since": False,
                "failure_type": self._failure_type(error.failure_type),
                "failure_reason": str(error),
                "error_code": error.code or False,
            }
        )
        self._trigger_send_at(fields.Datetime.now() + delay)

    def _trigger_send_at(self, when):
        self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send").sudo()._trigger(at=when)

    def _record_failure(self, failure_type, reason, code=None):
        self.write(
            {
                "state": "failed",
                "failure_type": self._failure_type(failure_type),
                "failure_reason": reason,
                "error_code": code or False,
                "sending_since": False,
            }
        )

    @api.model
    def _failure_type(self, failure_type):
        return failure_type if failure_type in FAILURE_TYPE_KEYS else "unknown_error"

    def _check_outbox_action(self):
        """Retry and cancel: for agents who can read these messages and may answer in their
        conversations (the rows are then written as superuser, see _check_outbox_writer)."""
        if self.env.su:
            return
        if not self.env.user.has_group("whatsapp_helpdesk.group_whatsapp_user"):
            raise AccessError(self.env._("Only WhatsApp users can retry or cancel messages."))
        self.check_access("read")
        self.conversation_id._check_can_reply()

    def action_retry(self):
        """Queue failed or unknown messages again: the user decides, knowing it may double.

        What the cron re-checks when it claims the row (window, opt-out, company) still applies.
        """
        self._check_outbox_action()
        retriable = self.filtered(
            lambda m: m.direction == "out" and m.state in ("failed", "unknown")
        )
        retriable.sudo().write(
            {
                "state": "queued",
                "attempt_count": 0,
                "next_attempt_at": False,
                "failure_type": False,
                "failure_reason": False,
                "error_code": False,
            }
        )
        if retriable:
            self._trigger_send()

    def action_cancel(self):
        self._check_outbox_action()
        self.filtered(
            lambda m: m.direction == "out" and m.state in ("queued", "failed", "unknown")
        ).sudo().write({"state": "canceled"})

    # ------------------------------------------------------------------
    # Status webhooks
    # ------------------------------------------------------------------

    def _apply_status(self, update):
        """Move this outbound message forward on a parsed status webhook (never backwards)."""
        self.ensure_one()
        moment = datetime.utcfromtimestamp(update.timestamp) if update.timestamp else None
        values = {}
        new_state = wa_status.next_state(self.state, update.status)
        if new_state:
            values["state"] = new_state
        if self.state == "unknown" and not self.wamid:
            values["wamid"] = update.wamid
        stamp_field = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at"}.get(
            update.status
        )
        if stamp_field and moment and not self[stamp_field]:
            values[stamp_field] = moment
        if update.status == "read" and moment and not self.delivered_at:
            values["delivered_at"] = moment
        if update.pricing:
            values.update(
                billable=bool(update.pricing.billable),
                pricing_model=update.pricing.pricing_model,
                pricing_category=update.pricing.category,
                pricing_type=update.pricing.type,
            )
        if update.conversation_id:
            values.update(
                meta_conversation_id=update.conversation_id,
                meta_conversation_origin=update.conversation_origin,
            )
        if new_state == "failed" and update.errors:
            error = update.errors[0]
            _error_class, failure_type = cloud_api.classify(None, error.code)
            values.update(
                failure_type=self._failure_type(failure_type),
                error_code=error.code or False,
                failure_reason=" - ".join(
                    part for part in (error.title, error.message, error.details) if part
                ),
            )
        if values:
            self.write(values)

    # ------------------------------------------------------------------
    # Inbound media
    # ------------------------------------------------------------------

    @api.model
    def _fetch_pending_media(self, limit=50):
        """Download the media of inbound messages into attachments of their conversation.

        Each download stands alone: a failing one is marked (and retried a few times when the
        failure may pass), the others go on.
        """
        messages = self.search([("media_state", "=", "pending")], limit=limit, order="id")
        for message in messages:
            try:
                with self.env.cr.savepoint():
                    message._fetch_media()
            except Exception as error:  # pylint: disable=broad-except
                _logger.warning("WhatsApp: media of message %s not fetched: %s", message.id, error)
                message._record_media_failure(error, retry=False)
        return messages

    def _fetch_media(self):
        self.ensure_one()
        try:
            client = self.account_id._get_api_client()
            info = {}
            url = self.media_url
            if not url:
                if not self.media_id:
                    raise UserError(self.env._("Meta gave neither a media id nor a URL."))
                info = client.get_media(self.media_id)
                url = info.get("url") if isinstance(info, dict) else None
                if not url:
                    raise UserError(self.env._("Meta's media answer has no download URL."))
            content = client.download_media(url)
        except cloud_api.CloudApiError as error:
            if self.media_url and not isinstance(error, cloud_api.RetryableError) and self.media_id:
                # the webhook's link may have expired: ask Meta for a fresh one next time
                self.write({"media_url": False, "failure_reason": str(error)})
                return
            self._record_media_failure(error, retry=isinstance(error, cloud_api.RetryableError))
            return
        except UserError as error:
            self._record_media_failure(error, retry=False)
            return
        mimetype = info.get("mime_type") or self.media_mime_type or "application/octet-stream"
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": self.media_filename
                    or f"{self.message_type}-{self.media_id or self.id}",
                    "datas": base64.b64encode(content),
                    "mimetype": mimetype,
                    "res_model": "whatsapp.conversation",
                    "res_id": self.conversation_id.id,
                }
            )
        )
        self.write({"attachment_id": attachment.id, "media_state": "done", "media_url": False})
        if self.mail_message_id:
            self.mail_message_id.sudo().attachment_ids = [fields.Command.link(attachment.id)]

    def _record_media_failure(self, error, retry):
        attempts = self.attempt_count + 1
        give_up = not retry or attempts >= MAX_MEDIA_ATTEMPTS
        self.write(
            {
                "media_state": "failed" if give_up else "pending",
                "attempt_count": attempts,
                "failure_reason": str(error) or type(error).__name__,
            }
        )

    # ------------------------------------------------------------------
    # Customer messages (stored by the webhook processing)
    # ------------------------------------------------------------------

    @api.model
    def _store_inbound(self, received):
        """Store customer messages not stored yet, each with its chatter message.

        ``received``: [(account, tools.webhook.InboundMessage)]. Conversations (and partners) are
        found or created, and their window moves. Returns the new messages, in order.
        """
        Conversation = self.env["whatsapp.conversation"].sudo()
        conversations = Conversation._for_senders(received)
        mail_values, wa_values = [], []
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        for account, message in received:
            conversation = conversations[(account.id, message.sender)]
            moment = datetime.utcfromtimestamp(message.timestamp)
            mail_values.append(
                {
                    "model": "whatsapp.conversation",
                    "res_id": conversation.id,
                    "record_name": conversation.name,
                    # set here: Odoo's per-message e-mail routing lookups dominate a batch
                    "email_from": False,
                    "reply_to": False,
                    "body": Markup("<p>%s</p>") % escape(message.text or ""),
                    "author_id": conversation.partner_id.id,
                    "message_type": "comment",
                    "subtype_id": subtype_id,
                    "date": moment,
                }
            )
            wa_values.append(self._inbound_values(conversation, message, moment))
        mail_messages = self.env["mail.message"].sudo().create(mail_values)
        for values, mail_message in zip(wa_values, mail_messages, strict=True):
            values["mail_message_id"] = mail_message.id
        created = self.sudo().create(wa_values)
        Conversation._record_inbound(received, conversations)
        created._link_reactions()
        return created

    @api.model
    def _inbound_values(self, conversation, message, moment):
        """The row of the parsed customer message ``message`` in ``conversation``."""
        media, reply = message.media, message.interactive
        return {
            "conversation_id": conversation.id,
            "partner_id": conversation.partner_id.id,
            "direction": "in",
            "state": "received",
            "wamid": message.wamid,
            "message_type": self._inbound_type(message.type),
            "body": message.text,
            "received_at": moment,
            "reply_to_wamid": (message.context.id if message.context else False)
            or (message.reaction.message_id if message.reaction else False),
            "reply_id": (reply.id if reply else None)
            or (message.button.payload if message.button else None)
            or False,
            "reaction_emoji": message.reaction.emoji or False if message.reaction else False,
            "entry_point": "ad_referral" if message.referral else False,
            "media_id": media.id if media else False,
            "media_url": media.url if media else False,
            "media_mime_type": media.mime_type if media else False,
            "media_filename": media.filename if media else False,
            "media_state": "pending" if media and (media.id or media.url) else "none",
            "payload": message.raw,
        }

    @api.model
    def _inbound_type(self, meta_type):
        known = dict(self._fields["message_type"].selection)
        return meta_type if meta_type in known else "unsupported"

    # ------------------------------------------------------------------
    # Reactions
    # ------------------------------------------------------------------

    def _link_reactions(self):
        """A customer's reaction shows on the message it reacts to (an empty emoji removes it)."""
        reactions = self.filtered(lambda m: m.message_type == "reaction" and m.reply_to_wamid)
        if not reactions:
            return
        targets = {
            m.wamid: m
            for m in self.sudo().search([("wamid", "in", reactions.mapped("reply_to_wamid"))])
        }
        for reaction in reactions.sorted("id"):
            target = targets.get(reaction.reply_to_wamid)
            if target and target.conversation_id == reaction.conversation_id:
                target.customer_reaction = reaction.reaction_emoji or False
