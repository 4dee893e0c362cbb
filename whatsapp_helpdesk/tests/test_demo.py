import importlib.util
import pathlib
import unittest
from datetime import datetime, timedelta

from odoo.tests import TransactionCase, tagged

from ..tools import payloads
from .common import WhatsappCase


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

    def test_the_brasil_team_is_open_all_weekday_and_closed_on_weekends(self):
        """The demo behaves the same at any hour of a weekday (README, Trying it, 6.)."""
        team = self.env.ref("whatsapp_helpdesk.team_demo_brasil")
        monday = datetime(2026, 11, 30, 3)  # midnight in São Paulo (naive UTC)
        for hour in range(0, 24, 2):
            self.assertTrue(team._whatsapp_in_hours(monday + timedelta(hours=hour)), hour)
        saturday_noon_there = datetime(2026, 12, 5, 15)
        self.assertFalse(team._whatsapp_in_hours(saturday_noon_there))


def load_demo_greet():
    """scripts/demo_greet.py of this repository, loaded by path (it imports nothing of Odoo)."""
    script = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "demo_greet.py"
    if not script.exists():
        raise unittest.SkipTest("scripts/demo_greet.py is not beside this addon")
    spec = importlib.util.spec_from_file_location("demo_greet", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestDemoGreeting(WhatsappCase, TransactionCase):
    """`make run` has the demo customers greet once per database: a customer whose conversation
    with the demo number holds a message does not greet again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.demo_greet = load_demo_greet()
        cls.demo_account = cls.env.ref("whatsapp_helpdesk.whatsapp_account_demo")

    def due(self):
        heard = self.demo_greet.numbers_heard(self.env.cr)
        return [name for _number, name, _text in self.demo_greet.greetings_due(heard)]

    def test_the_demo_number_is_the_one_run_sh_points_at_the_sandbox(self):
        self.assertEqual(self.demo_account.phone_number_id, self.demo_greet.DEMO_PHONE_NUMBER_ID)

    def test_a_customer_greets_once(self):
        self.assertEqual(self.due(), ["Ana Souza", "Rahul Mehta", "Lucía Hernández"])
        ana, _name, text = self.demo_greet.GREETINGS[0]
        self.deliver(
            self.inbound(
                ana,
                payloads.text_message(ana, text),
                profile_name="Ana Souza",
                account=self.demo_account,
            )
        )
        self.env.flush_all()
        self.assertEqual(self.due(), ["Rahul Mehta", "Lucía Hernández"])

    def test_a_customer_of_another_number_or_without_messages_still_greets(self):
        rahul = self.demo_greet.GREETINGS[1][0]
        self.deliver(self.inbound(rahul, payloads.text_message(rahul, "Hi")))  # the test number
        self.env["whatsapp.conversation"].create(
            {"account_id": self.demo_account.id, "wa_id": rahul, "phone_e164": f"+{rahul}"}
        )
        self.env.flush_all()
        self.assertEqual(self.due(), ["Ana Souza", "Rahul Mehta", "Lucía Hernández"])
