"""Pacing of outbound sends (``tools/pacing.py``): token bucket, recipient gaps, registry."""

import itertools
import math
import threading
import time

import pytest
from wa_tools import pacing
from wa_tools.pacing import RecipientGap, TokenBucket


class FakeClock:
    """A manual clock; ``sleep`` advances it and records the durations (``on_sleep`` hook)."""

    def __init__(self, now=0.0):
        self.now = now
        self.sleeps = []
        self.on_sleep = None

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        if self.on_sleep:
            self.on_sleep(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock(1000.0)


def _bucket(clock, rate, burst=None):
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep)


def _take_all(bucket):
    """How many tokens the bucket hands out right now."""
    return sum(1 for _ in itertools.takewhile(lambda _: bucket.try_acquire(), range(10_000)))


# -- TokenBucket, fake clock


def test_default_burst_is_a_tenth_of_a_second_at_least_one():
    assert TokenBucket(80).burst == 8
    assert TokenBucket(1000).burst == 100
    assert TokenBucket(5).burst == 1
    assert TokenBucket(5, burst=3).burst == 3


@pytest.mark.parametrize("rate", [0, -1, math.nan, math.inf, True, "80"])
def test_invalid_rate(rate):
    with pytest.raises(ValueError):
        TokenBucket(rate)


def test_fresh_bucket_gives_its_burst_then_one_token_per_interval(clock):
    bucket = _bucket(clock, 10, burst=3)
    assert _take_all(bucket) == 3
    clock.advance(0.099)
    assert not bucket.try_acquire()
    clock.advance(0.001)
    assert _take_all(bucket) == 1
    clock.advance(10)  # refills up to the burst only
    assert _take_all(bucket) == 3


def test_tokens_accrue_fractionally_at_1000_per_second(clock):
    bucket = _bucket(clock, 1000, burst=1)
    assert bucket.try_acquire()
    clock.advance(0.0006)
    assert not bucket.try_acquire()
    clock.advance(0.0004)
    assert bucket.try_acquire()
    clock.advance(0.25)
    assert _take_all(bucket) == 1


def test_acquire_sleeps_until_its_slot(clock):
    bucket = _bucket(clock, 10, burst=1)
    start = clock.now
    for _ in range(5):
        assert bucket.acquire()
    assert clock.now - start == pytest.approx(0.4)
    assert clock.sleeps == pytest.approx([0.1] * 4)


def test_acquire_several_tokens(clock):
    bucket = _bucket(clock, 10, burst=5)
    assert bucket.acquire(5)
    assert bucket.acquire(2)
    assert clock.sleeps == pytest.approx([0.2])


def test_acquire_timeout_takes_nothing(clock):
    bucket = _bucket(clock, 10, burst=1)
    assert bucket.acquire()
    assert not bucket.acquire(timeout=0.05)
    assert clock.sleeps == []
    assert bucket.acquire(timeout=0.1)
    assert clock.sleeps == pytest.approx([0.1])


def test_tiny_waits_are_not_slept(clock):
    bucket = _bucket(clock, 1000, burst=1)
    bucket.acquire()
    clock.advance(0.0006)
    assert bucket.acquire()  # 0.4 ms early: handed out without a sleep
    assert clock.sleeps == []
    assert bucket.acquire()  # the schedule is kept: the next slot is 1.4 ms away
    assert clock.sleeps == pytest.approx([0.0014])


def test_penalize_blocks_then_restarts_without_burst(clock):
    bucket = _bucket(clock, 10, burst=5)
    bucket.penalize(2.0)
    clock.advance(1.999)
    assert not bucket.try_acquire()
    clock.advance(0.001)
    assert _take_all(bucket) == 1
    clock.advance(0.1)
    assert _take_all(bucket) == 1
    clock.advance(1.0)
    assert _take_all(bucket) == 5


def test_penalize_never_shortens_a_pause(clock):
    bucket = _bucket(clock, 10)
    bucket.penalize(2.0)
    bucket.penalize(0.5)
    bucket.penalize(0)
    clock.advance(1.9)
    assert not bucket.try_acquire()
    clock.advance(0.1)
    assert bucket.try_acquire()


