from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestLanguageInference(WhatsappCase, TransactionCase):
    """whatsapp.conversation.language: the agent's word, else the customer's words, else the
    profile, else the number's country (tools/language.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pt_BR", "es_419"):
            cls.env["res.lang"]._activate_lang(code)
        cls.customer.lang = "en_US"
        cls.Workspace = cls.env["whatsapp.workspace"].with_user(cls.wa_user)

    def customer_writes(self, wa_id, text, name="Customer"):
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, text), profile_name=name))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])

    def test_a_new_brazilian_number_is_portuguese(self):
        conversation = self.customer_writes("5511955550000", "ok")
        self.assertEqual(conversation.partner_id.country_id.code, "BR")
        self.assertEqual(conversation.partner_id.lang, "pt_BR")
        self.assertRecordValues(conversation, [{"language": "pt_BR", "language_source": "profile"}])

    def test_the_customers_words_win_over_the_profile(self):
        conversation = self.customer_writes(
            self.customer_wa_id, "Olá! Vocês entregam em São Paulo?"
        )
        self.assertEqual(conversation.partner_id, self.customer)
        self.assertRecordValues(conversation, [{"language": "pt_BR", "language_source": "words"}])
        self.customer_writes(self.customer_wa_id, "ok")
        self.assertEqual(
            conversation.language, "pt_BR", "a word that tells nothing changes nothing"
        )
        self.customer_writes(self.customer_wa_id, "Hola, ¿tienen stock del modelo X?")
        self.assertEqual(conversation.language, "es_419")

    def test_the_agent_corrects_it(self):
        conversation = self.customer_writes(
            self.customer_wa_id, "Olá! Vocês entregam em São Paulo?"
        )
        self.assertEqual(self.Workspace.set_language(conversation.id, "es_419"), "es_419")
        self.assertRecordValues(conversation, [{"language": "es_419", "language_source": "agent"}])
        self.customer_writes(self.customer_wa_id, "Obrigada!")
        self.assertEqual(conversation.language, "es_419", "the agent's word stays")
        self.assertEqual(self.Workspace.set_language(conversation.id, False), "pt_BR")

    def test_hostile_language_corrections(self):
        conversation = self.customer_writes(self.customer_wa_id, "Hello")
        for value in (42, ["pt_BR"], {"a": 1}, 1.5):
            with self.assertRaises(ValidationError):
                self.Workspace.set_language(conversation.id, value)
        for value in ("xx_XX", "pt_BR" * 1000, "'; DROP TABLE x; --"):
            with self.assertRaises(UserError):
                self.Workspace.set_language(conversation.id, value)
        outsider = new_test_user(self.env, login="no_wa", groups="base.group_user")
        with self.assertRaises(UserError):
            self.env["whatsapp.workspace"].with_user(outsider).set_language(
                conversation.id, "pt_BR"
            )

    def test_welcome_routing_and_ticket_follow_the_inferred_language(self):
        welcome = self.env["whatsapp.auto.reply"].create(
            {"name": "Welcome", "kind": "welcome", "body": "Hi! Thanks for writing to us."}
        )
        welcome.update_field_translations("body", {"pt_BR": "Olá! Obrigado por escrever."})
        team = self.env["helpdesk.ticket.team"].create(
            {
                "name": "Brasil",
                "whatsapp_enabled": True,
                "whatsapp_languages": "pt_BR, pt",
                "whatsapp_ticket_keywords": "reclamação",
                "user_ids": [(6, 0, self.wa_user.ids)],
            }
        )
        self.env["helpdesk.ticket.team"].create(
            {"name": "Global", "whatsapp_enabled": True, "user_ids": [(6, 0, self.wa_user.ids)]}
        )
        conversation = self.customer_writes(self.customer_wa_id, "Quero fazer uma reclamação")
        self.assertEqual(conversation.team_id, team)
        self.assertWhatsappOutgoing(conversation, body="Olá! Obrigado por escrever.")
        self.assertEqual(len(conversation.ticket_ids), 1)
