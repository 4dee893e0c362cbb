import json

from odoo.tests import HttpCase, tagged

from ..tools import payloads, webhook
from .common import APP_SECRET, VERIFY_TOKEN, WhatsappCase

URL = "/whatsapp/webhook"


@tagged("post_install", "-at_install")
class TestWebhookController(WhatsappCase, HttpCase):
    def post(self, body, headers=None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.url_open(URL, data=body, headers=headers)

    def post_signed(self, payload, secret=APP_SECRET):
        body = payloads.encode(payload) if not isinstance(payload, bytes) else payload
        return self.post(body, {"X-Hub-Signature-256": webhook.sign(body, secret)})

    def setUp(self):
        super().setUp()
        self.known_events = self.env["whatsapp.webhook.event"].search([])

    def events(self):
        return self.env["whatsapp.webhook.event"].search([]) - self.known_events

    def test_handshake(self):
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "12345",
        }
        response = self.url_open(URL + "?" + "&".join(f"{k}={v}" for k, v in params.items()))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "12345")

    def test_handshake_wrong_token(self):
        response = self.url_open(URL + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        self.assertEqual(response.status_code, 403)

    def test_signed_event_is_stored(self):
        response = self.post_signed(self.inbound())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"stored": 1, "duplicates": 0})
        self.assertEqual(self.events().mapped("kind"), ["message"])

    def test_unsigned_is_refused_and_nothing_stored(self):
        response = self.post(payloads.encode(self.inbound()))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events())

    def test_wrong_signature_is_refused(self):
        response = self.post_signed(self.inbound(), secret="forged")
        self.assertEqual(response.status_code, 403)
        body = payloads.encode(self.inbound())
        tampered = body.replace(b"Hello", b"Hellp")
        response = self.post(tampered, {"X-Hub-Signature-256": webhook.sign(body, APP_SECRET)})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events())

    def test_signed_malformed_is_acknowledged_and_kept_as_an_error(self):
        # a signed body is Meta's (or a secret holder's): answered 200 so that it is not
        # retried for days, and kept for a person to look at
        for body in (b"{not json", b"[]", json.dumps({"object": "page"}).encode(), b"\xff\xfe"):
            response = self.post_signed(body)
            self.assertEqual(response.status_code, 200, body)
            self.assertNotIn("Traceback", response.text)
        self.assertEqual(set(self.events().mapped("state")), {"error"})

    def test_duplicate_is_stored_once(self):
        payload = self.inbound()
        self.assertEqual(self.post_signed(payload).json(), {"stored": 1, "duplicates": 0})
        self.assertEqual(self.post_signed(payload).json(), {"stored": 0, "duplicates": 1})
        self.assertEqual(len(self.events()), 1)

    def test_oversized_is_413(self):
        body = (
            b'{"object": "whatsapp_business_account", "entry": [], "pad": "'
            + b"x" * (webhook.MAX_BODY_BYTES + 10)
            + b'"}'
        )
        response = self.post_signed(body)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.events())

    def test_statuses_and_template_updates_are_accepted(self):
        status = payloads.status("wamid.S1", "delivered", self.customer_wa_id, category="utility")
        template = payloads.envelope(
            "200000000000099",
            [payloads.template_status_change("123", "order_confirmed", "en_US", "APPROVED")],
        )
        self.assertEqual(self.post_signed(self.statuses(status)).status_code, 200)
        self.assertEqual(self.post_signed(template).status_code, 200)
        self.assertEqual(sorted(self.events().mapped("kind")), ["status", "template"])

    def test_no_500_on_odd_input(self):
        odd = [
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "1",
                        "changes": [{"field": "messages", "value": {"messages": [{"id": "x"}]}}],
                    }
                ],
            },
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
            },
            {"object": "whatsapp_business_account", "entry": "nope"},
        ]
        for payload in odd:
            response = self.post_signed(payload)
            self.assertLess(response.status_code, 500, payload)
