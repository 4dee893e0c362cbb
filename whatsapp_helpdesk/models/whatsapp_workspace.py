import base64
import binascii
import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import escape_psql, html2plaintext

from ..tools import formatting
from ..tools import messages as wa_messages

TABS = ("mine", "unassigned", "team", "all")
MAX_PAGE = 100
MAX_SEARCH = 200
MAX_TEXT = 4096
# A base64 text this long holds more than the largest file Meta takes (documents, 100 MB).
MAX_UPLOAD_B64 = (max(wa_messages.MEDIA_MAX_BYTES.values()) * 4) // 3 + 8
PREVIEW_LENGTH = 80


def _positive_int(value, default, maximum):
    """``value`` as an int in [1, maximum]; ``default`` for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return max(1, min(value, maximum))


def _text(value, maximum):
    return value[:maximum] if isinstance(value, str) else ""


def _iso(moment):
    return fields.Datetime.to_string(moment) if moment else False


class WhatsappWorkspace(models.AbstractModel):
    """What the agents' chat workspace (static/src/workspace) asks the server: the conversation
    list, a thread, the customer, and the sends. Every method runs with the agent's rights (the
    record rules decide what they see); the sends go through the conversation's send methods."""

    _name = "whatsapp.workspace"
    _description = "WhatsApp Workspace"

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------

    @api.model
    def _readable(self, model, record_id):
        """The record ``record_id`` of ``model`` if it exists and the user may read it, else an
        error (the id comes from the browser: anything may come)."""
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise ValidationError(
                self.env._("%(model)s ids are numbers.", model=self.env[model]._description)
            )
        record = self.env[model].browse(record_id).exists()
        if not record:
            raise UserError(
                self.env._("This %(model)s no longer exists.", model=self.env[model]._description)
            )
        record.check_access("read")
        return record

    @api.model
    def _conversation(self, conversation_id):
        return self._readable("whatsapp.conversation", conversation_id)

    @api.model
    def _tab_domain(self, tab):
        uid = self.env.uid
        return {
            "mine": [("user_id", "=", uid), ("state", "=", "open")],
            # the customer wrote: what only we started (a campaign, a notification) is no work
            "unassigned": [
                ("user_id", "=", False),
                ("state", "=", "open"),
                ("first_inbound_at", "!=", False),
            ],
            "team": [("team_id.user_ids", "in", uid), ("state", "=", "open")],
            "all": [],
        }[tab]

    @api.model
    def load_conversations(self, tab="mine", search="", limit=40):
        """The conversations of a tab (Mine, Unassigned, My team, All), newest first, with the
        count of each tab."""
        tab = tab if tab in TABS else "mine"
        limit = _positive_int(limit, 40, MAX_PAGE)
        search = _text(search, MAX_SEARCH).strip()
        Conversation = self.env["whatsapp.conversation"]
        domain = self._tab_domain(tab)
        if search:
            domain = domain + [
                "|",
                "|",
                ("name", "ilike", search),
                ("phone_e164", "ilike", search),
                ("partner_id.name", "ilike", search),
            ]
        conversations = Conversation.search(domain, limit=limit)
        counts = {
            name: Conversation.search_count(self._tab_domain(name) + [("unread_count", ">", 0)])
            for name in TABS
            if name != "all"
        }
        return {
            "conversations": self._conversation_cards(conversations),
            "unread": counts,
            "now": _iso(fields.Datetime.now()),
        }

    @api.model
    def _conversation_cards(self, conversations):
        last = self._last_messages(conversations)
        return [
            {
                "id": c.id,
                "name": c.partner_id.name or c.profile_name or c.phone_e164 or c.wa_username,
                "partner_id": c.partner_id.id,
                "phone": c.phone_e164 or "",
                "unread": c.unread_count,
                "state": c.state,
                "inbox_state": c.inbox_state,
                "window_end": _iso(c.window_end),
                "window_open": c.window_open,
                "sla": self._sla_colour(c),
                "user": c.user_id.name or "",
                "user_id": c.user_id.id,
                "team": c.team_id.name or "",
                "language": c.language or "",
                "last_at": _iso(c.last_message_at),
                "preview": last.get(c.id, {}),
            }
            for c in conversations
        ]

    @api.model
    def _last_messages(self, conversations):
        """{conversation id: {body, direction, type}} of each one's newest message."""
        if not conversations:
            return {}
        groups = (
            self.env["whatsapp.message"]
            .sudo()
            ._read_group(
                [("conversation_id", "in", conversations.ids), ("message_type", "!=", "reaction")],
                ["conversation_id"],
                ["id:max"],
            )
        )
        newest = self.env["whatsapp.message"].sudo().browse([mid for _c, mid in groups])
        return {
            m.conversation_id.id: {
                "body": (m.body or m.media_filename or m.message_type or "")[:PREVIEW_LENGTH],
                "direction": m.direction,
                "type": m.message_type,
                "state": m.state,
            }
            for m in newest
        }

    @api.model
    def _sla_colour(self, conversation):
        """success / warning / danger: where the request's service level stands, in the team's
        working hours, as the inbox cards and the SLA cron see it (``whatsapp_sla_state``);
        success once answered, nothing while no clock runs."""
        if conversation.sla_breached:
            return "danger"
        state = conversation.whatsapp_sla_state
        if state:
            return {"green": "success", "amber": "warning", "red": "danger"}[state]
        return "success" if conversation.first_response_at else ""

    @api.model
    def load_thread(self, conversation_id, before_id=None, limit=30):
        """The conversation and a page of its messages, oldest first: the newest ``limit``
        before ``before_id`` (the oldest one shown), so that history loads as one scrolls up."""
        conversation = self._conversation(conversation_id)
        limit = _positive_int(limit, 30, MAX_PAGE)
        domain = [("conversation_id", "=", conversation.id), ("message_type", "!=", "reaction")]
        if isinstance(before_id, int) and not isinstance(before_id, bool):
            domain.append(("id", "<", before_id))
        messages = self.env["whatsapp.message"].search(domain, limit=limit + 1, order="id desc")
        return {
            "conversation": self._conversation_cards(conversation)[0],
            "messages": self._bubbles(messages[:limit].sorted("id")),
            "has_more": len(messages) > limit,
            "can_reply": self._can_reply(conversation),
        }

    @api.model
    def load_messages(self, conversation_id, message_ids):
        """Some messages of a conversation again (a tick moved, a message arrived)."""
        conversation = self._conversation(conversation_id)
        if not isinstance(message_ids, list):
            raise ValidationError(self.env._("Message ids come as a list."))
        ids = [i for i in message_ids[:MAX_PAGE] if isinstance(i, int) and not isinstance(i, bool)]
        messages = self.env["whatsapp.message"].search(
            [("conversation_id", "=", conversation.id), ("id", "in", ids)], order="id"
        )
        return self._bubbles(messages.filtered(lambda m: m.message_type != "reaction"))

    @api.model
    def _can_reply(self, conversation):
        try:
            conversation._check_can_reply()
        except UserError as error:
            return str(error)
        return True

    @api.model
    def _bubbles(self, messages):
        """Messages as the thread draws them: text, media, the message they quote, reactions."""
        quoted = {
            m.wamid: m
            for m in self.env["whatsapp.message"]
            .sudo()
            .search([("wamid", "in", [w for w in messages.mapped("reply_to_wamid") if w])])
        }
        bot = self.env.ref("base.partner_root")
        bubbles = []
        for message in messages:
            attachment = message.attachment_id.sudo()
            quote = quoted.get(message.reply_to_wamid)
            author = message.mail_message_id.sudo().author_id
            bubbles.append(
                {
                    "id": message.id,
                    "direction": message.direction,
                    "type": message.message_type,
                    "body": message.body or "",
                    "state": message.state,
                    "failure": message.failure_reason or "",
                    "at": _iso(message.received_at or message.create_date),
                    "by_bot": message.direction == "out" and author == bot,
                    "author": author.name if message.direction == "out" else "",
                    "attachment": {
                        "id": attachment.id,
                        "name": attachment.name,
                        "mimetype": attachment.mimetype,
                        "url": f"/web/content/{attachment.id}",
                    }
                    if attachment
                    else False,
                    "media_state": message.media_state,
                    "quote": {
                        "id": quote.id,
                        "body": (quote.body or quote.media_filename or "")[:PREVIEW_LENGTH],
                    }
                    if quote and quote.conversation_id == message.conversation_id
                    else False,
                    "reaction": message.customer_reaction or "",
                    "template": message.template_id.display_name or "",
                }
            )
        return bubbles

    @api.model
    def _money(self, amount, currency):
        """``amount`` as the agent writes money: R$ 1.234,56 in Portuguese, R$1,234.56 in English"""
        return formatting.format_money(
            amount, currency.name, self.env.lang or "en_US", digits=currency.decimal_places
        )

    @api.model
    def load_customer(self, conversation_id):
        """The right-hand panel: the customer, their open orders, invoices, tickets, opt-ins."""
        conversation = self._conversation(conversation_id)
        partner = conversation.partner_id
        commercial = partner.commercial_partner_id
        Order = self.env["sale.order"]
        Move = self.env["account.move"]
        orders, invoices = [], []
        if partner and Order.has_access("read"):
            orders = [
                {
                    "id": o.id,
                    "name": o.name,
                    "state": dict(o._fields["state"]._description_selection(self.env))[o.state],
                    "amount": self._money(o.amount_total, o.currency_id),
                }
                for o in Order.search(
                    [
                        ("partner_id", "child_of", commercial.id),
                        ("state", "in", ("draft", "sent", "sale")),
                    ],
                    limit=5,
                    order="id desc",
                )
            ]
        if partner and Move.has_access("read"):
            invoices = [
                {
                    "id": m.id,
                    "name": m.name,
                    "amount": self._money(m.amount_residual, m.currency_id),
                    "state": m.payment_state,
                }
                for m in Move.search(
                    [
                        ("partner_id", "child_of", commercial.id),
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                        ("payment_state", "in", ("not_paid", "partial")),
                    ],
                    limit=5,
                    order="id desc",
                )
            ]
        tickets = [
            {"id": t.id, "name": t.name, "stage": t.stage_id.name}
            for t in conversation.ticket_ids.filtered(lambda t: not t.closed)
        ]
        optins = [
            {"category": o.category, "state": o.state}
            for o in self.env["whatsapp.optin"].search(
                [("phone_e164", "=", conversation.phone_e164 or "-")]
            )
        ]
        can_edit = bool(partner) and partner.has_access("write")
        return {
            "partner": {
                "id": partner.id,
                "name": partner.name,
                "phone": partner.mobile or partner.phone or "",
                "email": partner.email or "",
                "city": partner.city or "",
                "country": partner.country_id.name or "",
                "tags": [{"id": t.id, "name": t.name} for t in partner.category_id],
                "note": html2plaintext(partner.comment or "") if partner.comment else "",
                "can_edit": can_edit,
            }
            if partner
            else False,
            "profile_name": conversation.profile_name or "",
            "phone": conversation.phone_e164 or "",
            "language": conversation.language or "",
            "language_source": conversation.language_source or "",
            "languages": self.env["res.lang"].get_installed(),
            "orders": orders,
            "invoices": invoices,
            "tickets": tickets,
            "optins": optins,
            "state": conversation.state,
            "user_id": conversation.user_id.id,
        }

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------

    @api.model
    def send_text(self, conversation_id, body, reply_to_id=None):
        """Send ``body``, quoting the message ``reply_to_id`` of the same conversation."""
        conversation = self._conversation(conversation_id)
        body = _text(body, MAX_TEXT)
        conversation._check_can_reply()
        reply_to = self._quoted(conversation, reply_to_id)
        message = conversation._send_text(body, reply_to=reply_to)
        conversation.action_mark_seen()
        return self._bubbles(message)

    @api.model
    def _quoted(self, conversation, message_id):
        if message_id in (None, False):
            return None
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise ValidationError(self.env._("A message id is a number."))
        quoted = self.env["whatsapp.message"].search(
            [("id", "=", message_id), ("conversation_id", "=", conversation.id)]
        )
        return quoted.wamid or None

    @api.model
    def send_file(self, conversation_id, name, mimetype, data, caption=""):
        """Send a file the agent dropped (base64 ``data``) as WhatsApp media; the conversation
        checks it against Meta's limits before anything is queued."""
        conversation = self._conversation(conversation_id)
        if not isinstance(data, str) or not data or len(data) > MAX_UPLOAD_B64:
            raise UserError(self.env._("The file is empty or larger than WhatsApp takes."))
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as error:
            raise UserError(self.env._("The file could not be read.")) from error
        mimetype = _text(mimetype, 100) or "application/octet-stream"
        if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", mimetype):
            mimetype = "application/octet-stream"
        attachment = self.env["ir.attachment"].create(
            {
                "name": _text(name, 200) or "file",
                "raw": raw,
                "mimetype": mimetype,
                "res_model": "whatsapp.conversation",
                "res_id": conversation.id,
            }
        )
        message = conversation._send_media(
            attachment, caption=_text(caption, wa_messages.MAX_CAPTION)
        )
        conversation.action_mark_seen()
        return self._bubbles(message)

    @api.model
    def _template_record(self, conversation, template):
        """The record whose fields fill ``template`` for this customer: the customer, or their
        latest record of the template's model (an order for an order template); None when they
        have none the user may read."""
        partner = conversation.partner_id
        if not template.model or template.model == "res.partner":
            return partner
        Model = self.env[template.model]
        if not partner or "partner_id" not in Model._fields or not Model.has_access("read"):
            return None
        return (
            Model.search(
                [("partner_id", "child_of", partner.commercial_partner_id.id)],
                limit=1,
                order="id desc",
            )
            or None
        )

    @api.model
    def template_options(self, conversation_id):
        """The approved templates this customer can get, each language variant with its preview
        filled with the customer's values (an order template with their latest order); the
        customer's own language first."""
        conversation = self._conversation(conversation_id)
        templates = self.env["whatsapp.template"].search(
            [("status", "=", "approved"), ("account_id", "=", conversation.account_id.id)]
        )
        options = []
        prices = {}  # template category -> the price estimate, once per category
        for template in templates:
            record = self._template_record(conversation, template)
            if record is None:
                continue
            try:
                values = template._render_values(
                    record, conversation.partner_id, conversation.language
                )
                preview = template._preview_for(values)
            except UserError as error:
                preview = str(error)
            chosen = template._variant_for(conversation.partner_id, conversation.language)
            if template.category not in prices:
                prices[template.category] = conversation._price_estimate(template)
            options.append(
                {
                    "id": template.id,
                    "name": template.name,
                    "language": template.language,
                    "record": record.display_name if record != conversation.partner_id else "",
                    "preview": preview,
                    "customer_language": chosen == template,
                    "price": prices[template.category] or "",
                }
            )
        options.sort(key=lambda o: (o["name"], not o["customer_language"], o["language"]))
        return options

    @api.model
    def send_template(self, conversation_id, template_id):
        """Send this very template variant (the agent chose its language), filled as previewed."""
        conversation = self._conversation(conversation_id)
        template = self._readable("whatsapp.template", template_id)
        conversation._check_can_reply()
        record = self._template_record(conversation, template)
        if record is None:
            raise UserError(
                self.env._(
                    "%(name)s has no %(model)s to fill this template with.",
                    name=conversation.name,
                    model=self.env[template.model]._description,
                )
            )
        message = conversation._send_template(template, record=record, exact=True)
        conversation.action_mark_seen()
        return self._bubbles(message)

    @api.model
    def canned_responses(self, conversation_id, search=""):
        """Quick replies (Odoo's canned responses) whose shortcut starts with ``search``, filled
        in for this customer."""
        conversation = self._conversation(conversation_id)
        search = _text(search, 50).strip().lstrip("/")
        responses = self.env["mail.canned.response"].search(
            [("source", "=ilike", f"{escape_psql(search)}%")] if search else [],
            limit=10,
            order="source",
        )
        partner = conversation.partner_id
        composer = self.env["whatsapp.composer"]
        return [
            {
                "id": r.id,
                "source": r.source,
                "text": composer._fill_placeholders(r.substitution, partner, conversation),
            }
            for r in responses
        ]

    @api.model
    def set_language(self, conversation_id, code):
        """An agent corrects the customer's language (False: back to what is inferred)."""
        conversation = self._conversation(conversation_id)
        if code is not False and not isinstance(code, str):
            raise ValidationError(self.env._("A language is a code such as pt_BR."))
        conversation.write({"language_override": code or False})
        return conversation.language

    @api.model
    def save_customer(self, conversation_id, note=None, tag_ids=None):
        """The agent edits the customer's notes and tags."""
        conversation = self._conversation(conversation_id)
        partner = conversation.partner_id
        if not partner:
            raise UserError(self.env._("Link or create the customer first."))
        values = {}
        if note is not None:
            values["comment"] = _text(note, 10000)
        if tag_ids is not None:
            if not isinstance(tag_ids, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in tag_ids
            ):
                raise ValidationError(self.env._("Tags come as a list of ids."))
            tags = self.env["res.partner.category"].browse(tag_ids[:50]).exists()
            values["category_id"] = [fields.Command.set(tags.ids)]
        partner.write(values)
        return self.load_customer(conversation_id)

    @api.model
    def set_partner(self, conversation_id, partner_id=None, name=None):
        """Link the conversation to an existing contact, or create one named ``name``."""
        conversation = self._conversation(conversation_id)
        conversation.check_access("write")
        if partner_id is not None:
            partner = self._readable("res.partner", partner_id)
        else:
            name = _text(name, 200).strip()
            if not name:
                raise UserError(self.env._("The new contact needs a name."))
            partner = self.env["res.partner"].create(
                {"name": name, "mobile": conversation.phone_e164 or False}
            )
        conversation.write({"partner_id": partner.id})
        return self.load_customer(conversation_id)
