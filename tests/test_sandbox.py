"""The local WhatsApp Cloud API sandbox (``tools/sandbox.py``), without Odoo.

Each test runs a sandbox on a free port posting its webhooks to a tiny local receiver.
"""

import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from wa_tools import webhook
from wa_tools.sandbox import (
    Request,
    Sandbox,
    SandboxConfig,
    coerce_knob,
    config_from_env,
    main,
)

SECRET = "test-app-secret"
TOKEN = "test-token"
PHONE_ID = "100000000000001"
WABA = "200000000000001"
CUSTOMER = "15551234567"
ADDON_DIR = pathlib.Path(__file__).resolve().parent.parent / "whatsapp_helpdesk"

needs_parse = pytest.mark.skipif(
    not hasattr(webhook, "parse"), reason="tools.webhook.parse is not written yet"
)


class Receiver:
    """A local webhook endpoint recording every POST (path, headers, body)."""

    def __init__(self):
        self.posts = []
        self.status = 200
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/whatsapp/webhook"

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                post = {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                with receiver._cond:
                    receiver.posts.append(post)
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def wait(self, count, timeout=3.0):
        with self._cond:
            return self._cond.wait_for(lambda: len(self.posts) >= count, timeout)

    def payloads(self):
        return [json.loads(post["body"]) for post in self.posts]

    def values(self):
        """The ``value`` of the single change of each post."""
        return [payload["entry"][0]["changes"][0]["value"] for payload in self.payloads()]

    def statuses(self):
        return [s for value in self.values() for s in value.get("statuses", ())]

    def close(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sandbox(receiver):
    config = SandboxConfig(
        port=0,
        token=TOKEN,
        app_secret=SECRET,
        webhook_url=receiver.url,
        webhook_timeout=2.0,
        status_delay=0.02,
        timeout_seconds=0.6,
        seed=7,
    )
    sandbox = Sandbox(config).start()
    yield sandbox
    sandbox.stop()


class Graph:
    """A minimal Graph API client for the tests."""

    def __init__(self, base_url, token=TOKEN):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 5)
        return requests.request(method, self.base_url + path, headers=self.headers, **kwargs)

    def send(self, to=CUSTOMER, type_="text", content=None, **kwargs):
        body = {"messaging_product": "whatsapp", "to": to, "type": type_}
        body[type_] = {"body": "Hello from support"} if content is None else content
        return self.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body, **kwargs)

    def template(self, name="hello_world", to=CUSTOMER, **kwargs):
        content = {"name": name, "language": {"code": "en_US"}}
        return self.send(to, "template", content, **kwargs)


@pytest.fixture
def graph(sandbox):
    return Graph(sandbox.base_url)


def _error(answer):
    return answer.json()["error"]


def _assert_graph_error(answer, http_status, code):
    assert answer.status_code == http_status, answer.text
    error = _error(answer)
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"]
    assert error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    return error


def _open_window(sandbox, wa_id=CUSTOMER):
    assert sandbox.inject(wa_id, text="Hi")["status_code"] == 200


# -- authentication, routing, validation ----------------------------------------------------------


def test_missing_or_wrong_token_is_190(sandbox):
    for token in (None, "wrong"):
        answer = Graph(sandbox.base_url, token).template()
        error = _assert_graph_error(answer, 401, 190)
        assert error["message"].startswith("Error validating access token")
    assert sandbox.sent == []


def test_access_token_query_parameter(sandbox):
    answer = Graph(sandbox.base_url, None).call(
        "GET", f"/v21.0/{WABA}/message_templates", params={"access_token": TOKEN}
    )
    assert answer.status_code == 200


def test_unknown_phone_number_id(graph):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    answer = graph.call("POST", "/v23.0/999/messages", json=body)
    assert _assert_graph_error(answer, 400, 100)["error_subcode"] == 33


def test_unknown_path(graph):
    _assert_graph_error(graph.call("GET", f"/v23.0/{PHONE_ID}/nothing/here"), 400, 2500)


@pytest.mark.parametrize(
    "body",
    [
        {"to": CUSTOMER, "type": "text", "text": {"body": "x"}},
        {"messaging_product": "sms", "to": CUSTOMER, "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "to": "", "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "fax", "fax": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text"},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": " "}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x" * 4097}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "location", "location": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "contacts", "contacts": []},
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {"type": "button"},
        },
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "template",
            "template": {"name": "hello_world"},
        },
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "reaction",
            "reaction": {"emoji": "x"},
        },
    ],
)
def test_invalid_sends_are_code_100(sandbox, graph, body):
    _open_window(sandbox)
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert _assert_graph_error(answer, 400, 100)["message"] == "(#100) Invalid parameter"
    assert sandbox.sent == []


def test_garbled_json_is_code_100(graph):
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", data=b"{nope")
    _assert_graph_error(answer, 400, 100)


def test_text_of_4096_chars_is_accepted(sandbox, graph):
    _open_window(sandbox)
    assert graph.send(content={"body": "x" * 4096}).status_code == 200


@pytest.mark.parametrize(
    ("type_", "content"),
    [
        ("image", {"link": "https://example.com/a.png", "caption": "c"}),
        ("document", {"id": "123", "filename": "a.pdf"}),
        ("audio", {"id": "123"}),
        ("video", {"id": "123"}),
        ("sticker", {"id": "123"}),
        ("location", {"latitude": 1.5, "longitude": 2.5}),
        ("contacts", [{"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1"}]}]),
        ("interactive", {"type": "button", "body": {"text": "?"}, "action": {"buttons": []}}),
        ("reaction", {"message_id": "wamid.X", "emoji": "\N{THUMBS UP SIGN}"}),
    ],
)
def test_each_send_type_is_accepted(sandbox, graph, type_, content):
    _open_window(sandbox)
    answer = graph.send(type_=type_, content=content)
    assert answer.status_code == 200, answer.text
    assert sandbox.sent[-1]["type"] == type_


# -- sends and their statuses ---------------------------------------------------------------------


