"""Concurrent sending of a batch of Cloud API messages, paced per business number and recipient.

The outbox cron claims a batch of queued messages in its own cursor, builds their payloads as
:class:`Job` objects, calls :func:`send_all` and writes the returned :class:`Outcome` objects back
in its cursor. The sends run as coroutines of one event loop per process, in a thread of their own
(:func:`run`), never touching the database: hundreds in flight cost one thread, not hundreds.

Pacing comes from a :class:`~.pacing.Pacer`: each job first waits for its recipient's slot and
turn (booked in job order, so that two messages to one customer leave in their order, within a
batch and across batches, however long the first is held back) and then for a token of the
business number's bucket, taken just before the request so that a busy pool cannot save tokens up
and fire them together. Nothing is retried here: the cron requeues the ``retry`` outcomes.
"""

import asyncio
import contextlib
import functools
import gc
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .cloud_api import CloudApiError, OutcomeUnknownError, RetryableError, http_pool
from .http_async import AsyncPool
from .pacing import MIN_SLEEP

try:  # libuv's event loop: a send costs the loop about a fifth less CPU than asyncio's own
    import uvloop
except ImportError:  # not installed (or not on this platform): asyncio's loop
    uvloop = None

_logger = logging.getLogger(__name__)

SENT, RETRY, FAILED, UNKNOWN = "sent", "retry", "failed", "unknown"

PAIR_RATE_CODE = 131056  # too many messages to one recipient
THROUGHPUT_PENALTY = 1.0  # seconds without any send after a throughput error (130429, HTTP 429)
PAIR_RATE_PENALTY = 6.0  # seconds without sending to a recipient after error 131056


@dataclass
class Job:
    """One message to send: ``key`` identifies it for the caller (e.g. a record id),
    ``recipient`` is the customer's number (normalised alike for all jobs: it keys the spacing)
    and ``payload`` the argument of :meth:`CloudApiClient.send_message`."""

    key: object
    recipient: str
    payload: dict


@dataclass
class Outcome:
    """What became of a :class:`Job`.

    ``status`` is ``"sent"`` (with ``wamid``), ``"retry"`` (not sent, or refused in a way that
    may succeed later: requeue it, not before ``retry_after`` seconds when given), ``"failed"``
    (will fail again: ``error`` says why) or ``"unknown"`` (sent but its answer was lost: never
    resend automatically, the status webhooks will tell). ``error`` is the
    :class:`~.cloud_api.CloudApiError`, or any other exception raised while sending.
    """

    key: object
    status: str
    wamid: str | None = None
    error: BaseException | None = None
    retry_after: float | None = None


def pooled_session(max_workers):
    """A ``urllib3.PoolManager`` keeping up to ``max_workers`` connections per host, for the
    client's calls other than the sends (media uploads while preparing a batch...); a thread
    beyond them waits for a free one (``block=True``) rather than opening one more.

    Pass it as ``session=`` to :class:`~.cloud_api.CloudApiClient` (and ``clear()`` it when
    done).
    """
    return http_pool(max_workers, block=True)


def async_pool(max_workers):
    """The :class:`~.http_async.AsyncPool` of the sends: up to ``max_workers`` in flight, hence
    connections kept alive. Pass it as ``async_pool=`` to the client; it belongs to the event loop
    of :func:`run` of this process."""
    return AsyncPool(max_workers)


def new_event_loop():
    """An event loop for the sends: uvloop's when it is installed, else asyncio's."""
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


class _LoopThread:
    """The process's event loop of the sends (see :func:`new_event_loop`), running in a daemon
    thread, started on first use (and again in a forked child: a thread does not survive a
    fork)."""

    _lock = threading.Lock()
    _loop = None
    _pid = None

    @classmethod
    def loop(cls):
        with cls._lock:
            if cls._loop is None or cls._pid != os.getpid():
                loop = new_event_loop()
                threading.Thread(target=loop.run_forever, name="wa-send-loop", daemon=True).start()
                cls._loop, cls._pid = loop, os.getpid()
            return cls._loop


# While the sends' loop shares the process with a thread planning the next batch, a short GIL
# switch interval lets the loop write its requests on time (the default 5 ms makes it wait).
SENDING_SWITCH_INTERVAL = 0.0005


_heap_frozen_in = None  # the process whose heap freeze_heap() froze


def freeze_heap():
    """Once per process: collect, then set what the process holds now out of the collector's
    reach (``gc.freeze``). In an Odoo worker that is its registry, some 200,000 objects; a full
    collection walks them all, holding the interpreter half a second on a busy machine, and the
    sends' loop with it: the wire idle, then what was held back leaving in a bunch. Those objects
    live as long as the process anyway: what becomes garbage among them later (a registry
    replaced after a module upgrade) is not collected, which Odoo's memory limits bound (a worker
    past them is replaced)."""
    global _heap_frozen_in  # noqa: PLW0603 (once per process)
    if _heap_frozen_in != os.getpid():
        gc.collect()
        gc.freeze()
        _heap_frozen_in = os.getpid()


