from markupsafe import Markup
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestHelpdesk(WhatsappCase, TransactionCase):
    def test_ticket_from_a_conversation_keeps_the_thread(self):
        conversation = self.open_window()
        action = conversation.action_create_ticket()
        ticket = self.env["helpdesk.ticket"].browse(action["res_id"])
        self.assertRecordValues(
            ticket,
            [
                {
                    "partner_id": self.customer.id,
                    "whatsapp_conversation_id": conversation.id,
                    "channel_id": self.env.ref(
                        "whatsapp_helpdesk.helpdesk_ticket_channel_whatsapp"
                    ).id,
                    "name": "Hi there",
                }
            ],
        )
        self.assertEqual(ticket.whatsapp_message_ids, conversation.whatsapp_message_ids)
        self.assertNotIn(self.customer, ticket.message_partner_ids)
        self.assertEqual(conversation.ticket_count, 1)

    def test_agent_reply_from_the_ticket_goes_out_on_whatsapp(self):
        conversation = self.open_window()
        ticket = self.env["helpdesk.ticket"].browse(conversation.action_create_ticket()["res_id"])
        ticket.message_post(body="internal", message_type="comment", subtype_xmlid="mail.mt_note")
        ticket.message_post(
            body=Markup("<p>We are on it!</p>"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        outbound = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertRecordValues(
            outbound,
            [{"body": "We are on it!", "res_model": "helpdesk.ticket", "res_id": ticket.id}],
        )

    def test_ticket_reply_respects_the_window(self):
        conversation = self.account._get_conversation(self.customer)
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Old question",
                "description": "x",
                "partner_id": self.customer.id,
                "whatsapp_conversation_id": conversation.id,
            }
        )
        with self.assertRaisesRegex(UserError, "24-hour"):
            ticket.message_post(
                body="too late", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_an_order_reference_links_the_order(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        stranger = self.env["res.partner"].create({"name": "Other"})
        other_order = self.env["sale.order"].create({"partner_id": stranger.id})
        text = f"Onde está meu pedido {order.name}? E o {other_order.name}?"
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, text)))
        conversation = self.env["whatsapp.conversation"].search(
            [("wa_id", "=", self.customer_wa_id)]
        )
        self.assertEqual(conversation.sale_order_ids, order)
        self.assertIn(order.name, order.message_ids[0].body)
        self.assertEqual(order.whatsapp_conversation_ids, conversation)
        action = order.action_whatsapp_conversation()
        self.assertEqual(action["res_id"], conversation.id)
        self.assertFalse(other_order.whatsapp_conversation_ids)

    def test_closing_asks_satisfaction_and_stores_the_answer(self):
        conversation = self.open_window()
        ticket = self.env["helpdesk.ticket"].browse(conversation.action_create_ticket()["res_id"])
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        question = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")[:1]
        self.assertEqual(question.message_type, "interactive")
        buttons = question.payload["action"]["buttons"]
        self.assertEqual(
            [b["reply"]["id"] for b in buttons],
            [f"csat:{ticket.id}:good", f"csat:{ticket.id}:ok", f"csat:{ticket.id}:bad"],
        )
        answer = payloads.interactive_reply(
            self.customer_wa_id, "button_reply", f"csat:{ticket.id}:good", "😀 Great"
        )
        self.deliver(self.inbound(None, answer))
        self.assertEqual(ticket.whatsapp_csat, "good")
        self.assertTrue(ticket.whatsapp_csat_at)
        # reopening and closing again does not ask twice
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.assertEqual(
            len(
                conversation.whatsapp_message_ids.filtered(
                    lambda m: m.message_type == "interactive" and m.direction == "out"
                )
            ),
            1,
        )

    def test_satisfaction_after_the_window_needs_a_template(self):
        conversation = self.account._get_conversation(self.customer)
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Old",
                "description": "x",
                "partner_id": self.customer.id,
                "whatsapp_conversation_id": conversation.id,
            }
        )
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.assertFalse(conversation.whatsapp_message_ids)
        self.assertIn("No satisfaction question sent", ticket.message_ids[0].body)

    def test_ticket_first_response_time(self):
        conversation = self.open_window()
        ticket = self.env["helpdesk.ticket"].browse(conversation.action_create_ticket()["res_id"])
        agent = new_test_user(
            self.env,
            login="ticket_agent",
            groups="base.group_user,helpdesk_mgmt.group_helpdesk_user,"
            "whatsapp_helpdesk.group_whatsapp_user",
        )
        ticket.with_user(agent).message_post(
            body=Markup("<p>Olá</p>"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(ticket.whatsapp_first_response_at)
        self.assertGreaterEqual(ticket.whatsapp_first_response_hours, 0.0)
