import json
import logging
import time
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
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "phone_number_id": event.phone_number_id,
                "display_phone_number": event.display_phone_number,
            },
            "contacts": [{"wa_id": event.wa_id, "profile": {"name": event.profile_name or ""}}],
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
    return "template", _single_event_envelope(event, event.field, event.raw)


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
        [("message", "Message"), ("status", "Status"), ("template", "Template")],
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
    def _intake(self, batch, account_by_phone):
        """Store the events of a parsed, verified webhook; redeliveries are skipped by key.

        One INSERT for the whole request. Returns (stored, duplicates).
        """
        events = batch.events
        if not events:
            return 0, 0
        now = fields.Datetime.now()
        uid = self.env.uid or None
        rows = []
        for event in events:
            kind, payload = _stored_payload(event)
            phone_number_id = getattr(event, "phone_number_id", None)
            account_id = account_by_phone.get(phone_number_id) if phone_number_id else None
            state = "pending" if account_id or kind == "template" else "ignored"
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
                    event.key,
                    kind,
                    account_id,
                    getattr(event, "wamid", None),
                    getattr(event, "wa_id", None) or getattr(event, "recipient_id", None),
                    json.dumps(payload),
                    state,
                    None if account_id or kind == "template" else "unknown phone number id",
                    now,
                    now,
                    now,
                    uid,
                )
            )
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
        stored = len(self.env.cr.fetchall())
        if stored:
            self._wake_processing_cron()
        return stored, len(events) - stored

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
        self.env["whatsapp.message"]._fetch_pending_media()
        self.env["whatsapp.conversation"]._serve_backlog()
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
        """Turn stored events into conversations, messages and status updates, in bulk."""
        by_kind = defaultdict(list)
        for event in self:
            try:
                parsed = webhook.parse(event.payload).events[0]
            except (webhook.WebhookError, IndexError) as error:
                event._finish("error", str(error))
                continue
            by_kind[event.kind].append((event, parsed))
        self._process_messages(by_kind["message"])
        self._process_statuses(by_kind["status"])
        self._process_template_updates(by_kind["template"])

    def _finish(self, state, note=None):
        self.write({"state": state, "note": note, "processed_at": fields.Datetime.now()})

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
            conversation = conversations[(event.account_id.id, message.wa_id)]
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
        self._after_inbound(created)
        self.browse([event.id for event, _m in fresh])._finish("done")

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
            "reply_to_wamid": message.context.id if message.context else False,
            "media_id": media.id if media else False,
            "media_mime_type": media.mime_type if media else False,
            "media_filename": media.filename if media else False,
            "media_state": "pending" if media and media.id else "none",
            "payload": message.raw,
        }

    @api.model
    def _message_type(self, meta_type):
        known = dict(self.env["whatsapp.message"]._fields["message_type"].selection)
        return meta_type if meta_type in known else "unsupported"

    @api.model
    def _conversations_for(self, pairs):
        """{(account id, wa_id): conversation} for inbound messages, with partners matched by E.164.

        A number without a partner gets one, named after the WhatsApp profile. Everything is
        looked up and created in bulk: a batch holds hundreds of customers.
        """
        Conversation = self.env["whatsapp.conversation"].sudo()
        senders = {}
        for event, message in pairs:
            senders.setdefault((event.account_id, message.wa_id), message.profile_name)
        numbers = {key: _e164(key[1]) for key in senders}
        existing = {
            (c.account_id.id, c.phone_e164): c
            for c in Conversation.search(
                [
                    ("account_id", "in", list({account.id for account, _w in senders})),
                    ("phone_e164", "in", list(set(numbers.values()))),
                ]
            )
        }
        missing_partner = {
            numbers[key]: profile
            for key, profile in senders.items()
            if not existing.get((key[0].id, numbers[key]), Conversation).partner_id
        }
        partners = self._partners_for(missing_partner)
        to_create = {}
        for (account, wa_id), profile_name in senders.items():
            number = numbers[(account, wa_id)]
            conversation = existing.get((account.id, number))
            if conversation and not conversation.partner_id:
                conversation.partner_id = partners[number]
            elif not conversation:
                to_create.setdefault(
                    (account.id, number),
                    {
                        "account_id": account.id,
                        "phone_e164": number,
                        "wa_id": wa_id,
                        "partner_id": partners[number].id,
                        "profile_name": profile_name,
                    },
                )
        existing.update(self._create_conversations(list(to_create.values())))
        return {
            (account.id, wa_id): existing[(account.id, numbers[(account, wa_id)])]
            for account, wa_id in senders
        }

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
    def _create_conversations(self, vals_list):
        """Create conversations in one go; under a concurrent creator, fall back one by one."""
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
                )
        return {(c.account_id.id, c.phone_e164): c for c in created}

    @api.model
    def _touch_conversations(self, conversations, pairs):
        """Reopen the conversations and move their window, in one statement.

        This runs for every inbound batch; an ORM write per conversation (with its tracking and
        recomputations) costs more than everything else the batch does.
        """
        latest, received = {}, defaultdict(int)
        for event, message in pairs:
            conversation = conversations[(event.account_id.id, message.wa_id)]
            received[conversation.id] += 1
            current = latest.get(conversation.id)
            if current is None or message.timestamp >= current[0]:
                latest[conversation.id] = (message.timestamp, message.wa_id, message.profile_name)
        rows = [
            SQL(
                "(%s, %s::timestamp, %s, %s, %s)",
                conversation_id,
                datetime.utcfromtimestamp(timestamp),
                wa_id,
                profile or None,
                received[conversation_id],
            )
            for conversation_id, (timestamp, wa_id, profile) in latest.items()
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
                       wa_id = v.wa_id,
                       profile_name = COALESCE(v.profile, c.profile_name),
                       last_inbound_at = GREATEST(c.last_inbound_at, v.at),
                       first_inbound_at = COALESCE(c.first_inbound_at, v.at),
                       window_end = GREATEST(c.last_inbound_at, v.at) + %s::interval,
                       last_message_at = GREATEST(c.last_message_at, v.at),
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %s
                  FROM (VALUES %s) AS v(id, at, wa_id, profile, received)
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
