from collections import defaultdict
from datetime import datetime

import psycopg2
from markupsafe import escape
from odoo import api, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..tools import click_to_chat
from ..tools import phone as wa_phone

# Where the tracking notes of a batch wait for their one create (see _message_track).
TRACKING_LOGS = "whatsapp.tracking_logs"


class WhatsappConversation(models.Model):
    """How customer messages reach their conversations (called by the webhook processing, in
    bulk): conversations found or created per sender, their window moved, then the reactions."""

    _inherit = "whatsapp.conversation"

    @api.model
    def _for_senders(self, received):
        """({(account id, sender): conversation}, awaiting) for customer messages ``received``,
        a list of ``(account, tools.webhook.InboundMessage)``; ``awaiting``: those of the
        conversations with campaign messages waiting for their chatter trace (see
        ``_post_campaign_traces``), told by the query that finds them.

        A sender with a number is matched by E.164 (partners too); a sender known only by a
        business-scoped user id (a username) by that id, and a conversation first opened by
        user id learns the number when Meta shares it. A sender without a partner gets one,
        named after the WhatsApp profile. Everything is looked up and created in bulk: a batch
        holds hundreds of customers.
        """
        Conversation = self.sudo()
        senders = {}
        for account, message in received:
            senders.setdefault((account, message.sender), message)
        numbers = {
            key: wa_phone.wa_id_to_e164(m.wa_id) or f"+{wa_phone.digits(m.wa_id)}"
            for key, m in senders.items()
            if m.wa_id
        }
        user_ids = {key: m.user_id for key, m in senders.items() if m.user_id}
        account_ids = list({account.id for account, _s in senders})
        by_number, by_user = {}, {}
        awaiting = Conversation
        if numbers:
            found, traces = Conversation._find_for_intake("phone_e164", account_ids, numbers)
            awaiting |= traces
            for c in found:
                by_number[(c.account_id.id, c.phone_e164)] = c
        if user_ids:
            found, traces = Conversation._find_for_intake("wa_user_id", account_ids, user_ids)
            awaiting |= traces
            for c in found:
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
        Partner = self.env["res.partner"].sudo()
        partners = Partner._whatsapp_for_numbers(
            {numbers[key]: m.profile_name for key, m in missing_partner.items() if key in numbers}
        )
        partners.update(
            Partner._whatsapp_for_users(
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
        conversations = {(account.id, sender): c for (account, sender), c in found.items()}
        return conversations, awaiting

    @api.model
    def _find_for_intake(self, column, account_ids, handles):
        """(conversations, awaiting): the conversations of ``account_ids`` whose ``column``
        (``phone_e164`` or ``wa_user_id``) is one of the values of ``handles``, and those of
        them with campaign messages waiting for their chatter trace, from one query (the intake
        asks for every batch, and most never see a campaign)."""
        self.flush_model(["account_id", column])
        self.env.cr.execute(
            SQL(
                """
                SELECT c.id, EXISTS (SELECT 1 FROM whatsapp_message m
                                      WHERE m.conversation_id = c.id AND %s)
                  FROM whatsapp_conversation c
                 WHERE c.account_id = ANY(%s) AND %s = ANY(%s)
                """,
                self._trace_awaited_sql(),
                account_ids,
                SQL.identifier("c", column),
                sorted(set(handles.values())),
            )
        )
        rows = self.env.cr.fetchall()
        found = self.browse([cid for cid, _awaiting in rows])
        return found, self.browse([cid for cid, awaiting in rows if awaiting])

    @api.model
    def _create_conversations(self, vals_list):
        """Create conversations in one go; under a concurrent creator, fall back one by one.

        Returns {(account id, E.164 or "user:<BSUID>"): conversation}.
        """
        Conversation = self.sudo()
        if not vals_list:
            return {}
        # a customer known by number alone (the usual case): inserted by SQL, as a campaign's
        # batch (the ORM's create costs milliseconds a conversation); the window, profile and
        # username come with the message (_record_inbound)
        by_number = defaultdict(dict)
        for vals in vals_list:
            if vals["phone_e164"] and not vals["wa_user_id"]:
                partner = self.env["res.partner"].browse(vals["partner_id"])
                by_number[vals["account_id"]][vals["phone_e164"]] = partner
        found = {}
        for account_id, partners in by_number.items():
            account = self.env["whatsapp.account"].browse(account_id)
            for number, conversation in Conversation._get_or_create_many(account, partners).items():
                found[(account_id, number)] = conversation
        vals_list = [
            vals for vals in vals_list if (vals["account_id"], vals["phone_e164"]) not in found
        ]
        if not vals_list:
            return found
        try:
            with self.env.cr.savepoint():
                created = Conversation.with_context(
                    mail_create_nosubscribe=True, tracking_disable=True
                ).create(vals_list)
        except psycopg2.errors.UniqueViolation:
            created = Conversation
            for vals in vals_list:
                created |= self._get_or_create(
                    self.env["whatsapp.account"].browse(vals["account_id"]),
                    vals["phone_e164"],
                    wa_id=vals["wa_id"],
                    partner=self.env["res.partner"].browse(vals["partner_id"]),
                    profile_name=vals["profile_name"],
                    wa_user_id=vals["wa_user_id"],
                )
        found.update(
            {(c.account_id.id, c.phone_e164 or f"user:{c.wa_user_id}"): c for c in created}
        )
        return found

    # Fields a customer message moves, written in one statement for a whole batch; the stored
    # computes that depend on them (window, inbox state, name) are then recomputed by the ORM.
    _INBOUND_FIELDS = [
        "state",
        "wa_id",
        "profile_name",
        "wa_username",
        "last_inbound_at",
        "first_inbound_at",
        "last_message_at",
        "last_direction",
        "unread_count",
    ]
    # What a customer writing after the conversation was closed starts afresh: a new request,
    # whose service levels count from its first message (the closed one stays in the reports).
    _PERIOD_FIELDS = [
        "service_started_at",
        "first_response_at",
        "first_response_hours",
        "resolved_at",
        "resolution_hours",
        "whatsapp_sla_first_response_breached",
        "whatsapp_sla_resolution_breached",
    ]

    @api.model
    def _record_inbound(self, received, conversations):
        """Reopen the conversations of customer messages ``received`` and move their window.

        ``received``: [(account, tools.webhook.InboundMessage)]; ``conversations``: what
        :meth:`_for_senders` gave for them. One statement for the batch: an ORM write per
        conversation (with its tracking) costs more than everything else the batch does. The
        window end and inbox state follow from their computes, the only place that knows them.
        """
        latest, count = {}, defaultdict(int)
        for account, message in received:
            conversation = conversations[(account.id, message.sender)]
            count[conversation.id] += 1
            current = latest.get(conversation.id)
            if current is None or message.timestamp >= current.timestamp:
                latest[conversation.id] = message
        if not latest:
            return
        rows = [
            SQL(
                "(%s, %s::timestamp, %s, %s, %s, %s)",
                conversation_id,
                datetime.utcfromtimestamp(message.timestamp),
                message.wa_id or None,
                message.profile_name or None,
                message.username or None,
                count[conversation_id],
            )
            for conversation_id, message in latest.items()
        ]
        self.env.flush_all()
        touched = self.browse(list(latest))
        starting = touched.filtered(lambda c: c.state == "closed" or not c.service_started_at)
        reopened = starting.filtered(lambda c: c.state == "closed")
        if reopened:
            self.env["whatsapp.report.service"]._record_periods(reopened, reopened=True)
        self.env.cr.execute(
            SQL(
                """
                UPDATE whatsapp_conversation c
                   SET state = 'open',
                       service_started_at = CASE WHEN c.state = 'closed' THEN v.at
                                                 ELSE COALESCE(c.service_started_at, v.at) END,
                       first_response_at = CASE WHEN c.state = 'closed' THEN NULL
                                                ELSE c.first_response_at END,
                       first_response_hours = CASE WHEN c.state = 'closed' THEN 0
                                                   ELSE c.first_response_hours END,
                       resolved_at = CASE WHEN c.state = 'closed' THEN NULL ELSE c.resolved_at END,
                       resolution_hours = CASE WHEN c.state = 'closed' THEN 0
                                               ELSE c.resolution_hours END,
                       whatsapp_sla_first_response_breached =
                           c.whatsapp_sla_first_response_breached AND c.state != 'closed',
                       whatsapp_sla_resolution_breached =
                           c.whatsapp_sla_resolution_breached AND c.state != 'closed',
                       last_direction = 'in',
                       unread_count = COALESCE(c.unread_count, 0) + v.received,
                       wa_id = COALESCE(v.wa_id, c.wa_id),
                       profile_name = COALESCE(v.profile, c.profile_name),
                       wa_username = COALESCE(v.username, c.wa_username),
                       last_inbound_at = GREATEST(c.last_inbound_at, v.at),
                       first_inbound_at = COALESCE(c.first_inbound_at, v.at),
                       last_message_at = GREATEST(c.last_message_at, v.at),
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %s
                  FROM (VALUES %s) AS v(id, at, wa_id, profile, username, received)
                 WHERE c.id = v.id
                """,
                self.env.uid,
                SQL(", ").join(rows),
            )
        )
        touched.invalidate_recordset(self._INBOUND_FIELDS + self._PERIOD_FIELDS)
        touched.modified(self._INBOUND_FIELDS)
        starting.modified(self._PERIOD_FIELDS)

    def _message_track(self, fields_iter, initial_values_dict):
        """Odoo's tracking of these conversations (routing gives hundreds a team or an agent in
        one batch), its notes logged with one create for all of them: Odoo logs each by itself
        (its author, reply-to and a create per conversation, a tenth of the reactions' cost).
        A change with a subtype is posted by Odoo as before."""
        data = self.env.cr.precommit.data
        logs = data[TRACKING_LOGS] = []
        try:
            tracking = super()._message_track(fields_iter, initial_values_dict)
        finally:
            data.pop(TRACKING_LOGS, None)
        self._log_tracking(logs)
        return tracking

    def _message_log(self, **kwargs):
        """Within :meth:`_message_track`, a tracking note is collected for one create."""
        logs = self.env.cr.precommit.data.get(TRACKING_LOGS)
        if logs is None or set(kwargs) - {"body", "author_id", "tracking_value_ids"}:
            return super()._message_log(**kwargs)
        self.ensure_one()
        logs.append((self.id, kwargs))
        return self.env["mail.message"]

    @api.model
    def _log_tracking(self, logs):
        """The notes of ``logs``, [(conversation id, ``_message_log`` arguments)], as Odoo's
        ``_message_log_batch`` writes them, with one create (author and reply-to worked out once
        per author)."""
        if not logs:
            return
        subtype = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        senders = {}
        values_list = []
        for conversation_id, kwargs in logs:
            author = kwargs.get("author_id")
            if author not in senders:
                author_id, email_from = self._message_compute_author(
                    author, None, raise_on_email=False
                )
                reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
                senders[author] = (author_id, email_from, reply_to)
            author_id, email_from, reply_to = senders[author]
            values_list.append(
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "model": self._name,
                    "res_id": conversation_id,
                    "record_alias_domain_id": False,
                    "record_company_id": False,
                    "record_name": False,
                    "body": escape(kwargs.get("body") or ""),
                    "message_type": "notification",
                    "is_internal": True,
                    "subject": False,
                    "subtype_id": subtype,
                    "tracking_value_ids": kwargs.get("tracking_value_ids") or False,
                    "email_add_signature": False,
                    "message_id": generate_tracking_message_id("message-notify"),
                    "reply_to": reply_to,
                }
            )
        self.sudo()._message_create(values_list)

    @api.model
    def _on_inbound(self, messages):
        """What follows new customer messages (run once they are stored, isolated from them).

        The conversation's own reactions: the entry point of an ad, the language the customer
        writes in, the skills the customer names,
        routing to a team and an agent, live notices to the agents; then the models that inherit
        whatsapp.inbound.hook (opt-out keywords, order links, tickets, automatic answers).
        """
        self._remember_entry_points(messages)
        messages.conversation_id._learn_language(messages.filtered("body"))
        Team = self.env["helpdesk.ticket.team"].sudo()
        Team._whatsapp_tag_skills(messages.filtered("body"))
        messages.conversation_id._route()
        messages.conversation_id._notify_agents()
        for model in self._inbound_reactors():
            self.env[model]._whatsapp_on_inbound(messages)

    @api.model
    def _inbound_reactors(self):
        """The models that react to customer messages (see whatsapp.inbound.hook), in order."""
        names = self.env.registry.descendants(["whatsapp.inbound.hook"], "_inherit")
        models_ = [self.env[name] for name in names if not self.env[name]._abstract]
        return [m._name for m in sorted(models_, key=lambda m: m._whatsapp_inbound_sequence)]

    @api.model
    def _remember_entry_points(self, messages):
        """A first message from a click-to-WhatsApp ad, or carrying the tag of a click-to-chat
        link (a website button, a QR code), is an entry point: routing uses it."""
        for message in messages:
            if message.conversation_id.source:
                continue
            entry_point = message.entry_point or click_to_chat.source_kind(
                message.click_to_chat_source
            )
            if entry_point:
                message.conversation_id.sudo().source = entry_point