def test_send_answer_shape_and_record(sandbox, graph):
    _open_window(sandbox)
    answer = graph.send(to="+1 (555) 123-4567")
    assert answer.status_code == 200
    data = answer.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": "+1 (555) 123-4567", "wa_id": CUSTOMER}]
    (message,) = data["messages"]
    assert message["id"].startswith("wamid.") and "message_status" not in message
    (entry,) = sandbox.sent
    assert entry["wamid"] == message["id"]
    assert entry["to"] == CUSTOMER
    assert entry["type"] == "text"
    assert entry["payload"]["text"] == {"body": "Hello from support"}
    assert entry["time"] <= time.time()


def test_window_is_enforced_and_opened_by_inject(sandbox, graph):
    error = _assert_graph_error(graph.send(), 400, 131047)
    assert error["message"] == "(#131047) Re-engagement message"
    assert not sandbox.window_open(CUSTOMER)
    result = sandbox.inject(CUSTOMER, text="Help!")
    assert result["status_code"] == 200 and result["wamid"].startswith("wamid.")
    assert sandbox.window_open(CUSTOMER)
    assert graph.send().status_code == 200
    _assert_graph_error(graph.send(to="15559990000"), 400, 131047)


def test_templates_skip_the_window(graph):
    answer = graph.template()
    assert answer.status_code == 200
    assert answer.json()["messages"][0]["message_status"] == "accepted"


def test_window_enforcement_can_be_disabled(sandbox, graph):
    sandbox.configure(enforce_window=False)
    assert graph.send().status_code == 200


def test_status_sequence_is_signed_ordered_and_priced(sandbox, receiver, graph):
    _open_window(sandbox)
    wamid = graph.send().json()["messages"][0]["id"]
    assert sandbox.wait_for_deliveries(4, timeout=3)
    assert receiver.wait(4)
    for post in receiver.posts:
        signature = post["headers"]["X-Hub-Signature-256"]
        assert webhook.verify_signature(post["body"], signature, SECRET)
        assert post["headers"]["Content-Type"] == "application/json"
        assert post["path"] == "/whatsapp/webhook"
    inbound, *statuses = receiver.values()
    assert inbound["messages"][0]["text"]["body"] == "Hi"
    assert [value["statuses"][0]["status"] for value in statuses] == ["sent", "delivered", "read"]
    sent, delivered, read = (value["statuses"][0] for value in statuses)
    assert {s["id"] for s in (sent, delivered, read)} == {wamid}
    assert {s["recipient_id"] for s in (sent, delivered, read)} == {CUSTOMER}
    assert sent["conversation"]["id"] == delivered["conversation"]["id"]
    assert "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]
    for status in (sent, delivered):
        assert status["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    assert [d["kind"] for d in sandbox.deliveries] == ["messages"] + ["statuses"] * 3
    assert all(d["status_code"] == 200 and d["error"] is None for d in sandbox.deliveries)
    assert all(d["url"] == receiver.url and d["count"] == 1 for d in sandbox.deliveries)
    assert sandbox.sent[0]["status"] == "read"


@needs_parse
def test_statuses_parse(sandbox, receiver, graph):
    graph.template()
    assert receiver.wait(3)
    parsed = [webhook.parse(post["body"]) for post in receiver.posts]
    assert [batch.statuses[0].status for batch in parsed] == ["sent", "delivered", "read"]


def test_template_sends_are_billed_by_category(sandbox, receiver, graph):
    sandbox.configure(auto_read=False)
    sandbox.add_template("spring_sale", category="MARKETING")
    graph.template("hello_world")
    graph.template("spring_sale", to="15550000002")
    assert receiver.wait(4)
    pricing = {s["recipient_id"]: s["pricing"] for s in receiver.statuses()}
    assert pricing[CUSTOMER]["category"] == "utility"
    assert pricing["15550000002"]["category"] == "marketing"
    assert all(p["billable"] is True and p["type"] == "regular" for p in pricing.values())


def test_auto_read_off(sandbox, receiver, graph):
    sandbox.configure(auto_read=False)
    graph.template()
    assert receiver.wait(2)
    time.sleep(0.1)
    assert [s["status"] for s in receiver.statuses()] == ["sent", "delivered"]


def test_fail_numbers_get_a_failed_status(sandbox, receiver, graph):
    sandbox.configure(fail_numbers=["+1 555 000 9999"])
    answer = graph.template(to="15550009999")
    assert answer.status_code == 200
    assert receiver.wait(1)
    time.sleep(0.1)
    (status,) = receiver.statuses()
    assert status["status"] == "failed"
    assert status["id"] == answer.json()["messages"][0]["id"]
    assert status["errors"][0]["code"] == 131026
    assert sandbox.sent[0]["status"] == "failed"


def test_burst_429(sandbox, graph):
    sandbox.configure(burst_429=2)
    for _ in range(2):
        error = _assert_graph_error(graph.template(), 429, 130429)
        assert error["message"] == "(#130429) Rate limit hit"
    assert sandbox.config.burst_429 == 0
    assert graph.template().status_code == 200
    assert len(sandbox.sent) == 1


def test_burst_500_answers_something_went_wrong_without_sending(sandbox, receiver, graph):
    sandbox.configure(burst_500=2)
    for _ in range(2):
        error = _assert_graph_error(graph.template(), 500, 131000)
        assert error["message"] == "(#131000) Something went wrong"
    assert sandbox.config.burst_500 == 0 and sandbox.sent == []
    assert graph.template().status_code == 200


def test_gateway_error_next_sends_but_answers_503_without_graph_error(sandbox, receiver, graph):
    sandbox.configure(gateway_error_next=1)
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
        "biz_opaque_callback_data": "uuid-1",
    }
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "text/html" and b"error" not in answer.content
    assert sandbox.config.gateway_error_next == 0
    (entry,) = sandbox.sent  # the message left: only its answer is lost
    assert receiver.wait(3)
    # the statuses tell which send it was, by the wamid it never got or the data it sent
    assert {(s["id"], s["biz_opaque_callback_data"]) for s in receiver.statuses()} == {
        (entry["wamid"], "uuid-1")
    }
    assert graph.template().status_code == 200


def test_error_rate(sandbox, graph):
    sandbox.configure(error_rate=1.0)
    codes = set()
    for _ in range(12):
        answer = graph.template()
        codes.add((answer.status_code, _error(answer)["code"]))
    assert codes <= {(500, 131000), (429, 130429)} and len(codes) == 2
    assert sandbox.sent == []
    sandbox.configure(error_rate=0)
    assert graph.template().status_code == 200


