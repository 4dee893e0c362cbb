"""Concurrent paced sending (``tools/sender.py``) against the local Cloud API sandbox."""

import asyncio
import logging
import os
import sys
import threading
import time

import pytest
from wa_tools import cloud_api, pacing, sandbox, sender
from wa_tools.cloud_api import (
    CloudApiError,
    OutcomeUnknownError,
    PermanentError,
    RetryableError,
)
from wa_tools.sender import Job, send_all

CUSTOMER = "15551230000"


@pytest.fixture
def sb():
    # dozens of simultaneous connections: the sandbox listens with a large backlog (1024)
    assert sandbox.server.BACKLOG >= 256
    config = sandbox.SandboxConfig(port=0, webhook_url=None, enforce_window=False, status_delay=60)
    server = sandbox.Sandbox(config).start()
    yield server
    server.stop()


@pytest.fixture(params=["async", "threads"])
def make_client(sb, request):
    """Clients of the sandbox sending through the event loop (``async_pool``, as the outbox
    does), or through ``send_message`` in threads (a client without one)."""
    sessions, pools = [], []

    def make(max_workers=64, **options):
        sessions.append(sender.pooled_session(max_workers))
        if request.param == "async":
            pools.append(sender.async_pool(max_workers))
            options["async_pool"] = pools[-1]
        return cloud_api.CloudApiClient(
            token=sb.config.token,
            phone_number_id=sb.config.phone_number_id,
            base_url=sb.base_url,
            session=sessions[-1],
            **options,
        )

    yield make
    for session in sessions:
        session.clear()
    for pool in pools:
        sender.run(pool.aclose())


@pytest.fixture
def client(make_client):
    return make_client(timeout=(1, 3))


def _pacer(rate=10_000, gap=0.0, burst=None):
    return pacing.Pacer(pacing.TokenBucket(rate, burst), pacing.RecipientGap(gap))


def _job(key, to):
    return Job(key, to, {"to": to, "type": "text", "text": {"body": f"message {key}"}})


def _jobs(count, recipient=None):
    return [_job(i, recipient or f"1555{i:07d}") for i in range(count)]


def _statuses(outcomes):
    return [outcome.status for outcome in outcomes]


def _timed(*args, **kwargs):
    started = time.monotonic()
    outcomes = send_all(*args, **kwargs)
    return outcomes, time.monotonic() - started


# -- against the sandbox


def test_sends_every_job_exactly_once_in_order(sb, client):
    jobs = _jobs(30)
    outcomes = send_all(client, jobs, _pacer(), max_workers=8)
    assert [outcome.key for outcome in outcomes] == list(range(30))
    assert set(_statuses(outcomes)) == {"sent"}
    assert sorted(entry["to"] for entry in sb.sent) == [job.recipient for job in jobs]
    by_wamid = {entry["wamid"]: entry["to"] for entry in sb.sent}
    assert {
        outcome.wamid: job.recipient for outcome, job in zip(outcomes, jobs, strict=True)
    } == by_wamid


def test_empty_batch(client):
    assert send_all(client, [], _pacer()) == []


class _CountingClient:
    """Delegates to a client and records the most sends in flight at once."""

    def __init__(self, client):
        self.client, self.in_flight, self.peak = client, 0, 0
        self.async_pool = client.async_pool
        self.lock = threading.Lock()

    def send_message(self, payload):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return self.client.send_message(payload)
        finally:
            with self.lock:
                self.in_flight -= 1

    async def send_message_async(self, payload, before_write=None):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return await self.client.send_message_async(payload, before_write)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_sends_concurrently(sb, client, caplog):
    # concurrency is counted, not timed: a loaded machine stretches time, not the overlap
    sb.configure(latency_ms=50)
    counting = _CountingClient(client)
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        outcomes = send_all(counting, _jobs(100), _pacer(), max_workers=50)
    assert set(_statuses(outcomes)) == {"sent"}
    assert len(sb.sent) == 100
    assert counting.peak >= 10  # one by one would be 1
    assert "pool is full" not in caplog.text


def test_respects_the_rate(sb, client):
    outcomes, elapsed = _timed(client, _jobs(60), _pacer(rate=100), max_workers=32)
    assert set(_statuses(outcomes)) == {"sent"}
    assert elapsed >= 0.45  # a burst of 10, then 50 at 10 ms intervals
    times = sorted(entry["time"] for entry in sb.sent)
    # the sandbox's arrival times: on a loaded machine its loop may read the first ones late
    assert times[-1] - times[0] >= 0.35


