import json
import logging
import time
from collections import defaultdict, namedtuple
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools import cloud_api, pacing, sender
from ..tools import messages as wa_messages
from .common import TRANSIENT_ERRORS, cron_report, cron_run_budget, is_testing, report_progress

_logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
# A row left in "sending" longer than this belongs to a worker that died mid-send: whether the
# request reached Meta is unknown, so it becomes "unknown", never sent again on its own.
SENDING_LEASE = timedelta(minutes=5)
# Seconds of work per cron run. Odoo runs the job again at once while it reports messages left
# (up to ten times in a pass), so a shorter run hands the worker to no other job: its end only
# drains the pipeline and leaves the wire idle for a second while the next run starts. What the
# pass may still run (Odoo's limits, see common.cron_run_budget) bounds it.
CRON_TIME_BUDGET = 300
# A job whose recipient may not be written to before this many seconds goes back to the queue.
SEND_DEADLINE = 30
# Recording Meta's answers may lose a race with a status webhook updating the same rows: the
# answers are recorded again in a fresh transaction, never left to become "unknown".
OUTCOME_ATTEMPTS = 5
# Batches sent at once: the next batch's sends begin while the previous one's last answers are
# awaited, so the wire never waits a round trip (and the booking of a batch) between two batches.
# The pacer shared by both keeps the rate, the window and each customer's order.
BATCHES_ON_THE_WIRE = 2
# A run's first claim is this share of a batch: nothing is on the wire yet, so its first sends
# leave once a small claim is planned, and the next (full) batch is planned while it is sent.
FIRST_CLAIM_SHARE = 4

# A run's small first claim (see FIRST_CLAIM_SHARE) feeds the outbox from running campaigns only
# when it is at least this share of a full claim (see _send_queued).
FEED_SHARE = 2

# What a batch reads of each claimed message in one query (see _send_facts).
_SendFacts = namedtuple(
    "SendFacts",
    "id account_id conversation_id message_type template_id company_id phone_e164 category",
)


class SendFacts(_SendFacts):
    __slots__ = ()

    @property
    def is_template(self):
        return self.message_type == "template"


def _send_planned(planned):
    """Put planned jobs on the wire (HTTP only, no database): runs beside the cron's cursor."""
    outcomes = []
    for client, jobs, pacer, workers in planned:
        deadline = time.monotonic() + SEND_DEADLINE
        outcomes += sender.send_all(client, jobs, pacer, max_workers=workers, deadline=deadline)
    return outcomes


