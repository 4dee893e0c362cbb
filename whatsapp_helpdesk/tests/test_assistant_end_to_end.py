"""The assistant through the Cloud API sandbox over real HTTP: a customer asks where their order
is, the sandbox posts the message to Odoo, the assistant asks the sandbox's language model,
reads the order, and its answer with the tracking link leaves through the outbox to the sandbox."""

from odoo.tests import HttpCase, tagged

from .common import AssistantCase, EndToEndMixin


@tagged("post_install", "-at_install")
class TestAssistantEndToEnd(EndToEndMixin, AssistantCase, HttpCase):
    def test_where_is_my_order_is_answered_with_the_tracking_link(self):
        rahul = self.env["res.partner"].create(
            {"name": "Rahul Mehta", "mobile": "+91 98200 99999", "lang": "en_US"}
        )
        order = self.make_order([(self.lamp, 1)], partner=rahul, ship="IN777")
        self.assistant.provider_id = self.env["whatsapp.assistant.provider"].create(
            {
                "name": "Sandbox model",
                "url": f"{self.sandbox.base_url}/llm/v1",
                "model": "sandbox-chat",
                "api_key": self.sandbox.config.chat_api_key,
            }
        )
        self.inject("919820099999", profile_name="Rahul", text="where is my order?")
        self.wait_and_process(1)
        self.env["whatsapp.message"]._cron_send()

        (call,) = self.sandbox.chat_calls
        self.assertEqual(call["answer"].count("order_status"), 1)
        (sent,) = [m for m in self.sandbox.sent if m["to"] == "919820099999"]
        text = sent["payload"]["text"]["body"]
        self.assertIn(f"Order {order.name} was shipped on", text)
        self.assertIn("Carrier: Correios.", text)
        self.assertIn("Track it here: https://rastreio.example/IN777", text)
        self.wait_and_process(4)  # the inbound, then sent, delivered, read
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", "919820099999")])
        answer = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(answer.state, "read")
        self.assertEqual(conversation.assistant_usage_ids.outcome, "ok")
