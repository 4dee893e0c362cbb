from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestTemplates(TemplateCase, TransactionCase):
    def test_variables_follow_the_placeholders(self):
        template = self.make_template()
        self.assertEqual(template.variable_ids.mapped("name"), ["1", "2", "3", "4"])
        template.body = "Olá {{1}}, o pedido {{2}} saiu para entrega hoje."
        self.assertEqual(template.variable_ids.mapped("name"), ["1", "2"])

    def test_lint_problems_block_submission(self):
        template = self.make_template(name="Order Confirmed!")
        self.assertTrue(template.lint_problems)
        with self.mock_cloud_api() as calls, self.assertRaisesRegex(UserError, "Meta would reject"):
            template.action_submit()
        self.assertFalse(calls)

    def test_submit_sends_meta_payload(self):
        template = self.make_template()
        self.assertFalse(template.lint_problems, template.lint_problems)
        with self.mock_cloud_api(
            {"id": "777", "status": "PENDING", "category": "UTILITY"}
        ) as calls:
            template.action_submit()
        self.assertRecordValues(template, [{"status": "pending", "meta_template_id": "777"}])
        method, path, kwargs = calls[0]
        self.assertEqual((method, path.endswith("message_templates")), ("POST", True))
        body = kwargs["json"]
        self.assertEqual(
            (body["name"], body["language"], body["category"]),
            ("order_confirmed", "pt_BR", "UTILITY"),
        )
        components = {c["type"]: c for c in body["components"]}
        self.assertEqual(
            components["BODY"]["example"]["body_text"],
            [["Ana", "S00042", "R$ 1.234,56", "1 de mar. de 2026"]],
        )

    def test_status_webhooks_drive_the_lifecycle(self):
        template = self.make_template(status="pending")
        self.deliver_template_event(template, "APPROVED")
        self.assertEqual(template.status, "approved")
        self.deliver_template_event(template, "PAUSED")
        self.assertEqual(template.status, "paused")
        with self.assertRaisesRegex(UserError, "paused"):
            template._check_sendable()

    def test_rejection_keeps_meta_reason(self):
        template = self.make_template(status="pending")
        self.deliver_template_event(template, "REJECTED", reason="INVALID_FORMAT")
        self.assertRecordValues(
            template, [{"status": "rejected", "rejected_reason": "INVALID_FORMAT"}]
        )

    def test_editing_an_approved_template_resubmits_it(self):
        template = self.make_template(status="approved")
        with self.mock_cloud_api({"success": True}) as calls:
            template.footer = "Loja Exemplo Ltda"
        self.assertEqual(template.status, "pending")
        self.assertEqual(len(calls), 1)
        self.assertTrue(calls[0][1].endswith(template.meta_template_id))

    def test_values_are_formatted_for_a_brazilian_customer(self):
        template = self.make_template(status="approved")
        values = template._render_values(self.order, self.customer)
        self.assertEqual(values["body"]["1"], "Ana Souza")
        self.assertEqual(values["body"]["2"], self.order.name)
        self.assertEqual(values["body"]["3"], "R$ 1.234,56")
        # 02:30 UTC on 1 March is still 28 February evening in São Paulo
        self.assertIn("fev", values["body"]["4"])

    def test_field_path_respects_the_senders_rights(self):
        template = self.make_template(status="approved")
        outsider = new_test_user(
            self.env,
            login="no_sales",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
        )
        with self.assertRaises(UserError):
            template.with_user(outsider)._render_values(
                self.order.with_user(outsider), self.customer
            )

    def test_customer_language_picks_the_variant(self):
        pt = self.make_template(status="approved")
        en = self.make_template(
            language="en_US",
            status="approved",
            body="Hi {{1}}, your order {{2}} of {{3}} is confirmed on {{4}}. Thanks!",
        )
        self.assertEqual(en._variant_for(self.customer), pt)
        self.customer.lang = "en_US"
        self.assertEqual(pt._variant_for(self.customer), en)

    def test_sync_imports_templates_from_meta(self):
        remote = [
            {
                "id": "555",
                "name": "shipping_update",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [
                    {
                        "type": "BODY",
                        "text": "Your order {{1}} has shipped.",
                        "example": {"body_text": [["S00001"]]},
                    },
                ],
            }
        ]
        with self.mock_cloud_api({"data": remote, "paging": {}}):
            self.account.action_sync_templates()
        template = self.env["whatsapp.template"].search([("meta_template_id", "=", "555")])
        self.assertRecordValues(template, [{"status": "approved", "name": "shipping_update"}])
        self.assertEqual(template.variable_ids.sample, "S00001")

    def test_user_cannot_edit_or_submit_templates(self):
        template = self.make_template().with_user(self.wa_user)
        with self.assertRaises(AccessError):
            template.write({"body": "changed {{1}} text here"})
        with self.assertRaises(AccessError):
            template.action_submit()


