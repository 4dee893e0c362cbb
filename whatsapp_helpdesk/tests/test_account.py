"""The account's settings: where the access token goes is set by administrators only, timeouts and
gaps stay within range, and the demo account's credentials are drawn at install."""

from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from ..tools import cloud_api
from .common import WhatsappCase

ELSEWHERE = "https://graph.attacker.example"


@tagged("post_install", "-at_install")
class TestAccount(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wa_manager = new_test_user(
            cls.env,
            login="wa_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        cls.settings_admin = new_test_user(
            cls.env,
            login="wa_settings_admin",
            groups="base.group_system,whatsapp_helpdesk.group_whatsapp_manager",
        )

    def test_manager_reads_the_api_url_but_the_form_keeps_it_read_only(self):
        form = Form(self.account.with_user(self.wa_manager))
        self.assertEqual(form.api_base_url, "http://127.0.0.1:9")
        with self.assertRaises(AssertionError):  # "can't write on readonly field"
            form.api_base_url = ELSEWHERE
        form.api_timeout = 5.0  # the rest of the account stays the manager's
        form.save()
        self.assertRecordValues(
            self.account, [{"api_timeout": 5.0, "api_base_url": "http://127.0.0.1:9"}]
        )

    def test_manager_cannot_write_the_api_url(self):
        account = self.account.with_user(self.wa_manager)
        for url in (ELSEWHERE, "http://127.0.0.1:9"):  # the same value is refused too
            with self.assertRaises(AccessError):
                account.write({"api_base_url": url})
        with self.assertRaises(AccessError):
            account.write({"name": "Renamed", "api_base_url": ELSEWHERE})
        self.assertRecordValues(
            self.account, [{"name": "Test number", "api_base_url": "http://127.0.0.1:9"}]
        )

    def test_manager_cannot_create_an_account_with_the_api_url_or_secrets(self):
        Account = self.env["whatsapp.account"].with_user(self.wa_manager)
        values = {"name": "Mine", "phone_number_id": "300000000000002"}
        with self.assertRaises(AccessError):
            Account.create({**values, "api_base_url": ELSEWHERE})
        with self.assertRaises(AccessError):
            Account.with_context(default_api_base_url=ELSEWHERE).create(values)
        with self.assertRaises(AccessError):
            Account.create({**values, "app_secret": "known to the manager"})
        account = Account.create(values)
        self.assertEqual(account.api_base_url, cloud_api.DEFAULT_BASE_URL)

    def test_settings_admin_changes_the_api_url(self):
        form = Form(self.account.with_user(self.settings_admin))
        form.api_base_url = "https://graph.facebook.com"
        form.save()
        self.assertEqual(self.account.api_base_url, "https://graph.facebook.com")
        account = (
            self.env["whatsapp.account"]
            .with_user(self.settings_admin)
            .create(
                {
                    "name": "Sandbox",
                    "phone_number_id": "300000000000003",
                    "api_base_url": "http://127.0.0.1:8765",
                }
            )
        )
        self.assertEqual(account.api_base_url, "http://127.0.0.1:8765")

    def test_timeout_and_gap_stay_in_range(self):
        hostile = [
            ("api_timeout", 0.0),
            ("api_timeout", -1.0),
            ("api_timeout", 1e308),
            ("api_timeout", float("inf")),
            ("api_timeout", float("nan")),
            ("recipient_gap", -0.5),
            ("recipient_gap", 1e308),
            ("recipient_gap", float("nan")),
        ]
        for name, value in hostile:
            with (
                self.subTest(name=name, value=value),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
                self.cr.savepoint(),
            ):
                self.account.write({name: value})
                self.account.flush_recordset()
        self.account.write({"api_timeout": 0.5, "recipient_gap": 0.0})
        self.account.flush_recordset()

    def test_demo_account_credentials_are_drawn_at_install(self):
        demo = self.env.ref("whatsapp_helpdesk.whatsapp_account_demo", raise_if_not_found=False)
        if not demo:
            self.skipTest("installed without demo data")
        drawn = demo.read(["token", "app_secret", "verify_token"])[0]
        for name in ("token", "app_secret", "verify_token"):
            self.assertGreaterEqual(len(drawn[name]), 32, name)
            self.assertNotIn("sandbox", drawn[name])
        demo._generate_demo_credentials()
        again = demo.read(["token", "app_secret", "verify_token"])[0]
        for name in ("token", "app_secret", "verify_token"):
            self.assertNotEqual(again[name], drawn[name], name)
