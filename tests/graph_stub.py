"""A scripted stub Graph API server on 127.0.0.1, a connection pool recording its calls, and the
ids and answers the plain ``tools.cloud_api`` tests share. Their fixtures are in
``graph_fixtures.py``."""

import email.parser
import email.policy
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from wa_tools.cloud_api import http_pool

TOKEN = "EAAG-test-token"
PHONE_ID = "1234567890"
WABA_ID = "9876543210"
# Graph's answer to a message it accepted.
SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+33612345678", "wa_id": "33612345678"}],
    "messages": [{"id": "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI", "message_status": "accepted"}],
}
# A media file's bytes, not text.
BINARY = b"\x89PNG\x00\x01\x02binary\xff\xfe"


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


class RecordingSession:
    """The client's own kind of ``urllib3.PoolManager`` (:func:`~cloud_api.http_pool`), recording
    the keyword arguments of every ``request`` call and giving the pools it made to look into."""

    def __init__(self, maxsize=1, block=True):
        self.pool_manager = http_pool(maxsize, block=block)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        return self.pool_manager.request(method, url, **kwargs)

    def pool(self, url):
        """The connection pool of ``url``'s host."""
        return self.pool_manager.connection_from_url(url)

    def clear(self):
        self.pool_manager.clear()
