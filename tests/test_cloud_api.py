"""Tests of ``tools.cloud_api`` against a scripted stub Graph API server on 127.0.0.1."""

import email.parser
import email.policy
import inspect
import json
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from urllib3 import exceptions as urllib3_exceptions
from wa_tools import cloud_api, messages
from wa_tools.cloud_api import (
    CloudApiClient,
    CloudApiError,
    OutcomeUnknownError,
    PermanentError,
    RetryableError,
    SendResult,
    classify,
)

TOKEN = "EAAG-test-token"
PHONE_ID = "1234567890"
WABA_ID = "9876543210"
SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+33612345678", "wa_id": "33612345678"}],
    "messages": [{"id": "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI", "message_status": "accepted"}],
}


# --------------------------------------------------------------------------------------------------
# Stub Graph API server
# --------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer: ``body`` is JSON unless bytes/str; ``drop`` closes without answering."""

    status: int = 200
    body: object = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    sleep: float = 0.0
    drop: bool = False
    send_length: bool = True

    def encode(self):
        if isinstance(self.body, bytes | str):
            body = self.body.encode() if isinstance(self.body, str) else self.body
            return body, "application/octet-stream"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Recorded:
    """One request as the stub server received it."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: object = None
    form: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _parse_multipart(content_type, body):
    """``(form, files)`` of a multipart body; ``files`` maps name -> (filename, type, bytes)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    form, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is None:
            form[name] = payload.decode()
        else:
            files[name] = (part.get_filename(), part.get_content_type(), payload)
    return form, files


def _record(method, raw_path, headers, body):
    parts = urlsplit(raw_path)
    content_type = headers.get("Content-Type", "")
    recorded = Recorded(
        method=method,
        path=parts.path,
        query=parse_qs(parts.query),
        headers=dict(headers.items()),
        body=body,
    )
    if content_type.startswith("application/json"):
        recorded.json = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        recorded.form, recorded.files = _parse_multipart(content_type, body)
    return recorded


