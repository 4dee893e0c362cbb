"""The asyncio transport of the sends (``tools/http_async.py``, on aiohttp) and the client's
asynchronous choke point (``CloudApiClient._request_async``), against a raw socket server
answering bytes."""

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
from wa_tools import cloud_api, http_async, sender
from wa_tools.cloud_api import CloudApiClient, OutcomeUnknownError, PermanentError, RetryableError

SENT = (
    b'{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],'
    b'"messages":[{"id":"wamid.A"}]}'
)


def _answer(body=SENT, status="200 OK", extra=b""):
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n".encode()
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """Answers each request read on a connection with the next of ``answers`` (bytes; None: say
    nothing and keep the connection open; b"": close it without a word); records the requests
    and connections."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                with self.lock:
                    self.requests.append((head.decode("latin-1"), body))
                    answer = self.answers.pop(0) if self.answers else _answer()
                if answer is None:
                    threading.Event().wait(5)
                    return
                if answer == b"":
                    return
                conn.sendall(answer)
                if b"Connection: close" in answer:
                    return

    def close(self):
        self.sock.close()


@pytest.fixture(autouse=True)
def _pools_closed(monkeypatch):
    """Every pool a test makes is closed at its end (its connections, on the sends' loop)."""
    made = []

    class Pool(http_async.AsyncPool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(http_async, "AsyncPool", Pool)
    yield
    for pool in made:
        sender.run(pool.aclose())


@pytest.fixture
def server_of():
    servers = []

    def make(*answers):
        servers.append(RawServer(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _request(pool, url, body=b"{}", headers=None, read_timeout=2.0, connect_timeout=1.0):
    return sender.run(_coroutine(pool, url, body, headers, read_timeout, connect_timeout))


def _coroutine(pool, url, body=b"{}", headers=None, read_timeout=2.0, connect_timeout=1.0):
    return pool.request(
        "POST",
        f"{url}/v23.0/1/messages",
        body,
        headers or {"Content-Type": "application/json"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def _free_port():
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    return port


def test_keeps_the_connection_alive(server_of):
    server = server_of()
    pool = http_async.AsyncPool(4)
    for _ in range(3):
        answer = _request(pool, server.url, b'{"a":1}')
        assert (answer.status, answer.body) == (200, SENT)
    assert server.connections == 1 and pool.connections == 1 and pool.requests == 3
    head, body = server.requests[0]
    assert head.startswith("POST /v23.0/1/messages HTTP/1.1\r\nHost: 127.0.0.1:")
    assert "Content-Length: 7" in head and body == b'{"a":1}'


def test_chunked_answer_and_connection_close(server_of):
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    )
    closing = _answer(b"{}", extra=b"Connection: close\r\n")
    server = server_of(chunked, closing, _answer())
    pool = http_async.AsyncPool(1)
    assert _request(pool, server.url).body == b"hello world"
    assert _request(pool, server.url).body == b"{}"
    assert _request(pool, server.url).body == SENT
    assert server.connections == 2  # the answer saying close was not reused


def test_read_timeout_and_refused_connection(server_of):
    server = server_of(None)
    pool = http_async.AsyncPool(2)
    with pytest.raises(http_async.ReadTimeout):
        _request(pool, server.url, read_timeout=0.2)
    with pytest.raises(http_async.ConnectError):
        _request(pool, f"http://127.0.0.1:{_free_port()}")


def test_a_slow_trickle_is_a_read_timeout_for_the_whole_answer(server_of):
    """Each read comes in time, the whole answer does not: bounded all the same."""
    server = server_of(None)
    server.answers = []

    def trickle(conn):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
        for _ in range(50):
            threading.Event().wait(0.1)
            try:
                conn.sendall(b"x")
            except OSError:
                return
        conn.close()

    server._serve = trickle  # noqa: SLF001
    with pytest.raises(http_async.ReadTimeout):
        _request(http_async.AsyncPool(1), server.url, read_timeout=0.5, connect_timeout=0.5)


@pytest.mark.parametrize(
    ("answer", "error_class"),
    [
        (b"", http_async.ConnectionLost),  # closed without a word
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\nshort",
            http_async.ProtocolError,  # closed in the middle of the body
        ),
    ],
)
def test_a_connection_closed_before_the_whole_answer_may_have_sent(server_of, answer, error_class):
    server = server_of(answer)
    with pytest.raises(error_class):
        _request(http_async.AsyncPool(1), server.url)
    assert len(server.requests) == 1  # it did leave


def test_no_redirect_is_followed(server_of):
    moved = b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
    server = server_of(moved)
    answer = _request(http_async.AsyncPool(1), server.url)
    assert (answer.status, answer.headers["location"]) == (302, "/elsewhere")
    assert len(server.requests) == 1


def test_an_answer_beyond_the_size_cap_is_refused(server_of, monkeypatch):
    monkeypatch.setattr(http_async, "MAX_BODY_BYTES", 8)
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"
    )
    server = server_of(chunked, _answer(b"12345678"))
    pool = http_async.AsyncPool(1)
    with pytest.raises(http_async.ProtocolError):
        _request(pool, server.url)
    assert _request(pool, server.url).body == b"12345678"


def test_no_free_connection_within_the_connect_timeout_never_left(server_of):
    server = server_of(None)
    pool = http_async.AsyncPool(1)

    async def both():
        hanging = asyncio.ensure_future(_coroutine(pool, server.url, read_timeout=1.0))
        await asyncio.sleep(0.1)
        waiting = _coroutine(pool, server.url, connect_timeout=0.2)
        return await asyncio.gather(hanging, waiting, return_exceptions=True)

    hanging, waiting = sender.run(both())
    assert isinstance(hanging, http_async.ReadTimeout)
    assert isinstance(waiting, http_async.ConnectError)
    assert len(server.requests) == 1


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_tls_is_verified_against_certifi(tmp_path):
    """A self-signed certificate is refused before anything is sent: ConnectError."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    received = []

    def serve():
        conn, _addr = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                received.append(tls.recv(65536))
        except (OSError, ssl.SSLError):
            pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(http_async.ConnectError):
            _request(http_async.AsyncPool(1), f"https://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    assert received == []


def test_a_pool_follows_its_caller_to_another_event_loop(server_of):
    """A forked child runs a new loop (``sender.run``): the pool opens new connections there."""
    server = server_of()
    pool = http_async.AsyncPool(1)
    assert _request(pool, server.url).status == 200
    assert asyncio.run(_coroutine(pool, server.url)).status == 200
    assert pool.connections == 2 and pool.requests == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
def test_unreadable_answers_are_protocol_errors(server_of, answer):
    server = server_of(answer)
    with pytest.raises(http_async.ProtocolError):
        _request(http_async.AsyncPool(1), server.url)


@pytest.mark.parametrize(
    "headers", [{"X-Evil": "a\r\nInjected: 1"}, {"X-Name": "caf\u00e9\u2603"}, {"A:B": "c"}]
)
def test_headers_that_could_split_the_request_are_refused(server_of, headers):
    server = server_of()
    with pytest.raises(ValueError):
        _request(http_async.AsyncPool(1), server.url, headers=headers)
    assert server.requests == []


def test_requests_beyond_the_pool_wait_for_a_connection(server_of):
    server = server_of()
    pool = http_async.AsyncPool(2)

    async def many():
        return await asyncio.gather(
            *(
                pool.request(
                    "POST",
                    f"{server.url}/x",
                    b"{}",
                    {},
                    connect_timeout=5,
                    read_timeout=5,
                )
                for _ in range(10)
            )
        )

    assert {answer.status for answer in sender.run(many())} == {200}
    assert server.connections <= 2 and pool.requests == 10


# -- the client's asynchronous choke point


def _client(url, **options):
    return CloudApiClient(
        token="T",
        phone_number_id="1",
        base_url=url,
        async_pool=http_async.AsyncPool(2),
        timeout=options.pop("timeout", (1, 2)),
        **options,
    )


def _send(client, to="+55 11 97000-0001"):
    payload = {"to": to, "type": "text", "text": {"body": "hi"}}
    return sender.run(client.send_message_async(payload))


def test_send_message_async_builds_the_same_request_as_send_message(server_of):
    server = server_of()
    client = _client(server.url)
    result = _send(client)
    assert result.wamid == "wamid.A"
    head, body = server.requests[0]
    assert "Authorization: Bearer T" in head and "Content-Type: application/json" in head
    assert cloud_api.json.loads(body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511970000001",
        "type": "text",
        "text": {"body": "hi"},
    }


@pytest.mark.parametrize(
    ("answer", "error_class", "failure_type"),
    [
        (None, OutcomeUnknownError, "timeout"),  # sent, no answer: never resent
        (b"", OutcomeUnknownError, "timeout"),  # sent, connection closed: never resent
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", OutcomeUnknownError, "bad_response"),
        (_answer(b"<html>oops</html>", "502 Bad Gateway"), OutcomeUnknownError, "timeout"),
        (
            _answer(b'{"error":{"code":130429,"message":"rate"}}', "429 Too Many"),
            RetryableError,
            "throttled",
        ),
        (
            _answer(b'{"error":{"code":131026,"message":"undeliverable"}}', "400 Bad Request"),
            PermanentError,
            None,
        ),
    ],
)
def test_async_errors_are_typed_as_the_synchronous_ones(
    server_of, answer, error_class, failure_type
):
    server = server_of(answer)
    client = _client(server.url, timeout=(1, 0.3))
    with pytest.raises(error_class) as caught:
        _send(client)
    if failure_type:
        assert caught.value.failure_type == failure_type


def test_unreachable_graph_is_retryable_and_bad_recipient_permanent():
    client = _client(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(RetryableError) as caught:
        _send(client)
    assert caught.value.failure_type == "network"
    with pytest.raises(PermanentError) as caught:
        _send(client, to="not a number")
    assert caught.value.failure_type == "invalid_recipient"


def test_a_client_without_async_pool_refuses_async_sends():
    client = CloudApiClient(token="T", phone_number_id="1", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError):
        _send(client)


def test_nothing_leaves_before_before_write_returns(server_of):
    """The window of the sends is asked right before the bytes go: the connection is had, but
    not a byte of the request (head or body) reaches the server until it answers."""
    server = server_of()
    pool = http_async.AsyncPool(1)
    _request(pool, server.url)  # a connection kept alive, ready
    opened = threading.Event()
    release = None
    seen_while_held = []

    async def before_write():
        nonlocal release
        release = asyncio.get_running_loop().create_future()
        opened.set()
        await release
        seen_while_held.append(len(server.requests))

    async def held():
        task = asyncio.ensure_future(
            pool.request(
                "POST",
                f"{server.url}/v23.0/1/messages",
                b'{"held":1}',
                {"Content-Type": "application/json"},
                connect_timeout=1.0,
                read_timeout=2.0,
                before_write=before_write,
            )
        )
        while not opened.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # time enough for anything written to arrive
        count = len(server.requests)
        release.set_result(None)
        return count, await task

    count, answer = sender.run(held())
    assert count == 1 and seen_while_held == [1]  # only the first request had arrived
    head, body = server.requests[-1]
    assert answer.status == 200 and body == b'{"held":1}'
    assert "Content-Type: application/json" in head and "octet-stream" not in head
    assert "Content-Length: 10" in head
    assert pool.connections == 1  # the held request used the connection kept alive


def test_departures_are_noted_only_when_a_benchmark_asks(server_of, tmp_path, monkeypatch):
    server = server_of()
    monkeypatch.delenv(http_async.DEPARTURE_LOG_ENV, raising=False)
    assert http_async._departure_log() is None  # noqa: SLF001 (production: no log at all)
    log = tmp_path / "departures.log"
    monkeypatch.setenv(http_async.DEPARTURE_LOG_ENV, str(log))
    pool = http_async.AsyncPool(2)
    before = time.time()
    _request(pool, server.url, b'{"to":"1","biz_opaque_callback_data":"uuid-1"}')
    _request(pool, server.url, b'{"to":"2"}')
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [line[2] for line in lines] == ["uuid-1", "-"]
    assert before <= float(lines[0][0]) <= float(lines[1][0]) <= time.time()
    assert float(lines[0][1]) <= float(lines[1][1]) <= time.monotonic()