@contextlib.contextmanager
def sends_first():
    """Within the block, Python hands the interpreter over between threads every
    :data:`SENDING_SWITCH_INTERVAL` seconds at most, so the sends' loop is not held back by the
    thread preparing the next batch; the interval before is restored after. The process's heap
    is frozen first (:func:`freeze_heap`)."""
    freeze_heap()
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SENDING_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run(coroutine):
    """Run ``coroutine`` on the sends' event loop and return its result (from any other
    thread: the caller waits)."""
    return asyncio.run_coroutine_threadsafe(coroutine, _LoopThread.loop()).result()


def send_all(client, jobs, pacer, *, max_workers=64, deadline=None):
    """Send every job of ``jobs`` through ``client.send_message_async`` (a client with an
    ``async_pool``) or else ``client.send_message`` (in up to ``max_workers`` threads), at most
    ``max_workers`` at once, paced by ``pacer``; return one :class:`Outcome` per job, in the order
    of ``jobs``.

    ``deadline`` is a ``time.monotonic()`` instant (the pacer's clock must be the same one): a
    job whose recipient slot lies beyond it is not sent and gets a ``retry`` outcome whose
    ``retry_after`` is the delay until that slot; a job that cannot start, or get a token of the
    bucket, before it is not sent either (``retry``, no ``retry_after``; its recipient slot stays
    booked). No exception of one job ever breaks the batch.
    """
    jobs = list(jobs)
    outcomes = [None] * len(jobs)
    pacer.gaps.new_batch()
    schedule = _book_slots(jobs, pacer, deadline, outcomes)
    if schedule:
        workers = max(1, min(int(max_workers), len(schedule)))
        if getattr(client, "async_pool", None) is not None:
            run(
                _send_scheduled(
                    client.send_message_async, jobs, schedule, pacer, workers, deadline, outcomes
                )
            )
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wa-send") as threads:

                async def send(payload, before_write):
                    (await before_write())()  # a thread's request leaves a moment later
                    loop = asyncio.get_running_loop()
                    return await loop.run_in_executor(threads, client.send_message, payload)

                run(_send_scheduled(send, jobs, schedule, pacer, workers, deadline, outcomes))
    _log_summary(outcomes)
    return outcomes


def _book_slots(jobs, pacer, deadline, outcomes):
    """Book each job's recipient slot and turn, in job order; return ``[(due, index, turn)]``
    sorted by due instant (``time.monotonic()``), after filling ``outcomes`` for the jobs beyond
    ``deadline``."""
    schedule = []
    for index, job in enumerate(jobs):
        if pacer.gaps.held(job.recipient, job.key):  # an earlier one went back to the queue
            outcomes[index] = Outcome(job.key, RETRY)
            continue
        now = time.monotonic()
        max_delay = None if deadline is None else deadline - now
        booked = pacer.gaps.reserve_turn(job.recipient, max_delay=max_delay)
        if booked is None:
            wait = pacer.gaps.delay(job.recipient)
            outcomes[index] = Outcome(job.key, RETRY, retry_after=wait)
            pacer.gaps.hold(job.recipient, job.key)
        else:
            delay, turn = booked
            schedule.append((now + delay, index, turn))
    schedule.sort(key=lambda item: item[0])  # stable: equal instants keep the order of jobs
    return schedule


async def _send_scheduled(send, jobs, schedule, pacer, workers, deadline, outcomes):
    """Send the ``schedule``'s jobs (``[(due, index, turn)]``, by due instant) concurrently, at
    most ``workers`` at once, filling ``outcomes``.

    ``workers`` coroutines take the jobs one after the other, in due order, each sending one at
    a time: a batch costs as many tasks as sends in flight, not one task (and one timer) per job,
    and its first sends leave without waiting for thousands of tasks to be made first."""
    # the sends held by the window wait their turn in line, not all woken at each free place
    departure = functools.partial(hold_departure, pacer, asyncio.Lock())
    pending = iter(schedule)  # shared: each job is taken by one worker
    send_one = functools.partial(
        _send_one, send, pacer=pacer, deadline=deadline, departure=departure
    )

    async def worker():
        for due, index, turn in pending:
            job = jobs[index]
            try:
                outcomes[index] = outcome = await send_one(job, (due, turn))
                if outcome.status == RETRY:  # the later ones to the customer do not overtake it
                    pacer.gaps.hold(job.recipient, job.key)
            except Exception as exc:  # _send_one catches everything: only a bug gets here
                _logger.exception("Sending WhatsApp message %r crashed", job.key)
                outcomes[index] = Outcome(job.key, FAILED, error=exc)
            finally:
                # the answer is known: the customer's next message may leave (after its gap)
                pacer.gaps.release(job.recipient, turn)

    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        # cancelled (the loop shutting down): the turns no worker took give up their place, or
        # their customers' later messages would wait for them in this process for ever
        for _due, index, turn in pending:
            pacer.gaps.release(jobs[index].recipient, turn)