class StubGraph:
    """A Graph API stand-in: answers scripted replies in order and records every request."""

    UNSCRIPTED = Reply(status=500, body={"error": {"message": "unscripted request", "code": 1}})

    def __init__(self):
        self.replies = deque()
        self.requests = []
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self):
        self.replies.clear()
        self.requests.clear()

    def reply(self, status=200, body=None, **options):
        self.replies.append(Reply(status=status, body={} if body is None else body, **options))

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append(_record(self.command, self.path, self.headers, body))
                reply = stub.replies.popleft() if stub.replies else stub.UNSCRIPTED
                if reply.sleep:
                    stub.stopping.wait(reply.sleep)
                if not reply.drop:
                    self._answer(reply)

            do_POST = do_DELETE = do_GET

            def _answer(self, reply):
                payload, content_type = reply.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    if reply.send_length:
                        self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class RecordingSession(requests.Session):
    """A real session that records the keyword arguments of every ``request`` call."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        return super().request(method, url, **kwargs)


@pytest.fixture(scope="module")
def graph_server():
    with StubGraph() as stub:
        yield stub


@pytest.fixture
def graph(graph_server):
    """The stub server, with no scripted reply and no recorded request; all replies get used."""
    graph_server.reset()
    yield graph_server
    assert not graph_server.replies, "scripted replies left unused"


@pytest.fixture
def session():
    with RecordingSession() as recording:
        yield recording


@pytest.fixture
def client(graph, session):
    return CloudApiClient(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        waba_id=WABA_ID,
        base_url=graph.url,
        timeout=(1, 2),
        session=session,
    )


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# Sending messages
# --------------------------------------------------------------------------------------------------


def test_send_text_url_auth_payload_and_result(graph, client):
    graph.reply(body=SENT)
    result = client.send_text("+33 6 12 34 56 78", "Hello")
    (request,) = graph.requests
    assert request.method == "POST"
    assert request.path == f"/v23.0/{PHONE_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == messages.envelope({"to": "33612345678", **messages.text("Hello")})
    assert result == SendResult(
        wamid=SENT["messages"][0]["id"],
        wa_id="33612345678",
        input="+33612345678",
        raw=SENT,
        message_status="accepted",
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+33 6 12 34 56 78", "33612345678"),
        ("+1 (555) 010-9999", "15550109999"),
        ("44.20.7946.0958", "442079460958"),
        (33612345678, "33612345678"),
    ],
)
def test_to_is_normalised_to_digits(graph, client, number, expected):
    graph.reply(body=SENT)
    client.send_text(number, "Hi")
    assert graph.requests[0].json["to"] == expected


@pytest.mark.parametrize("number", ["", "+", "abc", "+33 6 12 ab", None, "３３６"])
def test_invalid_to_fails_before_any_request(graph, client, number):
    with pytest.raises(PermanentError) as info:
        client.send_text(number, "Hi")
    assert info.value.failure_type == "invalid_recipient"
    assert graph.requests == []


TO = "33612345678"
COMPONENTS = [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]
BUTTONS = messages.reply_buttons("Was your issue solved?", [("yes", "Yes")])

# Each typed sender and the payload it sends, built by tools.messages (whose shapes
# tests/test_messages.py checks): the client only adds the address, the reply context and the
# envelope.
TYPED_SENDS = {
    "text": (
        lambda c: c.send_text(TO, "See https://x.test", preview_url=True, reply_to="wamid.Q"),
        messages.text("See https://x.test", preview_url=True),
        "wamid.Q",
    ),
    "image": (
        lambda c: c.send_media(TO, "image", media_id="m1", caption="Look", reply_to="wamid.Q"),
        messages.media("image", media_id="m1", caption="Look"),
        "wamid.Q",
    ),
    "document": (
        lambda c: c.send_media(
            TO, "document", link="https://x.test/a.pdf", caption="Invoice", filename="a.pdf"
        ),
        messages.media(
            "document", link="https://x.test/a.pdf", caption="Invoice", filename="a.pdf"
        ),
        None,
    ),
    "template": (
        lambda c: c.send_template(TO, "ticket_update", "en_US", COMPONENTS),
        messages.template("ticket_update", "en_US", COMPONENTS),
        None,
    ),
    "location": (
        lambda c: c.send_location(TO, 48.8584, 2.2945, name="Tour Eiffel", address="Paris"),
        messages.location(48.8584, 2.2945, name="Tour Eiffel", address="Paris"),
        None,
    ),
    "interactive": (
        lambda c: c.send_interactive(TO, BUTTONS, reply_to="wamid.Q"),
        messages.interactive(BUTTONS),
        "wamid.Q",
    ),
    "reaction": (
        lambda c: c.send_reaction(TO, "wamid.Q", "👍"),
        messages.reaction("wamid.Q", "👍"),
        None,
    ),
}


@pytest.mark.parametrize("kind", sorted(TYPED_SENDS))
def test_typed_senders_send_what_messages_builds(graph, client, kind):
    send, content, reply_to = TYPED_SENDS[kind]
    graph.reply(body=SENT)
    send(client)
    (request,) = graph.requests
    assert request.path == f"/v23.0/{PHONE_ID}/messages"
    expected = messages.message(messages.address(TO), content, reply_to=reply_to)
    assert request.json == messages.envelope(expected)


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.send_media(TO, "audio", media_id="m1", caption="no"),
        lambda c: c.send_media(TO, "image"),
        lambda c: c.send_location(TO, 91, 0),
        lambda c: c.send_interactive(TO, {"body": {"text": "no type"}}),
    ],
)
def test_a_refused_payload_sends_nothing(graph, client, send):
    with pytest.raises(ValueError):
        send(client)
    assert graph.requests == []


def test_send_message_adds_envelope_and_normalises_to(graph, client):
    graph.reply(body=SENT)
    result = client.send_message({"to": "+33 612", **messages.text("x")})
    assert graph.requests[0].json == messages.envelope({"to": "33612", **messages.text("x")})
    assert result.wamid == SENT["messages"][0]["id"]


def test_send_message_to_a_customer_known_by_username(graph, client):
    graph.reply(body=SENT)
    client.send_message(messages.message(messages.address(None, "BR.1A2B"), messages.text("x")))
    assert graph.requests[0].json == messages.envelope(
        {"recipient": "BR.1A2B", **messages.text("x")}
    )
    with pytest.raises(PermanentError) as info:
        client.send_message({"recipient": " ", **messages.text("x")})
    assert info.value.failure_type == "invalid_recipient"
    assert len(graph.requests) == 1


def test_mark_as_read(graph, client):
    graph.reply(body={"success": True})
    graph.reply(body={"success": True})
    assert client.mark_as_read("wamid.IN") is True
    assert client.mark_as_read("wamid.IN2", typing_indicator=True) is True
    first, second = graph.requests
    assert first.method == "POST"
    assert first.path == f"/v23.0/{PHONE_ID}/messages"
    assert first.json == messages.read_receipt("wamid.IN")
    assert second.json == messages.read_receipt("wamid.IN2", typing_indicator=True)


def test_base_url_and_api_version_overrides(graph, session):
    graph.reply(body=SENT)
    graph.reply(body=SENT)
    for version in ("v21.0", "21.0"):
        client = CloudApiClient(
            token=TOKEN,
            phone_number_id=PHONE_ID,
            base_url=graph.url + "/",
            api_version=version,
            session=session,
        )
        client.send_text("33612345678", "Hi")
    assert [request.path for request in graph.requests] == [f"/v21.0/{PHONE_ID}/messages"] * 2


def test_defaults():
    client = CloudApiClient(token=TOKEN)
    assert client.base_url == cloud_api.DEFAULT_BASE_URL == "https://graph.facebook.com"
    assert client.api_version == cloud_api.DEFAULT_API_VERSION == "v23.0"
    assert client.timeout == cloud_api.DEFAULT_TIMEOUT == (3.05, 20)
    assert cloud_api.MAX_MEDIA_BYTES == 100 * 1024 * 1024
    assert TOKEN not in repr(client)
    client.close()


@pytest.mark.parametrize("timeout", [None, 0, -1, (1, None), (1, 2, 3), "5", True])
def test_client_refuses_a_missing_or_invalid_timeout(timeout):
    with pytest.raises(ValueError):
        CloudApiClient(token=TOKEN, timeout=timeout)


def test_client_requires_a_token():
    with pytest.raises(ValueError):
        CloudApiClient(token="")


def test_missing_ids_are_configuration_errors(graph, session):
    client = CloudApiClient(token=TOKEN, base_url=graph.url, session=session)
    calls = [
        lambda: client.send_text("33612345678", "Hi"),
        lambda: client.mark_as_read("wamid.X"),
        lambda: client.upload_media(b"x", "image/png", "x.png"),
        lambda: client.list_templates(),
        lambda: client.create_template({"name": "t"}),
        lambda: client.delete_template("t"),
    ]
    for call in calls:
        with pytest.raises(PermanentError) as info:
            call()
        assert info.value.failure_type == "config"
    assert graph.requests == []


def test_token_never_logged(graph, client, caplog):
    graph.reply(body=SENT)
    graph.reply(status=400, body={"error": {"message": "bad", "code": 100}})
    with caplog.at_level(logging.DEBUG, logger=cloud_api.__name__):
        client.send_text("33612345678", "Hi")
        with pytest.raises(PermanentError):
            client.send_text("33612345678", "Hi")
    assert caplog.records
    assert TOKEN not in caplog.text


# --------------------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------------------

BINARY = b"\x89PNG\x00\x01\x02binary\xff\xfe"


def test_upload_media_multipart(graph, client):
    graph.reply(body={"id": "4490709327384033"})
    media_id = client.upload_media(BINARY, "image/png", "photo.png")
    (request,) = graph.requests
    assert media_id == "4490709327384033"
    assert request.method == "POST"
    assert request.path == f"/v23.0/{PHONE_ID}/media"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.form == {"messaging_product": "whatsapp", "type": "image/png"}
    assert request.files == {"file": ("photo.png", "image/png", BINARY)}


def test_upload_media_too_large_is_refused_locally(graph, client, monkeypatch):
    monkeypatch.setattr(cloud_api, "MAX_MEDIA_BYTES", 4)
    with pytest.raises(PermanentError) as info:
        client.upload_media(b"12345", "image/png", "photo.png")
    assert info.value.failure_type == "media_too_large"
    assert graph.requests == []


def test_get_media_then_download(graph, client):
    media_url = f"{graph.url}/whatsapp_business/attachments/?mid=42&hash=abc"
    metadata = {
        "url": media_url,
        "mime_type": "image/png",
        "sha256": "deadbeef",
        "file_size": len(BINARY),
        "id": "42",
        "messaging_product": "whatsapp",
    }
    graph.reply(body=metadata)
    graph.reply(body=BINARY, headers={"X-Kind": "media"})
    media = client.get_media("42")
    assert media == metadata
    assert client.download_media(media["url"]) == BINARY
    meta_request, download_request = graph.requests
    assert (meta_request.method, meta_request.path) == ("GET", "/v23.0/42")
    assert download_request.method == "GET"
    assert download_request.path == "/whatsapp_business/attachments/"
    assert download_request.query == {"mid": ["42"], "hash": ["abc"]}
    assert download_request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_get_media_quotes_the_id(graph, client):
    graph.reply(body={"id": "x"})
    client.get_media("../me")
    assert graph.requests[0].path == "/v23.0/..%2Fme"


@pytest.mark.parametrize("send_length", [True, False])
def test_download_media_size_cap(graph, client, send_length):
    graph.reply(body=b"x" * 200_000, send_length=send_length)
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{graph.url}/media/1", max_bytes=100_000)
    assert info.value.failure_type == "media_too_large"


def test_download_media_default_cap_is_the_module_limit(graph, client, monkeypatch):
    monkeypatch.setattr(cloud_api, "MAX_MEDIA_BYTES", 10)
    graph.reply(body=b"x" * 11, send_length=False)
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{graph.url}/media/1")
    assert info.value.failure_type == "media_too_large"


def test_download_media_error_answer(graph, client):
    graph.reply(status=404, body={"error": {"message": "not found", "code": 100}})
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{graph.url}/media/1")
    assert info.value.http_status == 404


@pytest.mark.parametrize("url", ["http://media.example.test/x", "ftp://x.test/a", "", None])
def test_download_media_never_sends_the_token_in_clear_to_another_host(graph, client, url):
    with pytest.raises(PermanentError) as info:
        client.download_media(url)
    assert info.value.failure_type == "invalid_request"
    assert graph.requests == []


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------


def test_list_templates_follows_next_pages(graph, client):
    path = f"/v23.0/{WABA_ID}/message_templates"
    graph.reply(
        body={
            "data": [{"name": "a"}, {"name": "b"}],
            "paging": {
                "cursors": {"before": "B1", "after": "A1"},
                "next": f"{graph.url}{path}?limit=2&fields=name,status&after=A1",
            },
        }
    )
    graph.reply(
        body={
            "data": [{"name": "c"}],
            "paging": {
                "cursors": {"before": "B2", "after": "A2"},
                "next": f"{graph.url}{path}?limit=2&fields=name,status&after=A2",
            },
        }
    )
    graph.reply(body={"data": [{"name": "d"}], "paging": {"cursors": {"after": "A3"}}})
    templates = client.list_templates(limit=2, fields=["name", "status"])
    assert [template["name"] for template in templates] == ["a", "b", "c", "d"]
    assert [request.path for request in graph.requests] == [path] * 3
    assert graph.requests[0].query == {"limit": ["2"], "fields": ["name,status"]}
    assert graph.requests[1].query["after"] == ["A1"]
    assert graph.requests[2].query["after"] == ["A2"]


def test_list_templates_uses_the_cursor_when_next_is_on_another_host(graph, client):
    graph.reply(
        body={
            "data": [{"name": "a"}],
            "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
        }
    )
    graph.reply(body={"data": [{"name": "b"}]})
    assert [template["name"] for template in client.list_templates()] == ["a", "b"]
    assert graph.requests[1].path == f"/v23.0/{WABA_ID}/message_templates"
    assert graph.requests[1].query == {"limit": ["100"], "after": ["A1"]}


def test_list_templates_stops_on_a_repeated_cursor(graph, client):
    page = {
        "data": [{"name": "a"}],
        "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
    }
    graph.reply(body=page)
    graph.reply(body=page)
    assert len(client.list_templates()) == 2
    assert len(graph.requests) == 2


def test_list_templates_max_pages(graph, client):
    graph.reply(
        body={
            "data": [{"name": "a"}],
            "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
        }
    )
    assert [template["name"] for template in client.list_templates(max_pages=1)] == ["a"]
    assert len(graph.requests) == 1


def test_create_template(graph, client):
    template = {
        "name": "ticket_closed",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Ticket {{1}} is closed."}],
    }
    answer = {"id": "572279198452421", "status": "PENDING", "category": "UTILITY"}
    graph.reply(body=answer)
    assert client.create_template(template) == answer
    (request,) = graph.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{WABA_ID}/message_templates")
    assert request.json == template


def test_delete_template(graph, client):
    graph.reply(body={"success": True})
    graph.reply(body={"success": True})
    assert client.delete_template("ticket_closed") is True
    assert client.delete_template("ticket_closed", hsm_id="5722") is True
    first, second = graph.requests
    assert (first.method, first.path) == ("DELETE", f"/v23.0/{WABA_ID}/message_templates")
    assert first.query == {"name": ["ticket_closed"]}
    assert second.query == {"name": ["ticket_closed"], "hsm_id": ["5722"]}


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------

R, P = RetryableError, PermanentError
CODE_TABLE = [
    (130429, R, "throttled"),
    (131056, R, "pair_rate_limit"),
    (4, R, "throttled"),
    (80007, R, "throttled"),
    (80008, R, "throttled"),
    (613, R, "throttled"),
    (133004, R, "server"),
    (131047, P, "window_closed"),
    (131026, P, "undeliverable"),
    (132000, P, "template_params"),
    (132001, P, "template_missing"),
    (132005, P, "template_text_too_long"),
    (132007, P, "template_policy"),
    (132012, P, "template_params_format"),
    (132015, P, "template_paused"),
    (132016, P, "template_disabled"),
    (133010, P, "number_not_registered"),
    (190, P, "auth"),
    (10, P, "permission"),
    (200, P, "permission"),
    (131005, P, "permission"),
    (368, P, "policy"),
    (131031, P, "account_locked"),
    (131042, P, "payment"),
    (131048, P, "spam_limit"),
    (131049, P, "ecosystem_limit"),
    (131050, P, "opted_out"),
    (131051, P, "unsupported_type"),
    (131052, P, "media"),
    (131053, P, "media"),
    (100, P, "invalid_request"),
    (131008, P, "invalid_request"),
    (131009, P, "invalid_request"),
    (131021, P, "invalid_recipient"),
    (131045, P, "number_not_registered"),
]


@pytest.mark.parametrize(("code", "cls", "failure_type"), CODE_TABLE)
@pytest.mark.parametrize("http_status", [400, 500, None])
def test_classify_by_code_whatever_the_status(code, cls, failure_type, http_status):
    assert classify(http_status, code) == (cls, failure_type)


@pytest.mark.parametrize(
    ("http_status", "code", "subcode", "expected"),
    [
        (500, 131000, None, (R, "server")),
        (None, 131000, None, (R, "server")),
        (503, 1, None, (R, "server")),
        (None, 2, None, (R, "server")),
        (400, 131000, None, (P, "unknown_error")),
        (400, 1, None, (P, "unknown_error")),
        (502, None, None, (R, "server")),
        (500, 999999, None, (R, "server")),
        (429, None, None, (R, "throttled")),
        (429, 999999, None, (R, "throttled")),
        (404, None, None, (P, "unknown_error")),
        (400, 999999, None, (P, "unknown_error")),
        (None, None, None, (P, "unknown_error")),
        (None, 999999, None, (P, "unknown_error")),
        (200, None, None, (P, "unknown_error")),
        (400, 100, 33, (P, "permission")),
        (400, 100, 2494010, (P, "invalid_request")),
        (401, 190, 463, (P, "auth")),
    ],
)
def test_classify_fallbacks(http_status, code, subcode, expected):
    assert classify(http_status, code, subcode) == expected


U = OutcomeUnknownError


@pytest.mark.parametrize(
    ("http_status", "code", "expected_send", "expected_get"),
    [
        # errors that do not say the request was refused: a send may have left
        (500, None, (U, "timeout"), (R, "server")),
        (503, None, (U, "timeout"), (R, "server")),
        (599, None, (U, "timeout"), (R, "server")),
        (500, 131000, (U, "timeout"), (R, "server")),
        (400, 131000, (U, "timeout"), (P, "unknown_error")),
        # an answer with another Graph code, or a refusal by status, says how it failed
        (500, 133004, (R, "server"), (R, "server")),
        (503, 2, (R, "server"), (R, "server")),
        (500, 131047, (P, "window_closed"), (P, "window_closed")),
        (429, None, (R, "throttled"), (R, "throttled")),
        (404, None, (P, "unknown_error"), (P, "unknown_error")),
        (None, None, (P, "unknown_error"), (P, "unknown_error")),
    ],
)
def test_classify_a_send_whose_outcome_is_unknown(http_status, code, expected_send, expected_get):
    assert classify(http_status, code, idempotent=False) == expected_send
    assert classify(http_status, code, idempotent=True) == expected_get
    assert classify(http_status, code) == expected_get  # webhooks: a failed status is a refusal


def test_retryable_flags():
    assert RetryableError.retryable is True
    assert PermanentError.retryable is False
    assert OutcomeUnknownError.retryable is False
    assert all(issubclass(cls, CloudApiError) for cls in (R, P, OutcomeUnknownError))


# --------------------------------------------------------------------------------------------------
# Error answers
# --------------------------------------------------------------------------------------------------

WINDOW_CLOSED = {
    "error": {
        "message": "(#131047) Re-engagement message",
        "type": "OAuthException",
        "code": 131047,
        "error_subcode": 2494010,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "Message failed to send because more than 24 hours have passed",
        },
        "fbtrace_id": "AbCdEf123",
    }
}


def test_error_answer_is_parsed_into_attributes(graph, client):
    graph.reply(status=400, body=WINDOW_CLOSED)
    with pytest.raises(PermanentError) as info:
        client.send_text("33612345678", "Hi")
    error = info.value
    assert error.code == 131047
    assert error.subcode == 2494010
    assert error.message == "(#131047) Re-engagement message"
    assert error.details == "Message failed to send because more than 24 hours have passed"
    assert error.fbtrace_id == "AbCdEf123"
    assert error.http_status == 400
    assert error.failure_type == "window_closed"
    assert error.error_type == "OAuthException"
    assert error.raw == WINDOW_CLOSED["error"]
    assert error.retryable is False
    assert "window_closed" in str(error) and "AbCdEf123" in str(error)


def test_throttling_answer_is_retryable(graph, client):
    graph.reply(status=429, body={"error": {"message": "(#130429) Rate limit hit", "code": 130429}})
    with pytest.raises(RetryableError) as info:
        client.send_text("33612345678", "Hi")
    assert (info.value.code, info.value.failure_type, info.value.retryable) == (
        130429,
        "throttled",
        True,
    )


def test_string_codes_are_read_as_integers(graph, client):
    graph.reply(status=400, body={"error": {"message": "x", "code": "131047"}})
    with pytest.raises(PermanentError) as info:
        client.send_text("33612345678", "Hi")
    assert (info.value.code, info.value.failure_type) == (131047, "window_closed")


@pytest.mark.parametrize(
    ("status", "body", "cls", "failure_type"),
    [
        (503, "<html>Service Unavailable</html>", OutcomeUnknownError, "timeout"),
        (500, b"", OutcomeUnknownError, "timeout"),
        (500, {"error": "garbled"}, OutcomeUnknownError, "timeout"),
        (403, "Forbidden", PermanentError, "unknown_error"),
        (200, "not json", OutcomeUnknownError, "bad_response"),
        (200, [1, 2], OutcomeUnknownError, "bad_response"),
        (200, {"messaging_product": "whatsapp"}, OutcomeUnknownError, "bad_response"),
        (504, "<html>Gateway Timeout</html>", OutcomeUnknownError, "timeout"),
        (502, "<html>Bad Gateway</html>", OutcomeUnknownError, "timeout"),
    ],
)
def test_unusable_answers_to_a_send(graph, client, status, body, cls, failure_type):
    graph.reply(status=status, body=body)
    with pytest.raises(CloudApiError) as info:
        client.send_text("33612345678", "Hi")
    assert type(info.value) is cls
    assert info.value.failure_type == failure_type


SOMETHING_WENT_WRONG = {
    "error": {
        "message": "(#131000) Something went wrong",
        "type": "OAuthException",
        "code": 131000,
        "error_data": {"messaging_product": "whatsapp", "details": "Something went wrong."},
        "fbtrace_id": "AzX",
    }
}


def test_something_went_wrong_on_a_send_has_unknown_outcome_and_is_sent_once(graph, client):
    graph.reply(status=500, body=SOMETHING_WENT_WRONG)
    with pytest.raises(OutcomeUnknownError) as info:
        client.send_text("33612345678", "Hi")
    error = info.value
    assert (error.code, error.http_status, error.failure_type) == (131000, 500, "timeout")
    assert error.retryable is False and error.fbtrace_id == "AzX"
    assert len(graph.requests) == 1


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda c: c.send_text("33612345678", "Hi"), OutcomeUnknownError),
        (lambda c: c.upload_media(BINARY, "image/png", "p.png"), OutcomeUnknownError),
        (lambda c: c.create_template({"name": "t"}), OutcomeUnknownError),
        (lambda c: c.get_media("42"), RetryableError),
        (lambda c: c.delete_template("t"), RetryableError),
        (lambda c: c.mark_as_read("wamid.IN"), RetryableError),  # repeating it is harmless
    ],
)
@pytest.mark.parametrize(
    "answer", [(500, SOMETHING_WENT_WRONG), (502, "<html>Bad Gateway</html>"), (500, b"")]
)
def test_server_errors_leave_only_non_idempotent_requests_unknown(graph, client, call, cls, answer):
    graph.reply(status=answer[0], body=answer[1])
    with pytest.raises(CloudApiError) as info:
        call(client)
    assert type(info.value) is cls
    assert info.value.failure_type == ("timeout" if cls is OutcomeUnknownError else "server")


@pytest.mark.parametrize(
    ("status", "body", "cls", "failure_type"),
    [
        (200, "not json", PermanentError, "bad_response"),
        (504, "<html>Gateway Timeout</html>", RetryableError, "server"),
        (500, b"", RetryableError, "server"),
        (500, SOMETHING_WENT_WRONG, RetryableError, "server"),
    ],
)
def test_unusable_answers_to_a_get(graph, client, status, body, cls, failure_type):
    graph.reply(status=status, body=body)
    with pytest.raises(CloudApiError) as info:
        client.get_media("42")
    assert type(info.value) is cls
    assert info.value.failure_type == failure_type


def test_upload_without_id_has_unknown_outcome(graph, client):
    graph.reply(body={})
    with pytest.raises(OutcomeUnknownError):
        client.upload_media(BINARY, "image/png", "photo.png")


# --------------------------------------------------------------------------------------------------
# Transport failures
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["send", "get"])
def test_connection_refused_is_retryable_network(call):
    client = CloudApiClient(
        token=TOKEN, phone_number_id=PHONE_ID, base_url=f"http://127.0.0.1:{_closed_port()}"
    )
    with pytest.raises(RetryableError) as info:
        client.send_text("33612345678", "Hi") if call == "send" else client.get_media("42")
    assert info.value.failure_type == "network"
    assert info.value.http_status is None


def test_read_timeout_on_send_has_unknown_outcome_and_is_sent_once(graph, client):
    client.timeout = (1, 0.3)
    graph.reply(body=SENT, sleep=1.5)
    with pytest.raises(OutcomeUnknownError) as info:
        client.send_text("33612345678", "Hi")
    assert info.value.failure_type == "timeout"
    assert info.value.retryable is False
    assert len(graph.requests) == 1


def test_read_timeout_on_get_is_retryable(graph, client):
    client.timeout = (1, 0.3)
    graph.reply(body={"id": "42"}, sleep=1.5)
    with pytest.raises(RetryableError) as info:
        client.get_media("42")
    assert info.value.failure_type == "timeout"
    assert len(graph.requests) == 1


def test_read_timeout_on_mark_as_read_is_retryable(graph, client):
    client.timeout = (1, 0.3)
    graph.reply(body={"success": True}, sleep=1.5)
    with pytest.raises(RetryableError):
        client.mark_as_read("wamid.IN")


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda c: c.send_text("33612345678", "Hi"), OutcomeUnknownError),
        (lambda c: c.upload_media(BINARY, "image/png", "p.png"), OutcomeUnknownError),
        (lambda c: c.create_template({"name": "t"}), OutcomeUnknownError),
        (lambda c: c.get_media("42"), RetryableError),
        (lambda c: c.delete_template("t"), RetryableError),
    ],
)
def test_connection_dropped_after_sending(graph, client, call, cls):
    graph.reply(drop=True)
    with pytest.raises(CloudApiError) as info:
        call(client)
    assert type(info.value) is cls
    assert info.value.failure_type == "timeout"
    assert len(graph.requests) == 1


def _refused():
    reason = urllib3_exceptions.NewConnectionError(None, "[Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(urllib3_exceptions.MaxRetryError(None, "/", reason))


def _dns_failure():
    error = urllib3_exceptions.NewConnectionError(None, "Failed to resolve")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return requests.exceptions.ConnectionError(urllib3_exceptions.MaxRetryError(None, "/", error))


def _reset():
    aborted = urllib3_exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104))
    return requests.exceptions.ConnectionError(aborted)


@pytest.mark.parametrize(
    ("exc", "send_cls", "get_cls", "failure_type"),
    [
        (_refused(), RetryableError, RetryableError, "network"),
        (_dns_failure(), RetryableError, RetryableError, "network"),
        (requests.exceptions.ConnectTimeout("connect"), RetryableError, RetryableError, "network"),
        (requests.exceptions.ReadTimeout("read"), OutcomeUnknownError, RetryableError, "timeout"),
        (_reset(), OutcomeUnknownError, RetryableError, "timeout"),
        (
            requests.exceptions.ChunkedEncodingError("x"),
            OutcomeUnknownError,
            RetryableError,
            "timeout",
        ),
        (requests.exceptions.InvalidURL("x"), PermanentError, PermanentError, "invalid_request"),
    ],
)
def test_transport_failure_mapping(exc, send_cls, get_cls, failure_type):
    failing = mock.Mock(spec=requests.Session)
    failing.request.side_effect = exc
    client = CloudApiClient(token=TOKEN, phone_number_id=PHONE_ID, session=failing)
    calls = [
        (lambda: client.send_text("336", "Hi"), send_cls),
        (lambda: client.get_media("1"), get_cls),
    ]
    for call, cls in calls:
        with pytest.raises(CloudApiError) as info:
            call()
        assert type(info.value) is cls
        assert info.value.failure_type == failure_type
        assert info.value.__cause__ is exc


# --------------------------------------------------------------------------------------------------
# The choke point
# --------------------------------------------------------------------------------------------------

# Every public method of the client that talks to the API, with a call and the answers it needs.
PUBLIC_CALLS = {
    "send_message": (
        lambda c, g: c.send_message({"to": "336", "type": "text", "text": {"body": "x"}}),
        [SENT],
    ),
    "send_text": (lambda c, g: c.send_text("336", "x"), [SENT]),
    "send_media": (lambda c, g: c.send_media("336", "image", media_id="m"), [SENT]),
    "send_template": (lambda c, g: c.send_template("336", "t", "en"), [SENT]),
    "send_location": (lambda c, g: c.send_location("336", 1, 2), [SENT]),
    "send_interactive": (lambda c, g: c.send_interactive("336", {"type": "button"}), [SENT]),
    "send_reaction": (lambda c, g: c.send_reaction("336", "wamid.Q", "👍"), [SENT]),
    "mark_as_read": (lambda c, g: c.mark_as_read("wamid.Q"), [{"success": True}]),
    "upload_media": (lambda c, g: c.upload_media(b"x", "image/png", "x.png"), [{"id": "m"}]),
    "get_media": (lambda c, g: c.get_media("m"), [{"id": "m"}]),
    "download_media": (lambda c, g: c.download_media(f"{g.url}/m"), [b"bytes"]),
    "list_templates": (
        lambda c, g: c.list_templates(),
        [{"data": [], "paging": {"cursors": {"after": "A"}, "next": "https://x.test/n"}}, {}],
    ),
    "create_template": (lambda c, g: c.create_template({"name": "t"}), [{"id": "1"}]),
    "delete_template": (lambda c, g: c.delete_template("t"), [{"success": True}]),
    "edit_template": (
        lambda c, g: c.edit_template("7", {"category": "UTILITY"}),
        [{"success": True}],
    ),
    "get_template": (lambda c, g: c.get_template("7"), [{"id": "7", "name": "t"}]),
}
NO_HTTP_METHODS = {"close"}


def test_edit_and_get_template(graph):
    graph.reply(body={"success": True})
    graph.reply(body={"id": "7", "status": "PENDING"})
    client = CloudApiClient(token=TOKEN, waba_id=WABA_ID, base_url=graph.url)
    assert client.edit_template("7", {"components": []}) is True
    assert client.get_template("7")["status"] == "PENDING"
    methods = [(r.method, r.path) for r in graph.requests]
    assert methods == [("POST", "/v23.0/7"), ("GET", "/v23.0/7")]


def test_every_public_method_is_covered_here():
    public = {
        name
        for name, member in inspect.getmembers(CloudApiClient, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public - NO_HTTP_METHODS == set(PUBLIC_CALLS)


def _canned_request(method, path, *, expect_json=True, **kwargs):
    """A stand-in for ``_request`` answering what every public method expects."""
    if not expect_json:
        response = mock.MagicMock()
        response.headers = {}
        response.iter_content.return_value = [b"bytes"]
        response.__enter__.return_value = response
        return response
    return {**SENT, "id": "1", "success": True, "data": []}


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_public_methods_only_use_the_choke_point(graph, name):
    untouchable = mock.Mock(spec=requests.Session)
    untouchable.request.side_effect = AssertionError("session used outside _request")
    client = CloudApiClient(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        waba_id=WABA_ID,
        base_url=graph.url,
        session=untouchable,
    )
    with mock.patch.object(client, "_request", side_effect=_canned_request) as request:
        PUBLIC_CALLS[name][0](client, graph)
    assert request.call_count >= 1
    untouchable.request.assert_not_called()


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_every_request_goes_through_request_with_a_timeout(graph, client, session, name):
    call, answers = PUBLIC_CALLS[name]
    for answer in answers:
        graph.reply(body=answer)
    with mock.patch.object(client, "_request", wraps=client._request) as spy:
        call(client, graph)
    assert len(graph.requests) == len(answers)
    assert spy.call_count == len(session.calls) == len(answers)
    for _method, _url, kwargs in session.calls:
        assert kwargs["timeout"] == (1, 2)
        assert kwargs["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_client_closes_only_its_own_session():
    provided = mock.Mock(spec=requests.Session)
    with CloudApiClient(token=TOKEN, session=provided):
        pass
    provided.close.assert_not_called()
    with mock.patch.object(requests.Session, "close") as close:
        with CloudApiClient(token=TOKEN):
            pass
    close.assert_called_once()
