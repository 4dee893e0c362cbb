"""Long jobs end the cron worker's pass before Odoo's limits stop it (tools/cron_pass.py)."""

import gc

from wa_tools import cron_pass


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class PassCursor:
    """Stands for the cursor Odoo opens for one pass over the ready jobs."""


def in_a_pass():
    """A clock on a fake time, in the pass of a new cursor: (fake time, clock, cursor)."""
    fake = FakeClock()
    clock = cron_pass.PassClock(fake)
    cursor = PassCursor()
    clock.enter(cursor)
    return fake, clock, cursor


def test_outside_a_pass_nothing_is_known():
    clock = cron_pass.PassClock(FakeClock())
    assert clock.elapsed() is None
    assert cron_pass.time_left(None, 120, None) is None
    assert cron_pass.run_budget(50, None, 20, 5) == 50


def test_first_pass_counts_the_unseen_sleep_before_it():
    fake, clock, _cursor = in_a_pass()
    fake.now += 10
    # the worker pinged its watchdog at most SLEEP_MAX before the pass: assume the worst
    assert clock.elapsed() == 10 + cron_pass.SLEEP_MAX


def test_jobs_of_one_pass_share_its_start_and_the_next_pass_starts_anew():
    fake, clock, first = in_a_pass()
    fake.now += 50
    clock.leave()
    clock.enter(first)  # the next job of the same pass
    fake.now += 40
    clock.leave()
    assert clock.elapsed() == 90 + cron_pass.SLEEP_MAX
    fake.now += 3  # the worker pinged, slept 3 s and was woken by a trigger
    second = PassCursor()
    clock.enter(second)
    fake.now += 1
    assert clock.elapsed() == 1 + 3


def test_a_pass_whose_cursor_is_gone_is_over():
    _fake, clock, cursor = in_a_pass()
    clock.leave()
    del cursor
    gc.collect()
    assert clock.elapsed() is None


def test_time_left_is_the_tighter_of_the_real_and_cpu_limits():
    assert cron_pass.time_left(30, 120, None) == 90
    assert cron_pass.time_left(30, 120, 25) == 25
    assert cron_pass.time_left(30, 0, None) is None  # no real-time limit set
    assert cron_pass.time_left(None, 120, 12) == 12


def test_a_run_fits_its_budget_in_what_the_pass_leaves_and_always_moves_on():
    assert cron_pass.run_budget(50, 200, 20, 5) == 50
    assert cron_pass.run_budget(50, 60, 20, 5) == 40
    assert cron_pass.run_budget(50, 10, 20, 5) == 5
    assert cron_pass.run_budget(50, -30, 20, 5) == 5


def test_a_job_with_work_left_ends_the_pass_when_another_run_no_longer_fits():
    assert not cron_pass.should_end_pass(None, 50, 20)
    assert not cron_pass.should_end_pass(100, 50, 20)
    assert cron_pass.should_end_pass(69, 50, 20)
    # with Odoo's defaults (120 s real, 60 s CPU), a 50 s run is never run twice in one pass
    first_run_left = cron_pass.time_left(cron_pass.SLEEP_MAX + 50, 120, 60 - 40)
    assert cron_pass.should_end_pass(first_run_left, 50, 20)
