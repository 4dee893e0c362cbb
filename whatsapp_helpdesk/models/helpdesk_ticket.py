from odoo import api, fields, models
from odoo.tools import html2plaintext, plaintext2html


class HelpdeskTicket(models.Model):
    _name = "helpdesk.ticket"
    _inherit = [
        "helpdesk.ticket",
        "whatsapp.inbound.hook",
        "whatsapp.sla.mixin",
        "whatsapp.cost.rollup",
    ]
    _whatsapp_inbound_sequence = 30
    _whatsapp_sla_start_fields = ("create_date",)
    _whatsapp_sla_response_field = "whatsapp_first_response_at"
    _whatsapp_sla_resolved_field = "closed_date"
    _whatsapp_sla_open_domain = (("closed", "=", False),)
    _whatsapp_sla_scope_depends = ("whatsapp_conversation_id",)

    whatsapp_conversation_id = fields.Many2one(
        "whatsapp.conversation", "WhatsApp Conversation", index="btree_not_null", copy=False
    )
    whatsapp_message_ids = fields.One2many(
        related="whatsapp_conversation_id.whatsapp_message_ids", string="WhatsApp Messages"
    )
    whatsapp_window_open = fields.Boolean(related="whatsapp_conversation_id.window_open")

    whatsapp_csat = fields.Selection(
        [("good", "Satisfied"), ("ok", "Neutral"), ("bad", "Dissatisfied")],
        "Customer Satisfaction",
        readonly=True,
        copy=False,
        tracking=True,
    )
    whatsapp_csat_at = fields.Datetime("Rated On", readonly=True, copy=False)
    whatsapp_csat_requested = fields.Boolean(readonly=True, copy=False)
    whatsapp_first_response_at = fields.Datetime(readonly=True, copy=False)
    whatsapp_first_response_hours = fields.Float(
        "First Response (working h)", readonly=True, copy=False
    )
    whatsapp_resolution_hours = fields.Float(
        "Resolution (working h)",
        compute="_compute_whatsapp_resolution_hours",
        store=True,
        help="From creation to closing, in the team's WhatsApp working hours.",
    )

    def _whatsapp_sla_scope(self):
        """The team's WhatsApp targets apply to the tickets of WhatsApp conversations."""
        return self.filtered("whatsapp_conversation_id")

    @api.depends("closed_date", "team_id.whatsapp_calendar_id")
    def _compute_whatsapp_resolution_hours(self):
        for ticket in self:
            ticket.whatsapp_resolution_hours = (
                ticket.team_id._whatsapp_work_hours(ticket.create_date, ticket.closed_date)
                if ticket.closed_date
                else 0.0
            )

    def write(self, vals):
        res = super().write(vals)
        if vals.get("stage_id"):
            closed = self.filtered(
                lambda t: t.closed and t.whatsapp_conversation_id and not t.whatsapp_csat_requested
            )
            closed._whatsapp_ask_satisfaction()
            (self - closed)._whatsapp_notify_stage()
        return res

    def _whatsapp_notify_stage(self):
        """Tell the customer about the new stage with the team's approved template, if any."""
        for ticket in self.filtered(lambda t: t.whatsapp_conversation_id and not t.closed):
            template = ticket.team_id.whatsapp_stage_template_id
            conversation = ticket.whatsapp_conversation_id.sudo()
            if template and template.status == "approved":
                if not ticket._whatsapp_note_unsendable(conversation, template):
                    conversation._send_template(template, record=ticket)

    def _whatsapp_ask_satisfaction(self):
        """On close, ask how it went: reply buttons inside the window, a template after it."""
        for ticket in self:
            conversation = ticket.whatsapp_conversation_id.sudo()
            question = self.env._(
                "Your request %(number)s is solved. How did we do?", number=ticket.number
            )
            if conversation.window_open:
                conversation._send_bot_text(question, buttons=ticket._whatsapp_csat_buttons())
            else:
                template = ticket.team_id.whatsapp_csat_template_id
                if not template or template.status != "approved":
                    ticket.message_post(
                        body=self.env._(
                            "No satisfaction question sent: the 24-hour window is closed and "
                            "the team has no approved satisfaction template."
                        ),
                        subtype_xmlid="mail.mt_note",
                    )
                    continue
                if ticket._whatsapp_note_unsendable(conversation, template):
                    continue
                conversation._send_template(template, record=ticket)
            ticket.whatsapp_csat_requested = True

    def _whatsapp_note_unsendable(self, conversation, template):
        """Whether ``template`` may not go to the customer now; if so, say why on the ticket (a
        customer who opted out never blocks the agent's work on the ticket)."""
        self.ensure_one()
        problem = conversation._send_problem(template)
        if problem:
            self.message_post(
                body=self.env._("Nothing sent on WhatsApp: %(reason)s", reason=problem[1]),
                subtype_xmlid="mail.mt_note",
            )
        return bool(problem)

    def _whatsapp_csat_buttons(self):
        self.ensure_one()
        return [
            (f"csat:{self.id}:good", self.env._("😀 Great")),
            (f"csat:{self.id}:ok", self.env._("😐 OK")),
            (f"csat:{self.id}:bad", self.env._("😞 Bad")),
        ]

    @api.model
    def _whatsapp_record_satisfaction(self, reply_id, conversation):
        """``csat:<ticket id>:<score>`` from a reply button or a template quick reply."""
        try:
            _prefix, ticket_id, score = reply_id.split(":")
            ticket = self.sudo().browse(int(ticket_id)).exists()
        except ValueError:
            return False
        if (
            not ticket
            or ticket.whatsapp_conversation_id != conversation
            or score
            not in (
                "good",
                "ok",
                "bad",
            )
        ):
            return False
        ticket.write({"whatsapp_csat": score, "whatsapp_csat_at": fields.Datetime.now()})
        conversation._send_bot_text(self.env._("Thank you for your answer!"))
        return True

    def message_post(self, **kwargs):
        """A reply written by an agent in the ticket goes to the customer on WhatsApp."""
        conversation = self.whatsapp_conversation_id if len(self) == 1 else None
        sends = bool(
            conversation and not self.env.user.share and conversation._is_whatsapp_reply(kwargs)
        )
        if sends:
            conversation._prepare_reply(kwargs, partners=self.partner_id)
        message = super().message_post(**kwargs)
        if (
            not self.whatsapp_first_response_at
            and len(self) == 1
            and not self.env.user.share
            and not self.env.user._is_superuser()
            and kwargs.get("subtype_xmlid") == "mail.mt_comment"
        ):
            now = fields.Datetime.now()
            self.sudo().write(
                {
                    "whatsapp_first_response_at": now,
                    "whatsapp_first_response_hours": self.team_id._whatsapp_work_hours(
                        self.create_date, now
                    ),
                }
            )
        if sends:
            self.whatsapp_conversation_id._send_post(
                html2plaintext(message.body or ""), message.attachment_ids, record=self
            )
        return message

    @api.model
    def _whatsapp_channel(self):
        return self.env.ref("whatsapp_helpdesk.helpdesk_ticket_channel_whatsapp", False)

    def action_open_whatsapp_conversation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "whatsapp.conversation",
            "res_id": self.whatsapp_conversation_id.id,
            "view_mode": "form",
        }

    @api.model
    def _whatsapp_open_for(self, conversation, text):
        """A ticket for what the customer of ``conversation`` wrote (``text``); the WhatsApp
        thread stays on it and the customer, who answers on WhatsApp, gets no e-mail from it."""
        conversation.ensure_one()
        text = (text or "").strip() or self.env._(
            "WhatsApp conversation with %s", conversation.name
        )
        ticket = self.with_context(mail_create_nosubscribe=True).create(
            {
                "name": text.splitlines()[0][:80],
                # the customer's words are text: escaped, never markup in the HTML field
                "description": plaintext2html(text),
                "partner_id": conversation.partner_id.id,
                "channel_id": self._whatsapp_channel().id,
                "whatsapp_conversation_id": conversation.id,
                "team_id": conversation.team_id.id,
                "user_id": conversation.user_id.id,
                "company_id": conversation.company_id.id,
            }
        )
        ticket.message_unsubscribe(partner_ids=conversation.partner_id.ids)
        return ticket

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """Teams may open a ticket for every new conversation, or when a keyword shows up."""
        previous = messages._previous_inbound()
        for message in messages.filtered(lambda m: m.direction == "in"):
            conversation = message.conversation_id.sudo()
            team = conversation.team_id
            if not team or conversation.ticket_ids.filtered(lambda t: not t.closed):
                continue
            first = previous.get(message.id) is None
            words = [w.strip().lower() for w in (team.whatsapp_ticket_keywords or "").split(",")]
            text = (message.body or "").lower()
            if (first and team.whatsapp_ticket_on_first_message) or any(
                word and word in text for word in words
            ):
                self.sudo()._whatsapp_open_for(conversation, message.body)