def test_timeout_next_records_and_posts_statuses(sandbox, receiver, graph):
    sandbox.configure(timeout_next=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        graph.template(timeout=0.2)
    assert len(sandbox.sent) == 1
    assert receiver.wait(3)
    assert {s["id"] for s in receiver.statuses()} == {sandbox.sent[0]["wamid"]}
    assert sandbox.config.timeout_next == 0
    started = time.monotonic()
    assert graph.template(timeout=0.5).status_code == 200
    assert time.monotonic() - started < 0.5


def test_pair_gap(sandbox, graph):
    sandbox.configure(pair_gap_ms=200)
    assert graph.template().status_code == 200
    error = _assert_graph_error(graph.template(), 400, 131056)
    assert "pair rate limit" in error["message"]
    assert graph.template(to="15550000002").status_code == 200
    time.sleep(0.25)
    assert graph.template().status_code == 200


def test_latency(sandbox, graph):
    sandbox.configure(latency_ms=250)
    started = time.monotonic()
    assert graph.template().status_code == 200
    assert time.monotonic() - started >= 0.25


def test_read_receipt(sandbox, graph):
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    assert sandbox.read_receipts[0]["message_id"] == "wamid.IN"
    assert sandbox.sent == []


# -- webhook delivery failures --------------------------------------------------------------------


def test_receiver_errors_are_recorded(sandbox, receiver):
    receiver.status = 500
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] == 500
    assert sandbox.deliveries[-1]["status_code"] == 500


def test_unreachable_webhook_is_recorded_not_raised(sandbox):
    sandbox.configure(webhook_url="http://127.0.0.1:9/nowhere", webhook_timeout=0.5)
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] is None and result["error"]
    record = sandbox.deliveries[-1]
    assert record["url"] == "http://127.0.0.1:9/nowhere" and record["error"]


def test_without_webhook_url_deliveries_are_recorded(sandbox, receiver):
    sandbox.configure(webhook_url=None)
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] is None
    assert sandbox.deliveries[-1]["error"] == "no webhook_url configured"
    assert receiver.posts == []


# -- inject ---------------------------------------------------------------------------------------


def test_inject_text_payload(sandbox, receiver):
    result = sandbox.inject("+1 555 123 4567", profile_name="Alice", text="Where is my order?")
    assert receiver.wait(1)
    payload = receiver.payloads()[0]
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == WABA
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID}
    assert value["contacts"] == [{"profile": {"name": "Alice"}, "wa_id": CUSTOMER}]
    (message,) = value["messages"]
    assert message["id"] == result["wamid"]
    assert message["text"] == {"body": "Where is my order?"}


def test_inject_image_is_downloadable(sandbox, receiver, graph):
    sandbox.inject(CUSTOMER, type="image", text="The broken part")
    image = receiver.values()[0]["messages"][0]["image"]
    assert image["caption"] == "The broken part"
    info = graph.call("GET", f"/v23.0/{image['id']}").json()
    assert info["mime_type"] == image["mime_type"] == "image/png"
    data = graph.call("GET", info["url"].removeprefix(sandbox.base_url)).content
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert hashlib.sha256(data).hexdigest() == image["sha256"] == info["sha256"]


def test_inject_document_with_own_data(sandbox, receiver):
    sandbox.inject(
        CUSTOMER, type="document", text="Invoice", data=b"%PDF-1.7 x", filename="invoice.pdf"
    )
    document = receiver.values()[0]["messages"][0]["document"]
    assert document["filename"] == "invoice.pdf" and document["caption"] == "Invoice"
    assert sandbox.media[document["id"]].data == b"%PDF-1.7 x"


@pytest.mark.parametrize(
    ("kwargs", "check"),
    [
        (
            {"type": "location", "latitude": 50.85, "longitude": 4.35, "name": "Shop"},
            lambda m: m["location"]["name"] == "Shop" and m["location"]["latitude"] == 50.85,
        ),
        (
            {"type": "contacts", "text": "Bob", "phone": "+15550003333"},
            lambda m: m["contacts"][0]["name"]["formatted_name"] == "Bob",
        ),
        (
            {"type": "button_reply", "text": "Yes please", "reply_id": "yes"},
            lambda m: m["interactive"]["button_reply"] == {"id": "yes", "title": "Yes please"},
        ),
        (
            {"type": "list_reply", "text": "Billing"},
            lambda m: m["interactive"]["list_reply"]["id"] == "billing",
        ),
        (
            {"type": "interactive", "kind": "list_reply", "text": "Other"},
            lambda m: m["interactive"]["type"] == "list_reply",
        ),
        (
            {"type": "button", "text": "Stop promotions", "payload": "STOP"},
            lambda m: m["button"] == {"payload": "STOP", "text": "Stop promotions"},
        ),
        (
            {"type": "audio", "voice": True},
            lambda m: m["audio"]["voice"] is True,
        ),
        (
            {"type": "unsupported"},
            lambda m: m["errors"][0]["code"] == 131051,
        ),
    ],
    ids=lambda value: value.get("type") if isinstance(value, dict) else "",
)
def test_inject_kinds(sandbox, receiver, kwargs, check):
    sandbox.inject(CUSTOMER, **kwargs)
    message = receiver.values()[0]["messages"][0]
    expected_type = {"button_reply": "interactive", "list_reply": "interactive"}
    assert message["type"] == expected_type.get(kwargs["type"], kwargs["type"])
    assert check(message)
    if hasattr(webhook, "parse"):
        assert webhook.parse(receiver.posts[0]["body"]).messages[0].wamid == message["id"]


def test_replies_default_to_the_last_outbound_message(sandbox, receiver, graph):
    wamid = graph.template().json()["messages"][0]["id"]
    sandbox.inject(CUSTOMER, type="button_reply", text="Yes")
    sandbox.inject(CUSTOMER, type="reaction", emoji="\N{THUMBS UP SIGN}")
    sandbox.inject(CUSTOMER, text="Answering", reply_to=wamid)
    inbound = [v["messages"][0] for v in receiver.values() if "messages" in v]
    assert inbound[0]["context"] == {"from": "15550001111", "id": wamid}
    assert inbound[1]["reaction"] == {"message_id": wamid, "emoji": "\N{THUMBS UP SIGN}"}
    assert inbound[2]["context"]["id"] == wamid


