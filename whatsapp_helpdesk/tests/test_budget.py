from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, tagged

from .test_notifications import NotificationCase


@tagged("post_install", "-at_install")
class TestMonthlyBudget(NotificationCase, TransactionCase):
    """Once the month's estimated spend reaches the account's budget, no marketing template is
    queued, wherever it comes from; what was queued before still leaves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.marketing_template()
        cls.unit = cls.env["whatsapp.rate"]._estimate(
            cls.account.company_id, "marketing", {"BR": 1}
        )
        # the first marketing message reaches it
        cls.account.monthly_budget = cls.unit / 2

    def compose(self, template):
        form = Form(
            self.env["whatsapp.composer"].with_context(
                active_model="res.partner",
                active_id=self.customer.id,
                active_ids=self.customer.ids,
            )
        )
        form.account_id = self.account
        form.template_id = template
        return form.save()

    def test_the_composer_refuses_marketing_once_the_budget_is_reached(self):
        self.assertGreater(self.unit, 0)
        self.compose(self.template).action_send()
        queued = self.env["whatsapp.message"].search([("template_id", "=", self.template.id)])
        self.assertEqual(queued.state, "queued")
        with self.assertRaisesRegex(UserError, "monthly marketing budget of Test number"):
            self.compose(self.template).action_send()
        self.assertEqual(
            self.env["whatsapp.message"].search([("template_id", "=", self.template.id)]), queued
        )
        # other categories are not the marketing budget's business
        utility = self.approved_template("news", body="News", category="UTILITY")
        self.compose(utility).action_send()
        # accepted within the budget: the outbox does not check it again when it claims
        with self.mock_cloud_api(self.sent_answers()):
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(queued.state, "sent")
        # a manager raises the budget: marketing goes again
        self.account.monthly_budget = self.unit * 10
        self.compose(self.template).action_send()
        self.assertEqual(
            len(self.env["whatsapp.message"].search([("template_id", "=", self.template.id)])), 2
        )

    def test_a_marketing_notification_is_refused_with_a_note(self):
        rule = self.env["whatsapp.notification.rule"].search(
            [("event", "=", "sale_confirmed")], limit=1
        )
        rule.template_id = self.template
        self.compose(self.template).action_send()  # reaches the budget
        order = self.order()
        order.action_confirm()
        self.assertFalse(self.notifications(order, "sale_confirmed"))
        self.assertIn("monthly marketing budget", order.message_ids[0].body)

    def test_a_batch_refuses_marketing_over_the_budget_and_not_utility(self):
        self.compose(self.template).action_send()  # reaches the budget
        conversation = self.account._get_conversation(self.customer)
        results = conversation._send_template_many(self.template)
        self.assertEqual(results[conversation.id][0], "budget")
        utility = self.approved_template("news", body="News", category="UTILITY")
        results = conversation._send_template_many(utility)
        self.assertEqual(results[conversation.id].state, "queued")
