"""Shared fixtures of the Odoo tests: a WhatsApp account, customers, signed payloads, and a mock of
the Cloud API client's single choke point (``CloudApiClient._request``)."""

import json
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import Form, new_test_user
from odoo.tests.common import ChromeBrowser

from ..tools import cloud_api, payloads, webhook
from ..tools import sandbox as wa_sandbox

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
        cls.env["whatsapp.assistant"].search([]).active = False
        # the demo language model points at `make run`'s sandbox: no test reaches a port it did
        # not start
        cls.env["whatsapp.assistant.provider"].search([]).active = False
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
    def make_company_account(cls, name="Other Co", phone_number_id="300000000000001", **values):
        """A second company with its own WhatsApp number: (company, account); ``values`` override
        the account's (e.g. its own ``app_secret``)."""
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
                **values,
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

    @classmethod
    def carrier(cls, name="Correios"):
        """A fixed-price delivery carrier."""
        product = cls.env["product.product"].create({"name": f"{name} shipping", "type": "service"})
        return cls.env["delivery.carrier"].create(
            {"name": name, "delivery_type": "fixed", "product_id": product.id}
        )

    @classmethod
    def service_team(cls, name, agents, *, first_response=None, resolution=None, **values):
        """A WhatsApp helpdesk team of ``agents`` with its first-response and resolution targets
        (working hours; None: none), and any other ``values``."""
        targets = {
            "whatsapp_sla_first_response": first_response,
            "whatsapp_sla_resolution": resolution,
        }
        return cls.env["helpdesk.ticket.team"].create(
            {
                "name": name,
                "whatsapp_enabled": True,
                "user_ids": [Command.set(agents.ids)],
                **{field: hours for field, hours in targets.items() if hours is not None},
                **values,
            }
        )

    @classmethod
    def service_request(
        cls, number, started, *, team=None, user=None, answered=None, resolved=None, source=None
    ):
        """The conversation of a customer (``number``, digits) who wrote at ``started``,
        answered by a person ``answered`` hours later and closed ``resolved`` hours after the
        start (None: not yet); hours on the wall clock (a team without calendar)."""
        conversation = (
            cls.env["whatsapp.conversation"]
            .sudo()
            .create(
                {
                    "account_id": cls.account.id,
                    "phone_e164": f"+{number}",
                    "wa_id": number,
                    "team_id": team.id if team else False,
                    "user_id": user.id if user else False,
                    "source": source or False,
                }
            )
        )
        values = {
            "first_inbound_at": started,
            "service_started_at": started,
            "last_inbound_at": started,
            "last_message_at": started,
            "last_direction": "in",
        }
        if answered is not None:
            values.update(
                first_response_at=started + timedelta(hours=answered),
                first_response_hours=answered,
                last_direction="out",
            )
        if resolved is not None:
            values.update(
                state="closed",
                resolved_at=started + timedelta(hours=resolved),
                resolution_hours=resolved,
            )
        conversation.write(values)
        return conversation.with_env(cls.env)

    @classmethod
    def make_customer(cls, name, mobile, country="base.br", **values):
        """A customer with a mobile number in ``country`` (an xml id)."""
        return cls.env["res.partner"].create(
            {"name": name, "mobile": mobile, "country_id": cls.env.ref(country).id, **values}
        )

    @classmethod
    def opt_in(cls, partners, category="marketing", state="opted_in", company=None):
        """Record ``state`` for ``partners``' numbers in ``category``."""
        for partner in partners:
            cls.env["whatsapp.optin"]._record(
                partner.whatsapp_e164,
                state,
                partner=partner,
                categories=[category],
                company=company or cls.account.company_id,
            )

    @classmethod
    def campaign_audience(cls):
        """The customers of the campaign tests, each a case of the launch's skip rules: Bruno
        and his twin (one number), Carla (no opt-in, Mexico), no number, a blacklisted one."""
        cls.bruno = cls.make_customer("Bruno Lima", "+55 21 99876-5432")
        cls.carla = cls.make_customer("Carla Díaz", "+52 55 1234 5678", "base.mx")
        cls.twin = cls.make_customer("Bruno (work)", "+55 21 99876-5432")
        cls.nonum = cls.env["res.partner"].create({"name": "No Number"})
        cls.listed = cls.make_customer("Listed", "+55 31 99111-2222")

    def audience_reasons(self):
        """{partner: (state, skip reason)} the launch gives :meth:`campaign_audience` (with the
        opted-in ``customer``) when Bruno and the customer opted in to marketing."""
        return {
            self.customer: ("pending", False),
            self.bruno: ("pending", False),
            self.carla: ("skipped", "no_optin"),
            self.twin: ("skipped", "duplicate"),
            self.nonum: ("skipped", "invalid_number"),
            self.listed: ("skipped", "blacklisted"),
        }

    @classmethod
    def marketing_template(cls, name="black_friday", body="Oi {{1}}, 20% off today!"):
        """An approved marketing template whose {{1}} is the customer's name."""
        template = cls.approved_template(name, body=body, category="MARKETING")
        template.variable_ids.write({"source": "field", "field_path": "name", "sample": "Ana"})
        return template

    @classmethod
    def tracked_template(cls, name="offers", target="https://shop.example/offers"):
        """An approved marketing template whose URL button tracks clicks and forwards to
        ``target``."""
        template = cls.approved_template(
            name,
            body="New offers this week!",
            category="MARKETING",
            button_ids=[
                Command.create(
                    {"button_type": "URL", "text": "See offers", "click_target_url": target}
                )
            ],
        )
        template.variable_ids.write({"sample": "0" * 32})
        return template

    @classmethod
    def make_campaign(cls, partners, template, **values):
        """A draft campaign of ``template`` to ``partners`` (a list; None: ``values``' segment)."""
        return cls.env["whatsapp.campaign"].create(
            {
                "name": "Campaign",
                "account_id": cls.account.id,
                "template_id": template.id,
                "audience": "list" if partners is not None else "segment",
                "partner_ids": [(6, 0, partners.ids)] if partners is not None else [],
                **values,
            }
        )

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

    def intake(self, payload, env=None):
        """Store ``payload`` as the controller would, without HTTP."""
        batch = webhook.parse(payloads.encode(payload))
        return (env or self.env)["whatsapp.webhook.event"]._intake(batch)

    def deliver(self, payload, env=None):
        """Store and process ``payload``: what the controller and the cron do together."""
        result = self.intake(payload, env)
        (env or self.env)["whatsapp.webhook.event"]._cron_process()
        return result

    def say(self, text, wa_id=None):
        """The customer (``wa_id``, default the test customer) writes ``text``; their
        conversation once the webhook is processed."""
        wa_id = wa_id or self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, text)))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])

    def choose(self, reply_id, title="", wa_id=None):
        """The customer (``wa_id``) picks ``reply_id`` in a list the bot sent."""
        wa_id = wa_id or self.customer_wa_id
        pick = payloads.interactive_reply(wa_id, "list_reply", reply_id, title or reply_id)
        self.deliver(self.inbound(wa_id, pick))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])

    @staticmethod
    def bot_messages(conversation):
        """What was sent to the customer of ``conversation``, oldest first."""
        messages = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        return messages.sorted("id")

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
        """Patch the client's choke points (the outbox's sends go through ``_request_async``).
        Each answer is a dict (returned), an exception
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

        async def fake_request_async(client, method, path, before_write=None, **kwargs):
            if before_write is not None and (written := await before_write()) is not None:
                written()  # the sender's window, asked and told as the transport does
            return fake_request(client, method, path, **kwargs)

        with (
            patch.object(cloud_api.CloudApiClient, "_request", fake_request),
            patch.object(cloud_api.CloudApiClient, "_request_async", fake_request_async),
        ):
            yield calls

    @classmethod
    def sent_answers(cls):
        """A mock answer: each send accepted under a new wamid."""
        return lambda _method, _path, _kwargs: cls.sent_answer(payloads.new_wamid())

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

    def deliver_template_event(self, template, event, reason=None, env=None):
        """Meta's review of ``template``: a template status webhook (APPROVED, REJECTED...)."""
        change = payloads.template_status_change(
            int(template.meta_template_id), template.name, template.language, event, reason=reason
        )
        payload = payloads.envelope(template.account_id.waba_id, [change])
        payload["entry"][0]["time"] = 1795000000
        self.deliver(payload, env)

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


