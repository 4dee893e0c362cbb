from datetime import timedelta

from markupsafe import Markup
from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestAutoRepliesAndBot(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pt_BR")
        cls.customer.lang = "pt_BR"
        AutoReply = cls.env["whatsapp.auto.reply"]
        cls.welcome = AutoReply.create(
            {"name": "Welcome", "kind": "welcome", "body": "Bem-vindo à Loja Exemplo!"}
        )
        cls.hours = AutoReply.create(
            {
                "name": "Hours",
                "kind": "keyword",
                "pattern": "horário|horario",
                "body": "Abrimos de segunda a sexta, das 9h às 18h.",
                "languages": "pt_BR",
            }
        )
        cls.env["whatsapp.faq"].create(
            {
                "name": "Delivery",
                "language": "pt_BR",
                "questions": "Qual o prazo de entrega?\nQuanto tempo demora a entrega?",
                "keywords": "entrega, prazo",
                "answer": "Entregamos em até 2 dias úteis.",
            }
        )

    def test_welcome_once_within_the_cool_down(self):
        conversation = self.say("Oi")
        sent = self.bot_messages(conversation)
        self.assertEqual(sent.mapped("body"), ["Bem-vindo à Loja Exemplo!"])
        self.assertEqual(sent.mail_message_id.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(conversation.inbox_state, "new", "a bot answer does not close the loop")
        self.say("Oi de novo")
        self.assertEqual(len(self.bot_messages(conversation)), 1)

    def test_keyword_rule_answers_and_has_its_cool_down(self):
        self.say("Oi")
        conversation = self.say("Qual o horário de vocês?")
        bodies = self.bot_messages(conversation).mapped("body")
        self.assertIn("Abrimos de segunda a sexta, das 9h às 18h.", bodies)
        self.say("e o horário de sábado?")
        self.assertEqual(bodies, self.bot_messages(conversation).mapped("body"))

    def test_faq_bot_answers_with_a_person_button_and_hands_over(self):
        self.say("Oi")
        conversation = self.say("quanto tempo demora a entrega?")
        answer = self.bot_messages(conversation)[-1]
        self.assertEqual(answer.body, "Entregamos em até 2 dias úteis.")
        self.assertEqual(answer.message_type, "interactive")
        fresh_wamid = lambda method, path, kwargs: self.sent_answer(payloads.new_wamid())  # noqa: E731
        with self.mock_cloud_api(fresh_wamid) as calls:
            self.env["whatsapp.message"]._cron_send()
        sent = [c[2]["json"] for c in calls if c[2]["json"].get("type") == "interactive"]
        self.assertEqual(sent[0]["interactive"]["action"]["buttons"][0]["reply"]["id"], "wa_human")
        press = payloads.interactive_reply(self.customer_wa_id, "button_reply", "wa_human", "Falar")
        self.deliver(self.inbound(None, press))
        self.assertIn("Uma pessoa da nossa equipe", self.bot_messages(conversation)[-1].body)
        self.assertEqual(conversation.handoff_reason, "asked")

    def test_unrelated_question_gets_no_bot_answer(self):
        self.say("Oi")
        conversation = self.say("minha tela quebrou e o aplicativo fecha sozinho")
        self.assertEqual(len(self.bot_messages(conversation)), 1)

    def test_out_of_hours_notice(self):
        closed = self.env["resource.calendar"].create(
            {"name": "Never", "attendance_ids": [(5, 0, 0)], "tz": "America/Sao_Paulo"}
        )
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "BR", "whatsapp_enabled": True, "whatsapp_calendar_id": closed.id}
        )
        self.env["whatsapp.auto.reply"].create(
            {"name": "Closed", "kind": "out_of_hours", "body": "Estamos fechados agora."}
        )
        conversation = self.say("Oi")
        self.assertEqual(conversation.team_id, team)
        self.assertIn("Estamos fechados agora.", self.bot_messages(conversation).mapped("body"))

    def test_keyword_answer_as_an_interactive_list(self):
        self.hours.write({"answer_type": "list", "list_options": "Loja centro\nLoja shopping"})
        self.say("Oi")
        conversation = self.say("qual o horário?")
        answer = self.bot_messages(conversation)[-1]
        self.assertEqual(answer.message_type, "interactive")
        rows = answer.payload["action"]["sections"][0]["rows"]
        self.assertEqual([r["title"] for r in rows], ["Loja centro", "Loja shopping"])

    # -- a person owns the conversation (issue 8, section 4, finding 5) ----------------------

    def ask_delivery(self):
        return self.say("quanto tempo demora a entrega?")

    def test_bot_is_quiet_after_the_hand_off_until_the_conversation_closes(self):
        self.say("Oi")
        press = payloads.interactive_reply(self.customer_wa_id, "button_reply", "wa_human", "Falar")
        self.deliver(self.inbound(None, press))
        conversation = self.say("Qual o horário de vocês?")
        self.ask_delivery()
        self.say("quero falar com um atendente")
        bodies = self.bot_messages(conversation).mapped("body")
        self.assertEqual(len(bodies), 2, bodies)
        self.assertIn("Uma pessoa da nossa equipe", bodies[-1], "told once, nothing after")
        self.assertTrue(conversation.handed_over_at)
        conversation.action_close()
        self.assertFalse(conversation.handed_over_at)
        self.ask_delivery()
        self.assertEqual(
            self.bot_messages(conversation)[-1].body, "Entregamos em até 2 dias úteis."
        )

    def test_bot_is_quiet_from_an_agents_message_until_the_conversation_is_resolved(self):
        conversation = self.say("Oi")
        conversation.with_user(self.wa_user).message_post(
            body=Markup("<p>Olá Ana, em que posso ajudar?</p>"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertTrue(conversation.last_agent_reply_at)
        self.assertEqual(conversation.handoff_reason, "agent", "the agent owns it now")
        before = len(self.bot_messages(conversation))
        self.ask_delivery()
        self.say("Qual o horário de vocês?")
        self.assertEqual(len(self.bot_messages(conversation)), before)
        # however long the agent takes to answer again
        conversation.last_agent_reply_at = fields.Datetime.now() - timedelta(days=2)
        self.ask_delivery()
        self.assertEqual(len(self.bot_messages(conversation)), before)
        # resolved: quiet while the agent's last words are fresh (the quiet period, a setting)
        conversation.last_agent_reply_at = fields.Datetime.now() - timedelta(minutes=10)
        conversation.action_close()
        self.ask_delivery()
        self.assertEqual(len(self.bot_messages(conversation)), before)
        self.env["ir.config_parameter"].set_param("whatsapp_helpdesk.bot_quiet_minutes", "5")
        self.ask_delivery()
        self.assertEqual(
            self.bot_messages(conversation)[-1].body, "Entregamos em até 2 dias úteis."
        )

    def test_an_assigned_conversation_gets_nothing_automatic(self):
        closed = self.env["resource.calendar"].create(
            {"name": "Never", "attendance_ids": [(5, 0, 0)], "tz": "America/Sao_Paulo"}
        )
        self.env["helpdesk.ticket.team"].create(
            {"name": "BR", "whatsapp_enabled": True, "whatsapp_calendar_id": closed.id}
        )
        self.env["whatsapp.auto.reply"].create(
            {"name": "Closed", "kind": "out_of_hours", "body": "Estamos fechados agora."}
        )
        conversation = self.say("Oi")
        self.assertEqual(
            self.bot_messages(conversation).mapped("body"),
            ["Bem-vindo à Loja Exemplo!", "Estamos fechados agora."],
        )
        conversation.write({"user_id": self.wa_user.id, "auto_reply_fired": {}})
        self.assertEqual(conversation.handoff_reason, "assigned")
        self.ask_delivery()
        self.say("Qual o horário de vocês?")
        self.assertEqual(len(self.bot_messages(conversation)), 2, "no answer, no notice")

    def test_routing_to_an_agent_hands_the_conversation_over(self):
        agent = new_test_user(
            self.env,
            login="bot_agent",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
        )
        self.env["bus.presence"].create({"user_id": agent.id, "status": "online"})
        self.env["helpdesk.ticket.team"].create(
            {"name": "BR", "whatsapp_enabled": True, "user_ids": [(6, 0, agent.ids)]}
        )
        conversation = self.say("Oi")
        self.assertEqual(conversation.user_id, agent)
        self.assertEqual(conversation.handoff_reason, "assigned")
        self.ask_delivery()
        self.assertFalse(self.bot_messages(conversation), "the agent answers, not the bot")

    def test_faq_answer_has_a_cool_down_per_conversation(self):
        self.env["whatsapp.faq"].create(
            {
                "name": "Payment",
                "language": "pt_BR",
                "questions": "Quais formas de pagamento vocês aceitam?",
                "keywords": "pagamento, pix",
                "answer": "Aceitamos Pix e cartão.",
            }
        )
        self.say("Oi")
        conversation = self.ask_delivery()
        self.ask_delivery()
        self.say("quais formas de pagamento vocês aceitam?")
        bodies = self.bot_messages(conversation).mapped("body")
        self.assertEqual(bodies.count("Entregamos em até 2 dias úteis."), 1)
        self.assertEqual(bodies.count("Aceitamos Pix e cartão."), 1)
        answered = {k: v - 3601 for k, v in conversation.faq_answered.items()}
        conversation.faq_answered = answered
        self.ask_delivery()
        bodies = self.bot_messages(conversation).mapped("body")
        self.assertEqual(bodies.count("Entregamos em até 2 dias úteis."), 2)