async def _send_one(send, job, slot, *, pacer, deadline, departure):
    """Wait for the recipient ``slot`` (``(due, turn)``: its instant, then its turn: the
    earlier messages to the customer left) and a token, then send ``job``, its request held by
    ``departure`` until the window lets it leave."""
    due, turn = slot
    delay = due - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    # before a token: a send waiting for an earlier one to its customer takes none (it could
    # not leave before gap after that one anyway)
    while wait := pacer.gaps.until_turn(job.recipient, turn):
        if deadline is not None and time.monotonic() + wait > deadline:
            return Outcome(job.key, RETRY)
        await asyncio.sleep(wait)
    # its turn: every earlier message to the customer was answered; one may have gone back to
    # the queue, and this one then waits for it there
    if pacer.gaps.held(job.recipient, job.key):
        return Outcome(job.key, RETRY)
    if not await _take_token(pacer, deadline):
        return Outcome(job.key, RETRY)
    try:
        result = await send(job.payload, functools.partial(departure, job.recipient, turn))
    except CloudApiError as exc:
        return error_outcome(job, exc, pacer)
    except Exception as exc:
        _logger.warning("Sending WhatsApp message %r failed: %r", job.key, exc)
        return Outcome(job.key, FAILED, error=exc)
    return Outcome(job.key, SENT, wamid=result.wamid)


async def hold_departure(pacer, line, recipient, turn=None):
    """Wait until ``pacer`` lets a send to ``recipient`` leave (its ``turn`` among the sends to
    that customer, its gap, then the window), and record it as leaving now; return the function
    to call once its bytes are written (which counts it from then on). The sends held by the
    window queue on ``line`` (an ``asyncio.Lock``), one at a time asking it; a send waiting for
    its turn or its customer's gap waits apart, holding nobody up.

    Awaited by the transport right before the request's bytes go to the socket (see
    :meth:`.http_async.AsyncPool.request`), not when the send's coroutine starts: between the two,
    a busy event loop (new connections, hundreds of answers at once, the process starved of
    CPU) delays each request by a different amount, and sends paced at their start leave
    bunched, more than the rate plus the burst in one second, or closer than the gap to one
    customer."""
    while True:
        spacing = pacer.gaps.until_send(recipient, turn)
        if spacing:
            await asyncio.sleep(spacing)
            continue
        if not line.locked() and not pacer.depart(recipient, turn):
            break
        async with line:
            while wait := pacer.window.until_room():
                await asyncio.sleep(wait)
            if not pacer.depart(recipient, turn):
                break
    return functools.partial(pacer.departed, recipient)


async def _take_token(pacer, deadline):
    """Take a token of the bucket, waiting at most until ``deadline``; False when it passes (a
    penalty while waiting voids the booking: book again, after it)."""
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        booked = pacer.bucket.book(timeout=remaining)
        if booked is None:
            return False
        wait, epoch = booked
        if wait <= MIN_SLEEP:
            return True
        await asyncio.sleep(wait)
        if pacer.bucket.holds(epoch):
            return True


def error_outcome(job, error, pacer):
    """The :class:`Outcome` of ``job`` failing with the Cloud API ``error``, slowing ``pacer``
    down on rate limits: the whole number on throughput errors, the recipient on 131056."""
    if isinstance(error, OutcomeUnknownError):
        return Outcome(job.key, UNKNOWN, error=error)
    if not isinstance(error, RetryableError):
        return Outcome(job.key, FAILED, error=error)
    retry_after = None
    if error.code == PAIR_RATE_CODE:
        pacer.gaps.penalize(job.recipient, PAIR_RATE_PENALTY)
        retry_after = PAIR_RATE_PENALTY
    elif error.failure_type == "throttled":  # 130429 and the other throughput limits
        pacer.bucket.penalize(THROUGHPUT_PENALTY)
        retry_after = THROUGHPUT_PENALTY
    return Outcome(job.key, RETRY, error=error, retry_after=retry_after)


def _log_summary(outcomes):
    """Log how many jobs ended in each status."""
    counts = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if counts:
        _logger.info("WhatsApp batch of %d: %s", len(outcomes), counts)
