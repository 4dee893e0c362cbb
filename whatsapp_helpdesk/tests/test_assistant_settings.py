"""The assistant's and its language model's settings as people edit them on their screens:
values out of range, wrong types, another company's records, users without the right group."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestAssistantSettings(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.assistant = cls.env.ref("whatsapp_helpdesk.whatsapp_assistant_main")
        cls.assistant.write({"active": True, "company_id": cls.env.company.id})
        cls.manager = new_test_user(
            cls.env,
            login="assistant_settings_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        cls.admin = new_test_user(
            cls.env,
            login="assistant_settings_admin",
            groups="base.group_system,whatsapp_helpdesk.group_whatsapp_manager",
        )

    def provider_form(self):
        form = Form(self.env["whatsapp.assistant.provider"].with_user(self.admin))
        form.name = "Local Llama"
        form.url = "http://127.0.0.1:11434/v1"
        form.model = "llama3.1:8b"
        return form

    def test_a_manager_sets_the_assistant_up_on_its_screen(self):
        with Form(self.assistant.with_user(self.manager)) as form:
            form.answer_invoices = False
            form.recent_days = 30
            form.handoff_misses = 3
        self.assertEqual((self.assistant.answer_invoices, self.assistant.recent_days), (False, 30))
        self.assertEqual(self.assistant.handoff_misses, 3)

    def test_assistant_values_out_of_range_are_refused(self):
        for values in (
            {"recent_days": 0},
            {"recent_days": -5},
            {"recent_days": 10**9},
            {"handoff_misses": -1},
            {"handoff_misses": 10**6},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.assistant.with_user(self.manager).write(values)
        with self.assertRaises(ValueError):
            self.assistant.with_user(self.manager).write({"recent_days": "many"})
        self.assertEqual(self.assistant.recent_days, 90)

    def test_an_administrator_sets_a_language_model_up_on_its_screen(self):
        with self.provider_form() as form:
            form.timeout = 20
            form.price_prompt = 0.1
        provider = form.record
        self.assertEqual((provider.url, provider.timeout), ("http://127.0.0.1:11434/v1", 20))
        with Form(self.assistant.with_user(self.admin)) as form:
            form.provider_id = provider
        self.assertEqual(self.assistant.provider_id, provider)

    def test_language_model_values_out_of_range_are_refused(self):
        for url in ("ftp://h/v1", "javascript:alert(1)", "127.0.0.1:11434", "http://"):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                with self.provider_form() as form:
                    form.url = url
        for values in (
            {"timeout": 0},
            {"timeout": -3},
            {"timeout": 1e9},
            {"price_prompt": -1},
            {"price_completion": 1e12},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                with self.provider_form() as form:
                    for name, value in values.items():
                        setattr(form, name, value)

    def test_users_without_the_manager_group_cannot_touch_the_settings(self):
        agent = self.wa_user
        with self.assertRaises(AccessError):
            self.assistant.with_user(agent).read(["recent_days"])
        with self.assertRaises(AccessError):
            self.assistant.with_user(agent).write({"recent_days": 1})
        # the endpoint receives the customers' messages (and the key): administrators choose it
        providers = self.env["whatsapp.assistant.provider"].with_user(self.manager)
        with self.assertRaises(AccessError):
            providers.create({"name": "Mine", "url": "https://evil.example/v1", "model": "m"})
        provider = providers.sudo().create({"name": "Ours", "url": "http://h/v1", "model": "m"})
        with self.assertRaises(AccessError):
            provider.with_user(self.manager).copy({"url": "https://evil.example/v1"})
        provider.with_user(self.manager).write({"model": "llama3.1:8b", "timeout": 5})

    def test_another_companys_assistant_is_out_of_reach(self):
        company, _account = self.make_company_account()
        theirs = self.env["whatsapp.assistant"].create({"company_id": company.id})
        self.assertNotIn(theirs, self.env["whatsapp.assistant"].with_user(self.manager).search([]))
        with self.assertRaises(AccessError):
            theirs.with_user(self.manager).write({"recent_days": 1})
