"""Pacing of outbound Cloud API sends: throughput per business number, spacing per customer.

Meta allows about 80 messages per second per business phone number (1,000 once upgraded) and
answers error 130429 beyond it; it also refuses more than about one message every few seconds to
the same customer (error 131056). This module provides, in plain thread-safe Python:

* :class:`TokenBucket`: the per-number throughput limit, shared by the sending threads;
* :class:`RecipientGap`: the per-customer spacing, booking successive slots for one recipient;
* :func:`get_pacer`: a process-wide registry, so that successive cron runs of one database and
  account share the same :class:`Pacer` (its bucket and gaps outlive one batch).

Clocks and sleeps are injectable so that tests can run on a fake clock.
"""

import itertools
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

# Waits shorter than this are not slept: the token is handed out that little bit early. Slots come
# from a schedule, not from wake-up times, so neither this nor a late wake-up accumulates.
MIN_SLEEP = 0.0005
_EPSILON = 1e-9  # float noise tolerated when comparing instants
WINDOW_SLACK = 0.001  # seconds a send stays counted by a SendWindow beyond its window
# A send whose turn has not come (an earlier message to its customer has not left, or has not been
# answered) looks again after the gap, or this when the gap is shorter: it may not leave before
# gap after that one left.
TURN_POLL = 0.005


