import hashlib
import json
import logging
import time
import traceback
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg2
from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import phone as wa_phone
from ..tools import webhook
from .whatsapp_conversation import SERVICE_WINDOW
from .whatsapp_message import _is_testing

_logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
# Failures that another run may not meet (a concurrent transaction won): tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
UNREADABLE_BODY_KEPT = 64 * 1024  # characters of an unreadable body kept for a human
CRON_TIME_BUDGET = 50  # seconds per cron run; the progress API re-runs it when rows remain
# A status can overtake the commit of the wamid it refers to (the send and its webhook race);
# such a status is kept and retried for this long before it is set aside.
ORPHAN_RETRY_FOR = timedelta(hours=1)
ORPHAN_RETRY_EVERY = timedelta(seconds=30)


def _e164(wa_id):
    return wa_phone.wa_id_to_e164(wa_id) or f"+{wa_phone.digits(wa_id)}"


def _single_event_envelope(event, change_field, value):
    """The smallest Meta payload that holds one event: what is stored, and parsed again later."""
    entry = {"id": event.waba_id, "changes": [{"field": change_field, "value": value}]}
    if getattr(event, "field", None) and event.timestamp is not None:
        entry["time"] = event.timestamp
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _stored_payload(event):
    """(kind, stored payload) of one parsed event: its raw part plus the context it needs."""
    if isinstance(event, webhook.InboundMessage):
        contact = {"profile": {"name": event.profile_name or ""}}
        if event.username:
            contact["profile"]["username"] = event.username
        if event.wa_id:
            contact["wa_id"] = event.wa_id
        if event.user_id:
            contact["user_id"] = event.user_id
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "phone_number_id": event.phone_number_id,
                "display_phone_number": event.display_phone_number,
            },
            "contacts": [contact],
            "messages": [event.raw],
        }
        return "message", _single_event_envelope(event, "messages", value)
    if isinstance(event, webhook.StatusUpdate):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": event.phone_number_id},
            "statuses": [event.raw],
        }
        return "status", _single_event_envelope(event, "messages", value)
    if isinstance(event, webhook.TemplateUpdate):
        return "template", _single_event_envelope(event, event.field, event.raw)
    if isinstance(event, webhook.AccountUpdate):
        return "account", _single_event_envelope(event, event.field, event.raw)
    if isinstance(event, webhook.AccountError):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "phone_number_id": event.phone_number_id,
                "display_phone_number": event.display_phone_number,
            },
            "errors": [event.raw],
        }
        envelope = _single_event_envelope(event, "messages", value)
        if event.timestamp is not None:
            envelope["entry"][0]["time"] = event.timestamp
        return "error", envelope
    if isinstance(event, webhook.OtherChange):
        return "other", {"field": event.field, "value": event.value}
    return "invalid", {"where": event.where, "reason": event.reason, "raw": event.raw}


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
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
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

    # ------------------------------------------------------------------
    # Intake (request time)
    # ------------------------------------------------------------------

    @api.model
    def _intake(self, batch, owners=None, signers=None):
        """Store the events of a parsed, verified webhook; redeliveries are skipped by key.

        ``owners`` holds, per event of ``batch.events``, the accounts it names (see
        ``tools.webhook.owners``) and ``signers`` the accounts whose secret signed the body; by
        default both are resolved from the configured accounts. An event naming no configured
        account is stored as ignored; an unreadable part as an error, with its reason. One INSERT
        for the whole request. Returns (stored, duplicates).
        """
        events = batch.events
        if not events:
            return 0, 0
        if owners is None:
            routes = self.env["whatsapp.account"]._webhook_credentials().routes
            owners = [webhook.owners(event, routes) for event in events]
        now = fields.Datetime.now()
        uid = self.env.uid or None
        rows = []
        for event, accounts in zip(events, owners, strict=True):
            kind, payload = _stored_payload(event)
            mine = (accounts & signers) if signers else accounts
            account_id = min(mine) if mine else None
            state, note = "pending", None
            if kind == "invalid":
                state, note = "error", event.reason
            elif kind == "other":
                state, note = "ignored", f"webhook field {event.field!r} is not handled"
            elif account_id is None:
                state, note = "ignored", self._unknown_account_note(event)
            rows.append(
                self._row(event.key, kind, account_id, event, payload, state, note, now, uid)
            )
        stored = self._insert(rows)
        if stored:
            self._wake_processing_cron()
        return stored, len(events) - stored

    @api.model
    def _intake_unreadable(self, raw, reason, signers):
        """Keep a signed body that is not a notification at all, for a person to look at."""
        text = raw.decode("utf-8", "replace").replace("\x00", "")
        payload = {"reason": reason, "body": text[:UNREADABLE_BODY_KEPT]}
        key = "bad:" + hashlib.sha256(raw).hexdigest()[:40]
        now = fields.Datetime.now()
        row = self._row(
            key, "invalid", min(signers), None, payload, "error", reason, now, self.env.uid
        )
        stored = self._insert([row])
        return stored, 1 - stored

    @api.model
    def _unknown_account_note(self, event):
        phone_number_id = getattr(event, "phone_number_id", "")
        if phone_number_id:
            return f"no active account has the phone number id {phone_number_id}"
        return f"no active account has the business account id {event.waba_id or '?'}"

    @api.model
    def _row(self, key, kind, account_id, event, payload, state, note, now, uid):
        wa_id = None
        if event is not None:
            wa_id = (
                getattr(event, "sender", None)
                or getattr(event, "recipient_id", None)
                or getattr(event, "recipient_user_id", None)
            )
        return SQL(
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
            key,
            kind,
            account_id,
            getattr(event, "wamid", None),
            wa_id or None,
            json.dumps(payload),
            state,
            note,
            now,
            now,
            now,
            uid,
        )

    @api.model
    def _insert(self, rows):
        """One INSERT of ``rows``; returns how many were new."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO whatsapp_webhook_event
                    (key, kind, account_id, wamid, wa_id, payload, state, note,
                     received_at, create_date, write_date, create_uid, attempts)
                VALUES %s
                ON CONFLICT (key) DO NOTHING
                RETURNING id
                """,
                SQL(", ").join(rows),
            )
        )
        return len(self.env.cr.fetchall())

    @api.model
    def _wake_processing_cron(self):
        """Trigger the processing cron unless a wake-up is already pending.

        Under load a trigger (and a cron run) per request costs more than the request itself;
        one pending trigger is enough, since a run keeps claiming until the inbox is empty. An
        event committed in the instant between a run's last claim and the deletion of its
        trigger waits for the next webhook or the cron's one-minute interval, as with Odoo's own
        triggers.
        """
        cron = self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_process_events").sudo()
        self.env.cr.execute(
            SQL("SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s LIMIT 1", cron.id)
        )
        if not self.env.cr.fetchone():
            cron._trigger()

    # ------------------------------------------------------------------
    # Processing (cron)
    # ------------------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=BATCH_SIZE):
        auto_commit = not _is_testing()
        started = time.monotonic()
        done = 0
        while time.monotonic() - started < CRON_TIME_BUDGET:
            events = self._claim_pending(batch_size)
            if not events:
                break
            events._process()
            done += len(events)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        # what follows intake must never stop intake: each step stands alone
        for step in (
            self.env["whatsapp.message"]._fetch_pending_media,
            self.env["whatsapp.conversation"]._serve_backlog,
        ):
            try:
                with self.env.cr.savepoint():
                    step()
            except Exception:  # pylint: disable=broad-except
                _logger.exception("WhatsApp: %s failed; intake goes on", step.__name__)
        remaining = self.search_count(self._claimable_domain())
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    def _claimable_domain(self):
        return [
            ("state", "=", "pending"),
            "|",
            ("retry_at", "=", False),
            ("retry_at", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _claim_pending(self, limit):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM whatsapp_webhook_event
                 WHERE state = 'pending' AND (retry_at IS NULL OR retry_at <= %s)
                 ORDER BY id
                 LIMIT %s
                 FOR UPDATE SKIP LOCKED
                """,
                fields.Datetime.now(),
                limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _process(self):
        """Turn stored events into conversations, messages, statuses and account changes.

        Each kind is handled in bulk inside a savepoint; when the bulk fails, its events are
        handled one by one, each in its own savepoint, so that one bad event costs only itself:
        it is marked with the reason (or retried later when the failure was a concurrent
        transaction's), and the others go on.
        """
        by_kind = defaultdict(list)
        for event in self:
            try:
                parsed = webhook.parse(event.payload).events[0]
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
            if len(items) == 1:
                on_error(items[0], error)
                return
            _logger.info("WhatsApp: a batch of %s failed (%s), one by one", len(items), error)
        for item in items:
            try:
                with self.env.cr.savepoint():
                    handler([item])
            except Exception as error:  # pylint: disable=broad-except
                on_error(item, error)

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

    def _finish(self, state, note=None):
        self.write({"state": state, "note": note, "processed_at": fields.Datetime.now()})

    def action_retry(self):
        """Process these events again (after a fix): the person decides."""
        self.filtered(lambda e: e.state in ("error", "ignored") and e.kind != "invalid").write(
            {"state": "pending", "retry_at": False, "attempts": 0, "note": False}
        )
        self._wake_processing_cron()

    @api.model
    def _process_messages(self, pairs):
        if not pairs:
            return
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
        conversations = self._conversations_for(fresh)
        mail_values, wa_values = [], []
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        for event, message in fresh:
            conversation = conversations[(event.account_id.id, message.sender)]
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
            wa_values.append(self._inbound_message_values(conversation, message, moment))
        mail_messages = self.env["mail.message"].sudo().create(mail_values)
        for values, mail_message in zip(wa_values, mail_messages, strict=True):
            values["mail_message_id"] = mail_message.id
        created = Message.create(wa_values)
        self._touch_conversations(conversations, fresh)
        created._link_reactions()
        self.browse([event.id for event, _m in fresh])._finish("done")
        # the messages are stored: what follows them never costs them
        self._isolated(
            lambda messages: self._after_inbound(Message.browse([m.id for m in messages])),
            list(created),
            on_error=lambda message, error: _logger.error(
                "WhatsApp: reactions to message %s failed: %s", message.id, _summary(error)
            ),
        )

    @api.model
    def _after_inbound(self, created):
        """What follows new customer messages: opt-out keywords, order links, routing."""
        with_text = created.filtered(lambda m: m.body)
        self.env["whatsapp.optin"]._apply_keywords(with_text)
        self.env["whatsapp.conversation"]._link_mentioned_orders(with_text)
        self._remember_entry_points(created)
        self.env["whatsapp.conversation"]._tag_skills(with_text)
        created.conversation_id._route()
        created.conversation_id._notify_agents()
        self.env["whatsapp.conversation"]._open_tickets_by_rule(created)
        self.env["whatsapp.auto.reply"]._handle_inbound(created)

    @api.model
    def _remember_entry_points(self, messages):
        """A first message from a click-to-WhatsApp ad carries a ``referral``: route on it."""
        for message in messages:
            conversation = message.conversation_id
            referral = (message.payload or {}).get("referral")
            if referral and not conversation.source:
                conversation.sudo().source = "ad_referral"

    @api.model
    def _inbound_message_values(self, conversation, message, moment):
        media = message.media
        return {
            "conversation_id": conversation.id,
            "partner_id": conversation.partner_id.id,
            "direction": "in",
            "state": "received",
            "wamid": message.wamid,
            "message_type": self._message_type(message.type),
            "body": message.text,
            "received_at": moment,
            "reply_to_wamid": (message.context.id if message.context else False)
            or (message.reaction.message_id if message.reaction else False),
            "media_id": media.id if media else False,
            "media_url": media.url if media else False,
            "media_mime_type": media.mime_type if media else False,
            "media_filename": media.filename if media else False,
            "media_state": "pending" if media and (media.id or media.url) else "none",
            "payload": message.raw,
        }

    @api.model
    def _message_type(self, meta_type):
        known = dict(self.env["whatsapp.message"]._fields["message_type"].selection)
        return meta_type if meta_type in known else "unsupported"

    @api.model
    def _conversations_for(self, pairs):
        """{(account id, sender): conversation} for inbound messages.

        A sender with a number is matched by E.164 (partners too); a sender known only by a
        business-scoped user id (a username) by that id, and a conversation first opened by
        user id learns the number when Meta shares it. A sender without a partner gets one,
        named after the WhatsApp profile. Everything is looked up and created in bulk: a batch
        holds hundreds of customers.
        """
        Conversation = self.env["whatsapp.conversation"].sudo()
        senders = {}
        for event, message in pairs:
            senders.setdefault((event.account_id, message.sender), message)
        numbers = {key: _e164(m.wa_id) for key, m in senders.items() if m.wa_id}
        user_ids = {key: m.user_id for key, m in senders.items() if m.user_id}
        account_ids = list({account.id for account, _s in senders})
        by_number, by_user = {}, {}
        if numbers:
            for c in Conversation.search(
                [
                    ("account_id", "in", account_ids),
                    ("phone_e164", "in", list(set(numbers.values()))),
                ]
            ):
                by_number[(c.account_id.id, c.phone_e164)] = c
        if user_ids:
            for c in Conversation.search(
                [
                    ("account_id", "in", account_ids),
                    ("wa_user_id", "in", list(set(user_ids.values()))),
                ]
            ):
                by_user[(c.account_id.id, c.wa_user_id)] = c
        found = {}
        for key in senders:
            account_id = key[0].id
            conversation = by_number.get((account_id, numbers.get(key)))
            if conversation is None:
                conversation = by_user.get((account_id, user_ids.get(key)))
                if conversation is not None and key in numbers and not conversation.phone_e164:
                    conversation.write({"phone_e164": numbers[key], "wa_id": senders[key].wa_id})
            if conversation is not None:
                found[key] = conversation
                user_id = user_ids.get(key)
                if user_id and not conversation.wa_user_id and (account_id, user_id) not in by_user:
                    # the number's conversation learns the id a later username-only message uses
                    conversation.wa_user_id = user_id
                    by_user[(account_id, user_id)] = conversation
        missing_partner = {
            key: m for key, m in senders.items() if not found.get(key, Conversation).partner_id
        }
        partners = self._partners_for(
            {numbers[key]: m.profile_name for key, m in missing_partner.items() if key in numbers}
        )
        partners.update(
            self._partners_for_users(
                {
                    user_ids[key]: m.profile_name or m.username
                    for key, m in missing_partner.items()
                    if key not in numbers
                }
            )
        )
        to_create = {}
        for key, message in senders.items():
            handle = numbers.get(key) or user_ids[key]
            conversation = found.get(key)
            if conversation and not conversation.partner_id:
                conversation.partner_id = partners[handle]
            elif not conversation:
                unique = (key[0].id, numbers.get(key) or f"user:{user_ids[key]}")
                to_create.setdefault(
                    unique,
                    {
                        "account_id": key[0].id,
                        "phone_e164": numbers.get(key) or False,
                        "wa_id": message.wa_id or False,
                        "wa_user_id": user_ids.get(key) or False,
                        "wa_username": message.username or False,
                        "partner_id": partners[handle].id,
                        "profile_name": message.profile_name,
                    },
                )
        created = self._create_conversations(list(to_create.values()))
        for key in senders:
            if key not in found:
                unique = (key[0].id, numbers.get(key) or f"user:{user_ids[key]}")
                found[key] = created[unique]
        return {(account.id, sender): c for (account, sender), c in found.items()}

    @api.model
    def _partners_for(self, profiles):
        """{E.164: partner} for ``profiles`` ({E.164: profile name}), created when unknown."""
        Partner = self.env["res.partner"].sudo()
        partners = {}
        if not profiles:
            return partners
        for partner in Partner.search([("whatsapp_e164", "in", list(profiles))], order="id"):
            partners.setdefault(partner.whatsapp_e164, partner)
        unknown = [number for number in profiles if number not in partners]
        created = Partner.create(
            [{"name": profiles[number] or number, "mobile": number} for number in unknown]
        )
        partners.update(zip(unknown, created, strict=True))
        return partners

    @api.model
    def _partners_for_users(self, profiles):
        """{BSUID: new partner} for customers known only by a username (no number to match)."""
        if not profiles:
            return {}
        created = (
            self.env["res.partner"]
            .sudo()
            .create([{"name": profiles[user_id] or user_id} for user_id in profiles])
        )
        return dict(zip(profiles, created, strict=True))

    @api.model
    def _create_conversations(self, vals_list):
        """Create conversations in one go; under a concurrent creator, fall back one by one.

        Returns {(account id, E.164 or "user:<BSUID>"): conversation}.
        """
        Conversation = self.env["whatsapp.conversation"].sudo()
        if not vals_list:
            return {}
        try:
            with self.env.cr.savepoint():
                created = Conversation.with_context(
                    mail_create_nosubscribe=True, tracking_disable=True
                ).create(vals_list)
        except psycopg2.errors.UniqueViolation:
            created = Conversation
            for vals in vals_list:
                created |= Conversation._get_or_create(
                    self.env["whatsapp.account"].browse(vals["account_id"]),
                    vals["phone_e164"],
                    wa_id=vals["wa_id"],
                    partner=self.env["res.partner"].browse(vals["partner_id"]),
                    profile_name=vals["profile_name"],
                    wa_user_id=vals["wa_user_id"],
                )
        return {(c.account_id.id, c.phone_e164 or f"user:{c.wa_user_id}"): c for c in created}

    @api.model
    def _touch_conversations(self, conversations, pairs):
        """Reopen the conversations and move their window, in one statement.

        This runs for every inbound batch; an ORM write per conversation (with its tracking and
        recomputations) costs more than everything else the batch does.
        """
        latest, received = {}, defaultdict(int)
        for event, message in pairs:
            conversation = conversations[(event.account_id.id, message.sender)]
            received[conversation.id] += 1
            current = latest.get(conversation.id)
            if current is None or message.timestamp >= current.timestamp:
                latest[conversation.id] = message
        rows = [
            SQL(
                "(%s, %s::timestamp, %s, %s, %s, %s)",
                conversation_id,
                datetime.utcfromtimestamp(message.timestamp),
                message.wa_id or None,
                message.profile_name or None,
                message.username or None,
                received[conversation_id],
            )
            for conversation_id, message in latest.items()
        ]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE whatsapp_conversation c
                   SET state = 'open',
                       last_direction = 'in',
                       unread_count = COALESCE(c.unread_count, 0) + v.received,
                       inbox_state = CASE WHEN c.user_id IS NULL THEN 'new' ELSE 'open' END,
                       wa_id = COALESCE(v.wa_id, c.wa_id),
                       profile_name = COALESCE(v.profile, c.profile_name),
                       wa_username = COALESCE(v.username, c.wa_username),
                       last_inbound_at = GREATEST(c.last_inbound_at, v.at),
                       first_inbound_at = COALESCE(c.first_inbound_at, v.at),
                       window_end = GREATEST(c.last_inbound_at, v.at) + %s::interval,
                       last_message_at = GREATEST(c.last_message_at, v.at),
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %s
                  FROM (VALUES %s) AS v(id, at, wa_id, profile, username, received)
                 WHERE c.id = v.id
                """,
                f"{int(SERVICE_WINDOW.total_seconds())} seconds",
                self.env.uid,
                SQL(", ").join(rows),
            )
        )
        self.env["whatsapp.conversation"].browse(list(latest)).invalidate_recordset(
            [
                "state",
                "wa_id",
                "profile_name",
                "wa_username",
                "last_inbound_at",
                "first_inbound_at",
                "window_end",
                "last_message_at",
                "last_direction",
                "unread_count",
                "inbox_state",
            ]
        )

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
