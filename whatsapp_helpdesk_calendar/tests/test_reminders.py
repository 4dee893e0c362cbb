"""Appointment reminders: sent once per event start and offset to opted-in attendees; their
Confirm / Reschedule / Cancel buttons update the attendee and notify the organiser; a moved
event gets new reminders and the old buttons change nothing."""

from datetime import datetime, timedelta

from freezegun import freeze_time
from odoo import Command
from odoo.addons.whatsapp_helpdesk.tests.common import WhatsappCase
from odoo.addons.whatsapp_helpdesk.tools import payloads
from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

NOW = datetime(2026, 12, 1, 12, 0)


@tagged("post_install", "-at_install")
class TestAppointmentReminders(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["whatsapp.reminder.rule"].search([]).active = False  # the demo's
        attendee_model = cls.env["ir.model"]._get("calendar.attendee")
        cls.template = cls.approved_template(
            "appointment_reminder",
            body="Hello {{1}}, your appointment {{2}} is on {{3}}.",
            category="UTILITY",
            model_id=attendee_model.id,
            button_ids=[
                Command.create({"sequence": 1, "button_type": "QUICK_REPLY", "text": "Confirm"}),
                Command.create({"sequence": 2, "button_type": "QUICK_REPLY", "text": "Reschedule"}),
                Command.create({"sequence": 3, "button_type": "QUICK_REPLY", "text": "Cancel"}),
            ],
        )
        paths = {"1": "partner_id.name", "2": "event_id.name", "3": "event_id.start"}
        for variable in cls.template.variable_ids:
            variable.write({"field_path": paths[variable.name], "sample": "x"})
        cls.manager = new_test_user(
            cls.env,
            login="wa_reminder_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        form = Form(cls.env["whatsapp.reminder.rule"].with_user(cls.manager))
        form.name = "The day before"
        form.account_id = cls.account
        form.template_id = cls.template
        form.hours_before = 24
        cls.rule = form.save()
        cls.organiser = new_test_user(cls.env, login="wa_dentist", groups="base.group_user")
        cls.env["whatsapp.optin"]._record(cls.customer.whatsapp_e164, "opted_in")
        cls.event = cls.make_event(NOW + timedelta(hours=20))

    @classmethod
    def make_event(cls, start, *partners):
        return (
            cls.env["calendar.event"]
            .with_context(no_mail_to_attendees=True)
            .create(
                {
                    "name": "Dental check-up",
                    "start": start,
                    "stop": start + timedelta(minutes=30),
                    "user_id": cls.organiser.id,
                    "partner_ids": [
                        Command.link(p.id)
                        for p in (cls.organiser.partner_id, cls.customer, *partners)
                    ],
                }
            )
        )

    def run_cron(self, moment=NOW):
        with freeze_time(moment):
            self.env["whatsapp.reminder"]._cron_send_due()

    def ana(self):
        return self.event.attendee_ids.filtered(lambda a: a.partner_id == self.customer)

    def tap(self, reminder, action, wa_id=None):
        wa_id = wa_id or self.customer_wa_id
        index = ["confirm", "reschedule", "cancel"].index(action)
        payload = reminder.message_id.template_values[f"button_{index}"]["payload"]
        button = payloads.button_message(wa_id, payload, action.title())
        self.deliver(self.inbound(wa_id, button))

    def test_a_reminder_goes_once_to_the_opted_in_attendee(self):
        self.run_cron()
        self.run_cron(NOW + timedelta(minutes=10))
        reminder = self.event.whatsapp_reminder_ids
        self.assertEqual(len(reminder), 1, "once per event and offset")
        self.assertEqual(reminder.partner_id, self.customer)
        message = self.assertWhatsappOutgoing(reminder.conversation_id, template=self.template)
        self.assertIn("Dental check-up", message.body)
        self.assertEqual(
            message.template_values["button_1"]["payload"], f"wa_reminder:{reminder.id}:reschedule"
        )
        with self.mock_cloud_api(lambda *_a: self.sent_answer(payloads.new_wamid())) as calls:
            self.env["whatsapp.message"]._cron_send()
        sent = next(c[2]["json"] for c in calls if c[2]["json"].get("to") == self.customer_wa_id)
        buttons = [c for c in sent["template"]["components"] if c["type"] == "button"]
        self.assertEqual(
            [b["parameters"][0]["payload"] for b in buttons],
            [f"wa_reminder:{reminder.id}:{a}" for a in ("confirm", "reschedule", "cancel")],
        )

    def test_who_is_not_reminded(self):
        no_optin = self.env["res.partner"].create({"name": "Bruno", "mobile": "+5511912345678"})
        no_number = self.env["res.partner"].create({"name": "Carla"})
        opted_out = self.env["res.partner"].create({"name": "Davi", "mobile": "+5511923456789"})
        self.env["whatsapp.optin"]._record(opted_out.whatsapp_e164, "opted_out")
        event = self.make_event(NOW + timedelta(hours=5), no_optin, no_number, opted_out)
        later = self.make_event(NOW + timedelta(hours=30))
        self.run_cron()
        self.assertEqual(event.whatsapp_reminder_ids.partner_id, self.customer)
        self.assertFalse(later.whatsapp_reminder_ids, "not yet due")
        self.assertNotIn(
            self.organiser.partner_id, self.env["whatsapp.reminder"].search([]).partner_id
        )

    def test_confirm_accepts_and_notifies_the_organiser(self):
        self.run_cron()
        reminder = self.event.whatsapp_reminder_ids
        self.tap(reminder, "confirm")
        self.assertEqual(self.ana().state, "accepted")
        self.assertRecordValues(reminder, [{"state": "answered", "answer": "confirm"}])
        note = self.event.message_ids.filtered(lambda m: "confirmed on WhatsApp" in (m.body or ""))
        self.assertIn(self.organiser.partner_id, note.partner_ids)
        self.assertWhatsappOutgoing(
            reminder.conversation_id,
            body="Thank you, your appointment is confirmed. See you soon!",
        )

    def test_reschedule_and_cancel(self):
        self.run_cron()
        reminder = self.event.whatsapp_reminder_ids
        self.tap(reminder, "reschedule")
        self.assertEqual(self.ana().state, "tentative")
        self.tap(reminder, "cancel")
        self.assertEqual(self.ana().state, "declined")
        self.assertEqual(reminder.answer, "cancel")

    def test_a_moved_event_is_reminded_again_and_old_buttons_do_nothing(self):
        self.run_cron()
        old = self.event.whatsapp_reminder_ids
        self.event.write(
            {"start": NOW + timedelta(days=3), "stop": NOW + timedelta(days=3, minutes=30)}
        )
        self.assertEqual(old.state, "moved")
        self.run_cron()
        self.assertEqual(self.event.whatsapp_reminder_ids, old, "not due yet at the new time")
        self.tap(old, "confirm")
        self.assertNotEqual(self.ana().state, "accepted")
        self.run_cron(NOW + timedelta(days=2, hours=1))
        self.assertEqual(len(self.event.whatsapp_reminder_ids), 2)

    def test_a_tap_from_another_conversation_or_a_forged_payload_changes_nothing(self):
        self.run_cron()
        reminder = self.event.whatsapp_reminder_ids
        stranger = "5511955554444"
        self.tap(reminder, "cancel", wa_id=stranger)
        for payload in ("wa_reminder:999999:cancel", "wa_reminder:x:cancel", "cancel"):
            self.deliver(
                self.inbound(stranger, payloads.button_message(stranger, payload, "Cancel"))
            )
        self.assertEqual(reminder.state, "sent")
        self.assertNotEqual(self.ana().state, "declined")

    def test_a_rule_refuses_absurd_offsets_and_other_templates(self):
        for hours in (0, -3, 24 * 365):
            with self.assertRaises(ValidationError):
                self.rule.hours_before = hours
        marketing = self.approved_template("promo", category="MARKETING")
        with self.assertRaises(ValidationError):
            self.rule.template_id = marketing
