"""The HTTP layer of the sandbox, on top of its state: :class:`Sandbox` is a ``SandboxState``
served on ``host:port``, the Graph API routes (``graph.py``), the control routes
(``control.py``) and the language model (``chat.py``, under ``/llm``) answering each request with
that state.

The server receives the state and the routes are functions of it; nothing below imports this
module, so the layers have no import cycle.
"""

import asyncio
import logging
import re
import secrets
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qs, quote, urlsplit

from . import chat, control, graph
from .errors import ControlError, GraphError
from .state import SandboxState
from .web import Request, Response

try:  # libuv's loop when installed: the sandbox shares a benchmark machine's cores with Odoo
    import uvloop
except ImportError:
    uvloop = None

_logger = logging.getLogger(__name__)
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s]+")
SERVER_VERSION = "WhatsAppCloudSandbox/1.0"
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 200 * 1024 * 1024  # above Meta's largest media upload (100 MB documents)
# Meta takes hundreds of concurrent connections; a small listen backlog would reset them
BACKLOG = 1024


class Sandbox(SandboxState):
    """The simulated Cloud API over HTTP: an HTTP server (one event loop in a thread: hundreds of
    kept-alive connections cost one thread, a send a fraction of a millisecond) plus the webhook
    worker thread.

    ``Sandbox(config).start()`` listens (``port=0``: any free port, see ``base_url``) and draws a
    control token unless the config gives one; ``stop()`` ends both threads. ``handle()`` answers
    one request without any socket.
    """

    def __init__(self, config=None):
        super().__init__(config)
        self._server = None
        self._thread = None
        self._loop = None

    def start(self) -> "Sandbox":
        """Listen in a background thread (and start the webhook worker); return ``self``."""
        if self._server is not None:
            return self
        if not self.config.control_token:
            # hex: a token starting with "-" would read as an option on the command line
            self.config.control_token = secrets.token_hex(24)
        loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()

        def protocol():  # asyncio.start_server's, with a reader noting when bytes come in
            reader = _StampingReader(limit=MAX_HEAD_BYTES, loop=loop)
            return asyncio.StreamReaderProtocol(reader, self._serve_connection, loop=loop)

        try:
            self._server = loop.run_until_complete(
                loop.create_server(protocol, self.config.host, self.config.port, backlog=BACKLOG)
            )
        except BaseException:
            loop.close()
            raise
        self._loop = loop
        super().start()
        self._thread = threading.Thread(
            target=loop.run_forever, name="wa-sandbox-http", daemon=True
        )
        self._thread.start()
        _logger.info("WhatsApp Cloud API sandbox listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; pending webhooks are dropped and held-back answers released."""
        self._stopping.set()
        if self._server is not None:
            loop, server = self._loop, self._server
            asyncio.run_coroutine_threadsafe(_shut(server), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                loop.close()
            self._server = self._thread = self._loop = None
        return super().stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server (the configured address when not started)."""
        if self._server is None:
            return super().base_url
        host, port = self._server.sockets[0].getsockname()[:2]
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    @property
    def control_url(self) -> str:
        """The control page's URL, with the control token a browser needs to open it."""
        return f"{self.base_url}/_sandbox/?token={quote(self.config.control_token or '')}"

    def handle(self, request: Request) -> Response:
        """Answer one request (tests may call this; the server answers through the same
        steps without blocking its loop): the latency of a Graph call, then the answer."""
        self.hold(self._latency(request))
        return self._answer(request)

    def _latency(self, request: Request) -> float:
        """Seconds a Graph call waits before it is handled (the latency knob)."""
        if _is_control(request.path) or request.path.startswith("/llm/"):
            return 0.0
        return (self.config.latency_ms or 0) / 1000

    def _answer(self, request: Request) -> Response:
        try:
            if _is_control(request.path):
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

    # -- HTTP/1.1 over asyncio

    async def _serve_connection(self, reader, writer):
        """Answer the requests of one kept-alive connection, one after the other."""
        peer = (writer.get_extra_info("peername") or ("?",))[0]
        try:
            while not self._stopping.is_set():
                parsed = await _read_request(reader)
                if parsed is None:
                    break
                arrived = getattr(reader, "received_at", None) or time.time()
                method, target, version, headers, body = parsed
                url = urlsplit(target)
                query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                request = Request(method, url.path, query, headers, body)
                latency = self._latency(request)
                request.at = arrived + latency
                if latency:
                    await asyncio.sleep(latency)
                response = self._answer(request)
                if response.delay:
                    await asyncio.sleep(response.delay)
                close = version == "HTTP/1.0" or headers.get("Connection", "").lower() == "close"
                writer.write(_response_bytes(response, close))
                await writer.drain()
                self._log_request(peer, method, target, response.status)
                if close:
                    break
        except _BadRequest as exc:
            writer.write(_response_bytes(Response.json({"error": str(exc)}, 400), True))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            _logger.debug("client %s left", peer)
        finally:
            writer.close()

    def _log_request(self, peer, method, target, status):
        if not _logger.isEnabledFor(logging.INFO):
            return  # under load (a benchmark), a line per request costs more than the request
        # the request line of the control page carries its token: keep it out of the log
        line = _TOKEN_IN_QUERY.sub(r"\1***", f'"{method} {target} HTTP/1.1" {status} -')
        _logger.info("%s %s", peer, line)


class _StampingReader(asyncio.StreamReader):
    """A stream reader noting the instant (``time.time()``) bytes last came in: when the loop
    took them off the socket, not when the request's task got to read them (with hundreds of
    requests ready at once, later). A client sends a request once it has the previous answer,
    so the last bytes of a connection read before a request is whole are that request's."""

    received_at = None

    def feed_data(self, data):
        self.received_at = time.time()
        return super().feed_data(data)


class _BadRequest(Exception):
    """A request this server cannot read (answered 400, connection closed)."""


class _Headers(dict):
    """Request headers by lower-case name; ``get`` takes any case, like ``email.message``."""

    def get(self, name, default=None):
        return super().get(name.lower(), default)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())


def _is_control(path):
    return path.rstrip("/") == "/_sandbox" or path.startswith("/_sandbox/")


async def _read_request(reader):
    """(method, target, version, headers, body) of the next request, None at the end."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest("incomplete request") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _BadRequest("request head too large") from exc
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("bad request line")
    method, target, version = parts
    headers = _Headers()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise _BadRequest("bad header line")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        raise _BadRequest("chunked request bodies are not supported: send a Content-Length")
    length = headers.get("Content-Length") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise _BadRequest("bad Content-Length")
    body = await reader.readexactly(int(length)) if int(length) else b""
    return method, target, version, headers, body


def _response_bytes(response: Response, close: bool) -> bytes:
    """The status line, headers and body of ``response`` in one buffer (one segment on the
    wire: headers and body written apart would wait for the client's delayed ACK)."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Server: {SERVER_VERSION}",
        f"Date: {formatdate(usegmt=True)}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
    ]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


async def _shut(server):
    """Stop listening and end the connections being served."""
    server.close()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.cancel()
