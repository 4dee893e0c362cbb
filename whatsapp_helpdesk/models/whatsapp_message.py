import base64
import logging
import uuid
from collections import defaultdict
from datetime import datetime

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, split_every

from ..tools import click_to_chat, click_tracking, cloud_api, media_limits, pricing
from ..tools import status as wa_status
from .common import computed_after_insert, trigger_cron_at_commit

_logger = logging.getLogger(__name__)

MAX_MEDIA_ATTEMPTS = 5
INSERT_CHUNK = 5000  # outbound rows per INSERT of a batch (see _insert_outbound)
INBOUND_CAP_PARAM = "whatsapp_helpdesk.inbound_media_max_mb"

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


# The stored computed fields _insert_outbound writes itself: the conversation's account and
# company, and the cost of a message Meta has not billed yet.
INSERTED_COMPUTED_FIELDS = frozenset({"account_id", "company_id", "cost"})


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
    # no index of its own: two values, always read with a selective column (see init)
    direction = fields.Selection([("in", "Received"), ("out", "Sent")], required=True)
    # looked up through the index of its unique constraint
    wamid = fields.Char("WhatsApp Message ID", copy=False, readonly=True)
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
    # the download cron reads the pending ones alone: a partial index (see init)
    media_state = fields.Selection(
        [("none", "None"), ("pending", "To Download"), ("done", "Stored"), ("failed", "Failed")],
        default="none",
    )
    # not read with the other fields (the ORM copies a JSON value twice on reading): fetched
    # for the whole batch when asked for
    payload = fields.Json(help="What Meta sent for an inbound message.", prefetch=False)
    template_id = fields.Many2one("whatsapp.template", index="btree_not_null", ondelete="set null")
    template_values = fields.Json(
        help="The template's variables as sent: {location: {name: text}}."
    )
    reply_to_wamid = fields.Char("In Reply To", index="btree_not_null")
    customer_reaction = fields.Char(help="The emoji the customer reacted to this message with.")
    # What a customer message carries beyond its text, read once from Meta's webhook
    reply_id = fields.Char(
        help="The id of the reply button or list row the customer chose, or the payload of a "
        "template's quick-reply button."
    )
    reaction_emoji = fields.Char(help="A customer's reaction (empty: the reaction was removed).")
    entry_point = fields.Char(help="How the customer came: ad_referral for a click-to-WhatsApp ad.")
    click_to_chat_source = fields.Json(
        compute="_compute_click_to_chat_source",
        help="The source tag of a click-to-chat link in the text (website, product, QR code, "
        "campaign), parsed once for everything that reacts to the message.",
    )
    bot_reply = fields.Selection(
        [
            ("keyword", "Keyword Rule"),
            ("order_status", "Order Status"),
            ("invoice", "Invoices"),
            ("return", "Return"),
            ("hours", "Opening Hours"),
            ("faq", "FAQ"),
            ("flow", "Follow-up"),
            ("handoff", "Handed to a Person"),
            ("menu", "Help Menu"),
            ("missed", "Not Understood"),
        ],
        readonly=True,
        copy=False,
        help="What the bot did with this customer message (empty: nothing, e.g. a person owns "
        "the conversation).",
    )
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
    clicked_at = fields.Datetime(
        copy=False, readonly=True, help="When the customer first opened a tracked URL button."
    )
    received_at = fields.Datetime(copy=False)
    # Meta's pricing block of the status webhooks: the cost ledger is built on it.
    billable = fields.Boolean(copy=False)
    pricing_model = fields.Char(copy=False)
    pricing_category = fields.Char(copy=False, index="btree_not_null")
    pricing_type = fields.Char(copy=False)
    meta_conversation_id = fields.Char(copy=False, index="btree_not_null")
    meta_conversation_origin = fields.Char(copy=False)
    cost = fields.Float(
        compute="_compute_cost",
        store=True,
        digits=(16, 4),
        copy=False,
        aggregator="sum",
        help="What Meta charges for this message, in the company's currency, from the pricing "
        "block of its status and the rate card.",
    )
    mail_message_id = fields.Many2one("mail.message", index="btree_not_null", ondelete="set null")
    notification_key = fields.Char(  # looked up through its unique constraint's index
        copy=False,
        readonly=True,
        help="Event and record of an automatic notification: it is sent once.",
    )
    campaign_id = fields.Many2one(
        "whatsapp.campaign", index="btree_not_null", ondelete="set null", readonly=True
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

    def init(self):
        # Every outbound row (a campaign's hundred thousand) updates each index: the indexes of
        # earlier versions that a unique constraint's index repeats go, and those that held every
        # empty value are made again without them (by the registry, after init).
        # The indexes no query reads go as well: the direction's (two values, always asked with
        # the conversation, the wamid or the state) and the media state's but for the rows
        # waiting for their download.
        self.env.cr.execute(
            "DROP INDEX IF EXISTS whatsapp_message__wamid_index,"
            " whatsapp_message__notification_key_index, whatsapp_message__direction_index,"
            " whatsapp_message__media_state_index"
        )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_message_media_pending_idx
                ON whatsapp_message (id) WHERE media_state = 'pending'
            """
        )
        self.env.cr.execute(
            """
            SELECT indexname FROM pg_indexes
             WHERE tablename = 'whatsapp_message' AND indexdef NOT LIKE '%% WHERE %%'
               AND indexname IN ('whatsapp_message__reply_to_wamid_index',
                                 'whatsapp_message__pricing_category_index')
            """
        )
        for (name,) in self.env.cr.fetchall():
            self.env.cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        # the customer message before another (reactions to every inbound message ask for it)
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_message_inbound_idx
                ON whatsapp_message (conversation_id, id) WHERE direction = 'in'
            """
        )

    @api.depends("body", "direction")
    def _compute_click_to_chat_source(self):
        for message in self:
            inbound = message.direction == "in"
            message.click_to_chat_source = (
                click_to_chat.parse_source(message.body) if inbound else None
            )

    @api.depends(
        "billable", "pricing_model", "pricing_category", "pricing_type", "meta_conversation_id"
    )
    def _compute_cost(self):
        Rate = self.env["whatsapp.rate"]
        charged = self._conversations_charged_before()
        conversions = {}
        for message in self:
            if not message.billable or not message.pricing_category:
                message.cost = 0.0
                continue
            moment = message.sent_at or message.create_date or fields.Datetime.now()
            company = message.company_id or self.env.company
            country = pricing.market_of(message.conversation_id.phone_e164)
            model = (message.pricing_model or pricing.PMP).upper()
            category = pricing.normalize_category(message.pricing_category)
            if not pricing.is_charged(
                billable=message.billable,
                pricing_model=model,
                category=category,
                pricing_type=message.pricing_type,
                conversation_charged=message.id in charged,
            ):
                message.cost = 0.0
                continue
            price, currency = Rate._price(company, country, category, model, moment.date())
            message.cost = Rate._in_company_currency(
                price or 0.0, currency, company, moment.date(), conversions
            )

    @api.model
    def _cost_rollup_fields(self):
        """The stored fields of other models that only add up messages' costs: a message that
        costs nothing leaves them as they are."""
        cost = self._fields["cost"]
        return [
            field
            for field in self.pool.get_dependent_fields(cost)
            if field.model_name != self._name
            and all(dep.endswith(".cost") for dep in self.pool.field_depends[field])
        ]

    @api.model
    def _cost_by(self, field, ids, domain=None):
        """{id: cost} of the messages whose ``field`` is in ``ids`` (the stored roll-ups)."""
        ids = [i for i in ids if isinstance(i, int)]
        if not ids:
            return {}
        groups = self.sudo()._read_group(
            [(field, "in", ids), ("cost", "!=", 0), *(domain or [])], [field], ["cost:sum"]
        )
        return {(key.id if hasattr(key, "id") else key): total for key, total in groups}

    def _conversations_charged_before(self):
        """Ids of these messages whose Meta conversation (conversation-based pricing) was
        already charged on an earlier billable message: one query for the batch."""
        keyed = self.filtered(
            lambda m: m.id and m.meta_conversation_id and (m.pricing_model or "").upper() == "CBP"
        )
        if not keyed:
            return set()
        self.flush_model(["billable", "meta_conversation_id"])
        self.env.cr.execute(
            """
            SELECT m.id FROM whatsapp_message m
             WHERE m.id = ANY(%s) AND EXISTS (
                   SELECT 1 FROM whatsapp_message o
                    WHERE o.meta_conversation_id = m.meta_conversation_id AND o.billable
                      AND o.id < m.id)
            """,
            [keyed.ids],
        )
        return {row[0] for row in self.env.cr.fetchall()}

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
        messages._notify_changed()
        return messages

    @api.model
    def _insert_outbound(self, vals_list, notify=True):
        """Queue the outbound rows of a batch the conversation's send methods checked (a
        campaign's) by :meth:`_insert_rows`; the dispatcher is woken once. Returns the rows in
        the order of ``vals_list``. ``notify``: see :meth:`_insert_rows`."""
        if any(vals.get("billable") for vals in vals_list):
            raise ValueError("outbound rows are queued unbilled: Meta's status bills them")
        messages = self._insert_rows(vals_list, "out", notify=notify)
        if messages:
            self._trigger_send()
        return messages

    @api.model
    def _insert_rows(self, vals_list, direction, notify=True):
        """Rows of ``direction`` (a campaign's outbound rows, a batch of customer messages) by
        one INSERT ... SELECT per five thousand rows instead of the ORM's create (milliseconds a
        row). The INSERT writes the stored computed fields (:data:`INSERTED_COMPUTED_FIELDS`) and
        leaves the cost roll-ups alone (an unsent or received row costs nothing); what else
        depends on the rows is marked as after a create, and the screens are told (unless
        ``notify`` is false: a campaign's rows show when they are sent, a few seconds later,
        rather than every agent getting thousands of queued rows per step). Returns the rows in
        the order of ``vals_list``."""
        self._check_outbox_writer()
        if not vals_list:
            return self.browse()
        now = fields.Datetime.now()
        # what every row shares is kept once, not copied into five thousand dictionaries
        shared = {
            **self.default_get([name for name, field in self._fields.items() if field.store]),
            "direction": direction,
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
            "create_date": now,
            "write_date": now,
            "cost": 0.0,  # a stored computed field, as its compute gives it to an unbilled row
        }
        if shared.get("billable"):
            raise ValueError("rows are inserted unbilled: Meta's status bills them")
        # the conversations' account, company and partner, read as values (not as thousands of
        # records)
        self.env["whatsapp.conversation"].flush_model(["account_id", "company_id", "partner_id"])
        self.env.cr.execute(
            "SELECT id, account_id, company_id, partner_id FROM whatsapp_conversation"
            " WHERE id = ANY(%s)",
            [list({vals["conversation_id"] for vals in vals_list})],
        )
        owners = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        rows = []
        for vals in vals_list:
            account_id, company_id, partner_id = owners[vals["conversation_id"]]
            # the stored related fields, and the partner (unless given), as create gives them
            row = {
                "account_id": account_id,
                "company_id": company_id,
                "partner_id": partner_id or False,
            } | vals
            if not row.get("uuid"):
                row["uuid"] = uuid.uuid4().hex
            rows.append(row)
        ids = []
        for chunk in split_every(INSERT_CHUNK, rows):
            self.env.cr.execute(self._insert_query(chunk, shared))
            inserted = dict(self.env.cr.fetchall())
            ids.extend(inserted[row["uuid"]] for row in chunk)
        messages = self.browse(ids)
        computed_after_insert(
            messages,
            written=INSERTED_COMPUTED_FIELDS,
            unchanged=self._cost_rollup_fields(),
            rows=rows,
            shared=shared,
        )
        if notify:
            messages._notify_changed()
        return messages

    @api.model
    def _insert_query(self, rows, shared):
        """INSERT ... SELECT of ``rows`` (their own column values, each with its own uuid) and
        ``shared`` (the values of every row a row does not set) returning (uuid, id) of each: a
        value every row shares is one parameter, the others one array per column unnested
        together, and a column empty in every row is left out (NULL): a campaign's batch
        converts and sends a few columns per row instead of all fifty."""
        own = set()
        for row in rows:
            own.update(row)
        columns, selects, arrays, aliases = [], [], [], []
        for name in sorted(own | set(shared)):
            field = self._fields[name]
            if name in own:
                default = shared.get(name)
                values = [row.get(name, default) for row in rows]
            else:
                values = [shared[name]]
            first = values[0]
            if name != "uuid" and all(value == first for value in values):
                value = field.convert_to_column_insert(first, self, rows[0])
                if value is None:
                    continue
                columns.append(SQL.identifier(name))
                selects.append(SQL("%s", value))
                continue
            alias = f"c{len(arrays)}"
            columns.append(SQL.identifier(name))
            selects.append(SQL.identifier("v", alias))
            aliases.append(SQL.identifier(alias))
            converted = [
                field.convert_to_column_insert(value, self, row)
                for value, row in zip(values, rows, strict=True)
            ]
            arrays.append(SQL(f"%s::{field.column_type[0]}[]", converted))
        return SQL(
            "INSERT INTO whatsapp_message (%s) SELECT %s FROM unnest(%s) AS v(%s)"
            " RETURNING uuid, id",
            SQL(", ").join(columns),
            SQL(", ").join(selects),
            SQL(", ").join(arrays),
            SQL(", ").join(aliases),
        )

    def write(self, vals):
        if vals:
            self._check_outbox_writer()
        res = super().write(vals)
        if "state" in vals or "customer_reaction" in vals:
            self._notify_changed()
        return res

    @api.model
    def _record_click(self, token):
        """A customer opened the tracked URL button of the message whose token is ``token``:
        the first click is recorded (a second changes nothing); returns where the button
        forwards, or None for a token that is unknown, malformed or of a message without a
        tracked button. Runs as superuser for the public redirect: the token is the right."""
        if not click_tracking.is_token(token):
            return None
        message = self.sudo().search(
            [("uuid", "=", token), ("direction", "=", "out"), ("message_type", "=", "template")],
            limit=1,
        )
        keys = set(message.template_values or {}) if message else set()
        buttons = message.template_id.button_ids.sorted("sequence")
        target = next(
            (
                button.click_target_url
                for index, button in enumerate(buttons)
                if button.click_target_url and f"button_{index}" in keys
            ),
            None,
        )
        if not target:
            return None
        self.env.cr.execute(
            "UPDATE whatsapp_message SET clicked_at = now() AT TIME ZONE 'UTC'"
            " WHERE id = %s AND clicked_at IS NULL",
            [message.id],
        )
        message.invalidate_recordset(["clicked_at"])
        return target

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

    # ------------------------------------------------------------------
    # Live updates
    # ------------------------------------------------------------------

    def _notify_changed(self):
        """Tell the open screens that these messages were added or moved (a tick, a failure).

        Collected for the whole transaction and sent once before it commits, one notice per
        watcher: a status batch moving a thousand messages sends one notice, not a thousand.
        """
        if not self:
            return
        data = self.env.cr.precommit.data
        pending = data.get("whatsapp.message.changed")
        if pending is None:
            pending = data["whatsapp.message.changed"] = set()
            self.env.cr.precommit.add(self._send_changed_notices)
        pending.update(self.ids)

    @api.model
    def _send_changed_notices(self):
        ids = self.env.cr.precommit.data.pop("whatsapp.message.changed", set())
        if not ids:
            return
        # read by one query, with what the watchers depend on: a campaign's batch holds
        # thousands of messages and conversations
        self.flush_model(["conversation_id", "partner_id", "state"])
        Conversation = self.env["whatsapp.conversation"].sudo()
        Conversation.flush_model(["user_id", "team_id", "company_id"])
        self.env.cr.execute(
            """
            SELECT m.id, m.conversation_id, m.partner_id, m.state, c.user_id, c.team_id,
                   c.company_id
              FROM whatsapp_message m JOIN whatsapp_conversation c ON c.id = m.conversation_id
             WHERE m.id = ANY(%s) ORDER BY m.id
            """,
            [sorted(ids)],
        )
        by_key = defaultdict(list)
        for row in self.env.cr.fetchall():
            by_key[Conversation._watcher_key(*row[4:])].append(row[:4])
        by_user = defaultdict(list)
        for key, users in Conversation._watchers_by_key(set(by_key)).items():
            for user in users:
                by_user[user] += by_key[key]
        for user, rows in by_user.items():
            rows.sort()
            user._bus_send(
                "whatsapp_helpdesk/messages",
                {
                    "conversation_ids": list(dict.fromkeys(row[1] for row in rows)),
                    "partner_ids": list(dict.fromkeys(row[2] for row in rows if row[2])),
                    "messages": [{"id": row[0], "state": row[3]} for row in rows],
                },
            )

    @api.model
    def _trigger_send(self):
        """Wake the send job once for all the rows this transaction queues, at its commit (see
        common.trigger_cron_at_commit)."""
        # the id from the cached xmlid lookup: env.ref() would also query that the cron exists
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "whatsapp_helpdesk.ir_cron_whatsapp_send"
        )
        trigger_cron_at_commit(self.env["ir.cron"].sudo().browse(cron_id))

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
        self._after_failures()

    def _after_failures(self):
        """Meta's spam rate limit (131048) on a campaign message pauses the campaign; a customer
        who stopped marketing messages from the business (131050) is opted out of marketing."""
        self.filtered(lambda m: m.failure_type == "spam_limit").campaign_id._pause_for_spam_limit()
        stopped = self.filtered(lambda m: cloud_api.is_marketing_stop(m.error_code))
        if stopped:
            self.env["whatsapp.optin"]._record_marketing_stops(stopped)

    @api.model
    def _failure_type(self, failure_type):
        return failure_type if failure_type in FAILURE_TYPE_KEYS else "unknown_error"

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
        if new_state == "failed":
            self._after_failures()

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

    @api.model
    def _inbound_media_cap(self):
        """Bytes an inbound file may weigh to be kept in Odoo: the
        ``whatsapp_helpdesk.inbound_media_max_mb`` system parameter (1 to 100 MB, Meta's
        largest file), else 16 MB."""
        param = self.env["ir.config_parameter"].sudo().get_param(INBOUND_CAP_PARAM)
        try:
            megabytes = int(param or "")
        except (TypeError, ValueError):
            return media_limits.DEFAULT_INBOUND_MAX_BYTES
        return max(1, min(megabytes, 100)) * media_limits.MB

    def _fetch_media(self):
        self.ensure_one()
        cap = self._inbound_media_cap()
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
                if media_limits.inbound_too_large(info.get("file_size"), cap):
                    self._record_media_too_large(cap)
                    return
            content = client.download_media(url, max_bytes=cap)
        except cloud_api.CloudApiError as error:
            if error.failure_type == "media_too_large":
                self._record_media_too_large(cap)
                return
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

    def _record_media_too_large(self, cap):
        """A file over the cap stays at Meta: the thread says so instead of showing it."""
        reason = self.env._(
            "The file is larger than %(cap)s: it was not downloaded into Odoo.",
            cap=media_limits.megabytes(cap),
        )
        self.write(
            {
                "media_state": "failed",
                "failure_type": "media_too_large",
                "failure_reason": reason,
                "media_url": False,
            }
        )
        if self.mail_message_id:
            self.conversation_id.sudo().message_post(
                body=reason,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
                parent_id=self.mail_message_id.id,
            )

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
        conversations, awaiting = Conversation._for_senders(received)
        # the campaign messages they answer come first in the chatter
        awaiting._post_campaign_traces()
        MailMessage = self.env["mail.message"].sudo()
        mail_rows, wa_values = [], []
        for account, message in received:
            conversation = conversations[(account.id, message.sender)]
            moment = datetime.utcfromtimestamp(message.timestamp)
            mail_rows.append(
                Conversation._chatter_row(
                    conversation.id,
                    conversation.name,
                    MailMessage._whatsapp_paragraph(message.text),
                    conversation.partner_id.id,
                    date=moment,
                )
            )
            wa_values.append(self._inbound_values(conversation, message, moment))
        mail_messages = MailMessage._whatsapp_insert(mail_rows)
        for values, mail_message in zip(wa_values, mail_messages, strict=True):
            values["mail_message_id"] = mail_message.id
        created = self.sudo()._insert_rows(wa_values, "in")
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

    def _previous_inbound(self):
        """{message id: (id, received_at) of the customer message before it in its conversation,
        or None} for these customer messages: one query for a whole batch (reactions ask it for
        every message)."""
        inbound = self.filtered(lambda m: m.direction == "in").sorted("id")
        first = {}
        for message in inbound:
            first.setdefault(message.conversation_id.id, message.id)
        before = {}
        if first:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT v.conversation_id, m.id, m.received_at
                      FROM (VALUES %s) AS v(conversation_id, first_id)
                      CROSS JOIN LATERAL (
                          SELECT id, received_at FROM whatsapp_message
                           WHERE conversation_id = v.conversation_id AND direction = 'in'
                             AND id < v.first_id
                           ORDER BY id DESC LIMIT 1) m
                    """,
                    SQL(", ").join(SQL("(%s, %s)", cid, mid) for cid, mid in first.items()),
                )
            )
            before = {cid: (mid, at) for cid, mid, at in self.env.cr.fetchall()}
        previous = {}
        for message in inbound:
            previous[message.id] = before.get(message.conversation_id.id)
            before[message.conversation_id.id] = (message.id, message.received_at)
        return previous

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