def _positive(name, value):
    """``value`` as a float when it is a finite number > 0, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
    return float(value)


def default_burst(rate):
    """Burst of a bucket created without one: a tenth of a second of traffic, at least 1."""
    return max(1.0, rate * 0.1)


# --------------------------------------------------------------------------------------------------
# Throughput
# --------------------------------------------------------------------------------------------------


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens per second, holding at most ``burst`` tokens.

    Implemented as a schedule (GCRA): the bucket keeps the instant ``_tat`` at which it will be
    full again, so tokens accrue fractionally and each caller books the next free slot under the
    lock, then sleeps outside of it until that slot. Callers are served in the order they asked,
    nobody spins, and 1,000 tokens per second stay accurate even though each wait is about 1 ms.

    ``burst`` defaults to :func:`default_burst` (``max(1, rate / 10)``), so that a fresh bucket
    does not fire a whole second of messages at once; the bucket starts full.
    """

    def __init__(self, rate, burst=None, clock=time.monotonic, sleep=time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._explicit_burst = None if burst is None else _positive("burst", burst)
        self.rate = _positive("rate", rate)
        self.burst = self._explicit_burst or default_burst(self.rate)
        self._tat = clock()  # instant at which the bucket is full again (<= now: it is full)
        self._blocked_until = -math.inf
        self._epoch = 0  # bumped by penalize(): slots booked before it are void

    def __repr__(self):
        return f"<TokenBucket rate={self.rate:g}/s burst={self.burst:g}>"

    @property
    def clock(self):
        """The clock the bucket reads (``time.monotonic`` unless a test gave another)."""
        return self._clock

    @property
    def _interval(self):
        """Seconds needed to accrue one token."""
        return 1.0 / self.rate

    def _book(self, tokens, timeout):
        """Under the lock: book ``tokens`` and return ``(wait, epoch)``; ``(None, None)`` (nothing
        booked) when the wait would exceed ``timeout``."""
        now = self._clock()
        tat = max(self._tat, now) + tokens * self._interval
        start = max(now, tat - self.burst * self._interval, self._blocked_until)
        wait = start - now
        if timeout is not None and wait > timeout + _EPSILON:
            return None, None
        self._tat = tat
        return wait, self._epoch

    def book(self, tokens=1, timeout=None):
        """Book ``tokens`` without sleeping: ``(wait, epoch)``, the seconds until they have
        accrued and the booking's epoch (see :meth:`holds`), or ``None`` (nothing booked) when
        the wait would exceed ``timeout``. For callers that sleep their own way (``asyncio``)."""
        with self._lock:
            wait, epoch = self._book(tokens, timeout)
        return None if wait is None else (wait, epoch)

    def holds(self, epoch):
        """Whether a slot booked at ``epoch`` still stands (no :meth:`penalize` since)."""
        with self._lock:
            return epoch == self._epoch

    def acquire(self, tokens=1, timeout=None):
        """Take ``tokens``, sleeping until they have accrued; True once they are taken.

        With ``timeout`` (seconds), returns False at once, taking nothing, when the tokens cannot
        be had within it. A :meth:`penalize` call while sleeping voids the booked slot: the caller
        books a new one, after the penalty.
        """
        if tokens <= 0:
            return True
        deadline = None if timeout is None else self._clock() + max(timeout, 0.0)
        while True:
            remaining = None if deadline is None else max(deadline - self._clock(), 0.0)
            booked = self.book(tokens, remaining)
            if booked is None:
                return False
            wait, epoch = booked
            if wait <= MIN_SLEEP:
                return True
            self._sleep(wait)
            if self.holds(epoch):
                return True

    def try_acquire(self, tokens=1):
        """Take ``tokens`` if they are available right now, without sleeping."""
        return self.acquire(tokens, timeout=0)

    def set_rate(self, rate):
        """Change the rate, keeping the tokens owed; a default burst follows the new rate."""
        rate = _positive("rate", rate)
        with self._lock:
            now = self._clock()
            missing = max(self._tat - now, 0.0) * self.rate  # tokens short of a full bucket
            self.rate = rate
            self.burst = self._explicit_burst or default_burst(rate)
            self._tat = now + missing * self._interval

    def penalize(self, seconds):
        """Hand out no token before ``seconds`` from now (e.g. after an HTTP 429 / 130429).

        The bucket is then empty: after the pause tokens come back at ``rate``, one by one, and
        callers sleeping on slots booked before this call book again.
        """
        if seconds <= 0:
            return
        with self._lock:
            until = max(self._blocked_until, self._clock() + seconds)
            self._blocked_until = until
            self._tat = until + (self.burst - 1) * self._interval
            self._epoch += 1


# --------------------------------------------------------------------------------------------------
# Spacing per recipient
# --------------------------------------------------------------------------------------------------


class RecipientGap:
    """Thread-safe spacing of the sends to each recipient: ``gap_seconds`` between two of them.

    Remembers, per recipient, the instant from which the next message may go. An entry whose
    instant has passed means nothing any more and is dropped; at most ``max_entries`` are kept
    (beyond, the least recently booked go first), so memory stays flat however many recipients.

    The slots booked with :meth:`reserve_turn` also keep their order when they leave: each is a
    turn in its recipient's line, and a send may leave only once the turns booked before it have
    ended (:meth:`until_send`, :meth:`sent`, :meth:`release`), so that a message held back (by
    the window, a slow connection, a starved process) is never overtaken by the next one to the
    same customer, in its batch or in a later one. Every turn must end in :meth:`sent` or
    :meth:`release` (lines hold only the turns not yet ended); the sender ends a turn once its
    send's answer is known, so that a message refused for a retry is not overtaken either: its
    customer is then held (:meth:`hold`) and the later messages to them give up their turn.
    """

    def __init__(self, gap_seconds, clock=time.monotonic, max_entries=100_000):
        if gap_seconds < 0:
            raise ValueError(f"gap_seconds must be >= 0, not {gap_seconds!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, not {max_entries!r}")
        self.gap = float(gap_seconds)
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._next = (
            OrderedDict()
        )  # recipient -> instant of its next free slot, oldest booked first
        self._sent = OrderedDict()  # recipient -> instant its last send left, oldest first
        self._turns = {}  # recipient -> deque of its turns not yet ended, in booking order
        self._turn_numbers = itertools.count(1)
        self._batch = 0  # batches begun (see new_batch)
        self._held = {}  # recipient -> (batch, key) of its earliest message sent back to retry

    def __len__(self):
        with self._lock:
            return len(self._next)

    def until_send(self, recipient, turn=None):
        """Seconds until a send to ``recipient`` may leave: ``gap`` after the previous one that
        really left (see :meth:`sent`; a slot booked in advance can drift closer when the
        earlier message waited for a token or for the window); nothing is recorded. With
        ``turn`` (see :meth:`reserve_turn`) not yet first in its line, the seconds to wait
        before asking again (an earlier message has not left or not been answered: this one goes
        at least ``gap`` after it left, so looking again after ``gap`` loses little)."""
        with self._lock:
            if not self._first(recipient, turn):
                return max(self.gap, TURN_POLL)
            last = self._sent.get(recipient)
            return 0.0 if last is None else max(last + self.gap - self._clock(), 0.0)

    def new_batch(self):
        """A batch begins: the customers held since before the previous one are free again
        (see :meth:`hold`)."""
        with self._lock:
            self._batch += 1
            for recipient, (batch, _key) in list(self._held.items()):
                if batch < self._batch - 1:
                    del self._held[recipient]

    def hold(self, recipient, key):
        """The message ``key`` to ``recipient`` goes back to the queue for a retry: the later
        ones to them (a greater ``key``: keys grow in queueing order, as record ids) do not
        leave in this batch or the next (:meth:`held`). The next batch was claimed before the
        retry was recorded; the ones after it are not given the later messages before the one
        sent back (the claim keeps them behind it)."""
        with self._lock:
            held = self._held.get(recipient)
            if held is not None and held[1] <= key:
                key = held[1]
            self._held[recipient] = (self._batch, key)

    def free_held(self):
        """Every customer held for a retry is free again (see :func:`free_held`)."""
        with self._lock:
            self._held.clear()

    def held(self, recipient, key):
        """Whether the message ``key`` to ``recipient`` must not leave: an earlier one to them
        went back to the queue (see :meth:`hold`)."""
        with self._lock:
            held = self._held.get(recipient)
            return held is not None and held[0] >= self._batch - 1 and key > held[1]

    def until_turn(self, recipient, turn):
        """0.0 once ``turn`` is first in its recipient's line (every turn booked before it
        ended), else the seconds to wait before asking again, as :meth:`until_send`."""
        with self._lock:
            return 0.0 if self._first(recipient, turn) else max(self.gap, TURN_POLL)

    def release(self, recipient, turn):
        """``turn`` ends: its send was answered, or its message does not leave now."""
        if turn is None:
            return
        with self._lock:
            self._end_turn(recipient, turn)

    def _first(self, recipient, turn):
        """Under the lock: whether ``turn`` (None: no turn) may leave before any other."""
        if turn is None:
            return True
        line = self._turns.get(recipient)
        return not line or line[0] == turn

    def _end_turn(self, recipient, turn):
        """Under the lock: take ``turn`` out of its recipient's line (usually its head)."""
        line = self._turns.get(recipient)
        if not line:
            return
        if line[0] == turn:
            line.popleft()
        elif turn in line:
            line.remove(turn)
        if not line:
            del self._turns[recipient]

    def sent(self, recipient, turn=None):
        """Record a send to ``recipient`` leaving now (ending its ``turn``); forget the sends
        older than ``gap``."""
        with self._lock:
            if turn is not None:
                self._end_turn(recipient, turn)
            now = self._clock()
            self._sent[recipient] = now
            self._sent.move_to_end(recipient)
            horizon = now - self.gap
            while self._sent:
                oldest, instant = next(iter(self._sent.items()))
                if instant >= horizon and len(self._sent) <= self.max_entries:
                    break
                del self._sent[oldest]

    def set_gap(self, gap_seconds):
        """Change the gap for the slots booked from now on."""
        if gap_seconds < 0:
            raise ValueError(f"gap_seconds must be >= 0, not {gap_seconds!r}")
        with self._lock:
            self.gap = float(gap_seconds)

    def reserve(self, recipient, max_delay=None):
        """Book the next slot of ``recipient``; return its delay in seconds from now (0: now).

        Concurrent or successive callers for one recipient get successive slots, ``gap`` apart.
        With ``max_delay``, a slot further away than that is not booked and ``None`` is returned.
        """
        with self._lock:
            return self._reserve(recipient, max_delay)

    def _reserve(self, recipient, max_delay):
        """Under the lock: :meth:`reserve`."""
        now = self._clock()
        self._expire(now)
        slot = max(now, self._next.get(recipient, now))
        if max_delay is not None and slot - now > max_delay + _EPSILON:
            return None
        self._store(recipient, slot + self.gap, now)
        return slot - now

    def reserve_turn(self, recipient, max_delay=None):
        """:meth:`reserve`, and a turn in ``recipient``'s line: ``(delay, turn)``, or ``None``
        (nothing booked) beyond ``max_delay``. The send of the slot passes ``turn`` to
        :meth:`until_send` and :meth:`sent`, or gives it up with :meth:`release`."""
        with self._lock:
            delay = self._reserve(recipient, max_delay)
            if delay is None:
                return None
            turn = next(self._turn_numbers)
            self._turns.setdefault(recipient, deque()).append(turn)
            return delay, turn

    def delay(self, recipient):
        """Seconds until ``recipient`` may next be sent to, without booking anything."""
        with self._lock:
            return max(self._next.get(recipient, -math.inf) - self._clock(), 0.0)

    def penalize(self, recipient, seconds):
        """Send nothing more to ``recipient`` for ``seconds`` (e.g. after error 131056)."""
        with self._lock:
            now = self._clock()
            self._store(recipient, max(self._next.get(recipient, now), now + seconds), now)

    def _store(self, recipient, instant, now):
        """Under the lock: remember ``instant`` for ``recipient`` as its most recent booking."""
        if instant <= now:
            self._next.pop(recipient, None)
            return
        self._next[recipient] = instant
        self._next.move_to_end(recipient)
        while len(self._next) > self.max_entries:
            self._next.popitem(last=False)

    def _expire(self, now):
        """Under the lock: drop the oldest bookings whose instant has passed."""
        while self._next:
            recipient, instant = next(iter(self._next.items()))
            if instant > now:
                return
            del self._next[recipient]


# --------------------------------------------------------------------------------------------------
# Process-wide registry
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# What actually left, per second
# --------------------------------------------------------------------------------------------------


class SendWindow:
    """Thread-safe check of what really leaves: at most ``limit`` sends in any ``seconds``.

    The bucket paces the slots it hands out; a sender that stalls (a loaded machine, the
    interpreter busy elsewhere) can still let the slots of the stall leave together, later. This
    remembers the instants the last ``limit`` sends left and makes one more wait until the oldest
    of them is ``seconds`` old, so that no one-second window ever holds more than the bucket's
    rate plus its burst. It is asked right before the bytes of a request are written and told
    right after (:meth:`left`, see ``sender.hold_departure``), so the instants it keeps are the
    instants the sends left; a send is counted for :data:`WINDOW_SLACK` more than ``seconds``, so
    that the microseconds between the write and the clock reading never let one more into a
    window measured on the wire.
    """

    def __init__(self, limit, seconds=1.0, clock=time.monotonic):
        self.limit = max(1, int(limit))
        self.seconds = seconds + WINDOW_SLACK
        self._clock = clock
        self._lock = threading.Lock()
        self._left = deque()

    def set_limit(self, limit):
        with self._lock:
            self.limit = max(1, int(limit))

    def claim(self):
        """Record a send leaving now and return 0.0, or return the seconds to wait (nothing
        recorded: ask again after them)."""
        with self._lock:
            now = self._clock()
            wait = self._wait(now)
            if not wait:
                self._left.append(now)
            return wait

    def left(self):
        """The send :meth:`claim` just let through left only now (right after its bytes were
        written): count it from now. Call it from the thread that claimed, nothing claimed in
        between (as the sender's event loop does)."""
        with self._lock:
            if self._left:
                self._left[-1] = max(self._left[-1], self._clock())

    def until_room(self):
        """Seconds until one more send may leave (0.0: now); nothing recorded."""
        with self._lock:
            return self._wait(self._clock())

    def _wait(self, now):
        """Under the lock: forget the sends out of the window; the seconds until room."""
        while self._left and self._left[0] <= now - self.seconds:
            self._left.popleft()
        if len(self._left) >= self.limit:
            return max(self._left[len(self._left) - self.limit] + self.seconds - now, 1e-4)
        return 0.0


def window_limit(bucket):
    """Sends allowed in any one second by ``bucket``: its rate plus its burst."""
    return int(bucket.rate + bucket.burst)


@dataclass(eq=False)
class Pacer:
    """The pacing state of one business number: its :class:`TokenBucket` and
    :class:`RecipientGap`."""

    bucket: TokenBucket
    gaps: RecipientGap
    window: SendWindow = None

    def __post_init__(self):
        if self.window is None:
            self.window = SendWindow(window_limit(self.bucket), clock=self.bucket.clock)

    def depart(self, recipient, turn=None):
        """Right before the bytes of a send to ``recipient`` are written: 0.0 when its turn, its
        gap and the window let it leave, recorded as leaving now by both; else the seconds to
        wait (nothing recorded). The caller writes at once, nothing awaited in between, and ends
        the ``turn`` once the answer is known (:meth:`RecipientGap.release`)."""
        spacing = self.gaps.until_send(recipient, turn)
        if spacing:
            return spacing
        wait = self.window.claim()
        if not wait:
            self.gaps.sent(recipient)
        return wait

    def departed(self, recipient):
        """The send to ``recipient`` that :meth:`depart` let go has left, right now: the
        window and the gap count it from this instant, not the instant it was let go (a
        process starved of CPU between the two would otherwise let the next ones go early)."""
        self.window.left()
        self.gaps.sent(recipient)


_PACERS = {}
_PACERS_LOCK = threading.Lock()


def get_pacer(key, rate, gap):
    """The process-wide :class:`Pacer` of ``key`` (e.g. ``(db name, account id)``).

    Created at ``rate`` messages per second and ``gap`` seconds between two messages to one
    recipient on first use; later calls return the same object, with the rate and gap updated
    when they changed.
    """
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = Pacer(TokenBucket(rate), RecipientGap(gap))
            return pacer
    if pacer.bucket.rate != rate:
        pacer.bucket.set_rate(rate)
        pacer.window.set_limit(window_limit(pacer.bucket))
    if pacer.gaps.gap != gap:
        pacer.gaps.set_gap(gap)
    return pacer


def free_held(db):
    """The customers held for a retry (:meth:`RecipientGap.hold`) by the pacers of ``db`` (the
    first part of their keys) go free: a new run of the outbox claims after every retry of the
    previous one was recorded, and the claim keeps the later messages behind those."""
    with _PACERS_LOCK:
        pacers = [pacer for key, pacer in _PACERS.items() if key[:1] == (db,)]
    for pacer in pacers:
        pacer.gaps.free_held()


def forget_pacer(key):
    """Drop the :class:`Pacer` of ``key`` from the registry (e.g. when an account is deleted)."""
    with _PACERS_LOCK:
        _PACERS.pop(key, None)