def test_inject_rejects_bad_input(sandbox):
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="hologram", text="x")
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, text="")
    with pytest.raises(ValueError):
        sandbox.inject("no digits", text="x")
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="reaction")  # nothing was sent to react to
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="location", latitude="north")


# -- media ----------------------------------------------------------------------------------------


def test_media_upload_get_download_delete(sandbox, graph):
    data = bytes(range(256)) * 4 + b"\r\n\r\n--boundary\n"
    answer = graph.call(
        "POST",
        f"/v23.0/{PHONE_ID}/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"type": "image/jpeg", "messaging_product": "whatsapp"},
    )
    assert answer.status_code == 200, answer.text
    media_id = answer.json()["id"]
    assert set(answer.json()) == {"id"}
    info = graph.call("GET", f"/v23.0/{media_id}").json()
    assert info == {
        "messaging_product": "whatsapp",
        "url": f"{sandbox.base_url}/_sandbox/media/{media_id}",
        "mime_type": "image/jpeg",
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "id": media_id,
    }
    download = graph.call("GET", f"/_sandbox/media/{media_id}")
    assert download.content == data
    assert download.headers["Content-Type"] == "image/jpeg"
    anonymous = Graph(sandbox.base_url, None)
    _assert_graph_error(anonymous.call("GET", f"/_sandbox/media/{media_id}"), 401, 190)
    assert graph.call("DELETE", f"/v23.0/{media_id}").json() == {"success": True}
    _assert_graph_error(graph.call("GET", f"/v23.0/{media_id}"), 400, 100)


def test_media_upload_validation(graph):
    path = f"/v23.0/{PHONE_ID}/media"
    no_product = graph.call("POST", path, files={"file": ("a.png", b"x", "image/png")})
    _assert_graph_error(no_product, 400, 100)
    no_file = graph.call("POST", path, files={"messaging_product": (None, "whatsapp")})
    _assert_graph_error(no_file, 400, 100)
    _assert_graph_error(graph.call("POST", path, json={"messaging_product": "whatsapp"}), 400, 100)


def test_media_type_defaults_to_the_file_part(sandbox, graph):
    answer = graph.call(
        "POST",
        f"/v23.0/{PHONE_ID}/media",
        files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        data={"messaging_product": "whatsapp"},
    )
    assert sandbox.media[answer.json()["id"]].mime_type == "application/pdf"


def test_phone_number_object(graph):
    info = graph.call("GET", f"/v23.0/{PHONE_ID}").json()
    assert info["id"] == PHONE_ID and info["display_phone_number"] == "15550001111"


# -- templates ------------------------------------------------------------------------------------


TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Your order {{1}} shipped.", "example": {"body_text": [["A42"]]}}
    ],
}


def test_list_templates(graph):
    answer = graph.call("GET", f"/v23.0/{WABA}/message_templates")
    assert answer.status_code == 200
    data = answer.json()
    assert set(data) == {"data", "paging"}
    assert set(data["paging"]["cursors"]) == {"before", "after"}
    (template,) = data["data"]
    assert template["name"] == "hello_world" and template["status"] == "APPROVED"
    assert {"id", "language", "category", "components"} <= set(template)


def test_create_template_then_approved_by_webhook(sandbox, receiver, graph):
    answer = graph.call("POST", f"/v23.0/{WABA}/message_templates", json=TEMPLATE)
    assert answer.status_code == 200, answer.text
    created = answer.json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert receiver.wait(1)
    payload = receiver.payloads()[0]
    assert isinstance(payload["entry"][0]["time"], int)
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update"
    assert change["value"]["event"] == "APPROVED"
    assert str(change["value"]["message_template_id"]) == created["id"]
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    listed = graph.call("GET", f"/v23.0/{WABA}/message_templates", params={"name": "order"})
    assert [t["id"] for t in listed.json()["data"]] == [created["id"]]


def test_create_template_pending_without_auto_approval(sandbox, receiver, graph):
    sandbox.configure(auto_approve_templates=False)
    created = graph.call("POST", f"/v23.0/{WABA}/message_templates", json=TEMPLATE).json()
    time.sleep(0.1)
    assert receiver.posts == []
    assert sandbox.templates[created["id"]]["status"] == "PENDING"
    sandbox.template_event("order_update", "REJECTED", reason="INVALID_FORMAT")
    value = receiver.values()[0]
    assert value["event"] == "REJECTED" and value["reason"] == "INVALID_FORMAT"
    assert sandbox.templates[created["id"]]["status"] == "REJECTED"


def test_delete_template(sandbox, graph):
    path = f"/v23.0/{WABA}/message_templates"
    graph.call("POST", path, json=TEMPLATE)
    answer = graph.call("DELETE", path, params={"name": "order_update"})
    assert answer.json() == {"success": True}
    assert sandbox.find_template("order_update") is None
    names = [t["name"] for t in graph.call("GET", path).json()["data"]]
    assert names == ["hello_world"]
    _assert_graph_error(graph.call("DELETE", path, params={"name": "order_update"}), 400, 100)
    _assert_graph_error(graph.call("DELETE", path), 400, 100)


def test_template_paging(sandbox, graph):
    for index in range(4):
        sandbox.add_template(f"tpl_{index}")
    path = f"/v23.0/{WABA}/message_templates"
    first = graph.call("GET", path, params={"limit": 3}).json()
    assert len(first["data"]) == 3 and "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    rest = graph.call("GET", path, params={"limit": 3, "after": after}).json()
    assert len(rest["data"]) == 2 and "next" not in rest["paging"]
    assert not {t["id"] for t in first["data"]} & {t["id"] for t in rest["data"]}


def test_templates_of_another_account(graph):
    answer = graph.call("GET", "/v23.0/999/message_templates")
    assert _assert_graph_error(answer, 400, 100)["error_subcode"] == 33


# -- template reviews, validation, edits ----------------------------------------------------------


TEMPLATES_PATH = f"/v23.0/{WABA}/message_templates"
SHOP_URL = "https://shop.example.com/orders/{{1}}"


