import threading
from unittest.mock import patch

from odoo import fields
from odoo.tests import Form, TransactionCase, tagged

from ..tools import payloads
from .common import WhatsappCase


class NotificationCase(WhatsappCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.lang = "en_US"
        for rule in cls.env["whatsapp.notification.rule"].search([]):
            rule.template_id.with_context(whatsapp_no_resubmit=True).write(
                {
                    "account_id": cls.account.id,
                    "status": "approved",
                    "meta_template_id": f"80{rule.template_id.id}",
                }
            )
        cls.Optin = cls.env["whatsapp.optin"]
        cls.Optin._record("+5511981234567", "opted_in", partner=cls.customer, source="website")
        cls.product = cls.env["product.product"].create(
            {"name": "Lamp", "list_price": 100.0, "is_storable": True, "taxes_id": [(5, 0, 0)]}
        )
        warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(cls.product, warehouse.lot_stock_id, 50)

    def order(self, partner=None, qty=2):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": qty})],
            }
        )

    def notifications(self, record, event=None):
        domain = [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if event:
            domain.append(("notification_key", "=like", f"{event}:%"))
        return self.env["whatsapp.message"].search(domain)


@tagged("post_install", "-at_install")
class TestNotifications(NotificationCase, TransactionCase):
    def test_order_confirmation_is_sent_once(self):
        order = self.order()
        order.action_confirm()
        message = self.notifications(order, "sale_confirmed")
        self.assertRecordValues(
            message,
            [{"state": "queued", "message_type": "template", "partner_id": self.customer.id}],
        )
        self.assertIn(order.name, message.body)
        self.assertIn("$", message.body)
        self.assertIn("WhatsApp notification queued", order.message_ids[0].body)
        order._action_cancel()
        order.action_draft()
        order.action_confirm()
        self.assertEqual(len(self.notifications(order, "sale_confirmed")), 1)

    def test_customer_without_optin_is_skipped_with_a_reason(self):
        stranger = self.env["res.partner"].create({"name": "New", "mobile": "+55 11 97777-0000"})
        order = self.order(stranger)
        order.action_confirm()
        message = self.notifications(order, "sale_confirmed")
        self.assertEqual(message.state, "skipped")
        self.assertIn("opted in", message.failure_reason)
        with self.mock_cloud_api() as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertFalse(calls)

    def test_customer_without_number_gets_a_note_not_an_error(self):
        nobody = self.env["res.partner"].create({"name": "No phone"})
        order = self.order(nobody)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertFalse(self.notifications(order))
        self.assertIn("not sent", order.message_ids[0].body)

    def test_stop_keyword_opts_out_and_an_ordinary_message_does_not_undo_it(self):
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "Stop!")))
        states = self.Optin._states(["+5511981234567"], "utility")
        self.assertEqual(states["+5511981234567"], "opted_out")
        self.assertTrue(
            self.env["phone.blacklist"].sudo().search([("number", "=", "+5511981234567")])
        )
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "hello again")))
        self.assertFalse(self.Optin._is_opted_in("+5511981234567", "utility"))
        order = self.order()
        order.action_confirm()
        self.assertEqual(self.notifications(order).state, "skipped")
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "START")))
        self.assertTrue(self.Optin._is_opted_in("+5511981234567", "utility"))

    def test_chinese_and_spanish_keywords(self):
        for word in ("退订", "baja"):
            self.Optin._record("+5511981234567", "opted_in")
            self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, word)))
            self.assertFalse(self.Optin._is_opted_in("+5511981234567", "marketing"), word)

    def test_shipping_with_tracking_and_backorder(self):
        carrier = self.carrier()
        order = self.order(qty=2)
        order.carrier_id = carrier
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = carrier
        picking.carrier_tracking_ref = "BR123456789"
        picking.move_ids.quantity = 1
        picking.move_ids.picked = True
        wizard = picking.button_validate()
        Form.from_action(self.env, wizard).save().process()
        shipped = self.notifications(picking, "delivery_shipped")
        self.assertEqual(len(shipped), 1)
        self.assertIn("BR123456789", shipped.body)
        self.assertIn("Correios", shipped.body)
        backorder = order.picking_ids - picking
        backorder.move_ids.quantity = 1
        backorder.move_ids.picked = True
        backorder.button_validate()
        self.assertEqual(len(self.notifications(picking, "delivery_shipped")), 1)
        self.assertEqual(len(self.notifications(backorder, "delivery_shipped")), 1)
        picking.action_whatsapp_mark_delivered()
        picking.action_whatsapp_mark_delivered()
        self.assertEqual(len(self.notifications(picking, "delivery_delivered")), 1)

    def ship(self, order):
        picking = order.picking_ids
        picking.move_ids.quantity = picking.move_ids.product_uom_qty
        picking.move_ids.picked = True
        self.assertIs(picking.button_validate(), True, "no SMS or other dialog in the way")
        return picking

    def test_shipping_without_carrier_says_nothing_of_tracking(self):
        order = self.order()
        order.action_confirm()
        picking = self.ship(order)
        shipped = self.notifications(picking, "delivery_shipped")
        self.assertEqual(len(shipped), 1)
        self.assertEqual(shipped.template_id.name, "order_shipped_simple")
        self.assertIn(order.name, shipped.body)
        self.assertNotIn(" - ", shipped.body)
        self.assertNotIn("Tracking", shipped.body)

    def test_no_sms_where_whatsapp_tells_of_the_shipping(self):
        if "stock_move_sms_validation" not in self.env.company._fields:
            self.skipTest("stock_sms is not installed")
        self.env.company.write(
            {"stock_move_sms_validation": True, "has_received_warning_stock_sms": False}
        )
        order = self.order()
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking._whatsapp_notified(), picking)
        # stock_sms asks nothing under tests: pretend to run for real
        with (
            patch.object(type(self.env.registry), "in_test_mode", return_value=False),
            patch.object(threading.current_thread(), "testing", False),
        ):
            self.assertFalse(picking._check_warn_sms())
            self.env["whatsapp.notification.rule"].search(
                [("event", "=", "delivery_shipped")]
            ).active = False
            self.assertEqual(picking._check_warn_sms(), picking, "no rule: SMS as before")

    def test_rule_filter_and_delay(self):
        rule = self.env.ref("whatsapp_helpdesk.notification_rule_sale_confirmed")
        rule.domain = "[('amount_total', '>', 1000)]"
        small = self.order(qty=1)
        small.action_confirm()
        self.assertFalse(self.notifications(small))
        rule.write({"domain": "[]", "delay_minutes": 30})
        later = self.order(qty=1)
        later.action_confirm()
        message = self.notifications(later)
        self.assertGreater(message.next_attempt_at, fields.Datetime.now())

    def test_invoice_paid(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "price_unit": 100.0,
                            "tax_ids": [(5, 0, 0)],
                        },
                    )
                ],
            }
        )
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        message = self.notifications(invoice, "invoice_paid")
        self.assertEqual(len(message), 1)
        self.assertIn(invoice.name, message.body)