class SandboxMixin:
    """The Cloud API sandbox (and its language model) on a free port of 127.0.0.1, with the test
    account's identity; stopped after the test."""

    def start_sandbox(self, **knobs):
        config = wa_sandbox.SandboxConfig(
            port=0,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            display_phone_number=DISPLAY_NUMBER,
            token=TOKEN,
            app_secret=APP_SECRET,
            **knobs,
        )
        sandbox = wa_sandbox.Sandbox(config).start()
        self.addCleanup(sandbox.stop)
        return sandbox


class EndToEndMixin(SandboxMixin):
    """For an ``HttpCase``: the sandbox plays Meta over real HTTP and posts its signed webhooks
    to this test's Odoo server; the test account talks to it."""

    def setUp(self):
        super().setUp()
        self.sandbox = self.start_sandbox(
            webhook_url=f"{self.base_url()}/whatsapp/webhook", status_delay=0.05
        )
        self.account.api_base_url = self.sandbox.base_url
        # The sandbox posts its webhooks from its own thread whenever it likes, and Odoo's test
        # server shares this test's cursor: hold the test lock while the test works, so that a
        # webhook request waits instead of using the cursor at the same time.
        self.registry.test_lock.acquire()
        self.addCleanup(self.registry.test_lock.release)

    @contextmanager
    def webhooks_allowed(self):
        self.registry.test_lock.release()
        try:
            yield
        finally:
            self.registry.test_lock.acquire()

    def inject(self, *args, **kwargs):
        with self.webhooks_allowed():
            return self.sandbox.inject(*args, **kwargs)

    def wait_and_process(self, deliveries):
        with self.webhooks_allowed():
            delivered = self.sandbox.wait_for_deliveries(deliveries, timeout=20)
        self.assertTrue(
            delivered,
            f"the sandbox posted {len(self.sandbox.deliveries)} webhooks, {deliveries} expected",
        )
        for delivery in self.sandbox.deliveries:
            self.assertEqual(delivery.get("status_code"), 200, delivery)
        self.env["whatsapp.webhook.event"]._cron_process()


