import importlib.util
from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import mute_logger
from odoo.tools.misc import file_path
from psycopg2 import IntegrityError

from ..tools import payloads
from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestCostLedger(TemplateCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.account.company_id
        cls.usd = cls.env.ref("base.USD")
        cls.br_marketing = cls.env.ref("whatsapp_helpdesk.rate_br_marketing")
        cls.template = cls.marketing_template()
        cls.bruno = cls.make_customer("Bruno Lima", "+55 21 99876-5432")

    def in_company_currency(self, amount, on_date=None):
        """``amount`` USD in the company's currency (the ledger's currency)."""
        return self.env["whatsapp.rate"]._in_company_currency(
            amount, self.usd, self.company, on_date or date.today()
        )

    def send(self, partner, template=None, record=None):
        """A template queued and sent (mock), returned with its wamid."""
        conversation = self.account._get_conversation(partner)
        message = conversation._send_template(template or self.template, record=record)
        with self.mock_cloud_api(self.sent_answers()):
            self.env["whatsapp.message"]._cron_send()
        return message

    def status(self, message, **pricing):
        self.deliver(
            self.statuses(
                payloads.status(
                    message.wamid, "delivered", message.conversation_id.wa_id, **pricing
                )
            )
        )

    def test_per_message_pricing_charges_each_billable_message(self):
        first, second = self.send(self.customer), self.send(self.customer)
        self.status(first, category="marketing")
        self.status(second, category="marketing")
        price = self.in_company_currency(self.br_marketing.price)
        self.assertAlmostEqual(first.cost, price, places=4)
        self.assertAlmostEqual(second.cost, price, places=4)
        self.assertAlmostEqual(self.customer.whatsapp_cost, 2 * price, places=4)
        free = self.send(self.bruno)
        self.status(free, category="service")
        self.assertEqual(free.cost, 0.0)
        utility_free = self.send(self.bruno)
        self.status(utility_free, category="utility", billable=False)
        self.assertEqual(utility_free.cost, 0.0)

    def test_conversation_based_pricing_charges_the_conversation_once(self):
        self.env["whatsapp.rate"].create(
            {
                "country_id": self.env.ref("base.br").id,
                "category": "marketing",
                "pricing_model": "CBP",
                "date_from": "2024-01-01",
                "price": 0.05,
            }
        )
        first, second = self.send(self.customer), self.send(self.customer)
        self.status(first, category="marketing", pricing_model="CBP", conversation_id="conv1")
        self.status(second, category="marketing", pricing_model="CBP", conversation_id="conv1")
        self.assertAlmostEqual(first.cost, self.in_company_currency(0.05), places=4)
        self.assertEqual(second.cost, 0.0)
        # a rest-of-world market falls back to the card's default row
        self.assertEqual(
            self.env["whatsapp.rate"]._price(self.company, "JP", "marketing", "PMP", None)[0],
            self.env.ref("whatsapp_helpdesk.rate_row_marketing").price,
        )

    def test_rollups_per_order_ticket_campaign(self):
        order_template = self.make_template(name="order_confirmed", status="approved")
        message = self.send(self.customer, order_template, record=self.order)
        self.status(message, category="utility")
        self.assertGreater(self.order.whatsapp_cost, 0)
        self.assertAlmostEqual(self.order.whatsapp_cost, message.cost, places=4)
        ticket = self.env["helpdesk.ticket"].create(
            {"name": "Broken", "description": "x", "partner_id": self.customer.id}
        )
        ticket_message = self.send(self.customer, record=ticket)
        self.status(ticket_message, category="marketing")
        self.assertAlmostEqual(ticket.whatsapp_cost, ticket_message.cost, places=4)
        self.opt_in(self.customer | self.bruno)
        campaign = self.make_campaign(
            self.customer | self.bruno, self.template, frequency_cap_hours=0
        )
        self.assertIn("for 2 marketing messages", campaign.cost_estimate)
        campaign.action_launch()
        self.env["whatsapp.campaign"]._cron_release()
        with self.mock_cloud_api(self.sent_answers()):
            self.env["whatsapp.message"]._cron_send()
        for sent in campaign.whatsapp_message_ids:
            self.status(sent, category="marketing")
        self.assertAlmostEqual(
            campaign.cost, 2 * self.in_company_currency(self.br_marketing.price), places=4
        )

    def test_composer_shows_the_price_before_sending(self):
        composer = Form(
            self.env["whatsapp.composer"].with_context(
                active_model="res.partner", active_id=self.customer.id, active_ids=self.customer.ids
            )
        )
        composer.account_id = self.account
        composer.template_id = self.template
        self.assertIn("marketing message to Brazil", composer.price_estimate)
        self.open_window()
        utility = self.approved_template("news", body="News", category="UTILITY")
        composer = Form(
            self.env["whatsapp.composer"].with_context(
                active_model="res.partner", active_id=self.customer.id, active_ids=self.customer.ids
            )
        )
        composer.account_id = self.account
        self.assertIn("Free", composer.price_estimate)
        composer.template_id = utility
        self.assertIn("Free", composer.price_estimate)

    def test_monthly_budget_pauses_marketing_and_tells_the_managers(self):
        self.opt_in(self.customer | self.bruno)
        self.account.monthly_budget = self.in_company_currency(self.br_marketing.price) * 1.5
        campaign = self.make_campaign(self.customer | self.bruno, self.template)
        campaign.action_launch()
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(len(campaign.whatsapp_message_ids), 1, "the budget pays for one")
        self.assertRecordValues(campaign, [{"state": "paused", "pause_reason": "budget"}])
        posted = self.env["mail.message"].search(
            [("model", "=", "whatsapp.campaign"), ("res_id", "=", campaign.id)], limit=1
        )
        self.assertIn("budget", posted.body)
        self.assertIn(self.manager.partner_id, posted.partner_ids)
        self.assertGreater(self.account.month_cost, 0)

    def test_hostile_rates_and_budget(self):
        Rate = self.env["whatsapp.rate"]
        for bad in (-1.0, 1e9):
            with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
                with self.env.cr.savepoint():
                    Rate.create({"category": "marketing", "date_from": "2025-01-01", "price": bad})
        with self.assertRaises(ValueError), self.env.cr.savepoint():
            Rate.create({"category": "marketing", "date_from": "2025-01-01", "price": float("nan")})
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.account.monthly_budget = -5.0
                self.account.flush_recordset()
        with self.assertRaises(ValueError), self.env.cr.savepoint():
            self.account.monthly_budget = float("nan")
            self.account.flush_recordset()
        with self.assertRaises(AccessError):
            self.br_marketing.with_user(self.wa_user).price = 0
        with self.assertRaises(AccessError):
            self.account.with_user(self.wa_user).monthly_budget = 10**6
        _company, other_account = self.make_company_account()
        self.assertFalse(
            other_account.with_user(self.wa_user).search([("id", "=", other_account.id)])
        )

    def test_the_upgrade_fixes_the_shipped_rates_nobody_changed(self):
        """18.0.1.3.0 fixes five authentication rates: a record still at the price shipped
        before takes the new one and its source; one a user changed keeps its price."""
        path = file_path("whatsapp_helpdesk/migrations/18.0.1.3.0/post-migrate.py")
        spec = importlib.util.spec_from_file_location("wa_migrate_18_0_1_3_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        germany = self.env.ref("whatsapp_helpdesk.rate_de_authentication")
        united_states = self.env.ref("whatsapp_helpdesk.rate_us_authentication")
        new_price, new_source = germany.price, germany.source
        germany.write({"price": 0.0768, "source": "old card"})
        united_states.price = 0.02  # set by the user
        migration.migrate(self.env.cr, False)  # a new install: nothing to do
        self.assertEqual(germany.price, 0.0768)
        migration.migrate(self.env.cr, "18.0.1.2.0")
        germany.invalidate_recordset()
        self.assertRecordValues(germany, [{"price": new_price, "source": new_source}])
        self.assertEqual(united_states.price, 0.02)