@tagged("post_install", "-at_install")
class TestTemplateComposer(TemplateCase, TransactionCase):
    def test_composer_sends_template_from_sale_order_outside_window(self):
        template = self.make_template(status="approved")
        composer = self.order_composer(self.salesman)
        self.assertFalse(composer.window_open)
        composer.template_id = template
        self.assertIn("R$ 1.234,56", composer.preview)
        composer.save().action_send()
        message = self.env["whatsapp.message"].search([("template_id", "=", template.id)])
        self.assertEqual(message.res_model, "sale.order")
        self.assertIn("R$ 1.234,56", message.body)
        self.assertIn(message.body, self.order.message_ids[0].body)
        with self.mock_cloud_api(self.sent_answer("wamid.T1")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        sent = calls[0][2]["json"]
        self.assertEqual(sent["type"], "template")
        self.assertEqual(sent["template"]["name"], "order_confirmed")
        self.assertEqual(sent["template"]["language"], {"code": "pt_BR"})
        body = next(c for c in sent["template"]["components"] if c["type"] == "body")
        self.assertEqual(body["parameters"][2], {"type": "text", "text": "R$ 1.234,56"})

    def test_free_text_needs_the_window(self):
        composer = self.env["whatsapp.composer"].create(
            {"partner_id": self.customer.id, "account_id": self.account.id, "body": "hi"}
        )
        with self.assertRaisesRegex(UserError, "24-hour"):
            composer.action_send()

    def test_paused_template_cannot_be_sent(self):
        template = self.make_template(status="paused")
        composer = self.env["whatsapp.composer"].create(
            {
                "partner_id": self.customer.id,
                "account_id": self.account.id,
                "template_id": template.id,
                "res_model": "sale.order",
                "res_id": self.order.id,
            }
        )
        with self.assertRaisesRegex(UserError, "paused"):
            composer.action_send()

    def test_mass_free_text_skips_with_reasons(self):
        """Free text to a selection stays one message per record (a template to a selection
        is a campaign: see test_campaigns)."""
        Partner = self.env["res.partner"]
        good = Partner.create({"name": "Bia", "mobile": "+55 11 98888-0001", "lang": "pt_BR"})
        same = Partner.create({"name": "Bia (dup)", "mobile": "+55 11 98888-0001"})
        nonumber = Partner.create({"name": "No Phone"})
        optout = Partner.create({"name": "Stop", "mobile": "+55 11 98888-0002"})
        closed = Partner.create({"name": "Quiet", "mobile": "+55 11 98888-0003"})
        self.env["phone.blacklist"].sudo().add("+5511988880002")
        conversation = self.open_window(good)
        partners = good | same | nonumber | optout | closed
        composer = (
            self.env["whatsapp.composer"]
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .create({"account_id": self.account.id, "body": "Chegou a sua encomenda."})
        )
        self.assertEqual(composer.composition_mode, "mass")
        self.assertFalse(composer.as_campaign)
        result = composer.action_send()
        text = result["params"]["message"]
        self.assertIn("1 WhatsApp message(s) queued", text)
        self.assertIn("same number", text)
        self.assertIn("no valid mobile", text)
        self.assertIn("opted out", text)
        self.assertIn("Quiet: 24-hour window closed", text)
        self.assertWhatsappOutgoing(conversation, body="Chegou a sua encomenda.")
        self.assertFalse(
            self.env["whatsapp.campaign"].search([("partner_ids", "in", partners.ids)])
        )