def test_429_burst_gives_retry_outcomes(sb, client, monkeypatch):
    monkeypatch.setattr(sender, "THROUGHPUT_PENALTY", 0.2)  # keeps the test short
    sb.configure(burst_429=5)
    outcomes = send_all(client, _jobs(10), _pacer(), max_workers=10)
    retries = [outcome for outcome in outcomes if outcome.status == "retry"]
    assert len(retries) == 5 and _statuses(outcomes).count("sent") == 5
    assert {(o.error.code, o.retry_after) for o in retries} == {(130429, sender.THROUGHPUT_PENALTY)}
    assert all(isinstance(o.error, RetryableError) for o in retries)
    assert len(sb.sent) == 5


def test_429_pauses_the_whole_number(sb, client, monkeypatch):
    monkeypatch.setattr(sender, "THROUGHPUT_PENALTY", 0.4)
    sb.configure(burst_429=1)
    outcomes, elapsed = _timed(client, _jobs(4), _pacer(rate=20, burst=1), max_workers=4)
    assert sorted(_statuses(outcomes)) == ["retry", "sent", "sent", "sent"]
    assert elapsed >= 0.4  # nothing sent during the pause after the 429
    times = sorted(entry["time"] for entry in sb.sent)
    assert times[-1] - times[0] >= 0.05  # then no burst: one token every 50 ms (jitter allowed)


def test_read_timeout_is_unknown_and_not_resent(sb, make_client):
    sb.configure(timeout_next=2, timeout_seconds=1.0)
    client = make_client(timeout=(1, 0.3))
    outcomes = send_all(client, _jobs(5), _pacer(), max_workers=5)
    unknown = [outcome for outcome in outcomes if outcome.status == "unknown"]
    assert len(unknown) == 2 and _statuses(outcomes).count("sent") == 3
    assert all(isinstance(o.error, OutcomeUnknownError) for o in unknown)
    assert all(o.error.failure_type == "timeout" and o.retry_after is None for o in unknown)
    assert len(sb.sent) == 5  # the two are accepted by Meta, and sent only once
    assert len({entry["to"] for entry in sb.sent}) == 5


@pytest.mark.parametrize(("knob", "code"), [("burst_500", 131000), ("gateway_error_next", None)])
def test_server_errors_on_sends_are_unknown_and_not_resent(sb, client, knob, code):
    sb.configure(**{knob: 2})
    outcomes = send_all(client, _jobs(4), _pacer(rate=1000, burst=1), max_workers=1)
    assert _statuses(outcomes) == ["unknown", "unknown", "sent", "sent"]
    for outcome in outcomes[:2]:
        assert isinstance(outcome.error, OutcomeUnknownError) and outcome.retry_after is None
        assert (outcome.error.code, outcome.error.failure_type) == (code, "timeout")
        assert outcome.error.http_status == (500 if code else 503)
    # 131000: the sandbox did not send them; a bare 503: it did, and its statuses will tell
    assert len(sb.sent) == (2 if code else 4)


def test_pair_rate_limit_gives_retry_after(sb, client):
    sb.configure(pair_gap_ms=1000)
    pacer = _pacer(gap=0.0)  # spacing below Meta's: the second message is refused
    jobs = [_job(0, CUSTOMER), _job(1, CUSTOMER), _job(2, "15559990000")]
    outcomes = send_all(client, jobs, pacer)
    assert sorted(_statuses(outcomes[:2])) == ["retry", "sent"] and outcomes[2].status == "sent"
    retry = next(outcome for outcome in outcomes if outcome.status == "retry")
    assert retry.error.code == 131056 and retry.retry_after == sender.PAIR_RATE_PENALTY
    assert 5.5 < pacer.gaps.delay(CUSTOMER) <= 6.0
    assert len(sb.sent) == 2


def test_recipient_gap_spaces_messages_in_order(sb, client):
    sb.configure(pair_gap_ms=120)
    jobs = [_job(0, CUSTOMER), _job(1, "15559990000"), _job(2, CUSTOMER), _job(3, CUSTOMER)]
    outcomes, elapsed = _timed(client, jobs, _pacer(gap=0.15))
    assert set(_statuses(outcomes)) == {"sent"}
    assert elapsed >= 0.3
    to_customer = [entry for entry in sb.sent if entry["to"] == CUSTOMER]
    assert [e["payload"]["text"]["body"] for e in to_customer] == [
        f"message {i}" for i in (0, 2, 3)
    ]