class WhatsappMessage(models.Model):
    """The outbox: queued messages claimed under a lease, sent concurrently and paced per business
    number, their answers recorded; errors retried, failed or left "unknown" as Meta's answer
    allows."""

    _inherit = "whatsapp.message"

    def init(self):
        result = super().init()
        # the queued rows alone, in claim order: a claim reads its batch's rows, not every row
        # sent before them (the primary key's order) nor every queued row sorted (the state's)
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_message_queued_idx
                ON whatsapp_message (id) WHERE state = 'queued'
            """
        )
        # the rows sent back to the queue (they keep the instant of their last claim), by
        # conversation: the claim keeps the later messages of their customers behind them (see
        # _claim_queued); a notification queued with a delay is not one of them
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_message_requeued_idx
                ON whatsapp_message (conversation_id, id)
             WHERE state = 'queued' AND sending_since IS NOT NULL
            """
        )
        return result

    @api.model
    def _cron_send(self, batch_size=None):
        """Send the queued messages; woken by a trigger whenever a row is queued.

        A two-stage pipeline: while claimed batches are on the wire (HTTP only, paced per
        business number; the next one's sends begin before the last answers of the previous one
        come back), the cron's cursor records the previous batch's outcomes and claims the next
        one. Every claim is committed before anything leaves, so a worker killed
        mid-batch leaves rows in "sending" that the lease turns into "unknown", never resent.
        """
        with cron_report(_logger, "WhatsApp outbox: messages sent") as report:
            report["items"] = done = self._send_queued(batch_size)
        # a campaign whose next step is due counts as messages left: the job runs again in
        # this pass (its queue may be empty at the end of a run, the recipients still waiting)
        remaining = self.search_count(self._due_domain()) or len(
            self.env["whatsapp.campaign"]._due_for_release()
        )
        report_progress(self.env, done, remaining, CRON_TIME_BUDGET)
        return done

    @api.model
    def _send_queued(self, batch_size=None):
        """The pipeline of :meth:`_cron_send`; returns how many messages it claimed."""
        self._recover_stale_sending()
        pacing.free_held(self.env.cr.dbname)
        auto_commit = not is_testing()
        started = time.monotonic()
        budget = cron_run_budget(CRON_TIME_BUDGET)
        done = 0
        in_flight = None
        Campaign = self.env["whatsapp.campaign"]
        with (
            sender.sends_first(),
            ThreadPoolExecutor(BATCHES_ON_THE_WIRE, thread_name_prefix="wa-batch") as stage,
        ):
            while True:
                batch, lead = self.browse(), 0
                if time.monotonic() - started < budget:
                    lead = size = batch_size or self._batch_size()
                    if not done:
                        size = max(1, size // FIRST_CLAIM_SHARE)
                    batch = self._claim_queued(size)
                    # nothing to send: running campaigns release their next recipients now (a
                    # campaign's first step; else the feed below could not keep up)
                    if not batch and Campaign._release_for_outbox(size):
                        batch = self._claim_queued(size)
                    if auto_commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                planned = batch._plan_sends() if batch else []
                future = stage.submit(_send_planned, planned) if planned else None
                # the queue holds less than the next claim: running campaigns release their next
                # recipients while this batch and the previous one are on the wire, so the next
                # claim does not wait for a release, nor does the wire. A release takes a second
                # or so: not while only a run's small first claim is on the wire (the next claim
                # takes what is queued); after it, whatever the batch (a trickle of replies
                # must not hold a campaign back)
                if future and (done or len(batch) * FEED_SHARE >= lead):
                    if Campaign._release_for_outbox(lead) and auto_commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                if in_flight:
                    self._record_outcomes(in_flight.result(), auto_commit)
                    self.env.invalidate_all()
                in_flight = future
                done += len(batch)
                if not batch and not in_flight:
                    break
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
                # the rows locked once, in a CTE: a subquery with LIMIT under "id IN (...)" may
                # be run again for each row the planner joins it with, each run locking others,
                # and the claim then takes more rows than its limit
                """
                -- a message back in the queue for a retry keeps its place: the later ones to
                -- its customer wait until it is due. Those messages are read once, from the
                -- partial index of init (a handful of rows), never once per claimed row.
                WITH waiting AS MATERIALIZED (
                    SELECT conversation_id, min(id) AS id FROM whatsapp_message
                     WHERE state = 'queued' AND sending_since IS NOT NULL
                       AND next_attempt_at > %(now)s
                     GROUP BY conversation_id),
                claimed AS MATERIALIZED (
                    SELECT m.id FROM whatsapp_message m
                     WHERE m.direction = 'out' AND m.state = 'queued'
                       AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= %(now)s)
                       AND NOT EXISTS (
                            SELECT 1 FROM waiting w
                             WHERE w.conversation_id = m.conversation_id AND w.id < m.id)
                     ORDER BY m.id
                     LIMIT %(limit)s
                     FOR UPDATE OF m SKIP LOCKED)
                -- the claimed rows by their ids (a join may read the whole table to find them)
                UPDATE whatsapp_message m SET state = 'sending', sending_since = %(now)s
                 WHERE m.id = ANY(ARRAY(SELECT id FROM claimed))
                RETURNING m.id
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
        What a batch shares is looked up once (see ``_send_facts``): the claim-time rule per
        conversation and template, a recipient per conversation, a template's content per set
        of values.
        """
        planned = []
        facts = self._send_facts()
        sendable = self._fail_claim_time_problems(facts)
        by_account = defaultdict(list)
        for message_id in sendable.ids:
            by_account[facts[message_id].account_id].append(message_id)
        for account_id, message_ids in by_account.items():
            account = self.env["whatsapp.account"].browse(account_id)
            messages = self.browse(message_ids)
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

    def _send_facts(self):
        """{message id: SendFacts} of these messages, in one query: what decides the claim-time
        rule and the account of each, without loading every row and conversation in the ORM."""
        if not self:
            return {}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.account_id, m.conversation_id, m.message_type, m.template_id,
                       c.company_id, c.phone_e164, t.category
                  FROM whatsapp_message m
                  JOIN whatsapp_conversation c ON c.id = m.conversation_id
             LEFT JOIN whatsapp_template t ON t.id = m.template_id
                 WHERE m.id = ANY(%s)
                """,
                self.ids,
            )
        )
        return {row[0]: SendFacts(*row) for row in self.env.cr.fetchall()}

    def _plan_account_sends(self, account):
        """(client, jobs, pacer, workers) for these messages of ``account``, or None."""
        try:
            session, async_pool = account._sending_session()
            client = account._get_api_client(session=session, async_pool=async_pool)
        except UserError as error:
            self._record_failure("config", str(error))
            return None
        jobs = []
        shared = {}  # what the messages of the batch share, built once (see _send_payload)
        for message in self:
            try:
                payload = message._send_payload(client, shared)
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
            recipient = payload.get("to") or payload.get("recipient")
            jobs.append(sender.Job(message.id, recipient, payload))
        if not jobs:
            return None
        pacer = pacing.get_pacer(
            (self.env.cr.dbname, account.id),
            rate=float(account.throughput_tier),
            gap=account.recipient_gap,
        )
        return client, jobs, pacer, account._sending_workers()

    def _fail_claim_time_problems(self, facts=None):
        """Fail the claimed messages that may no longer leave; return the others.

        The rule (:meth:`_claim_time_problem`) is asked once per account, conversation and
        template: its answer depends on nothing else. ``facts``: ``_send_facts()`` of these.
        """
        facts = self._send_facts() if facts is None else facts
        opted_out = self._opted_out_recipients(facts)
        answers = {}
        failures = defaultdict(list)
        for message in self:  # records of self: their reads are prefetched for the batch
            row = facts[message.id]
            key = (row.account_id, row.conversation_id, row.template_id, row.is_template)
            if key not in answers:
                answers[key] = message._claim_time_problem(opted_out)
            if answers[key]:
                failures[answers[key]].append(message.id)
        blocked = self.browse()
        for problem, message_ids in failures.items():
            failed = self.browse(message_ids)
            failed._record_failure(*problem)
            blocked |= failed
        return self - blocked

    def _opted_out_recipients(self, facts=None):
        """The (company id, number, template category) of these template messages whose
        customer opted out (see whatsapp.optin._opted_out_keys), for a whole batch at once.
        ``facts``: ``_send_facts()`` of these, read here when not given."""
        facts = self._send_facts() if facts is None else facts
        return self.env["whatsapp.optin"]._opted_out_keys(
            {
                # as the ORM reads them (an empty value is False), see _send_problem
                (row.company_id or False, row.phone_e164 or False, row.category or False)
                for row in facts.values()
                if row.is_template
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
        template = self.template_id if self.message_type == "template" else None
        # the monthly budget is checked when a message is queued, not here: a message accepted
        # within the budget leaves even when later ones reached it
        return conversation._send_problem(template, opted_out, budget_refusal=False)

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
            self.browse([o.key for o in sent])._notify_changed()
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

    def _send_payload(self, client, shared=None):
        """The Cloud API payload of this message (media and template headers uploaded once).
        ``shared`` keeps what the messages of a batch share, built once for the batch: each
        conversation's address, each template's spec and header, each filled template."""
        self.ensure_one()
        shared = {} if shared is None else shared
        conversation = self.conversation_id
        recipients = shared.setdefault("recipients", {})
        if conversation.id not in recipients:
            recipients[conversation.id] = conversation._recipient()
        return wa_messages.message(
            recipients[conversation.id],
            self._send_content(client, shared),
            reply_to=self.reply_to_wamid,
            callback_data=self.uuid,
        )

    def _send_content(self, client, shared):
        """What this row sends, asked of tools/messages (``shared``: see _send_payload)."""
        if self.message_type == "text":
            return wa_messages.text(self.body)
        if self.message_type == "template":
            template = self.template_id
            templates = shared.setdefault("templates", {})
            if self.attachment_id:
                # this message's own header file (the order's PDF), not the template's sample
                spec = templates.get(template.id, (template._to_spec(),))[0]
                header_media = wa_messages.media_object(
                    template.header_type,
                    media_id=self._uploaded_media_id(client),
                    filename=self.attachment_id.name,
                    strict=False,
                )
                return wa_messages.filled_template(
                    spec, self.template_values or {}, header_media=header_media
                )
            if template.id not in templates:
                templates[template.id] = (template._to_spec(), template._header_media(client))
            values = self.template_values or {}
            key = (template.id, json.dumps(values, sort_keys=True, default=str))
            filled = shared.setdefault("filled", {})
            if key not in filled:
                spec, header_media = templates[template.id]
                filled[key] = wa_messages.filled_template(spec, values, header_media=header_media)
            return filled[key]
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
        """Back to the queue, later; a job never sent (slot past the batch) costs no attempt.
        The row keeps ``sending_since``, the instant of its last claim: it marks a message sent
        back to the queue, which the later messages to its customer do not overtake (see
        _claim_queued)."""
        if error is None:
            when = fields.Datetime.now() + timedelta(seconds=retry_after or 0)
            self.write({"state": "queued", "next_attempt_at": when})
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
                "failure_type": self._failure_type(error.failure_type),
                "failure_reason": str(error),
                "error_code": error.code or False,
            }
        )
        self._trigger_send_at(fields.Datetime.now() + delay)

    def _trigger_send_at(self, when):
        self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_send").sudo()._trigger(at=when)

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
