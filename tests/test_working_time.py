"""Tests of ``tools.working_time``: working hours and service-level deadlines over open hours."""

from datetime import datetime, timedelta

import pytest
from wa_tools import working_time


def nine_to_five(first_day, days, skip=()):
    """Open 9:00-17:00 (UTC) on ``days`` days from ``first_day``, except the dates in ``skip``."""
    intervals = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day.date() in skip:
            continue
        intervals.append((day.replace(hour=9), day.replace(hour=17)))
    return intervals


MONDAY = datetime(2026, 3, 2)
WEEK = nine_to_five(MONDAY, 5)


def test_hours_between_counts_open_hours_only():
    assert (
        working_time.hours_between(WEEK, MONDAY.replace(hour=16), MONDAY.replace(day=3, hour=10))
        == 2.0
    )
    assert working_time.hours_between(WEEK, MONDAY, MONDAY.replace(day=7)) == 40.0
    assert working_time.hours_between(WEEK, MONDAY.replace(hour=20), MONDAY.replace(hour=22)) == 0.0


def test_hours_between_round_the_clock_and_backwards():
    start = MONDAY.replace(hour=10)
    assert working_time.hours_between(None, start, start + timedelta(minutes=90)) == 1.5
    assert working_time.hours_between(WEEK, start, start - timedelta(hours=1)) == 0.0
    assert working_time.hours_between(WEEK, None, start) == 0.0


def test_add_hours_waits_for_the_next_opening():
    evening = MONDAY.replace(hour=18)
    assert working_time.add_hours(WEEK, evening, 2) == MONDAY.replace(day=3, hour=11)
    morning = MONDAY.replace(hour=8)
    assert working_time.add_hours(WEEK, morning, 0) == MONDAY.replace(hour=9)


def test_add_hours_spans_days_and_holidays():
    holiday = nine_to_five(MONDAY, 5, skip={MONDAY.replace(day=3).date()})
    start = MONDAY.replace(hour=15)
    # 2 h on Monday, Tuesday is a holiday, 6 h more on Wednesday
    assert working_time.add_hours(holiday, start, 8) == MONDAY.replace(day=4, hour=15)
    assert working_time.add_hours(WEEK, start, 8) == MONDAY.replace(day=3, hour=15)


def test_add_hours_ends_with_the_calendar():
    assert working_time.add_hours(WEEK, MONDAY, 41) is None
    assert working_time.add_hours([], MONDAY, 1) is None
    with pytest.raises(ValueError):
        working_time.add_hours(WEEK, MONDAY, -1)


def test_add_hours_round_the_clock():
    assert working_time.add_hours(None, MONDAY, 1.5) == MONDAY + timedelta(minutes=90)


def test_the_clock_turns_amber_with_a_quarter_left():
    start = MONDAY.replace(hour=9)
    assert working_time.warn_at(WEEK, start, 4) == MONDAY.replace(hour=12)
    due = working_time.add_hours(WEEK, start, 4)
    warn = working_time.warn_at(WEEK, start, 4)
    assert working_time.light(start, warn, due) == "green"
    assert working_time.light(warn, warn, due) == "amber"
    assert working_time.light(due, warn, due) == "red"
    assert working_time.light(start, None, None) is None
