"""Issue 8, section 4, finding 3: automation, routing and consent stay in the conversation's
company. Two companies, each with its own WhatsApp number, bot, FAQ, team and agent."""

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase

AGENT_GROUPS = (
    "base.group_user,whatsapp_helpdesk.group_whatsapp_user,helpdesk_mgmt.group_helpdesk_user"
)


@tagged("post_install", "-at_install")
class TestMultiCompany(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.account.company_id
        cls.company_b, cls.account_b = cls.make_company_account("Company B")
        cls.agent_a = new_test_user(cls.env, login="agent_a", groups=AGENT_GROUPS)
        cls.agent_b = new_test_user(
            cls.env,
            login="agent_b",
            groups=AGENT_GROUPS,
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        Team = cls.env["helpdesk.ticket.team"]
        cls.team_a = Team.create(
            {"name": "Team A", "whatsapp_enabled": True, "user_ids": [(6, 0, cls.agent_a.ids)]}
        )
        cls.team_b = Team.create(
            {
                "name": "Team B",
                "whatsapp_enabled": True,
                "company_id": cls.company_b.id,
                "user_ids": [(6, 0, cls.agent_b.ids)],
            }
        )
        AutoReply = cls.env["whatsapp.auto.reply"]
        cls.welcome_a = AutoReply.create({"name": "A", "kind": "welcome", "body": "Welcome to A"})
        cls.welcome_b = AutoReply.create(
            {"name": "B", "kind": "welcome", "body": "Welcome to B", "company_id": cls.company_b.id}
        )
        Faq = cls.env["whatsapp.faq"]
        question = {"questions": "How long does delivery take?", "keywords": "delivery"}
        cls.faq_a = Faq.create({"name": "A", "answer": "A delivers in 2 days", **question})
        cls.faq_b = Faq.create(
            {
                "name": "B",
                "answer": "B delivers in 5 days",
                "company_id": cls.company_b.id,
                **question,
            }
        )
        Optin = cls.env["whatsapp.optin"]
        cls.number = cls.customer.whatsapp_e164
        Optin._record(cls.number, "opted_in", company=cls.company_a)
        Optin._record(cls.number, "opted_in", company=cls.company_b)

    def write_to(self, account, text):
        message = payloads.text_message(self.customer_wa_id, text)
        self.deliver(self.inbound(None, message, account=account))
        return self.env["whatsapp.conversation"].search(
            [("account_id", "=", account.id), ("wa_id", "=", self.customer_wa_id)]
        )

    def answers(self, conversation):
        outbound = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        return outbound.sorted("id").mapped("body")

    def test_agents_see_their_company_rules_entries_teams_and_optins(self):
        for agent, company in ((self.agent_a, self.company_a), (self.agent_b, self.company_b)):
            for model in ("whatsapp.auto.reply", "whatsapp.faq", "whatsapp.optin"):
                records = self.env[model].with_user(agent).search([])
                self.assertTrue(records, f"{agent.login} sees {model}")
                self.assertEqual(records.company_id, company, f"{agent.login} sees {model}")
            teams = (
                self.env["helpdesk.ticket.team"]
                .with_user(agent)
                .search([("whatsapp_enabled", "=", True)])
            )
            self.assertEqual(teams, self.team_a if company == self.company_a else self.team_b)

    def test_a_customer_of_b_is_answered_by_b_only(self):
        conversation_b = self.write_to(self.account_b, "Hi")
        self.assertEqual(self.answers(conversation_b), ["Welcome to B"])
        self.write_to(self.account_b, "how long does delivery take?")
        self.assertEqual(self.answers(conversation_b)[-1], "B delivers in 5 days")
        self.assertNotIn("A delivers in 2 days", self.answers(conversation_b))
        conversation_a = self.write_to(self.account, "Hi")
        self.assertEqual(self.answers(conversation_a), ["Welcome to A"])

    def test_routing_skills_and_orders_stay_in_the_company(self):
        for user in self.agent_a | self.agent_b:
            self.env["bus.presence"].create({"user_id": user.id, "status": "online"})
        self.team_a.write({"user_ids": [(4, self.agent_b.id)]})  # not allowed in company A
        self.env["helpdesk.ticket.tag"].create({"name": "refund"})  # company A's skill
        order_a = self.env["sale.order"].create({"partner_id": self.customer.id})
        conversation_b = self.write_to(self.account_b, f"refund for {order_a.name}")
        self.assertRecordValues(
            conversation_b, [{"team_id": self.team_b.id, "user_id": self.agent_b.id}]
        )
        self.assertFalse(conversation_b.tag_ids)
        self.assertFalse(conversation_b.sale_order_ids, "company A's order stays out of B")
        conversation_a = self.write_to(self.account, "hello")
        self.assertRecordValues(
            conversation_a, [{"team_id": self.team_a.id, "user_id": self.agent_a.id}]
        )
        self.assertEqual(self.team_a._whatsapp_agents(), self.agent_a)
        # claiming does not pull a team of another company either
        conversation_a.sudo().write({"team_id": False, "user_id": False})
        conversation_a.with_user(self.agent_a).action_claim()
        self.assertEqual(conversation_a.team_id, self.team_a)

    def test_stop_to_one_company_leaves_the_other_consent(self):
        self.write_to(self.account_b, "STOP")
        Optin = self.env["whatsapp.optin"]
        self.assertFalse(Optin._is_opted_in(self.number, "utility", self.company_b))
        self.assertTrue(Optin._is_opted_in(self.number, "utility", self.company_a))
        self.assertTrue(Optin._opted_out(self.number, "UTILITY", self.company_b))
        self.assertFalse(Optin._opted_out(self.number, "UTILITY", self.company_a))
        # START to A does not lift the blacklist that B's STOP put there
        self.write_to(self.account, "START")
        blacklist = self.env["phone.blacklist"].sudo()
        self.assertTrue(blacklist.search([("number", "=", self.number)]))
        self.write_to(self.account_b, "START")
        self.assertFalse(blacklist.search([("number", "=", self.number)]))

    def test_cross_company_links_are_refused(self):
        conversation_a = self.account._get_conversation(self.customer)
        with self.assertRaises(UserError):
            conversation_a.team_id = self.team_b
        with self.assertRaises(UserError):
            conversation_a.user_id = self.agent_b
        with self.assertRaises(UserError):
            self.env["whatsapp.transfer"].create(
                {"conversation_id": conversation_a.id, "team_id": self.team_b.id}
            )
        template_b = self.env["whatsapp.template"].create(
            {"name": "b_only", "account_id": self.account_b.id, "body": "Hello from B"}
        )
        with self.assertRaises(UserError):
            self.welcome_a.write({"answer_type": "template", "template_id": template_b.id})
        with self.assertRaises(UserError):
            self.team_a.whatsapp_stage_template_id = template_b
        with self.assertRaises(ValidationError):
            self.env["helpdesk.ticket.team"].create(
                {"name": "Nowhere", "whatsapp_enabled": True, "company_id": False}
            )