def test_slot_beyond_deadline_is_retried_unsent(sb, client):
    pacer = _pacer(gap=5.0)
    jobs = [_job(0, CUSTOMER), _job(1, CUSTOMER), _job(2, "15559990000")]
    outcomes, elapsed = _timed(client, jobs, pacer, deadline=time.monotonic() + 1.0)
    assert _statuses(outcomes) == ["sent", "retry", "sent"]
    assert outcomes[1].error is None and 4.5 < outcomes[1].retry_after <= 5.0
    assert len(sb.sent) == 2 and elapsed < 4.5  # did not wait for the 5 s slot
    assert pacer.gaps.delay(CUSTOMER) <= 5.0  # the unsent job booked no slot


def test_past_deadline_sends_nothing(sb, client):
    outcomes = send_all(client, _jobs(3), _pacer(), deadline=time.monotonic() - 1)
    assert _statuses(outcomes) == ["retry"] * 3
    assert sb.sent == []


def test_no_token_before_deadline_is_retried_unsent(sb, client):
    pacer = _pacer(rate=2, burst=1)
    outcomes = send_all(client, _jobs(3), pacer, deadline=time.monotonic() + 0.3)
    assert sorted(_statuses(outcomes)) == ["retry", "retry", "sent"]
    assert len(sb.sent) == 1  # the others waited for no token past the deadline


def test_bad_jobs_do_not_break_the_batch(sb, client):
    jobs = [_job(0, "15550000001"), Job(1, "x", {"type": "text"}), _job(2, "not a number")]
    outcomes = send_all(client, jobs, _pacer())
    assert _statuses(outcomes) == ["sent", "failed", "failed"]
    assert isinstance(outcomes[1].error, ValueError)
    assert isinstance(outcomes[2].error, PermanentError)
    assert outcomes[2].error.failure_type == "invalid_recipient"
    assert len(sb.sent) == 1


# -- without HTTP


class FakeClient:
    """Raises the exception mapped to a job's recipient, else answers with a wamid."""

    def __init__(self, errors):
        self.errors = errors

    def send_message(self, payload):
        error = self.errors.get(payload["to"])
        if error is not None:
            raise error
        return cloud_api.SendResult(wamid=f"wamid.{payload['to']}", wa_id=None, input=None, raw={})


def test_outcome_mapping():
    errors = {
        "2": RetryableError("server", code=133004, failure_type="server"),
        "3": PermanentError("closed", code=131047, failure_type="window_closed"),
        "4": OutcomeUnknownError("lost", failure_type="timeout"),
        "5": CloudApiError("odd"),
        "6": RuntimeError("bug"),
    }
    jobs = [_job(i, str(i)) for i in range(1, 7)]
    pacer = _pacer(rate=1000)
    outcomes = send_all(FakeClient(errors), jobs, pacer)
    assert _statuses(outcomes) == ["sent", "retry", "failed", "unknown", "failed", "failed"]
    assert outcomes[0].wamid == "wamid.1" and outcomes[0].error is None
    assert [outcome.error for outcome in outcomes[1:]] == list(errors.values())
    assert outcomes[1].retry_after is None
    assert pacer.bucket.try_acquire()  # not throttled: no pause


class _RefusingOnceClient:
    """Refuses the payload ``refused`` (its body) once for a retry, answers every other one;
    records what it accepted."""

    def __init__(self, refused):
        self.refused = refused
        self.accepted = []

    def send_message(self, payload):
        body = payload["text"]["body"]
        if body == self.refused:
            self.refused = None
            raise RetryableError("unavailable", code=133004, failure_type="server")
        self.accepted.append(body)
        return cloud_api.SendResult(wamid=f"wamid.{body}", wa_id=None, input=None, raw={})


def test_a_message_sent_back_for_a_retry_is_not_overtaken():
    """The first message to a customer is refused for a retry: the later ones to them give up
    their turn (unsent, no attempt spent) in its batch and the next one, claimed before the
    retry was recorded; other customers' leave; the batch after sends them all, in order."""
    client = _RefusingOnceClient("message 0")
    pacer = _pacer()
    first = send_all(client, [_job(0, CUSTOMER), _job(1, "other"), _job(2, CUSTOMER)], pacer)
    assert _statuses(first) == ["retry", "sent", "retry"]
    assert first[2].error is None
    second = send_all(client, [_job(3, CUSTOMER), _job(4, "other")], pacer)
    assert _statuses(second) == ["retry", "sent"]
    again = send_all(client, [_job(key, CUSTOMER) for key in (0, 2, 3)], pacer)
    assert _statuses(again) == ["sent"] * 3
    assert client.accepted == ["message 1", "message 4", "message 0", "message 2", "message 3"]
    assert pacer.gaps._turns == {}


