"""The webhook's fast path below Odoo's dispatch: taken for a plain signed delivery, and every other
request (hostile, foreign, unknown, ambiguous database, changed registry) left to the controller,
which answers it as always. Over real HTTP, as Meta posts."""

import http.client
import io
import json
from types import SimpleNamespace
from unittest.mock import patch
from urllib.parse import urlsplit

import psycopg2.extensions
from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from ..controllers import fast_path
from ..tools import payloads, webhook
from .common import APP_SECRET, WhatsappCase

URL = "/whatsapp/webhook"
OTHER_SECRET = "fast-path-other-secret"
OTHER_PHONE_NUMBER_ID = "100000000000066"
OTHER_WABA_ID = "200000000000066"


@tagged("post_install", "-at_install")
class TestWebhookFastPath(WhatsappCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _company, cls.other_account = cls.make_company_account(
            "Fast Path Other Shop",
            OTHER_PHONE_NUMBER_ID,
            waba_id=OTHER_WABA_ID,
            app_secret=OTHER_SECRET,
        )

    def setUp(self):
        super().setUp()
        self.known_events = self.env["whatsapp.webhook.event"].search([])
        self.outcomes = []  # per request: True when the fast path answered it
        answer = fast_path.fast_response

        def recorded(environ):
            response = answer(environ)
            if environ.get("PATH_INFO") == URL:
                self.outcomes.append(response is not None)
            return response

        patcher = patch.object(fast_path, "fast_response", side_effect=recorded)
        patcher.start()
        self.addCleanup(patcher.stop)

    # -- helpers --------------------------------------------------------------------------

    def events(self):
        self.env.invalidate_all()
        return self.env["whatsapp.webhook.event"].search([]) - self.known_events

    def message(self, text="Hello", wamid=None, account=None):
        message = payloads.text_message(self.customer_wa_id, text, wamid=wamid)
        return self.inbound(None, message, account=account)

    def post(self, payload, secret=APP_SECRET, url=URL, headers=None):
        body = payload if isinstance(payload, bytes) else payloads.encode(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": webhook.sign(body, secret),
            **(headers or {}),
        }
        return self.url_open(url, data=body, headers=headers)

    def assertAnswered(self, response, status, fast):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(self.outcomes[-1:], [fast], "taken" if fast else "left to Odoo")

    # -- taken ----------------------------------------------------------------------------

    def test_a_plain_signed_delivery_is_stored_by_the_fast_path(self):
        response = self.post(self.message("fast", wamid="wamid.FAST1"))
        self.assertAnswered(response, 200, fast=True)
        self.assertEqual(response.json(), {"stored": 1, "duplicates": 0})
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.headers["X-Content-Type-Options"], "nosniff")
        event = self.events()
        self.assertRecordValues(
            event,
            [
                {
                    "kind": "message",
                    "state": "pending",
                    "wamid": "wamid.FAST1",
                    "wa_id": self.customer_wa_id,
                    "account_id": self.account.id,
                    "create_uid": False,  # as the controller's auth="none" request stores it
                }
            ],
        )
        crons = self.env["whatsapp.webhook.event"]._processing_crons()
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "in", crons.ids)])
        self.assertTrue(trigger, "the processing job of the customer's part is woken")
        # and processing sees nothing different from the controller's rows
        self.env["whatsapp.webhook.event"]._cron_process()
        self.assertEqual(self.events().state, "done")
        self.assertTrue(self.env["whatsapp.message"].search([("wamid", "=", "wamid.FAST1")]))

    def test_a_redelivery_is_stored_once(self):
        payload = self.message(wamid="wamid.FAST2")
        self.assertEqual(self.post(payload).json(), {"stored": 1, "duplicates": 0})
        response = self.post(payload)
        self.assertAnswered(response, 200, fast=True)
        self.assertEqual(response.json(), {"stored": 0, "duplicates": 1})
        self.assertEqual(len(self.events()), 1)

    def test_hostile_values_in_a_signed_body_are_stored_cleanly(self):
        payload = self.message()
        payload["entry"][0]["changes"][0]["value"]["messages"] = [
            payloads.text_message(self.customer_wa_id, "nul\x00here", wamid="wamid.FNUL"),
            payloads.text_message(self.customer_wa_id, "lone \ud800", wamid="wamid.FSUR"),
            {**payloads.text_message(self.customer_wa_id, "big"), "id": "wamid.FBIG", "n": 10**400},
            payloads.text_message(self.customer_wa_id, "long id", wamid="wamid." + "A" * 2701),
        ]
        response = self.post(json.dumps(payload, ensure_ascii=True).encode())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"stored": 4, "duplicates": 0})
        events = self.events()
        self.assertEqual(
            sorted(events.filtered(lambda e: e.kind == "message").mapped("wamid")),
            ["wamid.FBIG", "wamid.FNUL", "wamid.FSUR"],
        )
        self.assertEqual(events.filtered(lambda e: e.kind == "invalid").state, "error")

    # -- left to the controller, answered as always ---------------------------------------

    def test_forged_and_unsigned_bodies_are_refused_by_the_controller(self):
        self.assertAnswered(self.post(self.message(), secret="guess"), 403, fast=False)
        body = payloads.encode(self.message())
        response = self.url_open(URL, data=body, headers={"Content-Type": "application/json"})
        self.assertAnswered(response, 403, fast=False)
        self.assertFalse(self.events())

    def test_a_secret_opens_only_its_own_account(self):
        foreign = self.message("injected", account=self.other_account)
        self.assertAnswered(self.post(foreign), 403, fast=False)
        self.assertFalse(self.events())
        self.assertAnswered(self.post(foreign, secret=OTHER_SECRET), 200, fast=True)
        self.assertEqual(self.events().account_id, self.other_account)

    def test_an_unknown_account_falls_through_and_is_kept_as_ignored(self):
        nobody = SimpleNamespace(
            waba_id="987654321", phone_number_id="123456789", display_phone_number="15550000000"
        )
        response = self.post(self.message(account=nobody))
        self.assertAnswered(response, 200, fast=False)
        self.assertEqual(self.events().state, "ignored")

    def test_a_signed_unreadable_body_falls_through_and_is_kept_as_an_error(self):
        for body in (b"{not json", b"[]", b"\xff\xfe"):
            self.assertAnswered(self.post(body), 200, fast=False)
        self.assertEqual(set(self.events().mapped("state")), {"error"})

    def test_oversized_chunked_and_unusual_requests_are_left_to_odoo(self):
        big = b'{"pad": "' + b"x" * (webhook.MAX_BODY_BYTES + 10) + b'"}'
        self.assertAnswered(self.post(big), 413, fast=False)
        with mute_logger("odoo.http"):  # "called ignoring args {'x'}"
            self.assertAnswered(self.post(self.message(), url=URL + "?x=1"), 200, fast=False)
        cookie = {"Cookie": "session_id=" + "a" * 40}
        self.assertAnswered(self.post(self.message(), headers=cookie), 200, fast=False)
        host = urlsplit(self.base_url())
        body = payloads.encode(self.message(wamid="wamid.CHUNKED"))
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        try:
            connection.putrequest("POST", URL)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.putheader("X-Hub-Signature-256", webhook.sign(body, APP_SECRET))
            connection.endheaders()
            connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            self.assertEqual(connection.getresponse().status, 200)
        finally:
            connection.close()
        self.assertEqual(self.outcomes[-1], False)
        self.assertIn("wamid.CHUNKED", self.events().mapped("wamid"))

    def test_the_handshake_is_left_to_the_controller(self):
        self.url_open(URL + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        self.assertEqual(self.outcomes, [False])

    def test_a_change_signalled_by_another_process_sends_the_request_through_odoo(self):
        registry = self.env.registry
        held = dict(registry.cache_sequences)
        # another worker changed an account: it bumped the cache sequence after its commit
        self.env.cr.execute("SELECT nextval('base_cache_signaling_default')")
        now = self.env.cr.fetchone()[0]
        self.addCleanup(registry.cache_sequences.update, {**held, "default": now})
        response = self.post(self.message(wamid="wamid.STALE"))
        self.assertAnswered(response, 200, fast=False)
        self.assertEqual(response.json(), {"stored": 1, "duplicates": 0})
        self.assertEqual(self.events().mapped("wamid"), ["wamid.STALE"], "stored once, by Odoo")
        # once this process has caught up (Odoo's check_signaling), the fast path serves again
        registry.cache_sequences["default"] = now
        self.assertAnswered(self.post(self.message(wamid="wamid.FRESH")), 200, fast=True)

    def test_a_failure_inside_the_fast_path_is_left_to_odoo(self):
        Event = type(self.env["whatsapp.webhook.event"])
        original = Event._intake
        calls = []

        def failing_once(self, *args, **kwargs):
            calls.append(kwargs.get("registry"))
            if len(calls) == 1:
                raise RuntimeError("could not serialize access")
            return original(self, *args, **kwargs)

        with patch.object(Event, "_intake", failing_once), mute_logger(fast_path.__name__):
            response = self.post(self.message(wamid="wamid.RETRIED"))
        self.assertAnswered(response, 200, fast=False)
        self.assertEqual(self.events().mapped("wamid"), ["wamid.RETRIED"])


@tagged("post_install", "-at_install")
class TestWebhookFastPathChoice(WhatsappCase, TransactionCase):
    """What decides, before any query, whether the fast path may answer."""

    def environ(self, body=b"{}", **extra):
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": URL,
            "QUERY_STRING": "",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1:8069",
            "wsgi.input": io.BytesIO(body),
            **extra,
        }

    def test_several_databases_fall_through_with_the_body_kept(self):
        body = payloads.encode(self.inbound())
        environ = self.environ(body, HTTP_X_HUB_SIGNATURE_256=webhook.sign(body, APP_SECRET))
        with patch("odoo.http.db_list", return_value=[self.env.cr.dbname, "another_db"]):
            self.assertIsNone(fast_path.fast_response(environ))
        self.assertEqual(environ["wsgi.input"].read(), body, "Odoo reads the same body")

    def test_a_database_without_the_addon_falls_through(self):
        body = payloads.encode(self.inbound())
        environ = self.environ(body, HTTP_X_HUB_SIGNATURE_256=webhook.sign(body, APP_SECRET))
        with patch("odoo.http.db_list", return_value=["not_loaded_here"]):
            self.assertIsNone(fast_path.fast_response(environ))
        self.assertEqual(environ["wsgi.input"].read(), body)

    def test_candidates(self):
        self.assertTrue(fast_path._candidate(self.environ()))
        for extra in (
            {"REQUEST_METHOD": "GET"},
            {"PATH_INFO": URL + "/"},
            {"QUERY_STRING": "db=x"},
            {"HTTP_TRANSFER_ENCODING": "chunked"},
            {"HTTP_COOKIE": "session_id=abc"},
            {"CONTENT_LENGTH": ""},
            {"CONTENT_LENGTH": "0"},
            {"CONTENT_LENGTH": "-1"},
            {"CONTENT_LENGTH": str(webhook.MAX_BODY_BYTES + 1)},
            {"CONTENT_LENGTH": "1e9"},
        ):
            self.assertFalse(fast_path._candidate(self.environ(**extra)), extra)
        with patch.dict(fast_path.config.options, {"whatsapp_webhook_fast_path": "False"}):
            self.assertFalse(fast_path._candidate(self.environ()), "turned off")

    def test_installed_once(self):
        fast_path.install()
        fast_path.install()
        call = type(fast_path.odoo.http.root).__call__
        self.assertTrue(call._whatsapp_fast_path)
        self.assertFalse(getattr(call.__wrapped__, "_whatsapp_fast_path", False))

    def kept_pool(self):
        pool = fast_path.KeptPool(2)
        self.addCleanup(pool.close_all)
        return pool, *sql_db.connection_info_for(self.env.cr.dbname)

    def test_the_kept_pool_lends_a_clean_connection_as_it_was_given_back(self):
        pool, dbname, info = self.kept_pool()
        with sql_db.Cursor(pool, dbname, info) as cr:
            # a session setting, which Odoo's pool would reset (DISCARD ALL) on the next borrow
            cr.execute("SELECT pg_backend_pid(), set_config('application_name', 'kept', false)")
            pid = cr.fetchone()[0]
        with sql_db.Cursor(pool, dbname, info) as cr:
            cr.execute("SELECT pg_backend_pid(), current_setting('application_name')")
            self.assertEqual(cr.fetchone(), (pid, "kept"), "the same connection, as it was")

    def test_the_kept_pool_resets_a_connection_given_back_in_a_transaction(self):
        pool, _dbname, info = self.kept_pool()
        cnx = pool.borrow(info)
        with cnx.cursor() as cr:
            cr.execute("SELECT set_config('application_name', 'dirty', false)")
        pool.give_back(cnx)  # without the rollback Odoo's cursor does
        again = pool.borrow(info)
        self.assertIs(again, cnx)
        idle = psycopg2.extensions.TRANSACTION_STATUS_IDLE
        self.assertEqual(again.info.transaction_status, idle, "reset as Odoo's pool does")
        with again.cursor() as cr:
            cr.execute("SELECT current_setting('application_name')")
            self.assertNotEqual(cr.fetchone()[0], "dirty")
        pool.give_back(again)

    def test_closing_a_database_closes_its_kept_connections(self):
        pool, dbname, info = self.kept_pool()
        pool.give_back(pool.borrow(info))
        closed = []
        with (
            patch.object(fast_path, "POOL", pool),
            patch.object(fast_path._close_db, "__wrapped__", closed.append),
        ):
            sql_db.close_db(dbname)
        self.assertEqual(closed, [dbname], "Odoo's own close_db runs too")
        self.assertFalse(pool._connections)

    def test_the_intake_statement_is_prepared_once_on_a_kept_connection(self):
        """On the fast path's connections the intake's statement is planned once, whatever the
        number of events, and stores as the plain statement does (redeliveries skipped)."""
        pool, dbname, info = self.kept_pool()
        cr = sql_db.Cursor(pool, dbname, info)
        try:
            cr.execute("SET LOCAL lock_timeout = '5s'")
            Event = api.Environment(cr, SUPERUSER_ID, {})["whatsapp.webhook.event"]
            serial = iter(range(100))
            for count in (1, 3, 2, 1, 1, 1, 2, 1):
                texts = [
                    payloads.text_message(self.customer_wa_id, "x", wamid=f"wamid.PREP{n}")
                    for n in [next(serial) for _ in range(count)]
                ]
                batch = webhook.parse(payloads.encode(self.inbound(None, *texts)))
                # no account (this test's own are not committed): kept as ignored
                owners = [frozenset()] * count
                self.assertEqual(Event._intake(batch, owners), (count, 0))
                self.assertEqual(Event._intake(batch, owners), (0, count), "stored once")
            cr.execute("SELECT count(*) FROM whatsapp_webhook_event WHERE key LIKE '%PREP%'")
            self.assertEqual(cr.fetchone()[0], 12)
            cr.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
            prepared = cr.fetchall()
            self.assertEqual(len(prepared), 1, "one statement for any number of events")
            self.assertTrue(prepared[0][1], "planned once (PostgreSQL's generic plan)")
        finally:
            cr.rollback()
            cr.close()

    def test_hostile_values_go_through_the_prepared_statement_cleanly(self):
        """NUL, a lone surrogate, an absurd number and an id too long for an index, through the
        statement prepared on a kept connection: stored once each, as the plain statement does."""
        pool, dbname, info = self.kept_pool()
        cr = sql_db.Cursor(pool, dbname, info)
        try:
            cr.execute("SET LOCAL lock_timeout = '5s'")
            Event = api.Environment(cr, SUPERUSER_ID, {})["whatsapp.webhook.event"]
            texts = [
                payloads.text_message(self.customer_wa_id, "nul\x00here", wamid="wamid.PNUL"),
                payloads.text_message(self.customer_wa_id, "lone \ud800", wamid="wamid.PSUR"),
                {
                    **payloads.text_message(self.customer_wa_id, "big"),
                    "id": "wamid.PBIG",
                    "n": 10**400,
                },
                payloads.text_message(self.customer_wa_id, "long", wamid="wamid.P" + "A" * 2701),
            ]
            raw = json.dumps(self.inbound(None, *texts), ensure_ascii=True).encode()
            batch = webhook.parse(raw)
            owners = [frozenset()] * len(batch)
            for _attempt in range(2):  # the second call runs the prepared statement
                stored, duplicates = Event._intake(batch, owners)
                self.assertEqual(stored + duplicates, len(batch))
            self.assertEqual(Event._intake(batch, owners), (0, len(batch)), "stored once")
            cr.execute("SELECT count(*) FROM pg_prepared_statements")
            self.assertEqual(cr.fetchone()[0], 1)
            for key in ("PNUL", "PSUR", "PBIG"):
                cr.execute(
                    "SELECT count(*) FROM whatsapp_webhook_event WHERE key LIKE %s", [f"%{key}%"]
                )
                self.assertEqual(cr.fetchone()[0], 1, key)
        finally:
            cr.rollback()
            cr.close()