def _create(graph, **changes):
    return graph.call("POST", TEMPLATES_PATH, json={**TEMPLATE, **changes})


def _review_values(receiver):
    return [
        payload["entry"][0]["changes"][0]["value"]
        for payload in receiver.payloads()
        if payload["entry"][0]["changes"][0]["field"] == "message_template_status_update"
    ]


def _assert_template_error(answer, subcode=None):
    error = _assert_graph_error(answer, 400, 100)
    assert error["error_user_title"] and error["error_user_msg"]
    assert error["is_transient"] is False
    assert error["error_data"]["details"] == error["error_user_msg"]
    assert error.get("error_subcode") == subcode
    return error


def test_create_template_approved_by_webhook_with_knob_delay(sandbox, receiver, graph):
    sandbox.configure(template_review_delay=0.3)
    created = _create(graph).json()
    time.sleep(0.1)
    assert sandbox.deliveries == []
    assert sandbox.templates[created["id"]]["status"] == "PENDING"
    assert sandbox.wait_for_deliveries(1)
    (value,) = _review_values(receiver)
    assert (value["event"], value["reason"]) == ("APPROVED", "NONE")
    template = sandbox.templates[created["id"]]
    assert (template["status"], template["rejected_reason"]) == ("APPROVED", "NONE")
    assert sandbox.knobs()["template_review_delay"] == 0.3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("promo_reject", "INVALID_FORMAT"),
        ("reject_policy_promo", "TAG_CONTENT_MISMATCH"),
        ("reject_category_promo", "INCORRECT_CATEGORY"),
    ],
)
def test_create_template_rejected_by_webhook(sandbox, receiver, graph, name, reason):
    created = _create(graph, name=name).json()
    assert created["status"] == "PENDING"
    assert sandbox.wait_for_deliveries(1)
    (value,) = _review_values(receiver)
    assert value["event"] == "REJECTED" and value["reason"] == reason
    assert value["message_template_name"] == name
    template = graph.call("GET", f"/v23.0/{created['id']}").json()
    assert (template["status"], template["rejected_reason"]) == ("REJECTED", reason)
    _assert_graph_error(graph.template(name), 400, 132001)


def test_create_named_template_and_body_of_1024_chars(sandbox, graph):
    named = {
        "name": "named_update",
        "parameter_format": "named",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, order {{order_ref}} ships {{first_name}}.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Ana"},
                        {"param_name": "order_ref", "example": "S042"},
                    ]
                },
            }
        ],
    }
    answer = _create(graph, **named)
    assert answer.status_code == 200, answer.text
    assert sandbox.templates[answer.json()["id"]]["parameter_format"] == "NAMED"
    long_body = [{"type": "BODY", "text": "x" * 1024}]
    assert _create(graph, name="long_body", components=long_body).status_code == 200


def _body(text, example=None):
    component = {"type": "BODY", "text": text}
    if example is not None:
        component["example"] = example
    return [component]


@pytest.mark.parametrize(
    ("changes", "subcode"),
    [
        ({"name": "Order-Update"}, 2388046),
        ({"name": ""}, 2388046),
        ({"name": None}, 2388046),
        ({"category": "PROMO"}, None),
        ({"category": None}, None),
        ({"language": ""}, None),
        ({"language": None}, None),
        ({"parameter_format": "FANCY"}, None),
        ({"components": []}, None),
        ({"components": [{"text": "no type"}]}, None),
        ({"components": [{"type": "HEADER", "format": "TEXT", "text": "Hi"}]}, None),
        ({"components": _body("   ")}, None),
        ({"components": _body("x" * 1025)}, None),
        ({"components": _body("{{1}} and {{3}}", {"body_text": [["a", "b"]]})}, None),
        ({"components": _body("{{0}} and {{1}}", {"body_text": [["a", "b"]]})}, None),
        ({"components": _body("Hi {{name}}", {"body_text": [["a"]]})}, None),
        ({"components": _body("Your order {{1}} shipped.")}, 2388043),
        ({"components": _body("{{1}} and {{2}}", {"body_text": [["only one"]]})}, 2388043),
        (
            {
                "parameter_format": "NAMED",
                "components": _body("Hi {{name}}", {"body_text": [["a"]]}),
            },
            2388043,
        ),
        ({"parameter_format": "NAMED", "components": _body("Hi {{Name}}")}, None),
        (
            {
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    *_body("Shipped."),
                ]
            },
            2388043,
        ),
        (
            {
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}"},
                    *_body("Shipped."),
                ]
            },
            None,
        ),
        (
            {
                "components": [
                    *_body("Shipped."),
                    {
                        "type": "BUTTONS",
                        "buttons": [{"type": "URL", "text": "See", "url": SHOP_URL}],
                    },
                ]
            },
            2388043,
        ),
    ],
)
def test_create_template_validation(sandbox, receiver, graph, changes, subcode):
    _assert_template_error(_create(graph, **changes), subcode)
    assert [t["name"] for t in sandbox.templates.values()] == ["hello_world"]
    time.sleep(0.05)
    assert receiver.posts == []


def test_create_duplicate_template(sandbox, graph):
    assert _create(graph).status_code == 200
    error = _assert_template_error(_create(graph), 2388024)
    assert "already" in error["error_user_msg"]
    assert _create(graph, language="fr").status_code == 200
    assert len(sandbox.templates) == 3


def test_create_authentication_template_fills_meta_texts(sandbox, graph):
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    body = {**TEMPLATE, "name": "login_code", "category": "AUTHENTICATION"}
    answer = graph.call("POST", TEMPLATES_PATH, json={**body, "components": components})
    assert answer.status_code == 200, answer.text
    assert sandbox.wait_for_deliveries(1)
    stored = graph.call("GET", f"/v23.0/{answer.json()['id']}").json()
    body_text = stored["components"][0]["text"]
    assert body_text.startswith("*{{1}}* is your verification code.") and "share" in body_text
    assert stored["components"][1]["text"] == "This code expires in 10 minutes."
    code = [{"type": "text", "text": "123456"}]
    sent = [
        {"type": "body", "parameters": code},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": code},
    ]
    assert _send_template(graph, "login_code", sent).status_code == 200
    _assert_graph_error(_send_template(graph, "login_code", sent[:1]), 400, 132000)


