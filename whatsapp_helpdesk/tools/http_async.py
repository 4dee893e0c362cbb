"""A small HTTP/1.1 client on ``asyncio``: the transport of the outbox's sends. No Odoo import.

One thread and one event loop carry hundreds of sends in flight at once over connections kept
alive, instead of a thread per send: at 1,000 messages/s the threads of a ``urllib3`` pool cost
about 0.8 ms of CPU per send (most of it handing the interpreter lock around), this about 0.2 ms.

It speaks only what a Graph API answer needs: a request with a body of known length, an answer
with ``Content-Length`` or chunked, keep-alive unless either side says ``close``, TLS verified
against ``certifi``'s bundle. No proxy, no redirect, no retry: :class:`.cloud_api.CloudApiClient`
decides what a failure means, from the type of :class:`TransportError` raised:

* :class:`ConnectError`: nothing left this machine (no free connection in time, DNS, refused,
  TLS handshake, connect timeout);
* :class:`ReadTimeout`, :class:`ConnectionLost`, :class:`ProtocolError`: the request was written,
  its answer did not come or could not be read, so it may have taken effect.
"""

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi

MAX_HEAD_BYTES = 64 * 1024  # status line and headers of an answer
MAX_BODY_BYTES = 1024 * 1024  # an answer to a send is a few hundred bytes


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


class _Origin:
    """The connections to one ``(scheme, host, port)``: idle ones kept, at most ``maxsize`` used
    at once (a request beyond waits for one, counted in its connect timeout)."""

    def __init__(self, scheme, host, port, maxsize):
        self.scheme, self.host, self.port = scheme, host, port
        self.host_header = host if port in (80, 443) else f"{host}:{port}"
        self.slots = asyncio.Semaphore(maxsize)
        self.idle = []  # [(reader, writer)], most recently used last


class AsyncPool:
    """Connections kept alive per origin, for one event loop (the thread that runs it).

    ``maxsize``: requests in flight at once per origin, hence connections kept. Counters
    ``connections`` (opened) and ``requests`` (answered) tell tests and benchmarks how well
    connections are reused.
    """

    def __init__(self, maxsize=10, *, ssl_context=None):
        self.maxsize = max(1, int(maxsize))
        self._ssl_context = ssl_context
        self._origins = {}
        self.connections = 0
        self.requests = 0

    def _origin(self, scheme, host, port):
        key = (scheme, host, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(scheme, host, port, self.maxsize)
        return origin

    async def request(self, method, url, body, headers, *, connect_timeout, read_timeout):
        """Send one request (``body``: bytes or None, ``headers``: a dict) and read its answer.

        Raises :class:`TransportError` subclasses only, and ``ValueError`` for a URL this client
        cannot use (before anything leaves).
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Unsupported URL scheme or host: {scheme!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        origin = self._origin(scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        head = _request_head(method, target, origin.host_header, headers, body)
        try:
            await asyncio.wait_for(origin.slots.acquire(), connect_timeout)
        except TimeoutError as exc:
            raise ConnectError("no free connection within the connect timeout") from exc
        try:
            reader, writer = await self._connection(origin, connect_timeout)
            try:
                answer, reusable = await asyncio.wait_for(
                    self._exchange(reader, writer, head + (body or b""), method), read_timeout
                )
            except TimeoutError as exc:
                writer.close()
                raise ReadTimeout(f"no answer within {read_timeout} s") from exc
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                writer.close()
                raise ConnectionLost(f"connection lost: {exc!r}") from exc
            except ProtocolError:
                writer.close()
                raise
            if reusable:
                origin.idle.append((reader, writer))
            else:
                writer.close()
            self.requests += 1
            return answer
        finally:
            origin.slots.release()

    async def _connection(self, origin, connect_timeout):
        """An idle connection still open, else a new one."""
        while origin.idle:
            reader, writer = origin.idle.pop()
            if not (reader.at_eof() or writer.is_closing() or reader._buffer):  # noqa: SLF001
                return reader, writer
            writer.close()
        context = None
        if origin.scheme == "https":
            context = self._ssl_context = self._ssl_context or _ssl_context()
        try:
            connection = await asyncio.wait_for(
                asyncio.open_connection(
                    origin.host, origin.port, ssl=context, limit=MAX_HEAD_BYTES
                ),
                connect_timeout,
            )
        except (TimeoutError, OSError) as exc:  # refused, DNS, TLS handshake (ssl.SSLError)
            raise ConnectError(f"could not connect to {origin.host}: {exc!r}") from exc
        self.connections += 1
        return connection

    async def _exchange(self, reader, writer, data, method):
        """Write ``data``, read the answer; return (Answer, whether the connection is reusable)."""
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        status_text = rest.partition(" ")[0]
        if not version.startswith("HTTP/1.") or not status_text.isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(status_text)
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise ProtocolError("a header line without a colon")
            headers[name.strip().lower()] = value.strip()
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b""), keep_alive
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Answer(status, headers, await _read_chunked(reader)), keep_alive
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                raise ProtocolError(f"unusable Content-Length {length[:20]!r}")
            return Answer(status, headers, await reader.readexactly(int(length))), keep_alive
        # no length: the body runs to the end of the connection
        body = await reader.read(MAX_BODY_BYTES + 1)
        while body and len(body) <= MAX_BODY_BYTES and not reader.at_eof():
            more = await reader.read(MAX_BODY_BYTES + 1 - len(body))
            if not more:
                break
            body += more
        if len(body) > MAX_BODY_BYTES:
            raise ProtocolError("answer body too large")
        return Answer(status, headers, body), False

    def close(self):
        """Close the idle connections (from the loop's thread, or once it has stopped)."""
        for origin in self._origins.values():
            for _reader, writer in origin.idle:
                writer.close()
            origin.idle.clear()


def _request_head(method, target, host, headers, body):
    """The bytes of the request line and headers; refuses a header that could split them."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        value = str(value)
        if any(char in value for char in "\r\n\0") or any(c in name for c in "\r\n\0:"):
            raise ValueError("a header name or value holds a line break")
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError("a header value is not Latin-1") from exc


async def _read_chunked(reader):
    chunks, total = [], 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise ProtocolError("a garbled chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        total += size
        if total > MAX_BODY_BYTES:
            raise ProtocolError("answer body too large")
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("a chunk without its line break")
