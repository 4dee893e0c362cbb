import logging

from odoo import api, fields, models
from odoo.addons.whatsapp_helpdesk.tools import reminders
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class WhatsappReminder(models.Model):
    """One reminder of one event's start to one attendee by one rule: the key that sends it
    once. A moved event has a new start, hence new reminders; the old ones are marked moved and
    their buttons no longer change anything."""

    _name = "whatsapp.reminder"
    _description = "WhatsApp Appointment Reminder"
    _inherit = ["whatsapp.inbound.hook"]
    _order = "id desc"
    _rec_name = "event_id"
    # before tickets and automatic answers: a tap on a reminder is answered here
    _whatsapp_inbound_sequence = 15

    rule_id = fields.Many2one("whatsapp.reminder.rule", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="rule_id.company_id", store=True, index=True)
    event_id = fields.Many2one("calendar.event", required=True, index=True, ondelete="cascade")
    event_start = fields.Datetime(required=True, help="The start the reminder was sent for.")
    attendee_id = fields.Many2one("calendar.attendee", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="attendee_id.partner_id", store=True)
    conversation_id = fields.Many2one("whatsapp.conversation", index="btree_not_null")
    message_id = fields.Many2one("whatsapp.message", "WhatsApp Message")
    state = fields.Selection(
        [
            ("sent", "Sent"),
            ("failed", "Not Sent"),
            ("moved", "Event Moved"),
            ("answered", "Answered"),
        ],
        required=True,
        default="sent",
    )
    answer = fields.Selection(
        [("confirm", "Confirmed"), ("reschedule", "Asked to Reschedule"), ("cancel", "Cancelled")]
    )
    answered_at = fields.Datetime()
    failure_reason = fields.Char()

    _sql_constraints = [
        (
            "once_per_start",
            "unique(rule_id, attendee_id, event_start)",
            "An attendee gets one reminder per rule and event start.",
        )
    ]

    # ------------------------------------------------------------------
    # Sending (cron, as superuser)
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_due(self):
        """Send the reminders due now: every active rule, every event starting within its
        offset, every attendee with a WhatsApp number who opted in to utility messages."""
        now = fields.Datetime.now()
        rules = (
            self.env["whatsapp.reminder.rule"]
            .sudo()
            .search([("template_id.status", "=", "approved")])
        )
        for rule in rules:
            start, end = reminders.due_window(now, rule.hours_before)
            events = (
                self.env["calendar.event"]
                .sudo()
                .search([("start", ">", start), ("start", "<=", end)])
            )
            for event in events.filtered(lambda e, r=rule: e._whatsapp_company() == r.company_id):
                for attendee in event._whatsapp_reminder_attendees(rule):
                    self._send_one(rule, event, attendee)

    @api.model
    def _send_one(self, rule, event, attendee):
        """Create and send one reminder in its own savepoint: one failure stays one."""
        if self.search_count(
            [
                ("rule_id", "=", rule.id),
                ("attendee_id", "=", attendee.id),
                ("event_start", "=", event.start),
            ]
        ):
            return self.browse()
        reminder = self.create(
            {
                "rule_id": rule.id,
                "event_id": event.id,
                "event_start": event.start,
                "attendee_id": attendee.id,
            }
        )
        try:
            with self.env.cr.savepoint():
                conversation = rule.account_id._get_conversation(attendee.partner_id)
                template = rule.template_id._variant_for(attendee.partner_id, conversation.language)
                quick_replies = [
                    index
                    for index, button in enumerate(template.button_ids)
                    if button.button_type == "QUICK_REPLY"
                ]
                message = conversation._send_template(
                    rule.template_id,
                    record=attendee,
                    button_payloads=reminders.button_payloads(reminder.id, quick_replies),
                )
                reminder.write({"conversation_id": conversation.id, "message_id": message.id})
        except UserError as error:
            _logger.info("WhatsApp reminder %s not sent: %s", reminder.id, error)
            reminder.write({"state": "failed", "failure_reason": str(error)})
        return reminder

    # ------------------------------------------------------------------
    # The customer's answer
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_on_inbound(self, messages):
        for message in messages.filtered("reply_id"):
            parsed = reminders.parse_payload(message.reply_id)
            if not parsed:
                continue
            reminder = self.browse(parsed[0]).exists()
            # a tap answers the reminder sent in this very conversation, nothing else
            if reminder and reminder.conversation_id == message.conversation_id:
                reminder._apply_answer(parsed[1])

    def _apply_answer(self, action):
        self.ensure_one()
        event, attendee, conversation = self.event_id, self.attendee_id, self.conversation_id
        if self.state == "moved" or self.event_start != event.start:
            conversation._send_bot_text(
                self.env._(
                    "This appointment has moved: a new reminder will follow for its new time."
                )
            )
            return
        if action == "confirm":
            attendee.do_accept()
            reply = self.env._("Thank you, your appointment is confirmed. See you soon!")
            note = self.env._("%(name)s confirmed on WhatsApp.", name=attendee.partner_id.name)
        elif action == "cancel":
            attendee.do_decline()
            reply = self.env._("Your appointment is cancelled. Write to us to book another time.")
            note = self.env._("%(name)s cancelled on WhatsApp.", name=attendee.partner_id.name)
        else:
            attendee.do_tentative()
            reply = self.env._("Thank you, we will write to you here to find another time.")
            note = self.env._(
                "%(name)s asked on WhatsApp to reschedule.", name=attendee.partner_id.name
            )
        self.write({"state": "answered", "answer": action, "answered_at": fields.Datetime.now()})
        organiser = event.user_id.partner_id
        event.message_post(
            body=note,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=organiser.ids,
        )
        conversation._send_bot_text(reply)
