"""One rule for what may go to a customer, at every entry point: the conversation's send methods,
the composer, tickets, automatic answers and the outbox at claim time."""

from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestSendRules(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.promo = cls.approved_template("promo", "Summer sale: 20% off", category="MARKETING")
        cls.update = cls.approved_template("order_update", "Your order is on its way")

    def opt_out(self, conversation, categories=("marketing",)):
        self.env["whatsapp.optin"]._record(
            conversation.phone_e164,
            "opted_out",
            categories=list(categories),
            company=conversation.company_id,
        )

    def test_a_template_of_an_opted_out_category_is_refused_when_queued(self):
        conversation = self.open_window()
        self.opt_out(conversation)
        with self.assertRaisesRegex(UserError, "opted out of Marketing"):
            conversation._send_template(self.promo)
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        conversation._send_template(self.update)  # not marketing: still goes
        self.assertWhatsappOutgoing(conversation, template=self.update)

    def test_free_text_needs_the_window_at_every_entry_point(self):
        conversation = self.account._get_conversation(self.customer)
        problem = conversation._send_problem()
        self.assertEqual(problem[0], "window_closed")
        with self.assertRaisesRegex(UserError, "24-hour"):
            conversation._send_text("hello")
        with self.assertRaisesRegex(UserError, "24-hour"):
            conversation.message_post(
                body="from the chatter", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_the_composer_follows_the_conversations_rule(self):
        conversation = self.open_window()
        self.opt_out(conversation)
        composer = Form(
            self.env["whatsapp.composer"].with_context(
                active_model="res.partner", active_id=self.customer.id
            )
        )
        composer.account_id = self.account
        composer.template_id = self.promo
        wizard = composer.save()
        with self.assertRaisesRegex(UserError, "opted out"):
            wizard.action_send()
        composer.template_id = self.env["whatsapp.template"]
        composer.body = "A question about your order?"
        composer.save().action_send()
        self.assertWhatsappOutgoing(conversation, body="A question about your order?")

    def test_a_ticket_moves_on_when_the_customer_opted_out(self):
        conversation = self.open_window()
        self.opt_out(conversation, categories=("utility", "marketing"))
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Desk", "whatsapp_stage_template_id": self.update.id}
        )
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(conversation, "Broken chair")
        ticket.team_id = team
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_in_progress")
        self.assertEqual(
            ticket.stage_id, self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_in_progress")
        )
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        self.assertIn("Nothing sent on WhatsApp", ticket.message_ids[0].body)

    def test_an_automatic_template_answer_falls_back_to_text(self):
        rule = self.env["whatsapp.auto.reply"].create(
            {
                "name": "Hours",
                "kind": "keyword",
                "pattern": "hours",
                "answer_type": "template",
                "template_id": self.promo.id,
                "body": "We answer from 9:00 to 18:00.",
            }
        )
        conversation = self.open_window()
        self.opt_out(conversation)
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "hours?")))
        self.assertTrue(rule.active)
        self.assertWhatsappOutgoing(conversation, body="We answer from 9:00 to 18:00.")
