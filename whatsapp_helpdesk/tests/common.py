"""Shared fixtures of the Odoo tests: a WhatsApp account, customers, signed payloads, and a mock of
the Cloud API client's single choke point (``CloudApiClient._request``)."""

import json
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import new_test_user

from ..tools import cloud_api, payloads, webhook

PHONE_NUMBER_ID = "100000000000099"
WABA_ID = "200000000000099"
DISPLAY_NUMBER = "15550009999"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
TOKEN = "test-token"


class WhatsappCase:
    """Mixin for TransactionCase / HttpCase classes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # each test sets up the automation it needs; demo teams, bots and rules stay out
        cls.env["whatsapp.auto.reply"].search([]).active = False
        cls.env["whatsapp.faq"].search([]).active = False
        cls.env["helpdesk.ticket.team"].search([]).whatsapp_enabled = False
        cls.account = cls.env["whatsapp.account"].create(
            {
                "name": "Test number",
                "phone_number_id": PHONE_NUMBER_ID,
                "waba_id": WABA_ID,
                "display_phone_number": DISPLAY_NUMBER,
                "token": TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "api_base_url": "http://127.0.0.1:9",
                "recipient_gap": 0.0,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Ana Souza",
                "mobile": "+55 11 98123-4567",
                "country_id": cls.env.ref("base.br").id,
            }
        )
        cls.customer_wa_id = "5511981234567"
        cls.wa_user = new_test_user(
            cls.env,
            login="wa_agent",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
        )

    @classmethod
    def make_company_account(cls, name="Other Co", phone_number_id="300000000000001"):
        """A second company with its own WhatsApp number: (company, account)."""
        company = cls.env["res.company"].create({"name": name})
        account = cls.env["whatsapp.account"].create(
            {
                "name": f"{name} number",
                "phone_number_id": phone_number_id,
                "waba_id": f"4{phone_number_id[1:]}",
                "display_phone_number": f"1555{phone_number_id[-7:]}",
                "company_id": company.id,
                "token": TOKEN,
                "app_secret": APP_SECRET,
                "api_base_url": "http://127.0.0.1:9",
                "recipient_gap": 0.0,
            }
        )
        return company, account

    # -- webhook payloads ------------------------------------------------------------------

    def inbound(self, wa_id=None, *messages, profile_name="Ana", account=None):
        """A webhook with customer messages to ``account`` (default: the test number)."""
        wa_id = wa_id or self.customer_wa_id
        if not messages:
            messages = (payloads.text_message(wa_id, "Hello"),)
        return payloads.inbound_payload(
            waba_id=account.waba_id if account else WABA_ID,
            phone_number_id=account.phone_number_id if account else PHONE_NUMBER_ID,
            display_phone_number=account.display_phone_number if account else DISPLAY_NUMBER,
            wa_id=wa_id,
            profile_name=profile_name,
            messages=list(messages),
        )

    def statuses(self, *statuses):
        return payloads.status_payload(
            waba_id=WABA_ID,
            phone_number_id=PHONE_NUMBER_ID,
            display_phone_number=DISPLAY_NUMBER,
            statuses=list(statuses),
        )

    def intake(self, payload):
        """Store ``payload`` as the controller would, without HTTP."""
        batch = webhook.parse(payloads.encode(payload))
        return self.env["whatsapp.webhook.event"]._intake(batch)

    def deliver(self, payload):
        """Store and process ``payload``: what the controller and the cron do together."""
        result = self.intake(payload)
        self.env["whatsapp.webhook.event"]._cron_process()
        return result

    def open_window(self, partner=None):
        partner = partner or self.customer
        wa_id = partner.whatsapp_e164.lstrip("+")
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "Hi there")))
        return self.env["whatsapp.conversation"].search(
            [("account_id", "=", self.account.id), ("wa_id", "=", wa_id)]
        )

    # -- Cloud API mock ---------------------------------------------------------------------

    @contextmanager
    def mock_cloud_api(self, *answers):
        """Patch the client's choke point. Each answer is a dict (returned), an exception
        (raised) or a callable(method, path, kwargs); the last one repeats. Yields the list of
        calls as (method, path, kwargs)."""
        calls = []
        answers = list(answers) or [{"messages": [{"id": "wamid.TEST"}]}]

        def fake_request(client, method, path, **kwargs):
            calls.append((method, path, kwargs))
            answer = answers[min(len(calls), len(answers)) - 1]
            if callable(answer) and not isinstance(answer, type):
                answer = answer(method, path, kwargs)
            if isinstance(answer, BaseException):
                raise answer
            return json.loads(json.dumps(answer))

        with patch.object(cloud_api.CloudApiClient, "_request", fake_request):
            yield calls

    @staticmethod
    def sent_answer(wamid):
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "x", "wa_id": "x"}],
            "messages": [{"id": wamid}],
        }
