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


def test_a_workers_sleep_is_known_from_its_pid():
    # Odoo's WorkerCron.sleep: SLEEP_INTERVAL + pid % 10, then pid / 100 % 0.1 once woken
    assert cron_pass.worker_sleep_max(1234) == 60 + 4 + 1234 / 100 % 0.1
    assert cron_pass.worker_sleep_max(1230) == 60.0 + 1230 / 100 % 0.1
    for pid in range(1, 5000, 7):
        assert 60 <= cron_pass.worker_sleep_max(pid) < 70.1
    assert max(cron_pass.worker_sleep_max(pid) for pid in range(1, 5000)) <= cron_pass.SLEEP_MAX


def test_the_first_pass_counts_no_more_than_the_workers_sleep_or_its_life():
    fake = FakeClock()
    cursor = PassCursor()
    clock = cron_pass.PassClock(fake, sleep_max=lambda: 63.5, process_age=lambda: 200.0)
    clock.enter(cursor)
    fake.now += 10
    assert clock.elapsed() == 10 + 63.5  # its own sleep, not any worker's
    young = cron_pass.PassClock(fake, sleep_max=lambda: 63.5, process_age=lambda: 4.0)
    young.enter(cursor)
    fake.now += 10
    assert young.elapsed() == 10 + 4.0  # forked 4 s ago: it pinged at most 4 s before the pass
    odd = cron_pass.PassClock(fake, sleep_max=lambda: 63.5, process_age=lambda: -1.0)
    odd.enter(cursor)
    assert odd.elapsed() == 0.0  # a clock step never makes the time left grow


def test_the_next_passes_count_the_time_since_the_last_one_within_the_sleep():
    fake = FakeClock()
    clock = cron_pass.PassClock(fake, sleep_max=lambda: 61.0, process_age=lambda: 3.0)
    first = PassCursor()
    clock.enter(first)
    fake.now += 50
    clock.leave()
    fake.now += 2  # pinged, woken by a trigger 2 s later: the process's age no longer bounds it
    second = PassCursor()
    clock.enter(second)
    assert clock.elapsed() == 2
    clock.leave()
    fake.now += 500  # slept its whole interval
    third = PassCursor()
    clock.enter(third)
    assert clock.elapsed() == 61.0
