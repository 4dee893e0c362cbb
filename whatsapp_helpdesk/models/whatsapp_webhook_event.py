import hashlib
import json
import logging
import time
import traceback
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import webhook
from .common import (
    TRANSIENT_ERRORS,
    cron_report,
    cron_run_budget,
    cron_trigger_sql,
    execute_reusing_plan,
    is_testing,
    report_progress,
    trigger_cron_at_commit,
    wake_crons_after_commit,
)

_logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
UNREADABLE_BODY_KEPT = 64 * 1024  # characters of an unreadable body kept for a human
CRON_TIME_BUDGET = 50  # seconds per cron run; the progress API re-runs it when rows remain
# Customers' messages are made visible before the reactions to them (see _cron_process): the
# reactions go in small batches between two claims of pending events, and while the intake is
# behind (a claim of at least BACKLOG events, or whose oldest event waited BEHIND_AFTER seconds)
# only every REACTIONS_AT_LEAST_EVERY seconds, so that they follow, late, but never stop. (At one
# event per request the claims stay small however far the storing lags while the reactions take
# the cron worker's time: the wait shows it.)
BACKLOG = 50
BEHIND_AFTER = 1.0  # seconds
REACTIONS_BATCH = 100
REACTIONS_BATCH_BEHIND = 20  # while behind: each reaction step holds the storing up briefly
REACTIONS_AT_LEAST_EVERY = 5.0  # seconds
# Processing is split over PROCESSING_CRONS, one per part of the customers (by their number,
# see _part_sql): each job stores and reacts to its own customers' events, in order, so two cron
# workers (Odoo's default) work in parallel without writing the same conversation. A concurrency
# failure (another transaction wrote a row this one writes) rolls the batch back and takes it
# again with fresh data, up to TRANSIENT_RETRIES times in a row, then event by event as before.
PROCESSING_CRONS = (
    "whatsapp_helpdesk.ir_cron_whatsapp_process_events",
    "whatsapp_helpdesk.ir_cron_whatsapp_process_events_2",
)
TRANSIENT_RETRIES = 3
# A status can overtake the commit of the wamid it refers to (the send and its webhook race);
# such a status is kept and retried for this long before it is set aside.
ORPHAN_RETRY_FOR = timedelta(hours=1)
ORPHAN_RETRY_EVERY = timedelta(seconds=30)


# The columns of an event's row given per row (see _row), and their types.
ROW_COLUMNS = (
    ("key", "varchar"),
    ("kind", "varchar"),
    ("account_id", "int4"),
    ("wamid", "varchar"),
    ("wa_id", "varchar"),
    ("payload", "jsonb"),
    ("state", "varchar"),
    ("note", "varchar"),
)

EVENT_KINDS = {
    webhook.InboundMessage: "message",
    webhook.StatusUpdate: "status",
    webhook.TemplateUpdate: "template",
    webhook.AccountUpdate: "account",
    webhook.AccountError: "error",
    webhook.OtherChange: "other",
    webhook.Rejected: "invalid",
}


