"""The webhook as an attacker and as Meta's worst day would use it: secrets scoped to their account,
signed bodies always acknowledged, hostile bodies stored without harm, one bad event alone."""

import http.client
import json
import random
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from ..tools import payloads, webhook
from .common import APP_SECRET, PHONE_NUMBER_ID, WABA_ID, WhatsappCase

URL = "/whatsapp/webhook"
OTHER_SECRET = "other-company-secret"
OTHER_PHONE_NUMBER_ID = "100000000000077"
OTHER_WABA_ID = "200000000000077"


def _is_utf8(body):
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@tagged("post_install", "-at_install")
class TestWebhookHardening(WhatsappCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        other_company = cls.env["res.company"].create({"name": "Other Shop"})
        cls.other_account = cls.env["whatsapp.account"].create(
            {
                "name": "Other company's number",
                "phone_number_id": OTHER_PHONE_NUMBER_ID,
                "waba_id": OTHER_WABA_ID,
                "display_phone_number": "15550007777",
                "token": "other-token",
                "app_secret": OTHER_SECRET,
                "api_base_url": "http://127.0.0.1:9",
                "company_id": other_company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.known_events = self.env["whatsapp.webhook.event"].search([])

    # -- helpers --------------------------------------------------------------------------

    def events(self):
        return self.env["whatsapp.webhook.event"].search([]) - self.known_events

    def post_signed(self, payload, secret=APP_SECRET):
        body = payload if isinstance(payload, bytes) else payloads.encode(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": webhook.sign(body, secret),
        }
        return self.url_open(URL, data=body, headers=headers)

    def inbound_to(self, phone_number_id, waba_id, text="Hello", wamid=None):
        message = payloads.text_message(self.customer_wa_id, text, wamid=wamid)
        return payloads.inbound_payload(
            waba_id=waba_id,
            phone_number_id=phone_number_id,
            display_phone_number="15550000000",
            wa_id=self.customer_wa_id,
            profile_name="Ana",
            messages=[message],
        )

    def process(self):
        self.env["whatsapp.webhook.event"]._cron_process()
        self.env.invalidate_all()

    # -- 1. one account's secret opens only that account ----------------------------------

    def test_a_secret_opens_only_its_own_account(self):
        forged = self.inbound_to(OTHER_PHONE_NUMBER_ID, OTHER_WABA_ID, "injected")
        response = self.post_signed(forged, secret=APP_SECRET)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events(), "nothing of a forged body is stored")
        response = self.post_signed(forged, secret=OTHER_SECRET)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.events().account_id, self.other_account)

    def test_a_mixed_body_naming_another_account_is_refused_whole(self):
        mine = self.inbound_to(PHONE_NUMBER_ID, WABA_ID, "mine")
        theirs = self.inbound_to(OTHER_PHONE_NUMBER_ID, OTHER_WABA_ID, "theirs")
        mine["entry"] += theirs["entry"]
        self.assertEqual(self.post_signed(mine).status_code, 403)
        self.assertFalse(self.events())

    def test_template_and_account_changes_of_another_waba_are_refused(self):
        approval = payloads.envelope(
            OTHER_WABA_ID,
            [payloads.template_status_change("999", "promo", "en_US", "APPROVED")],
            time=1750000000,
        )
        self.assertEqual(self.post_signed(approval).status_code, 403)
        ban = payloads.envelope(
            OTHER_WABA_ID,
            [{"field": "account_update", "value": {"event": "DISABLED_UPDATE"}}],
            time=1750000000,
        )
        self.assertEqual(self.post_signed(ban).status_code, 403)
        self.assertFalse(self.events())

    def test_a_body_naming_no_known_account_is_acknowledged_and_ignored(self):
        response = self.post_signed(self.inbound_to("123456789", "987654321"))
        self.assertEqual(response.status_code, 200)
        event = self.events()
        self.assertEqual((event.state, event.account_id.id), ("ignored", False))
        self.assertIn("123456789", event.note)

    def test_unsigned_or_wrongly_signed_bodies_store_nothing(self):
        body = payloads.encode(self.inbound_to(PHONE_NUMBER_ID, WABA_ID))
        self.assertEqual(self.url_open(URL, data=body).status_code, 403)
        self.assertEqual(self.post_signed(body, secret="guess").status_code, 403)
        self.assertEqual(self.post_signed(b"{not json", secret="guess").status_code, 403)
        self.assertFalse(self.events())

    # -- 2. a signed body is always acknowledged ------------------------------------------

    def test_a_signed_body_that_is_not_a_notification_is_kept_as_an_error(self):
        for body in (b"{not json", b"[]", b'{"object": "page"}', b"\xff\xfe"):
            response = self.post_signed(body)
            self.assertEqual(response.status_code, 200, body)
            self.assertNotIn("Traceback", response.text)
        events = self.events()
        self.assertEqual(len(events), 4)
        self.assertEqual(set(events.mapped("kind")), {"invalid"})
        self.assertEqual(set(events.mapped("state")), {"error"})
        self.assertEqual(events.account_id, self.account)
        self.assertEqual(self.post_signed(b"[]").json()["duplicates"], 1, "stored once")

    def test_hostile_values_are_stored_cleanly_and_never_500(self):
        good = payloads.text_message(self.customer_wa_id, "good one", wamid="wamid.GOOD")
        hostile = [
            payloads.text_message(self.customer_wa_id, "nul\x00here", wamid="wamid.NUL"),
            payloads.text_message(self.customer_wa_id, "lone \ud800 surrogate", wamid="wamid.SUR"),
            {**payloads.text_message(self.customer_wa_id, "far"), "timestamp": str(10**20)},
            payloads.text_message(self.customer_wa_id, "long id", wamid="wamid." + "A" * 2701),
            {**payloads.text_message(self.customer_wa_id, "big"), "id": "wamid.BIG", "n": 10**400},
        ]
        payload = self.inbound_to(PHONE_NUMBER_ID, WABA_ID)
        payload["entry"][0]["changes"][0]["value"]["messages"] = [*hostile, good]
        body = json.dumps(payload, ensure_ascii=True).encode()
        response = self.post_signed(body)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"stored": 6, "duplicates": 0})
        self.process()
        events = self.events()
        self.assertFalse(events.filtered(lambda e: e.state == "pending"))
        self.assertEqual(
            sorted(events.filtered(lambda e: e.state == "done").mapped("wamid")),
            ["wamid.BIG", "wamid.GOOD", "wamid.NUL", "wamid.SUR"],
        )
        self.assertEqual(len(events.filtered(lambda e: e.kind == "invalid")), 2)
        bodies = self.env["whatsapp.message"].search([("wamid", "in", events.mapped("wamid"))])
        self.assertIn("nulhere", bodies.mapped("body"))
        self.assertIn("lone \ufffd surrogate", bodies.mapped("body"))

    def test_chunked_bodies_are_capped_too(self):
        host = urlsplit(self.base_url())

        def post_chunked(size):
            connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
            try:
                connection.putrequest("POST", URL)
                connection.putheader("Transfer-Encoding", "chunked")
                connection.putheader("Content-Type", "application/json")
                connection.putheader("X-Hub-Signature-256", "sha256=" + "0" * 64)
                connection.endheaders()
                chunk = b"x" * 65536
                sent = 0
                while sent < size:
                    connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                connection.send(b"0\r\n\r\n")
                return connection.getresponse().status
            except (BrokenPipeError, ConnectionResetError):
                return 413  # the server stopped reading: refused before the end
            finally:
                connection.close()

        self.assertEqual(post_chunked(webhook.MAX_BODY_BYTES + 2 * 65536), 413)
        self.assertEqual(post_chunked(65536), 403, "a small chunked body reaches the checks")
        self.assertFalse(self.events())

    # -- 6. the fuzz gate through the real controller -------------------------------------

    def test_fuzz_500_signed_mutated_bodies(self):
        rng = random.Random(1130)
        shapes = [
            payloads.text_message(self.customer_wa_id, "Olá"),
            payloads.media_message(self.customer_wa_id, "image", "555", mime_type="image/png"),
            payloads.location_message(self.customer_wa_id, -23.5, -46.6, name="Loja"),
            payloads.reaction_message(self.customer_wa_id, "wamid.X", "👍"),
            payloads.interactive_reply(self.customer_wa_id, "button_reply", "yes", "Sim"),
        ]
        hostile = [None, 0, -1, 10**30, 1e308, "", "\x00", "\ud800", "x" * 3000, [], {}, True]
        # statuses of messages we sent, so that none waits for its message
        conversation = self.open_window()
        self.env["whatsapp.message"].sudo().create(
            [
                {
                    "conversation_id": conversation.id,
                    "direction": "out",
                    "state": "sent",
                    "wamid": f"wamid.OUT{case}",
                    "body": "ours",
                }
                for case in range(500)
            ]
        )
        well_formed = set()
        for case in range(500):
            message = dict(rng.choice(shapes), id=f"wamid.FZ{case}")
            mutated = rng.random() < 0.6
            if mutated:
                key = rng.choice(["from", "id", "timestamp", "type", message["type"], "context"])
                message[key] = rng.choice(hostile)
            payload = self.inbound_to(PHONE_NUMBER_ID, WABA_ID)
            value = payload["entry"][0]["changes"][0]["value"]
            value["messages"] = [message]
            if rng.random() < 0.3:
                value["statuses"] = [
                    payloads.status(f"wamid.OUT{case}", "delivered", self.customer_wa_id)
                ]
            raw = json.dumps(payload, ensure_ascii=rng.random() < 0.5, allow_nan=True)
            body = raw.encode("utf-8", "surrogatepass")
            readable = _is_utf8(body)  # a lone surrogate as raw bytes spoils the whole body
            response = self.post_signed(body)
            self.assertLess(response.status_code, 500, (case, body[:200]))
            self.assertEqual(response.status_code, 200, (case, response.text))
            if not mutated and readable:
                well_formed.add(f"wamid.FZ{case}")
            if rng.random() < 0.1:  # Meta's redeliveries
                self.assertEqual(self.post_signed(body).json()["stored"], 0)
        self.process()
        events = self.events()
        self.assertFalse(events.filtered(lambda e: e.state == "pending"), "none left pending")
        delivered = self.env["whatsapp.message"].search([("wamid", "like", "wamid.OUT")])
        self.assertEqual(
            set(delivered.filtered(lambda m: m.state == "delivered").mapped("wamid")),
            set(
                events.filtered(lambda e: e.kind == "status" and e.state == "done").mapped("wamid")
            ),
        )
        messages = events.filtered(lambda e: e.kind == "message")
        self.assertEqual(len(messages.mapped("key")), len(set(messages.mapped("key"))))
        done = set(messages.filtered(lambda e: e.state == "done").mapped("wamid"))
        stored = self.env["whatsapp.message"].search([("wamid", "in", list(done))])
        self.assertEqual(set(stored.mapped("wamid")), done, "each processed event left a message")
        self.assertEqual(len(stored), len(done), "and only one")
        self.assertLessEqual(well_formed, done, "every well-formed event is stored")
        bad = events.filtered(lambda e: e.kind == "invalid" or e.state == "error")
        self.assertTrue(bad)
        self.assertEqual(set(bad.mapped("state")), {"error"})