def test_penalize_voids_slots_booked_by_sleepers(clock):
    bucket = _bucket(clock, 10, burst=1)
    start = clock.now
    assert bucket.acquire()

    def penalize_once(_seconds):
        clock.on_sleep = None
        bucket.penalize(1.0)

    clock.on_sleep = penalize_once
    assert bucket.acquire()  # booked +0.1, penalized meanwhile: books again at +1.0
    assert clock.sleeps == pytest.approx([0.1, 0.9])
    assert clock.now - start == pytest.approx(1.0)


def test_set_rate_keeps_missing_tokens_and_rescales_default_burst(clock):
    bucket = _bucket(clock, 10)
    assert _take_all(bucket) == 1
    bucket.set_rate(100)
    assert bucket.rate == 100 and bucket.burst == 10
    assert _take_all(bucket) == 9  # the token taken at rate 10 is still missing
    clock.advance(0.05)
    assert _take_all(bucket) == 5


def test_set_rate_keeps_an_explicit_burst(clock):
    bucket = _bucket(clock, 10, burst=2)
    bucket.set_rate(1000)
    assert bucket.burst == 2
    with pytest.raises(ValueError):
        bucket.set_rate(0)


def test_set_rate_slows_down_owed_tokens(clock):
    bucket = _bucket(clock, 100, burst=1)
    for _ in range(3):
        bucket.acquire()
    bucket.set_rate(10)
    clock.sleeps.clear()
    assert bucket.acquire()
    assert clock.sleeps == pytest.approx([0.1])


# -- TokenBucket, real clock


class _SlotBucket(TokenBucket):
    """A real-clock bucket that records each booking: (instant asked, instant booked)."""

    def __init__(self, *args, **kwargs):
        self.read = None
        super().__init__(*args, clock=self._read_clock, **kwargs)
        self.bookings = []

    def _read_clock(self):
        self.read = time.monotonic()
        return self.read

    def _book(self, tokens, timeout):
        wait, epoch = super()._book(tokens, timeout)
        # under the bucket's lock, so in booking order; ``read``: the instant the booking saw
        self.bookings.append((self.read, self.read + wait))
        return wait, epoch


def _assert_nothing_held_back(bucket):
    """Each slot is at the latest one interval after the slot before it, or the instant it was
    asked for: the bucket keeps a token back from nobody, however slow the machine runs."""
    interval = 1 / bucket.rate
    previous = -math.inf
    for k, (asked, slot) in enumerate(bucket.bookings):
        assert slot <= max(asked, previous + interval) + 1e-6, (k, asked, slot, previous)
        previous = slot


def test_real_clock_rate_with_threads():
    bucket = _SlotBucket(500, burst=1)
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [bucket.acquire() for _ in range(50)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert elapsed >= 0.38  # 199 intervals of 2 ms: the bucket never lets more through
    assert len(bucket.bookings) == 200
    _assert_nothing_held_back(bucket)


def test_try_acquire_on_a_real_clock():
    bucket = TokenBucket(10, burst=5)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]


def test_real_clock_accurate_at_1000_per_second():
    bucket = _SlotBucket(1000)  # burst 100
    started = time.monotonic()
    for _ in range(400):
        bucket.acquire()
    elapsed = time.monotonic() - started
    assert elapsed >= 0.29  # 300 tokens past the burst of 100, at 1 ms each
    _assert_nothing_held_back(bucket)


# -- RecipientGap


def test_reserve_books_successive_slots(clock):
    gaps = RecipientGap(6.0, clock=clock)
    assert [gaps.reserve("a") for _ in range(3)] == [0, 6, 12]
    assert gaps.reserve("b") == 0
    clock.advance(7)
    assert gaps.reserve("a") == pytest.approx(11)
    assert gaps.reserve("b") == 0
    assert gaps.delay("a") == pytest.approx(17)
    assert gaps.delay("zzz") == 0