def _summary(error):
    """One line for a person: the exception and where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {frames[-1].name}, {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})"
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:400] + (where if frames else "")


class WhatsappWebhookEvent(models.Model):
    """The durable inbox of Meta's webhooks: one row per event, stored once, processed in batches.

    The controller only verifies, parses and inserts (one statement per request) so that Meta is
    acknowledged fast; a cron, woken at once, turns rows into conversations, messages and statuses.
    """

    _name = "whatsapp.webhook.event"
    _description = "WhatsApp Webhook Event"
    _order = "id desc"
    _rec_name = "key"

    key = fields.Char(
        required=True, readonly=True, help="Identity of the event: redeliveries share it."
    )
    kind = fields.Selection(
        [
            ("message", "Message"),
            ("status", "Status"),
            ("template", "Template"),
            ("account", "Account Update"),
            ("error", "Meta Error"),
            ("other", "Other Change"),
            ("invalid", "Unreadable"),
        ],
        required=True,
        readonly=True,
    )
    account_id = fields.Many2one("whatsapp.account", readonly=True, index=True, ondelete="set null")
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    wamid = fields.Char(readonly=True, index=True)
    wa_id = fields.Char("Customer Number", readonly=True)
    # read by _stored_payloads, not with the other fields (the ORM copies a JSON value twice)
    payload = fields.Json(readonly=True, prefetch=False)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("stored", "Stored, Reactions Pending"),
            ("done", "Done"),
            ("ignored", "Ignored"),
            ("error", "Error"),
        ],
        default="pending",
        required=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    retry_at = fields.Datetime(readonly=True)
    note = fields.Char(readonly=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    processed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("key_uniq", "unique(key)", "A webhook event is stored once."),
    ]

    def init(self):
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_webhook_event_pending_idx
                ON whatsapp_webhook_event (id) WHERE state = 'pending'
            """
        )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_webhook_event_stored_idx
                ON whatsapp_webhook_event (id) WHERE state = 'stored'
            """
        )

    # ------------------------------------------------------------------
    # Intake (request time)
    # ------------------------------------------------------------------

    @api.model
    def _intake(self, batch, owners=None, signers=None, registry=None):
        """Store the events of a parsed, verified webhook; redeliveries are skipped by key.

        ``owners`` holds, per event of ``batch.events``, the accounts it names (see
        ``tools.webhook.owners``) and ``signers`` the accounts whose secret signed the body; by
        default both are resolved from the configured accounts. An event naming no configured
        account is stored as ignored; an unreadable part as an error, with its reason. One
        statement for the whole request (the processing cron's trigger included). Returns
        (stored, duplicates); with ``registry``, None (and nothing stored) when another process
        changed the registry or its caches since ``registry`` last checked (see ``_insert``).
        """
        events = batch.events
        if not events:
            return 0, 0
        if owners is None:
            routes = self.env["whatsapp.account"]._webhook_credentials().routes
            owners = [webhook.owners(event, routes) for event in events]
        rows = []
        for event, accounts in zip(events, owners, strict=True):
            kind, payload = EVENT_KINDS[type(event)], webhook.to_stored(event)
            mine = (accounts & signers) if signers else accounts
            account_id = min(mine) if mine else None
            state, note = "pending", None
            if kind == "invalid":
                state, note = "error", event.reason
            elif kind == "other":
                state, note = "ignored", f"webhook field {event.field!r} is not handled"
            elif account_id is None:
                state, note = "ignored", self._unknown_account_note(event)
            rows.append(self._row(event.key, kind, account_id, event, payload, state, note))
        stored = self._insert(rows, registry)
        return None if stored is None else (stored, len(events) - stored)

    @api.model
    def _intake_unreadable(self, raw, reason, signers):
        """Keep a signed body that is not a notification at all, for a person to look at."""
        text = raw.decode("utf-8", "replace").replace("\x00", "")
        payload = {"reason": reason, "body": text[:UNREADABLE_BODY_KEPT]}
        key = "bad:" + hashlib.sha256(raw).hexdigest()[:40]
        row = self._row(key, "invalid", min(signers), None, payload, "error", reason)
        stored = self._insert([row])
        return stored, 1 - stored

    @api.model
    def _unknown_account_note(self, event):
        phone_number_id = getattr(event, "phone_number_id", "")
        if phone_number_id:
            return f"no active account has the phone number id {phone_number_id}"
        return f"no active account has the business account id {event.waba_id or '?'}"

    @api.model
    def _row(self, key, kind, account_id, event, payload, state, note):
        """The values of an event's row, in the order of ``ROW_COLUMNS``."""
        wa_id = None
        if event is not None:
            wa_id = (
                getattr(event, "sender", None)
                or getattr(event, "recipient_id", None)
                or getattr(event, "recipient_user_id", None)
            )
        wamid = getattr(event, "wamid", None)
        return (key, kind, account_id, wamid, wa_id or None, json.dumps(payload), state, note)

    @api.model
    def _insert(self, rows, registry=None):
        """One statement: ``rows`` inserted (redeliveries skipped by key) and, when a new one waits
        for processing, the processing cron triggered unless a trigger is pending; returns how
        many were new.

        With ``registry``, the rows are inserted only while the database's signaling sequences
        are still those ``registry`` holds (what ``Registry.check_signaling`` compares: no module
        change, no cache invalidation by another process since); else nothing is written and None
        is returned, for the caller to go through Odoo's dispatch, which reloads.
        """
        current = SQL("SELECT TRUE AS ok")
        if registry is not None:
            current = self._signaling_unchanged(registry)
        # the job of each part that got an event to process is woken, unless a wake-up is due
        triggers = [
            cron_trigger_sql(
                cron,
                unless_pending=True,
                only_if=SQL(
                    "EXISTS (SELECT 1 FROM stored WHERE state = 'pending' AND %s = %s)",
                    self._part_sql(SQL("stored.wa_id")),
                    part,
                ),
            )
            for part, cron in enumerate(self._processing_crons())
        ]
        now = fields.Datetime.now()
        # the rows as one array per column (text, cast inside): the statement is the same for
        # any number of rows, which lets the fast path's connections keep its plan
        columns = SQL(", ").join(
            SQL("%s::text[]::%s[]", [row[i] for row in rows], SQL(kind))
            for i, (_name, kind) in enumerate(ROW_COLUMNS)
        )
        execute_reusing_plan(
            self.env.cr,
            SQL(
                """
                WITH current AS (%(current)s),
                stored AS (
                    INSERT INTO whatsapp_webhook_event
                        (key, kind, account_id, wamid, wa_id, payload, state, note,
                         received_at, create_date, write_date, create_uid, attempts)
                    SELECT v.*, %(now)s::timestamp, %(now)s::timestamp, %(now)s::timestamp,
                           %(uid)s::int4, 0
                      FROM unnest(%(columns)s) AS v(%(names)s)
                     WHERE (SELECT ok FROM current)
                    ON CONFLICT (key) DO NOTHING
                    RETURNING id, state, wa_id
                ),
                %(woken)s
                SELECT (SELECT ok FROM current),
                       (SELECT count(*) FROM stored),
                       %(count_woken)s
                """,
                current=current,
                now=now,
                uid=self.env.uid or None,
                columns=columns,
                names=SQL(", ").join(SQL.identifier(name) for name, _kind in ROW_COLUMNS),
                woken=SQL(", ").join(
                    SQL("%s AS (%s)", SQL.identifier(f"woken_{i}"), trigger)
                    for i, trigger in enumerate(triggers)
                ),
                count_woken=SQL(" + ").join(
                    SQL("(SELECT count(*) FROM %s)", SQL.identifier(f"woken_{i}"))
                    for i in range(len(triggers))
                ),
            ),
        )
        ok, stored, woken = self.env.cr.fetchone()
        if not ok:
            return None
        if woken:
            wake_crons_after_commit(self.env.cr)
        return stored

    @api.model
    def _signaling_unchanged(self, registry):
        """SQL: whether the signaling sequences of the database are those ``registry`` holds."""
        sequences = {"base_registry_signaling": registry.registry_sequence}
        for name, value in registry.cache_sequences.items():
            sequences[f"base_cache_signaling_{name}"] = value
        return SQL(
            "SELECT %s AS ok FROM %s",
            SQL(" AND ").join(
                SQL("%s.last_value = %s", SQL.identifier(name), value)
                for name, value in sequences.items()
            ),
            SQL(", ").join(SQL.identifier(name) for name in sequences),
        )

    @api.model
    def _processing_crons(self):
        """The processing jobs, one per part of the customers (see PROCESSING_CRONS)."""
        # ids from the cached xmlid lookup: env.ref() would also query that each cron exists
        IrData = self.env["ir.model.data"]
        return self.env["ir.cron"].browse([IrData._xmlid_to_res_id(x) for x in PROCESSING_CRONS])

    @api.model
    def _part_sql(self, wa_id=None):
        """SQL: the part (0 or 1, see PROCESSING_CRONS) of the event whose customer number is
        ``wa_id`` (default: the column of ``whatsapp_webhook_event``): every event of a customer
        is in one part, events without a number (templates, accounts) in part 0."""
        wa_id = wa_id or SQL.identifier("whatsapp_webhook_event", "wa_id")
        return SQL("mod(ascii(right(coalesce(%s, ''), 1)), %s)", wa_id, len(PROCESSING_CRONS))

    @api.model
    def _wake_processing_cron(self):
        """Trigger the processing jobs unless a wake-up is already pending.

        Under load a trigger (and a cron run) per request costs more than the request itself;
        one pending trigger is enough, since a run keeps claiming until the inbox is empty. An
        event committed in the instant between a run's last claim and the deletion of its
        trigger waits for the next webhook or the cron's one-minute interval, as with Odoo's own
        triggers. One statement per job, at the commit (see common.trigger_cron_at_commit); the
        intake makes it within its INSERT (see ``_insert``).
        """
        for cron in self._processing_crons():
            trigger_cron_at_commit(cron)

    # ------------------------------------------------------------------
    # Processing (cron)
    # ------------------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=BATCH_SIZE, part=None):
        """Store the pending events in batches, each committed (the customers' messages are
        visible then), and react to the stored ones in a second step: a worker dying between
        the two leaves events 'stored', which the next run reacts to, once. While the intake is
        behind, storing goes first and the reactions follow in small batches.

        ``part``: only the events of that part of the customers (see PROCESSING_CRONS: each job
        takes one, the jobs run in parallel); None: every event."""
        auto_commit = not is_testing()
        started = last_reactions = time.monotonic()
        budget = cron_run_budget(CRON_TIME_BUDGET)
        done = 0
        failures = 0  # concurrency failures in a row (see PROCESSING_CRONS)
        # a part sees its share of the arrivals: behind at its share of the backlog
        backlog = min(BACKLOG // (1 if part is None else len(PROCESSING_CRONS)), batch_size)
        with cron_report(_logger, "WhatsApp intake: events processed") as report:
            while time.monotonic() - started < budget:
                # with auto-commit, a concurrency failure rolls back and the batch is taken anew
                self_ = self.with_context(
                    whatsapp_retry_transient=auto_commit and failures < TRANSIENT_RETRIES
                )
                try:
                    events, waited = self_._claim(batch_size, part=part)
                    if events:
                        events._process()
                        if auto_commit:
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                        done += len(events)
                        report["items"] = done
                    behind = len(events) >= backlog or waited >= BEHIND_AFTER
                    if behind and time.monotonic() - last_reactions < REACTIONS_AT_LEAST_EVERY:
                        failures = 0
                        continue
                    last_reactions = time.monotonic()
                    reactions = REACTIONS_BATCH_BEHIND if behind else REACTIONS_BATCH
                    stored, _waited = self_._claim(
                        min(reactions, batch_size), state="stored", part=part
                    )
                    if stored:
                        self_._isolated(
                            lambda items, model=self_: model.browse([e.id for e in items])._react(),
                            list(stored),
                            on_error=lambda event, error: event._finish("done", _summary(error)),
                        )
                        if auto_commit:
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                except TRANSIENT_ERRORS as error:
                    if not self_.env.context.get("whatsapp_retry_transient"):
                        raise
                    failures += 1
                    _logger.info("WhatsApp: %s; the batch is taken again", _summary(error))
                    self.env.cr.rollback()
                    continue
                failures = 0
                if not events and not stored:
                    break
        # what follows intake must never stop intake: each step stands alone (in one job)
        for step in (
            self.env["whatsapp.message"]._fetch_pending_media,
            self.env["helpdesk.ticket.team"]._whatsapp_serve_backlog,
        ):
            if part:
                break
            try:
                with self.env.cr.savepoint():
                    step()
            except Exception:  # pylint: disable=broad-except
                _logger.exception("WhatsApp: %s failed; intake goes on", step.__name__)
        report_progress(self.env, done, self._count_left(part), CRON_TIME_BUDGET)
        return done

    @api.model
    def _count_left(self, part=None):
        """How many events of ``part`` (None: all) wait to be stored or reacted to."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT count(*) FROM whatsapp_webhook_event
                 WHERE (state = 'stored' OR (state = 'pending'
                        AND (retry_at IS NULL OR retry_at <= %s))) %s
                """,
                fields.Datetime.now(),
                SQL("AND %s = %s", self._part_sql(), part) if part is not None else SQL(),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _claim(self, limit, state="pending", part=None):
        """(events, seconds): up to ``limit`` events in ``state`` (pending: to store; stored: to
        react to), oldest first, of ``part`` of the customers (None: all), locked for this
        transaction (those another worker holds are skipped), and how long the oldest of them
        waited since it was received (0 for none), from the same query."""
        self.env.flush_all()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                WITH claimed AS MATERIALIZED (
                    SELECT id, received_at FROM whatsapp_webhook_event
                     WHERE state = %s AND (retry_at IS NULL OR retry_at <= %s) %s
                     ORDER BY id
                     LIMIT %s
                     FOR UPDATE SKIP LOCKED
                )
                SELECT id, EXTRACT(EPOCH FROM %s - (SELECT min(received_at) FROM claimed))
                  FROM claimed ORDER BY id
                """,
                state,
                now,
                SQL("AND %s = %s", self._part_sql(), part) if part is not None else SQL(),
                limit,
                now,
            )
        )
        rows = self.env.cr.fetchall()
        waited = float(rows[0][1] or 0) if rows else 0.0
        return self.browse([row[0] for row in rows]), waited

    def _process(self):
        """Turn stored events into conversations, messages, statuses and account changes.

        Each kind is handled in bulk inside a savepoint; when the bulk fails, its events are
        handled one by one, each in its own savepoint, so that one bad event costs only itself:
        it is marked with the reason (or retried later when the failure was a concurrent
        transaction's), and the others go on.
        """
        by_kind = defaultdict(list)
        stored = self._stored_payloads()
        for event in self:
            try:
                parsed = self._parsed(stored.get(event.id))
            except (webhook.WebhookError, IndexError) as error:
                event._finish("error", str(error))
                continue
            by_kind[event.kind].append((event, parsed))
        for kind, handler in (
            ("message", self._process_messages),
            ("status", self._process_statuses),
            ("template", self._process_template_updates),
            ("account", self._process_account_updates),
            ("error", self._process_account_errors),
        ):
            self._isolated(handler, by_kind.pop(kind, []))
        for pairs in by_kind.values():
            for event, _parsed in pairs:
                event._finish("ignored", "nothing handles this kind of event")

    @api.model
    def _isolated(self, handler, items, on_error=None):
        """``handler(items)`` in a savepoint; on failure, item by item, each in its own savepoint,
        and ``on_error(item, error)`` for those that fail (default: the item is an ``(event, _)``
        pair and the event is marked failed)."""
        if not items:
            return
        on_error = on_error or (lambda pair, error: pair[0]._fail(error))
        try:
            with self.env.cr.savepoint():
                handler(items)
            return
        except Exception as error:  # pylint: disable=broad-except
            self._raise_if_retried(error)
            if len(items) == 1:
                on_error(items[0], error)
                return
            _logger.info("WhatsApp: a batch of %s failed (%s), one by one", len(items), error)
        for item in items:
            try:
                with self.env.cr.savepoint():
                    handler([item])
            except Exception as error:  # pylint: disable=broad-except
                self._raise_if_retried(error)
                on_error(item, error)

    @api.model
    def _raise_if_retried(self, error):
        """A concurrency failure goes up to the processing loop when it takes the whole batch
        again (see PROCESSING_CRONS): in this transaction's snapshot, the row stays stale."""
        if isinstance(error, TRANSIENT_ERRORS) and self.env.context.get("whatsapp_retry_transient"):
            raise error

    def _fail(self, error):
        """This event could not be processed: retried later when another transaction won the
        race, else set aside as an error with a summary of what went wrong."""
        self.ensure_one()
        attempts = self.attempts + 1
        summary = _summary(error)
        if isinstance(error, TRANSIENT_ERRORS) and attempts < MAX_ATTEMPTS:
            retry_at = fields.Datetime.now() + ORPHAN_RETRY_EVERY * 2**attempts
            self.write({"attempts": attempts, "retry_at": retry_at, "note": summary})
            return
        _logger.warning("WhatsApp webhook event %s (%s) failed: %s", self.id, self.kind, summary)
        self.write({"attempts": attempts, "state": "error", "note": summary})

    def _stored_payloads(self):
        """{id: payload} of these events in one query (the ORM would copy every JSON value)."""
        if not self:
            return {}
        self.env.cr.execute(
            SQL("SELECT id, payload FROM whatsapp_webhook_event WHERE id IN %s", tuple(self.ids))
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _parsed(self, payload):
        """The record an event's stored ``payload`` holds, as the webhook parsed it (rows stored
        before 18.0.1.1.0 hold a single-event Meta payload, parsed again)."""
        if isinstance(payload, dict) and "object" in payload:
            return webhook.parse(payload).events[0]
        return webhook.from_stored(payload)

    def _finish(self, state, note=None):
        self.write({"state": state, "note": note, "processed_at": fields.Datetime.now()})

    def action_retry(self):
        """Process these events again (after a fix): the person decides. Events are written
        only by the system (a state written over RPC could run an event's reactions twice):
        whoever may read them may ask for this, and only this."""
        self.check_access("read")
        retried = self.filtered(lambda e: e.state in ("error", "ignored") and e.kind != "invalid")
        retried.sudo().write({"state": "pending", "retry_at": False, "attempts": 0, "note": False})
        self._wake_processing_cron()

    @api.model
    def _process_messages(self, pairs):
        """Customer messages: stored once (by wamid), then the reactions to them, apart."""
        Message = self.env["whatsapp.message"].sudo()
        known = set(Message.search([("wamid", "in", [m.wamid for _e, m in pairs])]).mapped("wamid"))
        fresh = []
        for event, message in pairs:
            if message.wamid in known:
                event._finish("done", "already stored")
            else:
                known.add(message.wamid)
                fresh.append((event, message))
        if not fresh:
            return
        Message._store_inbound([(event.account_id, message) for event, message in fresh])
        # visible once committed; the reactions follow in the next step (see _react)
        self.browse([event.id for event, _m in fresh])._finish("stored")

    def _react(self):
        """The reactions to the customer messages these 'stored' events brought (routing, live
        notices, the inbound hooks: tickets, automatic answers, the assistant), then done.

        Run after the messages were committed, so that a customer's message is visible before
        everything that answers it; the events stay 'stored' until the reactions commit with
        their 'done', so each message is reacted to once. A failing reaction costs only its
        message: it is logged and the others go on (the message itself is kept).
        """
        Message = self.env["whatsapp.message"].sudo()
        wamids = [wamid for wamid in self.mapped("wamid") if wamid]
        messages = Message.search([("wamid", "in", wamids), ("direction", "=", "in")], order="id")
        Conversation = self.env["whatsapp.conversation"].sudo()
        self._isolated(
            lambda items: Conversation._on_inbound(Message.browse([m.id for m in items])),
            list(messages),
            on_error=lambda message, error: _logger.error(
                "WhatsApp: reactions to message %s failed: %s", message.id, _summary(error)
            ),
        )
        self.write({"state": "done"})  # processed_at stays when the messages became visible

    @api.model
    def _process_statuses(self, pairs):
        if not pairs:
            return
        Message = self.env["whatsapp.message"].sudo()
        by_wamid = {
            m.wamid: m
            for m in Message.search(
                [("wamid", "in", [s.wamid for _e, s in pairs]), ("direction", "=", "out")]
            )
        }
        callbacks = [s.biz_opaque_callback_data for _e, s in pairs if s.wamid not in by_wamid]
        by_uuid = {}
        if any(callbacks):
            by_uuid = {
                m.uuid: m
                for m in Message.search(
                    [("uuid", "in", [c for c in callbacks if c]), ("wamid", "=", False)]
                )
            }
        now = fields.Datetime.now()
        for event, update in sorted(pairs, key=lambda pair: pair[1].timestamp or 0):
            message = by_wamid.get(update.wamid) or by_uuid.get(update.biz_opaque_callback_data)
            if message:
                message._apply_status(update)
                by_wamid[update.wamid] = message
                event._finish("done")
            elif event.received_at and now - event.received_at > ORPHAN_RETRY_FOR:
                event._finish("ignored", "no outbound message has this id")
            else:
                event.write(
                    {
                        "attempts": event.attempts + 1,
                        "retry_at": now + ORPHAN_RETRY_EVERY,
                        "note": "waiting for the outbound message to be recorded",
                    }
                )

    @api.model
    def _process_template_updates(self, pairs):
        """Template review, quality and category events."""
        Template = self.env["whatsapp.template"]
        for event, update in pairs:
            if Template._apply_meta_update(update):
                event._finish("done")
            else:
                event._finish("ignored", "no template with this id or name")

    @api.model
    def _process_account_updates(self, pairs):
        """Account, review, capability and phone number changes: recorded on the accounts."""
        Account = self.env["whatsapp.account"].sudo()
        for event, update in pairs:
            accounts = event.account_id
            display = update.display_phone_number
            if accounts and not (display and display in (accounts.display_phone_number or "")):
                # a change of the business account concerns each of its numbers that share the
                # secret which signed it
                accounts = (
                    Account.search(
                        [
                            ("waba_id", "=", update.waba_id),
                            ("app_secret", "=", event.account_id.app_secret),
                        ]
                    )
                    or accounts
                )
            if not accounts:
                event._finish("ignored", "no account for this business account id")
                continue
            accounts._apply_meta_update(update)
            event._finish("done")

    @api.model
    def _process_account_errors(self, pairs):
        """Errors Meta reports for a number outside any message: kept on the account."""
        for event, error in pairs:
            event.account_id._record_webhook_error(error.error)
            event._finish("done", error.error.title or str(error.error.code or ""))