def test_throttling_pauses_the_bucket():
    error = RetryableError("throttled", code=130429, http_status=429, failure_type="throttled")
    pacer = _pacer(rate=1000)
    outcome = sender.error_outcome(_job(1, "1"), error, pacer)
    assert (outcome.status, outcome.retry_after) == ("retry", sender.THROUGHPUT_PENALTY)
    assert not pacer.bucket.try_acquire()


def test_pooled_session_pool_size():
    session = sender.pooled_session(48)
    assert len(session.pools) == 0 and session.pools._maxsize == 4  # hosts kept
    for url in ("http://127.0.0.1", "https://graph.facebook.com"):
        pool = session.connection_from_url(url)
        assert (pool.pool.maxsize, pool.block, pool.retries) == (48, True, False)
    session.clear()


def test_connections_are_kept_alive_across_batches(sb, make_client):
    client = make_client(max_workers=4)
    for batch in range(3):
        jobs = [_job(i, f"1555{batch}{i:06d}") for i in range(8)]
        assert set(_statuses(send_all(client, jobs, _pacer(), max_workers=4))) == {"sent"}
    if client.async_pool is not None:
        connections, requests = client.async_pool.connections, client.async_pool.requests
    else:
        pool = client.session.connection_from_url(sb.base_url)
        connections, requests = pool.num_connections, pool.num_requests
    assert connections <= 4  # 24 sends, at most one connection per send in flight
    assert requests == 24


class _WindingClient:
    """A client whose requests take a different time, each, from their start to the socket (a
    new connection, a busy event loop, the process starved of CPU; sometimes the whole loop
    stalls), as aiohttp's do under load; records the instant each request leaves."""

    async_pool = object()  # sends go through send_message_async, as the outbox's do

    def __init__(self):
        self.departures = []
        self.to = []
        self.calls = 0

    async def send_message_async(self, payload, before_write=None):
        self.calls += 1
        if self.calls % 25 == 0:
            time.sleep(0.03)  # the loop stalls: every coroutine due meanwhile runs late
        await asyncio.sleep((self.calls * 7919 % 40) / 1000)  # 0-39 ms to the socket
        written = None if before_write is None else await before_write()
        self.departures.append(time.monotonic())  # nothing awaited between: it leaves now
        self.to.append(payload["to"])
        if written is not None:
            written()
        return cloud_api.SendResult(f"wamid.{payload['to']}", payload["to"], payload["to"], {})


def _most_in_any(instants, seconds):
    instants = sorted(instants)
    most = low = 0
    for high, moment in enumerate(instants):
        while moment - instants[low] >= seconds:
            low += 1
        most = max(most, high - low + 1)
    return most


def test_the_window_holds_what_leaves_not_what_starts():
    """Sends paced when their coroutines start can leave bunched when the way to the socket
    takes each a different time: the window is asked right before the bytes go, so no window of
    its length ever sees more than its limit leave."""
    client = _WindingClient()
    window = pacing.SendWindow(12, seconds=0.1)
    pacer = pacing.Pacer(pacing.TokenBucket(100, burst=10), pacing.RecipientGap(0.0), window)
    outcomes = send_all(client, _jobs(150), pacer, max_workers=64)
    assert _statuses(outcomes) == ["sent"] * 150
    assert len(client.departures) == 150
    assert _most_in_any(client.departures, 0.1) <= 12


def test_the_gap_to_one_customer_holds_at_departure():
    """A send held by the window leaves later than planned: the next one to the same customer
    still leaves at least the gap after it, not after the instant it was planned for."""
    client = _WindingClient()
    window = pacing.SendWindow(6, seconds=0.05)
    pacer = pacing.Pacer(pacing.TokenBucket(400, burst=40), pacing.RecipientGap(0.05), window)
    outcomes = send_all(
        client, [_job(i, f"1555000{i % 4}") for i in range(120)], pacer, max_workers=64
    )
    assert _statuses(outcomes) == ["sent"] * 120
    last = {}
    least = 1.0
    for to, moment in zip(client.to, client.departures, strict=True):
        if to in last:
            least = min(least, moment - last[to])
        last[to] = moment
    assert least >= 0.05 - 1e-3
    assert _most_in_any(client.departures, 0.05) <= 6


