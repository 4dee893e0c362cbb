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

    def test_managers_retry_webhook_events_but_never_write_them(self):
        self.intake(self.inbound())
        event = self.env["whatsapp.webhook.event"].search([], order="id desc", limit=1)
        event.write({"state": "error", "note": "broken"})
        manager = new_test_user(
            self.env,
            login="wa_event_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        mine = event.with_user(manager)
        # a state written over RPC could run the reactions to a message a second time
        for values in ({"state": "stored"}, {"state": "pending"}, {"payload": {"x": "\x00"}}):
            with self.assertRaises(AccessError):
                mine.write(values)
        mine.action_retry()
        self.assertEqual((event.state, event.note), ("pending", False))
        with self.assertRaises(AccessError):
            event.with_user(self.wa_user).action_retry()

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
