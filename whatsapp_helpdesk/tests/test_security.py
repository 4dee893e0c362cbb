from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestSecurity(WhatsappCase, TransactionCase):
    def test_user_cannot_read_or_write_account_secrets(self):
        account = self.account.with_user(self.wa_user)
        self.assertEqual(account.name, "Test number")
        with self.assertRaises(AccessError):
            account.read(["token"])
        with self.assertRaises(AccessError):
            account.write({"name": "mine now"})

    def test_user_cannot_read_webhook_events(self):
        self.intake(self.inbound())
        with self.assertRaises(AccessError):
            self.env["whatsapp.webhook.event"].with_user(self.wa_user).search([]).read(["payload"])

    def test_conversations_are_kept_per_company(self):
        other_company, other_account = self.make_company_account()
        conversation = other_account._get_conversation(self.customer)
        own = self.account._get_conversation(self.customer)
        visible = self.env["whatsapp.conversation"].with_user(self.wa_user).search([])
        self.assertIn(own, visible)
        self.assertNotIn(conversation, visible)
        outsider = new_test_user(
            self.env,
            login="other_agent",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        self.assertEqual(
            self.env["whatsapp.conversation"].with_user(outsider).search([]), conversation
        )

    def test_manager_implies_user(self):
        manager = self.env.ref("whatsapp_helpdesk.group_whatsapp_manager")
        self.assertIn(self.env.ref("whatsapp_helpdesk.group_whatsapp_user"), manager.implied_ids)
