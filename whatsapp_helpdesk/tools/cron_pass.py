"""How long a job may still run in the current pass of Odoo's cron worker (no Odoo import).

Odoo's cron worker runs every ready job in one pass and re-runs a job up to ten times in that
pass while the job reports records left. The pass as a whole is watched: in prefork mode the
worker is killed once ``limit_time_real_cron`` (default: ``limit_time_real``, 120 s) has gone by
since its last watchdog ping, which it sends only before it sleeps, i.e. up to ``SLEEP_MAX``
before the pass starts; ``limit_time_cpu`` (60 s) bounds the CPU of the pass (``RLIMIT_CPU``); in
threaded mode the server reloads when a cron thread's pass exceeds the real-time limit. A job
killed mid-send leaves rows that the lease turns "unknown": long jobs must end the pass in time
and come back in the next one (see ``models.common.report_progress``).
"""

import threading
import time
import weakref

# Odoo's cron worker sleeps SLEEP_INTERVAL (60 s) plus up to 9 s after its watchdog ping.
SLEEP_MAX = 70.0


class PassClock:
    """The start of the current pass, per thread, told by Odoo's job hook (``enter``/``leave``)
    and the time before it since the worker's last ping, which cannot be seen: at most the time
    since the previous pass ended, never more than ``SLEEP_MAX``."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.local = threading.local()

    def enter(self, pass_key):
        """A job starts in the pass identified by ``pass_key`` (the pass's cursor)."""
        state = self.local
        current = getattr(state, "key", None)
        if current is None or current() is not pass_key:
            now = self.clock()
            ended = getattr(state, "ended", None)
            state.key = weakref.ref(pass_key)
            state.started = now
            state.unseen = SLEEP_MAX if ended is None else min(SLEEP_MAX, now - ended)

    def leave(self):
        self.local.ended = self.clock()

    def elapsed(self):
        """Seconds since the worker's last watchdog ping, as far as can be known; None outside a
        pass."""
        now = self.clock()
        started = getattr(self.local, "started", None)
        if started is None or getattr(self.local, "key", lambda: None)() is None:
            return None
        return now - started + self.local.unseen


def time_left(elapsed, real_limit, cpu_left):
    """Seconds the pass may still run: the real-time limit less what has gone by, and the CPU
    seconds left (a job takes at most about one core); None when nothing limits it."""
    candidates = []
    if elapsed is not None and real_limit:
        candidates.append(real_limit - elapsed)
    if cpu_left is not None:
        candidates.append(cpu_left)
    return min(candidates) if candidates else None


def run_budget(own_budget, left, margin, floor):
    """A run's time budget: its own, within what the pass leaves after ``margin`` (the time a
    run takes to stop after its budget), never below ``floor`` so that each run moves on."""
    if left is None:
        return own_budget
    return max(floor, min(own_budget, left - margin))


def should_end_pass(left, own_budget, margin):
    """Whether a job with work left must end the pass instead of running again in it: another
    run (its budget and the time to stop) no longer fits."""
    return left is not None and left < own_budget + margin