class AssistantCase(TemplateCase):
    """TemplateCase's Brazilian customer with recent orders in each state (a quotation, one being
    prepared, one shipped with a carrier's tracking link, one delivered, one cancelled), an open
    and a paid invoice, working hours for the team, and the company's assistant on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.assistant = cls.env.ref("whatsapp_helpdesk.whatsapp_assistant_main")
        cls.assistant.write(
            {"active": True, "company_id": cls.env.company.id, "provider_id": False}
        )
        cls.env.company.partner_id.write({"street": "Rua Augusta, 100", "city": "São Paulo"})
        cls.customer.mobile = "+55 11 98123-4567"
        cls.correios = cls.carrier("Correios")
        cls.correios.tracking_url = "https://rastreio.example/<shipmenttrackingnumber>"
        cls.lamp = cls.storable("Luminária", 150.0)
        cls.shelf = cls.storable("Estante", 400.0)
        cls.quotation = cls.make_order([(cls.lamp, 1)])
        cls.quotation.state = "sent"
        cls.preparing = cls.make_order([(cls.lamp, 1)], confirm=True)
        cls.shipped = cls.make_order([(cls.lamp, 2), (cls.shelf, 1)], ship="BR123456")
        cls.delivered = cls.make_order([(cls.lamp, 1), (cls.shelf, 1)], ship="BR999")
        cls.delivered.picking_ids.action_whatsapp_mark_delivered()
        cls.cancelled = cls.make_order([(cls.shelf, 1)], confirm=True)
        cls.cancelled._action_cancel()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Loja",
                "tz": "America/Sao_Paulo",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (0, 0, {"name": f"d{d}", "dayofweek": str(d), "hour_from": 9, "hour_to": 18})
                    for d in range(5)
                ],
            }
        )
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Loja", "whatsapp_enabled": True, "whatsapp_calendar_id": cls.calendar.id}
        )

    @classmethod
    def storable(cls, name, price):
        product = cls.env["product.product"].create(
            {"name": name, "list_price": price, "is_storable": True, "taxes_id": [(5, 0, 0)]}
        )
        warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100)
        return product

    @classmethod
    def make_order(cls, lines, *, partner=None, confirm=False, ship=None):
        """A recent order of ``partner`` (the customer) in BRL; confirmed, and shipped with the
        carrier and the tracking reference ``ship`` when given."""
        order = cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "pricelist_id": cls.pricelist.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": product.list_price,
                            "tax_id": [(5, 0, 0)],
                        }
                    )
                    for product, qty in lines
                ],
            }
        )
        if confirm or ship:
            order.action_confirm()
        if ship:
            picking = order.picking_ids
            picking.write({"carrier_id": cls.correios.id, "carrier_tracking_ref": ship})
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            picking.button_validate()
        return order

    @classmethod
    def make_invoice(cls, amount, *, partner=None, paid=False, order=None):
        """A posted invoice of ``partner`` (the customer) in BRL, paid when asked; of ``order``'s
        lines when given."""
        if order:
            invoice = order._create_invoices()
        else:
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or cls.customer).id,
                    "currency_id": cls.brl.id,
                    "invoice_line_ids": [
                        Command.create({"name": "Serviço", "quantity": 1, "price_unit": amount})
                    ],
                }
            )
        invoice.invoice_line_ids.tax_ids = [(5, 0, 0)]
        invoice.action_post()
        if paid:
            cls.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
        return invoice


class LiveTourCase(WhatsappCase):
    """Tours that watch the screens change live: the browser's bus websocket is allowed (Odoo
    turns it off under tests), and :meth:`while_touring` plays Meta's side (a customer writes,
    statuses arrive) in a thread while the tour runs, each step once the screens are ready for
    it, then wakes the websockets as PostgreSQL's NOTIFY would after a commit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from odoo.addons.bus.websocket import WebsocketConnectionHandler

        cls.startClassPatcher(
            patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True)
        )

    def setUp(self):
        super().setUp()
        from odoo.addons.bus.websocket import WebsocketConnectionHandler

        self._websockets_done = []
        serve = WebsocketConnectionHandler._serve_forever

        def serve_and_tell(*args):
            done = threading.Event()
            self._websockets_done.append(done)
            try:
                serve(*args)
            finally:
                done.set()

        self.startPatcher(
            patch.object(WebsocketConnectionHandler, "_serve_forever", wraps=serve_and_tell)
        )
        # The test's cursor and the live thread's share one connection: the thread waits until
        # the test is done with it (logged in, flushed) and the browser opens the page.
        self._browser_up = threading.Event()
        navigate = ChromeBrowser.navigate_to

        def navigate_and_tell(browser, *args, **kwargs):
            self._browser_up.set()
            return navigate(browser, *args, **kwargs)

        self.startPatcher(patch.object(ChromeBrowser, "navigate_to", navigate_and_tell))

    def start_tour(self, *args, **kwargs):
        """The tour, then the end of its browser's websockets: they share the test cursor, which
        the test goes on using once the tour is over."""
        try:
            return super().start_tour(*args, **kwargs)
        finally:
            for done in self._websockets_done:
                done.wait(10)

    @contextmanager
    def while_touring(self, *steps, timeout=60):
        """Run ``steps`` ((ready(env), act(env)) pairs, in order) beside the tour; an error in a
        step fails the test once the tour is over."""
        errors = []

        def play():
            from odoo.addons.bus.models.bus import dispatch

            if not self._browser_up.wait(timeout):
                errors.append("the browser never opened the tour's page")
                return
            deadline = time.monotonic() + timeout
            for ready, act in steps:
                while time.monotonic() < deadline:
                    with self.registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        if ready(env):
                            act(env)
                            # a test cursor: releases its savepoint, as a request ends
                            cr.commit()  # pylint: disable=invalid-commit
                            break
                    time.sleep(0.3)
                else:
                    errors.append(f"step {ready} never became ready")
                    return
                for sockets in list(dispatch._channels_to_ws.values()):
                    for socket in list(sockets):
                        socket.trigger_notification_dispatching()

        def guarded():
            try:
                play()
            except Exception as error:  # noqa: BLE001 - reported in the test thread
                errors.append(repr(error))

        thread = threading.Thread(target=guarded, name="wa-tour-live", daemon=True)
        thread.start()
        yield
        thread.join(timeout)
        self.assertFalse(errors, errors)
