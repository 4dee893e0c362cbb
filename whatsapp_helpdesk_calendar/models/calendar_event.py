from odoo import fields, models


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    whatsapp_reminder_ids = fields.One2many("whatsapp.reminder", "event_id", "WhatsApp Reminders")

    def write(self, vals):
        moved = self.browse()
        if "start" in vals:
            old = {event.id: event.start for event in self}
            result = super().write(vals)
            moved = self.filtered(lambda event: event.start != old[event.id])
        else:
            result = super().write(vals)
        if moved:
            # the reminders of the old time say so when answered; the new time gets its own
            moved.sudo().whatsapp_reminder_ids.filtered(
                lambda r: r.state == "sent" and r.event_start != r.event_id.start
            ).write({"state": "moved"})
        return result

    def _whatsapp_company(self):
        """The company whose WhatsApp number reminds this event: its organiser's."""
        self.ensure_one()
        return (self.user_id or self.create_uid).company_id

    def _whatsapp_reminder_attendees(self, rule):
        """The attendees ``rule`` reminds: reachable on WhatsApp, opted in to utility messages
        from the rule's company, not the organiser, not declined."""
        self.ensure_one()
        Optin = self.env["whatsapp.optin"]
        attendees = self.attendee_ids.filtered(
            lambda a: (
                a.state != "declined"
                and a.partner_id.whatsapp_e164
                and a.partner_id != self.user_id.partner_id
            )
        )
        return attendees.filtered(
            lambda a: Optin._is_opted_in(a.partner_id.whatsapp_e164, "utility", rule.company_id)
        )
