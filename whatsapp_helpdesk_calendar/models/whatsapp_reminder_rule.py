from odoo import api, fields, models
from odoo.addons.whatsapp_helpdesk.tools import reminders
from odoo.exceptions import ValidationError


class WhatsappReminderRule(models.Model):
    """Remind the attendees of calendar events on WhatsApp, ``hours_before`` their start, with
    an approved template whose quick-reply buttons are Confirm, Reschedule and Cancel."""

    _name = "whatsapp.reminder.rule"
    _description = "WhatsApp Appointment Reminder Rule"
    _order = "hours_before desc, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    account_id = fields.Many2one(
        "whatsapp.account",
        "WhatsApp Number",
        required=True,
        check_company=True,
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
    )
    template_id = fields.Many2one(
        "whatsapp.template",
        required=True,
        check_company=True,
        domain="[('category', '=', 'UTILITY'), '|', ('model', '=', False),"
        " ('model', '=', 'calendar.attendee')]",
        help="A utility template about the attendee of an event (partner_id.name, "
        "event_id.name, event_id.start...); its first three quick-reply buttons answer "
        "Confirm, Reschedule and Cancel.",
    )
    hours_before = fields.Integer(
        required=True, default=24, help="Sent this long before the event starts."
    )
    reminder_ids = fields.One2many("whatsapp.reminder", "rule_id")

    @api.constrains("hours_before")
    def _check_hours_before(self):
        for rule in self:
            if not reminders.valid_hours_before(rule.hours_before):
                raise ValidationError(
                    self.env._(
                        "A reminder goes between 1 hour and %(days)s days before the event.",
                        days=reminders.MAX_HOURS_BEFORE // 24,
                    )
                )

    @api.constrains("template_id")
    def _check_template(self):
        for rule in self:
            if rule.template_id.category != "UTILITY":
                raise ValidationError(
                    self.env._("Appointment reminders are sent with a utility template.")
                )
            if rule.template_id.model not in (False, "calendar.attendee"):
                raise ValidationError(
                    self.env._("The reminder template must be about calendar attendees.")
                )
