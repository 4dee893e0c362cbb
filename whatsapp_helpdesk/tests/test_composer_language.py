from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import TemplateCase

EN_BODY = "Hi {{1}}, your order {{2}} of {{3}} is confirmed on {{4}}. Thanks!"


@tagged("post_install", "-at_install")
class TestComposerLanguage(TemplateCase, TransactionCase):
    """The composer as a salesperson uses it from a sales order (odoo.tests.Form)."""

    def setUp(self):
        super().setUp()
        self.pt = self.make_template(status="approved")
        self.en = self.make_template(language="en_US", status="approved", body=EN_BODY)

    def test_one_choice_per_template_the_customers_language_first(self):
        composer = self.order_composer(self.salesman)
        self.assertEqual(composer.template_choice_ids[:], self.pt)
        composer.template_id = self.pt
        self.assertEqual(composer.template_variant_id, self.pt)
        self.assertEqual(composer.template_variant_ids[:], self.pt | self.en)
        self.assertIn("Olá Ana Souza", composer.preview)
        self.assertIn("R$ 1.234,56", composer.preview)

    def test_the_chosen_language_is_the_one_sent(self):
        composer = self.order_composer(self.salesman)
        composer.template_id = self.pt
        composer.template_variant_id = self.en
        self.assertIn("Hi Ana Souza", composer.preview)
        result = composer.save().action_send()
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("leaving now", result["params"]["message"])
        message = self.env["whatsapp.message"].search([("res_id", "=", self.order.id)])
        self.assertEqual(message.template_id, self.en)
        self.assertIn("Hi Ana Souza", message.body)
        self.assertIn("WhatsApp message queued", self.order.message_ids[0].body)
        with self.mock_cloud_api(self.sent_answer("wamid.EN")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(calls[0][2]["json"]["template"]["language"], {"code": "en_US"})

    def test_the_workspace_panel_shows_the_order_in_reais(self):
        conversation = self.open_window()
        Workspace = self.env["whatsapp.workspace"].with_user(self.salesman)
        [order] = Workspace.with_context(lang="pt_BR").load_customer(conversation.id)["orders"]
        self.assertEqual((order["name"], order["amount"]), (self.order.name, "R$ 1.234,56"))
        [order] = Workspace.with_context(lang="en_US").load_customer(conversation.id)["orders"]
        self.assertEqual(order["amount"], "R$1,234.56")

    def test_the_portuguese_variant_formats_reais(self):
        composer = self.order_composer(self.salesman)
        composer.template_id = self.pt
        composer.save().action_send()
        with self.mock_cloud_api(self.sent_answer("wamid.PT")) as calls:
            self.env["whatsapp.message"]._cron_send()
        sent = calls[0][2]["json"]["template"]
        self.assertEqual(sent["language"], {"code": "pt_BR"})
        body = next(c for c in sent["components"] if c["type"] == "body")
        self.assertEqual(body["parameters"][2]["text"], "R$ 1.234,56")


@tagged("post_install", "-at_install")
class TestComposerWindowForAgents(TemplateCase, TransactionCase):
    """The window is the same for every user who may see the conversation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,whatsapp_helpdesk.group_whatsapp_user"
        cls.sofia = new_test_user(cls.env, login="ws_sofia", groups=groups)
        cls.marc = new_test_user(cls.env, login="ws_marc", groups=groups)
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Brasil", "whatsapp_enabled": True, "user_ids": [(6, 0, cls.sofia.ids)]}
        )

    def partner_composer(self, user):
        form = Form(
            self.env["whatsapp.composer"]
            .with_user(user)
            .with_context(active_model="res.partner", active_id=self.customer.id)
        )
        form.account_id = self.account
        return form

    def test_an_agent_sees_the_open_window_and_sends(self):
        conversation = self.open_window()
        conversation.team_id = self.team
        for user in (self.env.user, self.sofia):
            self.assertTrue(self.partner_composer(user).window_open, user.login)
        composer = self.partner_composer(self.sofia)
        composer.body = "Olá Ana!"
        result = composer.save().action_send()
        self.assertIn("leaving now", result["params"]["message"])
        self.assertWhatsappOutgoing(conversation, body="Olá Ana!")

    def test_an_agent_of_another_team_is_told_who_answers(self):
        conversation = self.open_window()
        conversation.team_id = self.team
        composer = self.partner_composer(self.marc)
        self.assertTrue(composer.window_open, "the window is a fact, the same for everyone")
        composer.body = "Hello"
        with self.assertRaisesRegex(UserError, "handled by Brasil"):
            composer.save().action_send()
