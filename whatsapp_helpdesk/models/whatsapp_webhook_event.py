import json
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import phone as wa_phone
from ..tools import webhook

_logger = logging.getLogger(__name__)

BATCH_SIZE = 500
CRON_TIME_BUDGET = 50  # seconds per cron run; the progress API re-runs it when rows remain
# A status can overtake the commit of the wamid it refers to (the send and its webhook race);
# such a status is kept and retried for this long before it is set aside.
ORPHAN_RETRY_FOR = timedelta(hours=1)
ORPHAN_RETRY_EVERY = timedelta(seconds=30)


def _e164(wa_id):
    return wa_phone.wa_id_to_e164(wa_id) or f"+{wa_phone.digits(wa_id)}"


def _is_testing():
    return getattr(threading.current_thread(), "testing", False)


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
            self.env.ref("whatsapp_helpdesk.ir_cron_whatsapp_process_events").sudo()._trigger()
        return stored, len(events) - stored

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
        Message.create(wa_values)
        self._touch_conversations(conversations, fresh)
        self.browse([event.id for event, _m in fresh])._finish("done")

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

        A number without a partner gets one, named after the WhatsApp profile.
        """
        Conversation = self.env["whatsapp.conversation"].sudo()
        Partner = self.env["res.partner"].sudo()
        senders = {}
        for event, message in pairs:
            senders.setdefault((event.account_id, message.wa_id), message.profile_name)
        numbers = {key: _e164(key[1]) for key in senders}
        partners = {}
        domain = [("whatsapp_e164", "in", list(set(numbers.values())))]
        for partner in Partner.search(domain, order="id"):
            partners.setdefault(partner.whatsapp_e164, partner)
        conversations = {}
        for (account, wa_id), profile_name in senders.items():
            number = numbers[(account, wa_id)]
            conversation = Conversation.search(
                [("account_id", "=", account.id), ("phone_e164", "=", number)], limit=1
            )
            if not conversation or not conversation.partner_id:
                partner = partners.get(number)
                if not partner:
                    partner = Partner.create({"name": profile_name or number, "mobile": number})
                    partners[number] = partner
                if conversation:
                    conversation.partner_id = partner
                else:
                    conversation = Conversation._get_or_create(
                        account, number, wa_id=wa_id, partner=partner, profile_name=profile_name
                    )
            if conversation.wa_id != wa_id:
                conversation.wa_id = wa_id
            conversations[(account.id, wa_id)] = conversation
        return conversations

    @api.model
    def _touch_conversations(self, conversations, pairs):
        latest = {}
        for event, message in pairs:
            key = (event.account_id.id, message.wa_id)
            latest[key] = max(latest.get(key, 0), message.timestamp)
        for key, timestamp in latest.items():
            conversation = conversations[key]
            moment = datetime.utcfromtimestamp(timestamp)
            values = {"state": "open"}
            if not conversation.last_inbound_at or moment > conversation.last_inbound_at:
                values["last_inbound_at"] = moment
            if not conversation.last_message_at or moment > conversation.last_message_at:
                values["last_message_at"] = moment
            profile = next(
                (m.profile_name for e, m in pairs if (e.account_id.id, m.wa_id) == key), None
            )
            if profile and profile != conversation.profile_name:
                values["profile_name"] = profile
            conversation.write(values)

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
        """Template approval events; the template model hooks in here."""
        for event, _update in pairs:
            event._finish("ignored", "no template model handles this event")
