"""The asynchronous HTTP transport of the outbox's sends, on ``aiohttp``. No Odoo import.

One thread and one event loop carry hundreds of sends in flight at once over connections kept
alive, instead of a thread per send (see :mod:`.sender`). ``aiohttp`` speaks HTTP/1.1 (keep-alive,
chunked answers, compression); this module is the one place where the sends' requests go out, and
it pins what the Graph API calls need: no proxy from the environment, no redirect, no cookie, no
retry, at most ``maxsize`` connections per origin, an answer of at most :data:`MAX_BODY_BYTES`, TLS
verified against ``certifi``'s bundle. :class:`.cloud_api.CloudApiClient` decides what a failure
means, from the type of :class:`TransportError` raised:

* :class:`ConnectError`: nothing left this machine (no free connection in time, DNS, refused,
  TLS handshake or certificate, connect timeout);
* :class:`ReadTimeout`, :class:`ConnectionLost`, :class:`ProtocolError`: the request was written
  (or may have been), its answer did not come or could not be read, so it may have taken effect.
"""

import asyncio
import functools
import os
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import certifi
from yarl import URL

MAX_BODY_BYTES = 1024 * 1024  # an answer to a send is a few hundred bytes
# Benchmarks only: with this variable naming a file, every request's departure (the instant its
# body is handed to the socket) is appended to it, see :func:`_departure_log`. Unset (always
# in production), the sessions carry no trace at all.
DEPARTURE_LOG_ENV = "WA_BENCH_DEPARTURE_LOG"
_CALLBACK_KEY = b'"biz_opaque_callback_data":'


class TransportError(Exception):
    """No usable HTTP answer."""


class ConnectError(TransportError):
    """The request never left: no connection could be had in time."""


class ReadTimeout(TransportError):
    """The request was sent and no answer came in time."""


class ConnectionLost(TransportError):
    """The request was (maybe partly) sent and the connection broke before the whole answer."""


class ProtocolError(TransportError):
    """The answer is not HTTP/1.1 as this client reads it (or beyond its limits)."""


@dataclass
class Answer:
    """One HTTP answer: ``headers`` with lower-case names."""

    status: int
    headers: dict
    body: bytes


