"""The HTTP layer of the sandbox, on top of its state: :class:`Sandbox` is a ``SandboxState``
served on ``host:port``, the Graph API routes (``graph.py``), the control routes
(``control.py``) and the language model (``chat.py``, under ``/llm``) answering each request with
that state.

The server receives the state and the routes are functions of it; nothing below imports this
module, so the layers have no import cycle.
"""

import logging
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from . import chat, control, graph
from .errors import ControlError, GraphError
from .state import SandboxState
from .web import Request, Response

_logger = logging.getLogger(__name__)
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s]+")


class Sandbox(SandboxState):
    """The simulated Cloud API over HTTP: an HTTP server thread plus the webhook worker thread.

    ``Sandbox(config).start()`` listens (``port=0``: any free port, see ``base_url``) and draws a
    control token unless the config gives one; ``stop()`` ends both threads. ``handle()`` answers
    one request without any socket.
    """

    def __init__(self, config=None):
        super().__init__(config)
        self._server = None
        self._thread = None

    def start(self) -> "Sandbox":
        """Listen in a background thread (and start the webhook worker); return ``self``."""
        if self._server is not None:
            return self
        if not self.config.control_token:
            self.config.control_token = secrets.token_urlsafe(24)
        self._server = _Server((self.config.host, self.config.port), self)
        super().start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wa-sandbox-http",
            daemon=True,
        )
        self._thread.start()
        _logger.info("WhatsApp Cloud API sandbox listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; pending webhooks are dropped and held-back answers released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None
        return super().stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server (the configured address when not started)."""
        if self._server is None:
            return super().base_url
        host, port = self._server.server_address[:2]
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    @property
    def control_url(self) -> str:
        """The control page's URL, with the control token a browser needs to open it."""
        return f"{self.base_url}/_sandbox/?token={quote(self.config.control_token or '')}"

    def handle(self, request: Request) -> Response:
        """Answer one request (the HTTP handler calls this; tests may too)."""
        try:
            if request.path.rstrip("/") == "/_sandbox" or request.path.startswith("/_sandbox/"):
                return control.handle(self, request)
            if request.path.startswith("/llm/"):
                return chat.handle(self, request)
            return graph.handle(self, request)
        except GraphError as exc:
            _logger.info("%s %s -> %s %s", request.method, request.path, exc.code, exc.details)
            return Response.error(exc)
        except ControlError as exc:
            return Response.json({"error": str(exc)}, 400)
        except Exception:
            _logger.exception("sandbox failed on %s %s", request.method, request.path)
            return Response.error(GraphError(500, 1, "An unknown error occurred"))


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a ``Request`` for ``Sandbox.handle``."""

    server_version = "WhatsAppCloudSandbox/1.0"
    # keep-alive, like graph.facebook.com: every answer carries its Content-Length
    protocol_version = "HTTP/1.1"
    # an answer leaves in one segment: headers and body written apart would wait for the
    # client's delayed acknowledgement (Nagle), about 40 ms on every kept-alive request
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        response = sandbox.handle(Request(self.command, url.path, query, self.headers, body))
        if response.delay:
            sandbox.hold(response.delay)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            _logger.info("client left before the answer to %s %s", self.command, url.path)

    def log_message(self, format, *args):
        if not _logger.isEnabledFor(logging.INFO):
            return  # under load (a benchmark), a line per request costs more than the request
        # the request line of the control page carries its token: keep it out of the log
        message = _TOKEN_IN_QUERY.sub(r"\1***", format % args)
        _logger.info("%s %s", self.address_string(), message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Meta takes hundreds of concurrent connections; the stdlib default backlog of 5 resets them
    request_queue_size = 1024

    def __init__(self, address, sandbox: Sandbox):
        super().__init__(address, _Handler)
        self.sandbox = sandbox

    def handle_error(self, request, client_address):
        # a client that goes away (Odoo stopped, a timeout) resets its connection: no traceback
        if isinstance(sys.exc_info()[1], ConnectionError):
            _logger.debug("client %s reset its connection", client_address)
            return
        super().handle_error(request, client_address)