def test_reserve_max_delay_books_nothing(clock):
    gaps = RecipientGap(6.0, clock=clock)
    assert gaps.reserve("a", max_delay=1) == 0
    assert gaps.reserve("a", max_delay=1) is None
    assert gaps.reserve("a", max_delay=6) == 6
    assert gaps.reserve("a") == 12


def test_concurrent_reservations_get_distinct_slots(clock):
    gaps = RecipientGap(2.0, clock=clock)
    delays = []
    threads = [threading.Thread(target=lambda: delays.append(gaps.reserve("a"))) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(delays) == [2.0 * i for i in range(40)]


def test_penalize_recipient(clock):
    gaps = RecipientGap(1.0, clock=clock)
    gaps.penalize("a", 6.0)
    gaps.penalize("a", 2.0)  # never shortens
    assert gaps.reserve("a") == 6
    assert gaps.reserve("b") == 0


def test_zero_gap_remembers_nothing(clock):
    gaps = RecipientGap(0, clock=clock)
    assert [gaps.reserve("a") for _ in range(3)] == [0, 0, 0]
    assert len(gaps) == 0


def test_old_entries_expire(clock):
    gaps = RecipientGap(6.0, clock=clock)
    for number in range(100_000):
        gaps.reserve(f"3361{number:07d}")
        clock.advance(0.001)
    assert len(gaps) <= 6001  # only the last 6 seconds' recipients
    clock.advance(6)
    gaps.reserve("a")
    assert len(gaps) == 1


def test_max_entries_forgets_the_oldest(clock):
    gaps = RecipientGap(60.0, clock=clock, max_entries=10)
    for number in range(50):
        gaps.reserve(str(number))
    assert len(gaps) == 10
    assert gaps.reserve("0") == 0  # forgotten
    assert gaps.reserve("49") == 60


def test_set_gap(clock):
    gaps = RecipientGap(1.0, clock=clock)
    gaps.set_gap(3.0)
    assert [gaps.reserve("a") for _ in range(2)] == [0, 3]
    with pytest.raises(ValueError):
        gaps.set_gap(-1)


# -- registry


@pytest.fixture
def key(request):
    key = ("test-db", request.node.name)
    yield key
    pacing.forget_pacer(key)


def test_registry_returns_the_same_pacer(key):
    pacer = pacing.get_pacer(key, 80, 6.0)
    assert pacing.get_pacer(key, 80, 6.0) is pacer
    assert pacing.get_pacer((key, "other"), 80, 6.0) is not pacer
    pacing.forget_pacer((key, "other"))
    assert pacer.bucket.rate == 80 and pacer.gaps.gap == 6.0


def test_registry_updates_rate_and_gap(key):
    pacer = pacing.get_pacer(key, 80, 6.0)
    pacer.gaps.reserve("a")
    assert pacing.get_pacer(key, 1000, 4.0) is pacer
    assert pacer.bucket.rate == 1000 and pacer.bucket.burst == 100
    assert pacer.gaps.gap == 4.0
    assert pacer.gaps.delay("a") == pytest.approx(6.0, abs=0.1)  # booked slots are kept


def test_registry_is_thread_safe(key):
    found = []
    threads = [
        threading.Thread(target=lambda: found.append(pacing.get_pacer(key, 80, 6.0)))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(pacer) for pacer in found}) == 1


def test_the_gap_counts_from_the_sends_that_really_left():
    clock = [100.0]
    gaps = pacing.RecipientGap(1.0, clock=lambda: clock[0])
    assert gaps.until_send("a") == 0
    gaps.sent("a")
    clock[0] += 0.3
    assert gaps.until_send("a") == pytest.approx(0.7)
    assert gaps.until_send("a") == pytest.approx(0.7)  # asking records nothing
    assert gaps.until_send("b") == 0
    clock[0] += 5
    assert gaps.until_send("a") == 0


def test_sent_memory_stays_bounded():
    clock = [0.0]
    gaps = pacing.RecipientGap(0.5, clock=lambda: clock[0], max_entries=10)
    for index in range(1000):
        clock[0] += 0.001
        gaps.sent(f"r{index}")
    assert len(gaps._sent) <= 10