def _ssl_context():
    context = ssl.create_default_context(cafile=certifi.where())
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class AsyncPool:
    """Connections kept alive per origin, for one event loop (the thread that runs it).

    ``maxsize``: requests in flight at once per origin, hence connections kept; a request beyond
    waits for a free one, within its connect timeout. Counters ``connections`` (opened) and
    ``requests`` (answered) tell tests and benchmarks how well connections are reused.
    """

    def __init__(self, maxsize=10, *, ssl_context=None):
        self.maxsize = max(1, int(maxsize))
        self._ssl_context = ssl_context
        self._session = None
        self._loop = None
        self.connections = 0
        self.requests = 0

    def _client_session(self):
        """The ``aiohttp`` session of the running loop (made on first use, and again on another
        loop: a forked child's)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            connector = _CountingConnector(
                self,
                limit=0,  # no limit over all origins: ``maxsize`` per origin
                limit_per_host=self.maxsize,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("Content-Type",),
            )
            self._loop = loop
        return self._session

    async def request(
        self, method, url, body, headers, *, connect_timeout, read_timeout, before_write=None
    ):
        """Send one request (``body``: bytes or None, ``headers``: a dict) and read its answer.

        ``connect_timeout`` bounds the wait for a connection (a free one of the pool, or a new
        one); ``read_timeout`` the wait for each read of the answer, and the whole exchange
        after the connection is had. Raises :class:`TransportError` subclasses only, and
        ``ValueError`` for a URL or a header this client refuses (before anything leaves).

        ``before_write`` (a coroutine function, for a request with a body): awaited once the
        connection is had, right before the request's bytes are handed to the socket, nothing
        awaited in between; the pacing of what really leaves (see :mod:`.sender`). What it
        returns, if not None, is called right after the bytes are handed over.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Unsupported URL scheme or host: {scheme!r}")
        context = None  # made on the first https request (loading the bundle takes a while)
        if scheme == "https":
            context = self._ssl_context = self._ssl_context or _ssl_context()
        headers = _checked_headers(headers)
        timeout = _timeout(connect_timeout, read_timeout)
        session = self._client_session()
        log = _departure_log()
        if body and (before_write is not None or log is not None):
            body = _HeldBody(body, before_write, log)
        try:
            async with session.request(
                method,
                URL(url, encoded=True),  # as the client quoted it
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                ssl=context,
            ) as response:
                answer = Answer(
                    response.status,
                    {name.lower(): value for name, value in response.headers.items()},
                    await _read_body(response),
                )
        except aiohttp.InvalidURL:  # a ValueError: refused before anything left
            raise
        except aiohttp.ClientConnectorError as exc:  # refused, DNS, TLS handshake or certificate
            raise ConnectError(f"could not connect: {exc!r}") from exc
        except aiohttp.ConnectionTimeoutError as exc:  # no connection (free or new) in time
            raise ConnectError(f"no connection within {connect_timeout} s") from exc
        except TimeoutError as exc:  # a read (ServerTimeoutError), or the whole exchange
            raise ReadTimeout(f"no answer within {read_timeout} s") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise ConnectionLost(f"connection lost: {exc!r}") from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise ProtocolError(f"unreadable answer: {exc!r}") from exc
        except aiohttp.ClientError as exc:  # anything else of aiohttp, after the request began
            raise ConnectionLost(f"no usable answer: {exc!r}") from exc
        self.requests += 1
        return answer

    async def aclose(self):
        """Close the connections (on the pool's loop); the next request opens new ones."""
        session, self._session, self._loop = self._session, None, None
        if session is not None:
            await session.close()

    def close(self):
        """:meth:`aclose` from any thread: scheduled on the pool's loop if it still runs."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._session = self._loop = None
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(self.aclose())
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(self.aclose(), loop)


class _HeldBody(aiohttp.BytesPayload):
    """A request body whose write first awaits ``before_write`` (when given): aiohttp writes the
    request's head together with its body, so nothing of the request leaves before that returns.
    With a departure ``log`` (benchmarks only, see :func:`_departure_log`), notes the instant
    the bytes were handed to the transport."""

    def __init__(self, body, before_write, log=None):
        super().__init__(body, content_type=None)
        self._before_write = before_write
        self._log = log

    async def write(self, writer):  # aiohttp before 3.12
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer, content_length):
        written = None if self._before_write is None else await self._before_write()
        await writer.write(self._value if content_length is None else self._value[:content_length])
        if self._log is not None:
            _note_departure(self._log, self._value)
        if written is not None:
            written()


class _CountingConnector(aiohttp.TCPConnector):
    """aiohttp's connector, counting the connections it opens in its pool's ``connections``."""

    def __init__(self, pool, **options):
        super().__init__(**options)
        self._pool = pool

    async def _create_connection(self, *args, **kwargs):
        protocol = await super()._create_connection(*args, **kwargs)
        self._pool.connections += 1
        return protocol


_departure_logs = {}  # path -> the file this process appends its departures to


def _departure_log():
    """The file noting this process's departures, or None (always in production): opened on
    first use when :data:`DEPARTURE_LOG_ENV` names it. A request body's write notes in it
    ``<time.time()> <time.monotonic()> <callback data>`` (:func:`_note_departure`).

    Written by the body itself right after it is handed to the transport, which writes it to the
    socket at once when nothing is queued: the line is the instant the request left, not when
    the coroutine asking for it started. The callback data (the outbox row's uuid) ties the line
    to the sandbox's record of the same send. No aiohttp trace: those would cost every request
    of the process a dozen signals, and the benchmark would measure them, not the sender."""
    path = os.environ.get(DEPARTURE_LOG_ENV)
    if not path:
        return None
    log = _departure_logs.get(path)
    if log is None:
        # lives with the process
        log = _departure_logs[path] = open(path, "a", buffering=1, encoding="ascii")  # noqa: SIM115
    return log


def _note_departure(log, body):
    """One line of ``log``: the request whose ``body`` was just handed to the transport."""
    start = body.find(_CALLBACK_KEY)
    key = "-"
    if start >= 0:
        key = body[start + len(_CALLBACK_KEY) :].split(b'"', 2)[1].decode("ascii", "replace")
    log.write(f"{time.time():.6f} {time.monotonic():.6f} {key}\n")


@functools.lru_cache(maxsize=32)
def _timeout(connect_timeout, read_timeout):
    """The ``ClientTimeout``: ``connect`` for a connection (free or new), ``sock_read`` for each
    read of the answer, ``total`` for the whole (a trickling answer ends all the same)."""
    return aiohttp.ClientTimeout(
        total=connect_timeout + read_timeout, connect=connect_timeout, sock_read=read_timeout
    )


async def _read_body(response):
    """The body of ``response``, refused beyond :data:`MAX_BODY_BYTES`."""
    length = response.headers.get("Content-Length")
    if length is not None:
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            response.close()
            raise ProtocolError(f"unusable Content-Length {length[:20]!r}")
        if "Content-Encoding" not in response.headers:
            return await response.read()  # as long as it says, no longer
    body = b""
    while chunk := await response.content.read(MAX_BODY_BYTES + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            response.close()
            raise ProtocolError("answer body too large")
    return body


def _checked_headers(headers):
    """``headers`` as strings; refuses a header that could split the request or is not
    Latin-1 (``aiohttp`` would send it as UTF-8)."""
    checked = {}
    for name, value in headers.items():
        value = str(value)
        if any(char in value for char in "\r\n\0") or any(c in name for c in "\r\n\0:"):
            raise ValueError("a header name or value holds a line break")
        try:
            (name + value).encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ValueError("a header value is not Latin-1") from exc
        checked[name] = value
    return checked
