"""Shared fixtures of the Odoo tests: a WhatsApp account, customers, signed payloads, and a mock of
the Cloud API client's single choke point (``CloudApiClient._request``)."""

import json
from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

from odoo.tests import Form, new_test_user

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

    # -- records ---------------------------------------------------------------------------

    @classmethod
    def approved_template(cls, name="hello_world", body="Hello World", **values):
        """A template as Meta approved it (no review round trip), on the test account."""
        template = cls.env["whatsapp.template"].create(
            {
                "name": name,
                "language": "en_US",
                "account_id": cls.account.id,
                "body": body,
                **values,
            }
        )
        template.with_context(whatsapp_no_resubmit=True).write(
            {"status": "approved", "meta_template_id": f"9{template.id}"}
        )
        return template

    @classmethod
    def make_attachment(
        cls, name="photo.png", mimetype="image/png", raw=b"\x89PNG-bytes", **values
    ):
        """A file as an agent uploads it (``values``: ``res_model``, ``res_id``...)."""
        return cls.env["ir.attachment"].create(
            {"name": name, "mimetype": mimetype, "raw": raw, **values}
        )

    @contextmanager
    def mock_report_pdf(self, content=b"%PDF-1.4 order"):
        """Odoo's PDF rendering (wkhtmltopdf is not run under tests), answering ``content``."""
        with patch.object(
            type(self.env["ir.actions.report"]),
            "_render_qweb_pdf",
            lambda report, ref, res_ids=None, data=None: (content, "pdf"),
        ):
            yield

    # -- assertions --------------------------------------------------------------------------

    def assertWhatsappOutgoing(
        self, conversation, *, body=None, template=None, state="queued", attachment=None
    ):
        """The one outbound message of ``conversation`` with ``body`` (or of ``template``, or
        carrying ``attachment``), in ``state``; returns it."""
        messages = conversation.whatsapp_message_ids.filtered(
            lambda m: (
                m.direction == "out"
                and (body is None or m.body == body)
                and (template is None or m.template_id == template)
                and (attachment is None or m.attachment_id == attachment)
            )
        )
        self.assertEqual(len(messages), 1, f"one outbound message expected, got {messages}")
        self.assertEqual(messages.state, state)
        return messages

    def assertWhatsappFailedUnsent(self, message, failure_type):
        """The send cron fails ``message`` with ``failure_type`` without any call to Meta."""
        with self.mock_cloud_api(self.sent_answer("wamid.NEVER")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertRecordValues(message, [{"state": "failed", "failure_type": failure_type}])
        self.assertFalse(calls, "nothing left")

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


class TemplateCase(WhatsappCase):
    """A Brazilian customer with a confirmed order in BRL, a manager and a salesperson, and
    order templates whose variables are the order's fields."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pt_BR")
        cls.customer.write({"lang": "pt_BR", "tz": "America/Sao_Paulo"})
        cls.brl = cls.env.ref("base.BRL")
        cls.brl.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "BRL", "currency_id": cls.brl.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Cadeira", "list_price": 1234.56, "taxes_id": [(5, 0, 0)]}
        )
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "pricelist_id": cls.pricelist.id,
                "date_order": datetime(2026, 3, 1, 2, 30),
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": cls.product.id,
                            "product_uom_qty": 1,
                            "price_unit": 1234.56,
                            "tax_id": [(5, 0, 0)],
                        },
                    )
                ],
            }
        )
        cls.order.action_confirm()
        cls.order.date_order = datetime(2026, 3, 1, 2, 30)  # confirming stamps "now"
        cls.sale_model = cls.env["ir.model"]._get("sale.order")
        cls.manager = new_test_user(
            cls.env,
            login="wa_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager,sales_team.group_sale_salesman",
        )
        cls.salesman = new_test_user(
            cls.env,
            login="wa_salesman",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user,sales_team.group_sale_salesman_all_leads",
        )

    def order_composer(self, user):
        """The composer a salesperson opens from the confirmed order."""
        composer = Form(
            self.env["whatsapp.composer"]
            .with_user(user)
            .with_context(
                active_model="sale.order", active_id=self.order.id, active_ids=[self.order.id]
            )
        )
        composer.account_id = self.account
        return composer

    def make_template(self, name="order_confirmed", language="pt_BR", status=None, **values):
        """An order template (four variables mapped to the order), in ``status`` if given."""
        template = self.env["whatsapp.template"].create(
            {
                "name": name,
                "language": language,
                "account_id": self.account.id,
                "category": "UTILITY",
                "model_id": self.sale_model.id,
                "body": values.pop(
                    "body",
                    "Olá {{1}}, seu pedido {{2}} de {{3}} foi confirmado em {{4}}. Obrigado!",
                ),
                "footer": "Loja Exemplo",
                **values,
            }
        )
        paths = {"1": "partner_id.name", "2": "name", "3": "amount_total", "4": "date_order"}
        samples = {"1": "Ana", "2": "S00042", "3": "R$ 1.234,56", "4": "1 de mar. de 2026"}
        for variable in template.variable_ids:
            variable.write(
                {
                    "source": "field",
                    "field_path": paths.get(variable.name, "name"),
                    "sample": samples.get(variable.name, "x"),
                }
            )
        if status:
            template.with_context(whatsapp_no_resubmit=True).write(
                {"status": status, "meta_template_id": f"9{template.id}"}
            )
        return template