def test_get_template(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    created = _create(graph).json()
    answer = graph.call("GET", f"/v23.0/{created['id']}")
    assert answer.status_code == 200
    template = answer.json()
    assert {
        "id": template["id"],
        "name": template["name"],
        "language": template["language"],
        "status": template["status"],
        "category": template["category"],
        "parameter_format": template["parameter_format"],
        "rejected_reason": template["rejected_reason"],
    } == {
        "id": created["id"],
        "name": "order_update",
        "language": "en_US",
        "status": "PENDING",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "rejected_reason": "NONE",
    }
    assert template["components"] == TEMPLATE["components"]
    narrowed = graph.call("GET", f"/v23.0/{created['id']}", params={"fields": "name,status"})
    assert narrowed.json() == {"id": created["id"], "name": "order_update", "status": "PENDING"}
    _assert_graph_error(graph.call("GET", "/v23.0/4242"), 400, 100)


def test_edit_template_goes_pending_then_approved(sandbox, receiver, graph):
    created = _create(graph).json()
    assert sandbox.wait_for_deliveries(1)
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    components = _body("Order {{1}} left {{2}}.", {"body_text": [["A42", "Lyon"]]})
    sandbox.configure(template_review_delay=0.2)
    answer = graph.call("POST", f"/v23.0/{created['id']}", json={"components": components})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}
    template = graph.call("GET", f"/v23.0/{created['id']}").json()
    assert template["status"] == "PENDING" and template["components"] == components
    _assert_graph_error(graph.template("order_update"), 400, 132001)
    assert sandbox.wait_for_deliveries(2)
    assert [v["event"] for v in _review_values(receiver)] == ["APPROVED", "APPROVED"]
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    answer = graph.call("POST", f"/v23.0/{created['id']}", json={"category": "marketing"})
    assert answer.json() == {"success": True}
    assert sandbox.templates[created["id"]]["category"] == "MARKETING"
    assert sandbox.wait_for_deliveries(3)


def test_edit_rejected_template_is_reviewed_again(sandbox, receiver, graph):
    created = _create(graph, name="reject_me").json()
    assert sandbox.wait_for_deliveries(1)
    sandbox.configure(template_review_delay=0.2)
    graph.call("POST", f"/v23.0/{created['id']}", json={"category": "MARKETING"})
    template = sandbox.templates[created["id"]]
    assert (template["status"], template["rejected_reason"]) == ("PENDING", "NONE")
    assert sandbox.wait_for_deliveries(2)
    assert [v["event"] for v in _review_values(receiver)] == ["REJECTED", "REJECTED"]
    assert template["rejected_reason"] == "INVALID_FORMAT"


def test_edit_template_errors(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    created = _create(graph).json()
    path = f"/v23.0/{created['id']}"
    components = _body("New text.")
    pending = graph.call("POST", path, json={"components": components})
    assert "PENDING" in _assert_template_error(pending)["error_user_msg"]
    sandbox.template_event("order_update", "APPROVED")
    _assert_template_error(graph.call("POST", path, json={}))
    _assert_template_error(graph.call("POST", path, json={"components": _body("{{1}}")}), 2388043)
    _assert_template_error(graph.call("POST", path, json={"category": "PROMO"}))
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    assert sandbox.templates[created["id"]]["components"] == TEMPLATE["components"]
    unknown = graph.call("POST", "/v23.0/4242", json={"components": components})
    assert _assert_graph_error(unknown, 400, 100)["error_subcode"] == 33


def test_deleted_or_manually_reviewed_templates_skip_the_pending_review(sandbox, receiver, graph):
    sandbox.configure(template_review_delay=0.2)
    _create(graph)
    _create(graph, name="other_update")
    graph.call("DELETE", TEMPLATES_PATH, params={"name": "order_update"})
    sandbox.template_event("other_update", "REJECTED", reason="SCAM")
    time.sleep(0.35)
    assert [(v["event"], v["reason"]) for v in _review_values(receiver)] == [("REJECTED", "SCAM")]
    assert sandbox.find_template("other_update")["rejected_reason"] == "SCAM"


def test_template_quality_update(sandbox, receiver):
    template = sandbox.find_template("hello_world")
    assert sandbox.template_quality("hello_world", "green")["status_code"] == 200
    assert sandbox.template_quality("hello_world", "RED")["status_code"] == 200
    first, second = (p["entry"][0]["changes"][0] for p in receiver.payloads())
    assert first["field"] == "message_template_quality_update"
    assert (first["value"]["previous_quality_score"], first["value"]["new_quality_score"]) == (
        "UNKNOWN",
        "GREEN",
    )
    assert second["value"]["previous_quality_score"] == "GREEN"
    assert second["value"]["message_template_id"] == int(template["id"])
    assert template["quality_score"]["score"] == "RED"
    assert [d["kind"] for d in sandbox.deliveries] == ["template_quality"] * 2
    with pytest.raises(ValueError):
        sandbox.template_quality("nope", "RED")
    with pytest.raises(ValueError):
        sandbox.template_quality("hello_world", "PURPLE")


# -- template sends -------------------------------------------------------------------------------


def _send_template(graph, name, components=None, language="en_US", to=CUSTOMER):
    content = {"name": name, "language": {"code": language}}
    if components is not None:
        content["components"] = components
    return graph.send(to, "template", content)


def _text(value, name=None):
    parameter = {"type": "text", "text": value}
    if name:
        parameter["parameter_name"] = name
    return parameter


def _url_button(value, index="1"):
    return {"type": "button", "sub_type": "url", "index": index, "parameters": [_text(value)]}


def _add_positional(sandbox, **kwargs):
    """An IMAGE header, a body with two variables, a quick reply and a URL button (index 1)."""
    components = [
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} shipped."},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": SHOP_URL},
            ],
        },
    ]
    return sandbox.add_template("order_shipped", components=components, **kwargs)


def _add_named(sandbox):
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{order_ref}}"},
        {"type": "BODY", "text": "Hi {{first_name}}, order {{order_ref}} is ready."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": SHOP_URL}]},
    ]
    return sandbox.add_template(
        "order_ready", category="MARKETING", components=components, parameter_format="NAMED"
    )