def _fake_clock_pacer(now, window_limit):
    """A pacer at 1,000/s, a gap of 1 s per customer and a window of ``window_limit`` sends,
    all on the clock ``now[0]``."""
    return pacing.Pacer(
        pacing.TokenBucket(1000, clock=lambda: now[0]),
        pacing.RecipientGap(1.0, clock=lambda: now[0]),
        pacing.SendWindow(window_limit, clock=lambda: now[0]),
    )


def test_depart_records_a_send_only_when_both_the_gap_and_the_window_let_it_go():
    now = [0.0]
    pacer = _fake_clock_pacer(now, window_limit=2)
    assert pacer.depart("a") == 0.0
    assert pacer.depart("a") == pytest.approx(1.0)  # its gap: the window not asked
    assert pacer.depart("b") == 0.0
    assert pacer.depart("c") == pytest.approx(1.0 + pacing.WINDOW_SLACK)  # the window is full
    assert pacer.gaps.until_send("c") == 0.0  # ...and nothing was recorded for c
    now[0] = 1.0 + pacing.WINDOW_SLACK
    assert pacer.depart("c") == 0.0 and pacer.depart("a") == 0.0


def test_a_send_counts_from_the_instant_it_really_left():
    """Let go at 0, written only at 0.3 (the process starved of CPU in between): the window and
    the customer's gap count it from 0.3."""
    now = [0.0]
    pacer = _fake_clock_pacer(now, window_limit=1)
    assert pacer.depart("a") == 0.0
    now[0] = 0.3
    pacer.departed("a")
    assert pacer.gaps.until_send("a") == pytest.approx(1.0)
    assert pacer.depart("b") == pytest.approx(1.0 + pacing.WINDOW_SLACK)


