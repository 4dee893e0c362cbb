"""Odoo and the Cloud API sandbox over real HTTP: the real client sends, the sandbox answers and
posts signed webhooks back to Odoo's test server."""

import time

from markupsafe import Markup
from odoo.tests import HttpCase, tagged

from ..tools import template_payloads
from .common import EndToEndMixin, TemplateCase


@tagged("post_install", "-at_install")
class TestEndToEnd(EndToEndMixin, TemplateCase, HttpCase):
    def test_inbound_then_reply_sent_delivered_read(self):
        # the customer writes first: a conversation on the right partner, window open
        self.inject(self.customer_wa_id, profile_name="Ana", text="Oi! Meu pedido chegou?")
        self.wait_and_process(1)
        conversation = self.env["whatsapp.conversation"].search(
            [("account_id", "=", self.account.id), ("wa_id", "=", self.customer_wa_id)]
        )
        self.assertEqual(conversation.partner_id, self.customer)
        self.assertTrue(conversation.window_open)
        inbound = conversation.whatsapp_message_ids
        self.assertEqual(inbound.body, "Oi! Meu pedido chegou?")

        # the agent answers: outbox -> real HTTP -> sandbox -> signed statuses back
        message = conversation._send_text("Sim, chega amanhã!")
        self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent", message.failure_reason)
        self.assertTrue(message.wamid.startswith("wamid."))
        sent = [m for m in self.sandbox.sent if m["wamid"] == message.wamid]
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["to"], self.customer_wa_id)

        self.wait_and_process(4)  # inbound + sent, delivered, read
        self.assertEqual(message.state, "read")
        self.assertTrue(message.delivered_at and message.read_at)
        self.assertEqual(message.pricing_category, "service")
        self.assertFalse(message.billable)

    def test_window_closed_on_the_sandbox_side_fails_cleanly(self):
        # Odoo believes the window is open, Meta (the sandbox) knows the customer never wrote
        conversation = self.open_window()
        message = conversation._send_text("hello?")
        self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(
            message, [{"state": "failed", "failure_type": "window_closed", "error_code": 131047}]
        )

    def test_rate_limit_burst_is_retried(self):
        self.inject(self.customer_wa_id, profile_name="Ana", text="hi")
        self.wait_and_process(1)
        conversation = self.env["whatsapp.conversation"].search(
            [("wa_id", "=", self.customer_wa_id)]
        )
        self.sandbox.configure(burst_429=1)
        message = conversation._send_text("after the burst")
        self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(message, [{"state": "queued", "error_code": 130429}])
        message.next_attempt_at = False
        self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        time.sleep(0.01)
        self.assertEqual(len([m for m in self.sandbox.sent if m["wamid"] == message.wamid]), 1)

    def test_server_errors_on_sends_are_unknown_never_resent_and_resolved_by_statuses(self):
        self.inject(self.customer_wa_id, profile_name="Ana", text="hi")
        self.wait_and_process(1)
        conversation = self.env["whatsapp.conversation"].search(
            [("wa_id", "=", self.customer_wa_id)]
        )
        # Meta's "Something went wrong" (HTTP 500, 131000): this sandbox did not send it
        self.sandbox.configure(burst_500=1)
        went_wrong = conversation._send_text("something went wrong")
        self.env["whatsapp.message"]._cron_send()
        # a bare 503 after the send went through
        self.sandbox.configure(gateway_error_next=1)
        forwarded = conversation._send_text("through a failing gateway")
        self.env["whatsapp.message"]._cron_send()
        self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(
            went_wrong + forwarded,
            [{"state": "unknown", "failure_type": "timeout", "wamid": False}] * 2,
        )
        self.assertIn("131000", went_wrong.failure_reason)
        by_uuid = [m["payload"].get("biz_opaque_callback_data") for m in self.sandbox.sent]
        self.assertEqual(by_uuid.count(went_wrong.uuid), 0, "an unknown outcome is not resent")
        self.assertEqual(by_uuid.count(forwarded.uuid), 1)

        # the statuses of the message that left name it by its callback data
        self.wait_and_process(4)  # inbound + sent, delivered, read
        self.assertEqual(forwarded.state, "read")
        self.assertEqual(forwarded.wamid, self.sandbox.sent[-1]["wamid"])
        self.assertEqual(went_wrong.state, "unknown")

    def test_template_approved_by_webhook_then_sent_from_a_sale_order(self):
        # the manager writes and submits the template; Meta (the sandbox) approves it by webhook
        template = self.make_template().with_user(self.manager)
        template.action_submit()
        self.assertEqual(template.status, "pending")
        self.wait_and_process(1)
        self.assertEqual(template.status, "approved")

        # a salesperson sends it from the confirmed order, outside the 24-hour window
        composer = self.order_composer(self.salesman)
        composer.template_id = template
        composer.save().action_send()
        message = self.env["whatsapp.message"].search([("template_id", "=", template.id)])
        self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent", message.failure_reason)
        sent = next(m for m in self.sandbox.sent if m["wamid"] == message.wamid)
        body = next(c for c in sent["payload"]["template"]["components"] if c["type"] == "body")
        texts = [p["text"] for p in body["parameters"]]
        self.assertEqual(texts[0], "Ana Souza")
        self.assertEqual(texts[2], "R$ 1.234,56")
        self.assertIn("28 de fev. de 2026", texts[3])

        self.wait_and_process(4)  # approval + sent, delivered, read
        self.assertEqual(message.state, "read")
        self.assertRecordValues(message, [{"billable": True, "pricing_category": "utility"}])
        self.assertIn("R$ 1.234,56", self.order.message_ids[0].body)

    def test_rejected_template_keeps_the_reason(self):
        template = self.make_template(name="reject_me")
        template.with_user(self.manager).action_submit()
        self.wait_and_process(1)
        self.assertEqual(template.status, "rejected")
        self.assertEqual(template.rejected_reason, "INVALID_FORMAT")

    def test_dispatcher_sends_each_message_once_through_rate_limits(self):
        template = self.approved_template()
        self.account.throughput_tier = "1000"
        Partner = self.env["res.partner"]
        messages = self.env["whatsapp.message"]
        for index in range(40):
            partner = Partner.create(
                {"name": f"C{index}", "mobile": f"+55 11 9{7000 + index}-0000"}
            )
            messages |= self.account._get_conversation(partner)._send_template(template)
        self.sandbox.configure(burst_429=3, latency_ms=30)
        for _round in range(10):
            self.env["whatsapp.message"]._cron_send()
            waiting = messages.filtered(lambda m: m.state == "queued")
            if not waiting:
                break
            waiting.next_attempt_at = False
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        callbacks = [m["payload"].get("biz_opaque_callback_data") for m in self.sandbox.sent]
        self.assertEqual(sorted(callbacks), sorted(messages.mapped("uuid")))
        self.assertEqual(len(set(messages.mapped("wamid"))), 40)

    def approve_notification_templates(self):
        """Approve the shipped English drafts on the test account, in Odoo and in the sandbox."""
        for rule in self.env["whatsapp.notification.rule"].search([]):
            template = rule.template_id
            template.with_context(whatsapp_no_resubmit=True).write(
                {"account_id": self.account.id, "status": "approved"}
            )
            payload = template_payloads.create_payload(template._to_spec())
            self.sandbox.add_template(
                template.name,
                category=template.category,
                language=template.language,
                components=payload["components"],
                status="APPROVED",
            )
        self.env["whatsapp.optin"]._record(
            self.customer.whatsapp_e164, "opted_in", source="website"
        )

    def test_order_and_delivery_notifications_through_the_sandbox(self):
        self.approve_notification_templates()
        product = self.env["product.product"].create(
            {"name": "Lamp", "list_price": 250.0, "is_storable": True, "taxes_id": [(5, 0, 0)]}
        )
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 5)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "pricelist_id": self.pricelist.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": product.id,
                            "product_uom_qty": 2,
                            "price_unit": 250.0,
                            "tax_id": [(5, 0, 0)],
                        },
                    )
                ],
            }
        )
        order.action_confirm()
        # the same event again (a retried job, a re-confirmation) sends nothing more
        self.env["whatsapp.notification.rule"]._notify_event("sale_confirmed", order)
        picking = order.picking_ids
        picking.carrier_id = self.carrier()
        picking.carrier_tracking_ref = "BR987654321"
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.env["whatsapp.message"]._cron_send()

        sent = {m["payload"]["template"]["name"]: m for m in self.sandbox.sent}
        self.assertEqual(sorted(sent), ["order_confirmed", "order_shipped"])
        self.assertEqual(len(self.sandbox.sent), 2)
        confirmed = [
            p["text"]
            for p in sent["order_confirmed"]["payload"]["template"]["components"][0]["parameters"]
        ]
        self.assertEqual(confirmed[1], order.name)
        self.assertEqual(confirmed[2], "R$ 500,00")
        shipped = [
            p["text"]
            for p in sent["order_shipped"]["payload"]["template"]["components"][0]["parameters"]
        ]
        self.assertIn("BR987654321", shipped)
        messages = self.env["whatsapp.message"].search([("notification_key", "!=", False)])
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertIn("WhatsApp notification queued", order.message_ids[0].body)
        self.assertIn(
            "BR987654321",
            picking.message_ids.filtered(lambda m: "WhatsApp" in (m.body or ""))[0].body,
        )

    def test_helpdesk_ticket_reply_and_rating_through_the_sandbox(self):
        self.env["helpdesk.ticket.team"].create(
            {
                "name": "Suporte",
                "whatsapp_enabled": True,
                "whatsapp_ticket_keywords": "quebrado",
                "user_ids": [(6, 0, self.env.user.ids)],
            }
        )
        self.inject(self.customer_wa_id, profile_name="Ana", text="A cadeira chegou quebrado!")
        self.wait_and_process(1)
        conversation = self.env["whatsapp.conversation"].search(
            [("wa_id", "=", self.customer_wa_id)]
        )
        ticket = conversation.ticket_ids
        self.assertEqual(len(ticket), 1, "the keyword opened a ticket")

        ticket.message_post(
            body=Markup("<p>Sentimos muito! Enviaremos outra.</p>"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.env["whatsapp.message"]._cron_send()
        bodies = [
            (m["payload"].get("text") or {}).get("body")
            or m["payload"].get("interactive", {}).get("body", {}).get("text")
            for m in self.sandbox.sent
        ]
        self.assertIn("Sentimos muito! Enviaremos outra.", bodies)
        self.assertTrue(any(b and "How did we do" in b for b in bodies))

        self.inject(
            self.customer_wa_id,
            profile_name="Ana",
            type="button_reply",
            text="😀 Great",
            reply_id=f"csat:{ticket.id}:good",
        )
        self.wait_and_process(len(self.sandbox.deliveries) + 1)
        self.assertEqual(ticket.whatsapp_csat, "good")