POSITIONAL_OK = [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/a.png"}}]},
    {"type": "body", "parameters": [_text("Ana"), _text("S042")]},
    _url_button("S042"),
]
NAMED_OK = [
    {"type": "header", "parameters": [_text("S042", "order_ref")]},
    {"type": "body", "parameters": [_text("S042", "order_ref"), _text("Ana", "first_name")]},
    _url_button("S042", index=0),
]


def test_correct_positional_template_send(sandbox, receiver, graph):
    _add_positional(sandbox)
    answer = _send_template(graph, "order_shipped", POSITIONAL_OK)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"][0]["message_status"] == "accepted"
    assert sandbox.sent[-1]["payload"]["template"]["components"] == POSITIONAL_OK
    assert _send_template(graph, "hello_world").status_code == 200


def test_correct_named_template_send_is_billed_as_marketing(sandbox, receiver, graph):
    _add_named(sandbox)
    answer = _send_template(graph, "order_ready", NAMED_OK)
    assert answer.status_code == 200, answer.text
    assert receiver.wait(1)
    assert receiver.statuses()[0]["pricing"]["category"] == "marketing"


def _without(components, type_):
    return [c for c in components if c["type"] != type_]


def _replace(components, index, component):
    return [component if i == index else c for i, c in enumerate(components)]


@pytest.mark.parametrize(
    ("template", "components", "code"),
    [
        ("positional", _without(POSITIONAL_OK, "body"), 132000),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text("Ana")]}),
            132000,
        ),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text(v) for v in "abc"]}),
            132000,
        ),
        ("positional", _without(POSITIONAL_OK, "header"), 132012),
        (
            "positional",
            _replace(POSITIONAL_OK, 0, {"type": "header", "parameters": [_text("not an image")]}),
            132012,
        ),
        ("positional", _without(POSITIONAL_OK, "button"), 132000),
        ("positional", _replace(POSITIONAL_OK, 2, _url_button("S042", index="0")), 132000),
        (
            "positional",
            _replace(POSITIONAL_OK, 2, {**_url_button("x"), "sub_type": "quick_reply"}),
            132000,
        ),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text(""), _text("x")]}),
            131008,
        ),
        ("named", _without(NAMED_OK, "header"), 132012),
        ("named", _replace(NAMED_OK, 0, {"type": "header", "parameters": []}), 132012),
        (
            "named",
            _replace(
                NAMED_OK,
                1,
                {"type": "body", "parameters": [_text("S", "order_ref"), _text("A", "name")]},
            ),
            132000,
        ),
        ("named", _without(NAMED_OK, "button"), 132000),
        ("hello", [{"type": "body", "parameters": [_text("extra")]}], 132000),
        ("hello", [{"type": "header", "parameters": [_text("extra")]}], 132000),
    ],
)
def test_template_parameter_errors(sandbox, graph, template, components, code):
    _add_positional(sandbox)
    _add_named(sandbox)
    name = {"positional": "order_shipped", "named": "order_ready", "hello": "hello_world"}
    answer = _send_template(graph, name[template], components)
    error = _assert_graph_error(answer, 400, code)
    assert error["message"].startswith(f"(#{code}) ")
    assert sandbox.sent == []


