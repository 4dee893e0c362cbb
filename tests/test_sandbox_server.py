"""The sandbox's HTTP/1.1 server (one asyncio loop): kept-alive connections, HTTP/1.0 and
``Connection: close`` honoured, unreadable requests answered 400, the latency knob applied
without holding other requests up."""

import asyncio
import json
import socket
import threading
import time

import pytest
from sandbox_support import TOKEN, make_sandbox
from wa_tools.sandbox import server


@pytest.fixture
def sb():
    sandbox = make_sandbox(None)
    sandbox.configure(enforce_window=False)
    yield sandbox
    sandbox.stop()


def _exchange(sock, request):
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head.decode("latin-1"), body


def _send_request(sb, to="15551234567", version="HTTP/1.1", extra=""):
    body = json.dumps(
        {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hi"}}
    ).encode()
    path = f"/v23.0/{sb.config.phone_number_id}/messages"
    head = (
        f"POST {path} {version}\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def _connect(sb):
    host, port = sb.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_requests_share_a_kept_alive_connection(sb):
    with _connect(sb) as sock:
        for number in ("15551230001", "15551230002", "15551230003"):
            head, body = _exchange(sock, _send_request(sb, number))
            assert head.startswith("HTTP/1.1 200 OK")
            assert "Server: WhatsAppCloudSandbox/1.0" in head
            assert json.loads(body)["messages"][0]["id"].startswith("wamid.")
    assert [entry["to"] for entry in sb.sent] == ["15551230001", "15551230002", "15551230003"]


@pytest.mark.parametrize(
    ("version", "extra"), [("HTTP/1.0", ""), ("HTTP/1.1", "Connection: close\r\n")]
)
def test_the_connection_closes_when_asked(sb, version, extra):
    with _connect(sb) as sock:
        head, _body = _exchange(sock, _send_request(sb, version=version, extra=extra))
        assert "200 OK" in head and "Connection: close" in head
        assert sock.recv(10) == b""


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NONSENSE\r\n\r\n",
        b"POST /v23.0/1/messages HTTP/1.1\r\nbroken header\r\n\r\n",
        b"POST /v23.0/1/messages HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /v23.0/1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
)
def test_unreadable_requests_get_400_and_the_server_goes_on(sb, request_bytes):
    with _connect(sb) as sock:
        head, _body = _exchange(sock, request_bytes)
        assert head.startswith("HTTP/1.1 400")
    with _connect(sb) as sock:
        head, _body = _exchange(sock, _send_request(sb))
        assert "200 OK" in head


def test_latency_is_waited_concurrently(sb):
    sb.configure(latency_ms=300)
    results = []

    def one(number):
        with _connect(sb) as sock:
            results.append((_exchange(sock, _send_request(sb, number))[0], time.time()))

    threads = [threading.Thread(target=one, args=(f"1555123{i:04d}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and all("200 OK" in head for head, _answered in results)
    # at the same time, not one after the other: every request was taken in (its recorded time
    # is its arrival plus the latency) before the first answer came back
    arrivals = [entry["time"] - 0.3 for entry in sb.sent]
    assert len(arrivals) == 20
    assert max(arrivals) < min(answered for _head, answered in results)


class _Writer:
    """The writing end of a connection, keeping what the server answers."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data

    async def drain(self):
        pass

    def close(self):
        pass

    def get_extra_info(self, _name):
        return None


def test_a_send_is_stamped_when_its_bytes_came_in_not_when_it_is_read(sb):
    """A loop with hundreds of requests ready gets to each a while after the bytes came in:
    the send is recorded at the instant they did (what a sender's pacing is measured on)."""

    async def scenario():
        reader = server._StampingReader(limit=server.MAX_HEAD_BYTES)  # noqa: SLF001
        reader.feed_data(_send_request(sb))
        came_in = time.time()
        reader.feed_eof()
        time.sleep(0.3)  # the loop busy with other requests before this one's task runs
        writer = _Writer()
        await sb._serve_connection(reader, writer)  # noqa: SLF001
        return came_in, writer.data

    came_in, answer = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert came_in - 0.05 <= sb.sent[-1]["time"] <= came_in  # not 0.3 s later
