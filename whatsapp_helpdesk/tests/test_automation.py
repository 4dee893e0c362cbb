from odoo.tests import TransactionCase, tagged

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

    def say(self, text):
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, text)))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", self.customer_wa_id)])

    def bot_messages(self, conversation):
        return conversation.message_ids_wa.filtered(lambda m: m.direction == "out").sorted("id")

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
        self.assertIn("A person from our team", self.bot_messages(conversation)[-1].body)

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
