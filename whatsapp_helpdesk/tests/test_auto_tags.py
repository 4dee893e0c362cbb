from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from ..tools import payloads
from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestAutoTags(TemplateCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tag = cls.env["res.partner.category"]
        cls.interested, cls.vip, cls.cold = Tag.create(
            [{"name": "Interested"}, {"name": "VIP"}, {"name": "Cold"}]
        )
        cls.customer.category_id = cls.cold
        Rule = cls.env["whatsapp.tag.rule"]
        cls.keyword_rule = Rule.create(
            {
                "name": "Promo keyword",
                "trigger": "keyword",
                "pattern": "promoção|promo",
                "add_tag_ids": [(6, 0, cls.interested.ids)],
                "remove_tag_ids": [(6, 0, cls.cold.ids)],
            }
        )
        cls.button_rule = Rule.create(
            {
                "name": "Interested button",
                "trigger": "button",
                "pattern": "interested",
                "add_tag_ids": [(6, 0, cls.interested.ids)],
            }
        )
        cls.order_rule = Rule.create(
            {
                "name": "VIP after 2 orders",
                "trigger": "orders",
                "order_min_count": 2,
                "order_min_amount": 2000,
                "add_tag_ids": [(6, 0, cls.vip.ids)],
            }
        )

    def logged(self, partner):
        return partner.message_ids.filtered(lambda m: "WhatsApp rule" in (m.body or ""))

    def test_keyword_adds_and_removes_tags_with_a_log(self):
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "Tem PROMOÇÃO hoje?")))
        self.assertEqual(self.customer.category_id, self.interested)
        log = self.logged(self.customer)
        self.assertEqual(len(log), 1)
        self.assertIn("Promo keyword", log.body)
        self.assertIn("removed Cold", log.body)
        # nothing changes a second time: no second log
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "promo")))
        self.assertEqual(len(self.logged(self.customer)), 1)

    def test_button_reply(self):
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "I am interested")))
        self.assertNotIn(self.interested, self.customer.category_id, "text is not a button")
        self.deliver(self.inbound(wa_id, payloads.button_message(wa_id, "INTERESTED", "Yes!")))
        self.assertIn(self.interested, self.customer.category_id)

    def test_order_count_and_amount(self):
        second = self.order.copy()
        second.action_confirm()
        self.assertIn(self.vip, self.customer.category_id)
        self.assertIn("2 orders", self.logged(self.customer).body)

    def test_other_company_rules_stay_out(self):
        company, _account = self.make_company_account()
        self.keyword_rule.company_id = company
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "promo")))
        self.assertNotIn(self.interested, self.customer.category_id)

    def test_agent_keeps_tags_and_notes_from_the_conversation(self):
        former = self.env["res.partner.category"].create({"name": "Former campaign"})
        self.customer.category_id |= former
        former.active = False
        conversation = self.open_window()
        form = Form(conversation.with_user(self.wa_user))
        form.customer_tag_ids.add(self.vip)
        form.customer_notes = "<p>Prefers mornings</p>"
        form.save()
        self.assertEqual(self.customer.category_id, self.cold | self.vip)
        # an archived tag, not shown in the conversation, stays on the contact
        self.assertIn(former, self.customer.with_context(active_test=False).category_id)
        self.assertIn("Prefers mornings", self.customer.comment)
        # only through a conversation the agent may work on
        outsider = new_test_user(self.env, login="wa_tag_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            conversation.with_user(outsider).customer_notes = "<p>x</p>"
        with self.assertRaises(AccessError):
            self.keyword_rule.with_user(self.wa_user).pattern = "x"

    def test_hostile_rule_values_and_notes(self):
        for bad in (
            {"order_min_count": -1},
            {"order_min_amount": -5.0},
            {"order_min_amount": 1e16},
        ):
            with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
                with self.env.cr.savepoint():
                    self.order_rule.write(bad)
                    self.order_rule.flush_recordset()
        # a huge or odd pattern never breaks the intake
        self.keyword_rule.pattern = "|" * 5000 + "x" * 5000
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "promo")))
        self.assertNotIn(self.interested, self.customer.category_id)
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])
        conversation.with_user(
            self.wa_user
        ).customer_notes = "<p>ok</p><script>alert(1)</script><img src=x onerror=alert(2)>"
        self.assertNotIn("<script", self.customer.comment)
        self.assertNotIn("onerror", self.customer.comment)
        # tags of another company's rule or a tag id that does not exist are refused
        with self.assertRaises(Exception), mute_logger("odoo.sql_db"), self.env.cr.savepoint():  # noqa: B017
            conversation.with_user(self.wa_user).customer_tag_ids = [(6, 0, [10**9])]
            conversation.flush_recordset()