def test_send_window_lets_no_second_hold_more_than_its_limit():
    now = [0.0]
    window = pacing.SendWindow(3, clock=lambda: now[0])
    slack = pacing.WINDOW_SLACK  # a send counts a hair longer than the window (see SendWindow)
    assert [window.claim() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.claim() == pytest.approx(1.0 + slack)  # a fourth waits for the first to go
    now[0] = 0.4
    assert window.claim() == pytest.approx(0.6 + slack)
    now[0] = 1.0
    assert window.claim() == pytest.approx(slack)  # not quite out of the window yet
    now[0] = 1.0 + slack  # the first three are out of the window
    assert [window.claim() for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 1.01
    assert window.claim() == pytest.approx(2 * (1.0 + slack) - 1.01)  # the three at 1 + slack


def test_send_window_limit_holds_on_any_clock_reading_after_a_stall():
    """After a stall, the sends let through at once are exactly the room left in the window;
    the rest wait their turn, one more for each send leaving the window."""
    now = [0.0]
    window = pacing.SendWindow(10, clock=lambda: now[0])
    left = []
    for step in range(300):  # 100 ms ticks, each with 5 sends asking; stalls of 0.5 s at times
        now[0] = step * 0.1 + (0.5 if step % 50 == 49 else 0.0) + step // 50 * 0.5
        for _ in range(5):
            if window.claim() == 0.0:
                left.append(now[0])
    assert max(sum(1 for t in left if start <= t < start + 1.0) for start in left) <= 10


def test_a_pacer_window_is_the_rate_plus_the_burst():
    pacer = pacing.Pacer(pacing.TokenBucket(1000), pacing.RecipientGap(0))
    assert pacer.window.limit == 1100
    key = ("db", "window-test")
    pacing.get_pacer(key, rate=80.0, gap=0)
    assert pacing.get_pacer(key, rate=1000.0, gap=0).window.limit == 1100
    pacing.forget_pacer(key)


# -- Turns: the sends to one customer leave in the order their slots were booked


def test_a_turn_waits_for_the_earlier_ones_to_leave(clock):
    gaps = RecipientGap(1.0, clock=clock)
    first = gaps.reserve_turn("a")
    second = gaps.reserve_turn("a")
    assert first[0] == 0 and second[0] == 1
    clock.advance(5)  # the second's slot has long passed, the first has not left
    assert gaps.until_turn("a", second[1]) == 1.0
    assert gaps.until_send("a", second[1]) == 1.0
    assert gaps.until_send("a", first[1]) == 0
    gaps.sent("a", first[1])
    assert gaps.until_turn("a", second[1]) == 0
    assert gaps.until_send("a", second[1]) == pytest.approx(1.0)  # then the gap after it
    clock.advance(1)
    assert gaps.until_send("a", second[1]) == 0
    gaps.sent("a", second[1])
    assert gaps._turns == {}


def test_a_turn_given_up_lets_the_next_ones_go_in_order(clock):
    gaps = RecipientGap(0.0, clock=clock)
    turns = [gaps.reserve_turn("a")[1] for _ in range(3)]
    other = gaps.reserve_turn("b")[1]
    assert gaps.until_send("b", other) == 0  # another customer's line is its own
    assert gaps.until_send("a", turns[2]) == pacing.TURN_POLL  # gap 0: looks again soon
    gaps.release("a", turns[1])  # out of order: the first still goes first
    assert gaps.until_turn("a", turns[2]) == pacing.TURN_POLL
    gaps.release("a", turns[0])
    assert gaps.until_turn("a", turns[2]) == 0
    gaps.release("a", turns[2])
    gaps.release("a", turns[2])  # twice: nothing
    gaps.sent("b", other)
    assert gaps._turns == {}


def test_turns_keep_the_order_across_batches(clock):
    """A slot booked by a later batch waits for the earlier batch's message, even when the
    earlier one's slot is long past (it was held back) and the gap has passed since the last
    send that left."""
    gaps = RecipientGap(0.05, clock=clock)
    gaps.sent("a")
    earlier = gaps.reserve_turn("a")
    clock.advance(1)
    later = gaps.reserve_turn("a")
    assert later[0] == 0  # its slot is now
    assert gaps.until_send("a", later[1]) > 0
    assert gaps.reserve_turn("a", max_delay=-1) is None  # nothing booked: no turn either
    gaps.sent("a", earlier[1])
    clock.advance(0.05)
    assert gaps.until_send("a", later[1]) == 0


def test_depart_refuses_a_send_out_of_its_turn(clock):
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)
    pacer = pacing.Pacer(bucket, RecipientGap(0.0, clock=clock))
    first, second = (pacer.gaps.reserve_turn("a")[1] for _ in range(2))
    assert pacer.depart("a", second) == pacing.TURN_POLL
    assert len(pacer.window._left) == 0  # nothing counted
    assert pacer.depart("a", first) == 0
    assert pacer.depart("a", second) == pacing.TURN_POLL  # the first's answer is not known yet
    pacer.gaps.release("a", first)  # it is: its turn ends
    assert pacer.depart("a", second) == 0
    assert len(pacer.window._left) == 2


def test_a_customer_held_for_a_retry_lets_only_earlier_messages_go(clock):
    """The message 5 went back to the queue: the later ones to its customer may not leave in
    this batch or the next (claimed before the retry was recorded); then they may."""
    gaps = RecipientGap(0.0, clock=clock)
    gaps.new_batch()
    gaps.hold("a", 5)
    gaps.hold("a", 7)  # a later one given up as well: the earliest is kept
    assert [gaps.held("a", key) for key in (4, 5, 6, 8)] == [False, False, True, True]
    assert not gaps.held("b", 6)
    gaps.new_batch()
    assert gaps.held("a", 6)
    gaps.new_batch()
    assert not gaps.held("a", 6) and gaps._held == {}


def test_a_new_run_frees_the_customers_its_database_held():
    mine, other = ("db", "held-test"), ("other db", "held-test")
    for key in (mine, other):
        pacing.get_pacer(key, rate=80.0, gap=0).gaps.hold("a", 5)
    pacing.free_held("db")
    assert not pacing.get_pacer(mine, rate=80.0, gap=0).gaps.held("a", 6)
    assert pacing.get_pacer(other, rate=80.0, gap=0).gaps.held("a", 6)
    for key in (mine, other):
        pacing.forget_pacer(key)
