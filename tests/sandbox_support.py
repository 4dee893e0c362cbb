"""Helpers of the sandbox tests (``tests/test_sandbox_*.py``): the test identity, a local webhook
receiver, minimal clients of the Graph API and of the control API, and Graph error assertions.
Their fixtures (``receiver``, ``sandbox``, ``graph``, ``control``) are in ``conftest.py``.
"""

import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from wa_tools import webhook
from wa_tools.sandbox import TOKEN_HEADER, Sandbox, SandboxConfig

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


class Control:
    """A client of the sandbox's control API (``/_sandbox/...``), sending its control token
    (``token=""``: none)."""

    def __init__(self, sandbox, token=None):
        self.base_url = sandbox.base_url + "/_sandbox"
        self.token = sandbox.config.control_token if token is None else token

    def call(self, method, path, **kwargs):
        headers = {TOKEN_HEADER: self.token} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        kwargs.setdefault("timeout", 5)
        return requests.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        """POST ``body`` (``{}`` by default) as JSON."""
        return self.call("POST", path, json={} if body is None else body, **kwargs)


def make_sandbox(webhook_url) -> Sandbox:
    """A started sandbox on a free port with the test identity and quick statuses."""
    config = SandboxConfig(
        port=0,
        token=TOKEN,
        app_secret=SECRET,
        webhook_url=webhook_url,
        webhook_timeout=2.0,
        status_delay=0.02,
        timeout_seconds=0.6,
        seed=7,
    )
    return Sandbox(config).start()


def error_body(answer):
    return answer.json()["error"]


def assert_graph_error(answer, http_status, code):
    assert answer.status_code == http_status, answer.text
    error = error_body(answer)
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"]
    assert error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    return error


def open_window(sandbox, wa_id=CUSTOMER):
    assert sandbox.inject(wa_id, text="Hi")["status_code"] == 200