def test_unknown_or_unapproved_templates_are_132001(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    _create(graph)
    sandbox.add_template("refused", status="REJECTED")
    cases = [("never_registered", "en_US"), ("hello_world", "fr"), ("order_update", "en_US")]
    cases.append(("refused", "en_US"))
    for name, language in cases:
        answer = _send_template(graph, name, language=language)
        error = _assert_graph_error(answer, 400, 132001)
        assert error["message"] == "(#132001) Template name does not exist in the translation"
        assert name in error["error_data"]["details"]
    assert sandbox.sent == []


def test_paused_disabled_flagged_and_reinstated_templates(sandbox, receiver, graph):
    sandbox.template_event("hello_world", "PAUSED", reason="LOW_QUALITY")
    error = _assert_graph_error(graph.template(), 400, 132015)
    assert error["message"] == "(#132015) Template is Paused"
    sandbox.template_event("hello_world", "REINSTATED")
    assert sandbox.find_template("hello_world")["status"] == "APPROVED"
    sandbox.template_event("hello_world", "FLAGGED")
    assert graph.template().status_code == 200
    sandbox.template_event("hello_world", "DISABLED")
    error = _assert_graph_error(graph.template(), 400, 132016)
    assert error["message"] == "(#132016) Template is disabled"
    events = [v["event"] for v in _review_values(receiver)]
    assert events == ["PAUSED", "REINSTATED", "FLAGGED", "DISABLED"]
    assert len(sandbox.sent) == 1


def test_template_components_must_be_a_list(graph):
    answer = _send_template(graph, "hello_world", {"type": "body"})
    _assert_graph_error(answer, 400, 100)


# -- control API ----------------------------------------------------------------------------------


def test_control_health_and_page(sandbox):
    assert requests.get(sandbox.base_url + "/_sandbox/health", timeout=5).json() == {"ok": True}
    page = requests.get(sandbox.base_url + "/_sandbox/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<form" in html and "/_sandbox/inbound" in html and "setInterval" in html
    assert "fetch(" in html and "/_sandbox/messages" in html and "/_sandbox/deliveries" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert requests.get(sandbox.base_url + "/_sandbox", timeout=5).status_code == 200


def test_control_inbound(sandbox, receiver):
    url = sandbox.base_url + "/_sandbox/inbound"
    answer = requests.post(url, json={"from": CUSTOMER, "name": "Bo", "text": "Hey"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["wamid"].startswith("wamid.") and answer.json()["status_code"] == 200
    assert receiver.values()[0]["contacts"][0]["profile"]["name"] == "Bo"
    location = {"from": CUSTOMER, "type": "location", "latitude": "1.5", "longitude": "2"}
    assert requests.post(url, json=location, timeout=5).status_code == 200
    assert receiver.values()[1]["messages"][0]["location"]["longitude"] == 2.0
    for bad in ({"text": "no sender"}, {"from": CUSTOMER, "type": "fax"}):
        answer = requests.post(url, json=bad, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    assert requests.post(url, data=b"[", timeout=5).status_code == 400


def test_control_messages_and_deliveries(sandbox, receiver, graph):
    _open_window(sandbox)
    graph.send()
    graph.send(content={"body": "second"})
    assert sandbox.wait_for_deliveries(7)
    base = sandbox.base_url + "/_sandbox"
    messages = requests.get(base + "/messages", timeout=5).json()["messages"]
    assert [m["payload"]["text"]["body"] for m in messages] == ["Hello from support", "second"]
    last = requests.get(base + "/messages", params={"limit": 1}, timeout=5).json()["messages"]
    assert last == messages[-1:]
    deliveries = requests.get(base + "/deliveries", timeout=5).json()["deliveries"]
    assert len(deliveries) >= 7
    assert {"url", "status_code", "error", "kind", "count", "time"} <= set(deliveries[0])
    limited = requests.get(base + "/deliveries?limit=2", timeout=5).json()["deliveries"]
    assert len(limited) == 2
    assert requests.get(base + "/deliveries?limit=x", timeout=5).status_code == 400
    assert requests.get(base + "/nothing", timeout=5).status_code == 404


def test_control_config_and_reset(sandbox, graph):
    url = sandbox.base_url + "/_sandbox/config"
    knobs = requests.get(url, timeout=5).json()
    assert knobs["burst_429"] == 0 and knobs["enforce_window"] is True
    assert knobs["fail_numbers"] == []
    changes = {"burst_429": "3", "enforce_window": "false", "fail_numbers": "15550001, +1 555 2"}
    knobs = requests.post(url, json=changes, timeout=5).json()
    assert knobs["burst_429"] == 3 and knobs["enforce_window"] is False
    assert knobs["fail_numbers"] == ["15550001", "15552"]
    assert sandbox.config.burst_429 == 3
    for bad in ({"nope": 1}, {"error_rate": "2"}, {"port": 1}, {"auto_read": "maybe"}):
        answer = requests.post(url, json=bad, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    _open_window(sandbox)
    reset = requests.post(sandbox.base_url + "/_sandbox/reset", timeout=5)
    assert reset.json() == {"ok": True}
    assert sandbox.sent == [] and sandbox.deliveries == []
    assert sandbox.config.burst_429 == 0 and sandbox.config.enforce_window is True
    assert not sandbox.window_open(CUSTOMER)
    assert sandbox.find_template("hello_world")


def test_reset_drops_pending_webhooks(sandbox, receiver, graph):
    sandbox.configure(status_delay=0.3)
    graph.template()
    sandbox.reset()
    time.sleep(0.5)
    assert receiver.posts == []


def test_handle_without_http(sandbox):
    answer = sandbox.handle(Request("GET", "/_sandbox/health"))
    assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
    answer = sandbox.handle(Request("GET", f"/v1/{WABA}/message_templates"))
    assert answer.status == 401


# -- knobs and CLI --------------------------------------------------------------------------------


def test_coerce_knob():
    assert coerce_knob("auto_read", "no") is False
    assert coerce_knob("latency_ms", "250") == 250
    assert coerce_knob("status_delay", "0.5") == 0.5
    assert coerce_knob("webhook_url", "") is None
    assert coerce_knob("seed", "none") is None
    assert coerce_knob("fail_numbers", ["+1 555", 42]) == {"1555", "42"}
    for name, value in (("burst_429", "-1"), ("error_rate", "1.5"), ("bogus", 1)):
        with pytest.raises(ValueError):
            coerce_knob(name, value)


def test_config_from_env():
    environ = {"WA_SANDBOX_PORT": "0", "WA_SANDBOX_AUTO_READ": "0", "WA_SANDBOX_TOKEN": "env"}
    config = config_from_env(environ, token="cli")
    assert (config.port, config.auto_read, config.token) == (0, False, "cli")
    assert config_from_env({}).port == 8765


def test_say_cli(sandbox, receiver, capsys):
    argv = ["say", "--sandbox-url", sandbox.base_url, "--from", "+1 555 0100"]
    assert main([*argv, "--name", "Bob", "my", "screen", "is", "black"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["wamid"].startswith("wamid.") and result["status_code"] == 200
    value = receiver.values()[0]
    assert value["contacts"] == [{"profile": {"name": "Bob"}, "wa_id": "15550100"}]
    assert value["messages"][0]["text"]["body"] == "my screen is black"


def test_say_cli_unreachable(capsys):
    argv = ["say", "--sandbox-url", "http://127.0.0.1:9", "--from", "1", "hi"]
    assert main(argv) == 1
    assert "error" in capsys.readouterr().err


def test_config_cli(sandbox, capsys):
    url = sandbox.base_url
    assert main(["config", "--sandbox-url", url, "burst_429=2", "auto_read=false"]) == 0
    assert json.loads(capsys.readouterr().out)["burst_429"] == 2
    assert sandbox.config.burst_429 == 2 and sandbox.config.auto_read is False
    assert main(["config", "--sandbox-url", url]) == 0
    assert json.loads(capsys.readouterr().out)["auto_read"] is False
    assert main(["config", "--sandbox-url", url, "nope=1"]) == 1
    with pytest.raises(SystemExit):
        main(["config", "--sandbox-url", url, "no-equals-sign"])


def test_serve_cli_as_module(receiver):
    env = {**os.environ, "WA_SANDBOX_TOKEN": "env-token", "WA_SANDBOX_STATUS_DELAY": "0.01"}
    command = [sys.executable, "-m", "tools.sandbox", "serve", "--port", "0"]
    command += ["--webhook-url", receiver.url, "--no-auto-read"]
    process = subprocess.Popen(command, cwd=ADDON_DIR, env=env, stderr=subprocess.PIPE, text=True)
    try:
        base_url = None
        for line in process.stderr:
            match = re.search(r"sandbox on (http://\S+)", line)
            if match:
                base_url = match.group(1)
                break
        assert base_url, "the server did not announce its URL"
        knobs = requests.get(base_url + "/_sandbox/config", timeout=5).json()
        assert knobs["token"] == "env-token" and knobs["auto_read"] is False
        assert Graph(base_url, "env-token").template().status_code == 200
        assert receiver.wait(2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