def test_sends_first_shortens_the_switch_interval_and_restores_it():
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        with sender.sends_first():
            assert sys.getswitchinterval() == pytest.approx(
                sender.SENDING_SWITCH_INTERVAL, abs=2e-6
            )
        assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)
        # never longer than what the process already had, and restored after an error
        sys.setswitchinterval(0.0001)
        with pytest.raises(RuntimeError), sender.sends_first():
            assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
            raise RuntimeError("boom")
        assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
    finally:
        sys.setswitchinterval(before)


def test_the_heap_is_frozen_once_per_process(monkeypatch):
    collections = []
    monkeypatch.setattr(sender, "_heap_frozen_in", None)
    monkeypatch.setattr(sender.gc, "collect", lambda: collections.append(1))
    with sender.sends_first():
        pass
    frozen = sender.gc.get_freeze_count()
    assert frozen and sender._heap_frozen_in == os.getpid()
    with sender.sends_first():
        pass
    assert collections == [1]


class _SlowFirstClient:
    """A client whose requests for the payloads named in ``slow`` take ``delay`` seconds on
    their way to the socket (a new connection, a busy loop); records who left when."""

    async_pool = object()

    def __init__(self, slow, delay):
        self.slow, self.delay = slow, delay
        self.left = []

    async def send_message_async(self, payload, before_write=None):
        body = payload["text"]["body"]
        if body in self.slow:
            await asyncio.sleep(self.delay)
        written = await before_write()
        self.left.append((body, time.monotonic()))
        written()
        return cloud_api.SendResult(f"wamid.{body}", payload["to"], payload["to"], {})


def test_a_held_back_message_is_not_overtaken_by_the_next_to_its_customer():
    """The first message to a customer takes longer to reach the socket than the gap: the
    second, due a gap later, waits for it and leaves a gap after it, never before."""
    client = _SlowFirstClient({"message 0"}, 0.2)
    pacer = _pacer(gap=0.05)
    outcomes = send_all(client, [_job(0, CUSTOMER), _job(1, CUSTOMER)], pacer)
    assert _statuses(outcomes) == ["sent", "sent"]
    assert [body for body, _ in client.left] == ["message 0", "message 1"]
    assert client.left[1][1] - client.left[0][1] >= 0.05 - 1e-3
    assert pacer.gaps._turns == {}


def test_sequential_batches_keep_each_customers_order():
    """Two batches sent from two threads on one pacer (as two cron passes sharing a process
    may): the second batch's message waits for the first batch's, held back on its way."""
    client = _SlowFirstClient({"message 0"}, 0.2)
    pacer = _pacer(gap=0.05)
    first = threading.Thread(target=send_all, args=(client, [_job(0, CUSTOMER)], pacer))
    first.start()
    time.sleep(0.1)  # the first batch's message is on its way, its gap long past
    outcomes = send_all(client, [_job(1, CUSTOMER)], pacer)
    first.join()
    assert _statuses(outcomes) == ["sent"]
    assert [body for body, _ in client.left] == ["message 0", "message 1"]
    assert client.left[1][1] - client.left[0][1] >= 0.05 - 1e-3


def test_a_message_given_up_frees_its_customers_line(sb, client):
    """A job that gets no token before the deadline gives its turn up: the line is empty."""
    pacer = _pacer(rate=1, burst=1)
    deadline = time.monotonic() + 0.2
    outcomes = send_all(client, _jobs(3, CUSTOMER), pacer, deadline=deadline)
    assert _statuses(outcomes)[0] == "sent"
    assert pacer.gaps._turns == {}


def test_a_cancelled_batch_frees_its_customers_lines():
    """The loop stops mid-batch (shutdown): the turns in flight and those no worker took yet
    give up their place, so a later batch's messages to those customers are not held for ever."""
    pacer = _pacer(gap=0.5)
    jobs = _jobs(2, CUSTOMER) + _jobs(3)
    schedule = sender._book_slots(jobs, pacer, None, [None] * len(jobs))
    assert pacer.gaps._turns

    async def never_answers(payload, before_write):
        await asyncio.sleep(3600)

    async def cancel_mid_batch():
        outcomes = [None] * len(jobs)
        task = asyncio.ensure_future(
            sender._send_scheduled(never_answers, jobs, schedule, pacer, 1, None, outcomes)
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_mid_batch())
    assert pacer.gaps._turns == {}
