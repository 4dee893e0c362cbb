from odoo.tests import HttpCase, new_test_user, tagged

from ..tools import payloads
from .common import LiveTourCase

ANA = "5511955443322"


@tagged("post_install", "-at_install")
class TestReadmeTours(LiveTourCase, HttpCase):
    """The README's "Trying it", as the administrator and as an agent (not an administrator)
    click it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pt_BR")
        cls.ana = cls.env["res.partner"].create(
            {"name": "Ana Readme", "mobile": f"+{ANA}", "lang": "pt_BR"}
        )
        cls.agent = new_test_user(
            cls.env,
            login="readme_agent",
            groups="base.group_user,base.group_partner_manager,"
            "whatsapp_helpdesk.group_whatsapp_user,helpdesk_mgmt.group_helpdesk_user",
        )
        # Step 5 needs sales rights (own documents) and, to validate a delivery, inventory rights.
        cls.salesman = new_test_user(
            cls.env,
            login="readme_salesman",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user,"
            "sales_team.group_sale_salesman,stock.group_stock_user",
        )

    def meta_sends_and_the_customer_reads(self, env):
        outbox = env["whatsapp.message"].search(
            [("partner_id", "=", self.ana.id), ("direction", "=", "out")]
        )
        with self.mock_cloud_api(self.sent_answer("wamid.README")):
            env["whatsapp.message"]._cron_send()
        for state in ("sent", "delivered", "read"):
            self.deliver(self.statuses(payloads.status("wamid.README", state, ANA)), env)
        return outbox

    def contact_step(self, login):
        self.deliver(self.inbound(ANA, payloads.text_message(ANA, "Olá! Vocês entregam?")))

        def queued(env):
            return env["whatsapp.message"].search_count(
                [("partner_id", "=", self.ana.id), ("direction", "=", "out")]
            )

        with self.while_touring((queued, self.meta_sends_and_the_customer_reads)):
            self.start_tour("/odoo/contacts", "whatsapp_helpdesk_readme_contact_tour", login=login)
        message = self.ana.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertRecordValues(
            message, [{"body": "Olá Ana, seu pedido saiu hoje.", "state": "read"}]
        )

    def test_step_2_send_from_the_contact_as_administrator(self):
        self.contact_step("admin")

    def test_step_2_send_from_the_contact_as_agent(self):
        self.contact_step("readme_agent")

    def order_step(self, user):
        for rule in self.env["whatsapp.notification.rule"].search([]):
            rule.template_id._variants().with_context(whatsapp_no_resubmit=True).write(
                {"account_id": self.account.id}
            )
            self.env["whatsapp.template"].search(
                [("name", "=", rule.template_id.name)]
            ).with_context(whatsapp_no_resubmit=True).write(
                {"account_id": self.account.id, "status": "approved"}
            )
        self.env["whatsapp.optin"]._record(
            f"+{ANA}", "opted_in", partner=self.ana, source="website"
        )
        product = self.env["product.product"].create({"name": "Lamp", "list_price": 100.0})
        brl = self.env.ref("base.BRL")
        brl.active = True
        pricelist = self.env["product.pricelist"].create({"name": "BRL", "currency_id": brl.id})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.ana.id,
                "pricelist_id": pricelist.id,
                "user_id": user.id,
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        self.start_tour(
            "/odoo/action-sale.action_quotations_with_onboarding",
            "whatsapp_helpdesk_readme_order_tour",
            login=user.login,
        )
        sent = self.env["whatsapp.message"].search([("partner_id", "=", self.ana.id)])
        self.assertEqual(
            sorted(sent.template_id.mapped("name")), ["order_confirmed", "order_shipped_simple"]
        )
        self.assertEqual(set(sent.template_id.mapped("language")), {"pt_BR"})
        self.assertIn("R$", sent.filtered(lambda m: m.res_model == "sale.order").body)
        self.assertEqual(order.picking_ids.state, "done")

    def test_step_5_order_notifications_as_administrator(self):
        self.order_step(self.env.ref("base.user_admin"))

    def test_step_5_order_notifications_as_salesman(self):
        self.order_step(self.salesman)

    def helpdesk_step(self, login):
        welcome = self.env["whatsapp.auto.reply"].create(
            {"name": "Welcome", "kind": "welcome", "body": "Hi! Thanks for writing to us."}
        )
        welcome.update_field_translations("body", {"pt_BR": "Olá! Obrigado por escrever."})
        self.env["helpdesk.ticket.team"].create(
            {
                "name": "Brasil",
                "whatsapp_enabled": True,
                "whatsapp_languages": "pt_BR, pt",
                "whatsapp_ticket_keywords": "reclamação",
                # as in the demo: the administrator is in both teams
                "user_ids": [(6, 0, (self.agent | self.env.ref("base.user_admin")).ids)],
            }
        )
        self.env["helpdesk.ticket.team"].create(
            {
                "name": "Global",
                "whatsapp_enabled": True,
                "user_ids": [(6, 0, self.env.ref("base.user_admin").ids)],
            }
        )
        number = "5511944443333"
        self.deliver(
            self.inbound(
                number,
                payloads.text_message(number, "Quero fazer uma reclamação"),
                profile_name="Cliente Reclamação",
            )
        )
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", number)])
        self.assertEqual(conversation.team_id.name, "Brasil")
        self.start_tour(
            "/odoo/whatsapp-workspace",
            "whatsapp_helpdesk_readme_helpdesk_tour",
            login=login,
        )
        self.assertEqual(conversation.user_id.login, login)
        self.assertTrue(conversation.ticket_ids)

    def test_step_6_helpdesk_as_agent(self):
        self.helpdesk_step("readme_agent")

    def test_step_6_helpdesk_as_administrator(self):
        self.helpdesk_step("admin")
