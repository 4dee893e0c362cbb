from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """What the README's "Trying it" needs from the demo data (a demo that fails to load is
    installed without it, silently: these tests say so)."""

    def test_customers_speak_their_language_and_pay_in_their_currency(self):
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        self.assertLessEqual({"pt_BR", "es_419", "zh_CN", "id_ID", "en_IN"}, installed)
        expected = {
            "partner_demo_ana": ("pt_BR", "BRL"),
            "partner_demo_lucia": ("es_419", "MXN"),
            "partner_demo_rahul": ("en_IN", "INR"),
        }
        for xmlid, (lang, currency) in expected.items():
            partner = self.env.ref(f"whatsapp_helpdesk.{xmlid}")
            self.assertEqual(partner.lang, lang, xmlid)
            self.assertEqual(partner.property_product_pricelist.currency_id.name, currency, xmlid)

    def test_anas_quotation_is_the_admins_in_reais(self):
        order = self.env.ref("whatsapp_helpdesk.sale_order_demo_ana")
        self.assertEqual(order.user_id, self.env.ref("base.user_admin"))
        self.assertEqual(order.currency_id.name, "BRL")

    def test_a_draft_is_left_to_submit_and_the_welcome_is_translated(self):
        draft = self.env.ref("whatsapp_helpdesk.template_demo_feedback_en_us")
        self.assertEqual(draft.status, "draft")
        welcome = self.env.ref("whatsapp_helpdesk.auto_reply_demo_welcome")
        self.assertTrue(welcome.with_context(lang="pt_BR").body.startswith("Olá!"))

    def test_sofia_is_an_agent_of_the_brasil_team(self):
        sofia = self.env.ref("whatsapp_helpdesk.user_demo_sofia")
        self.assertFalse(sofia.has_group("whatsapp_helpdesk.group_whatsapp_manager"))
        self.assertIn(sofia, self.env.ref("whatsapp_helpdesk.team_demo_brasil").user_ids)
