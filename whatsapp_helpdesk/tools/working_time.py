"""Working time over a team's open hours: hours between two moments, and the moment a number of
working hours after another (a service-level deadline). No Odoo import.

``intervals`` are the open hours as (start, stop) pairs of naive UTC datetimes, sorted and not
overlapping: the team's calendar attendances minus its holidays, as the models compute them.
``None`` instead of a list means a team without calendar: open round the clock.
"""

from bisect import bisect_right
from datetime import datetime, timedelta
from itertools import islice

# A service-level clock turns amber when less than this share of its target remains.
AMBER_SHARE = 0.25


def hours_between(intervals, start: datetime, end: datetime) -> float:
    """Working hours between ``start`` and ``end`` (0 when ``end`` is not after ``start``)."""
    if not start or not end or end <= start:
        return 0.0
    if intervals is None:
        return (end - start).total_seconds() / 3600
    seconds = 0.0
    for open_from, open_to in intervals:
        lower, upper = max(open_from, start), min(open_to, end)
        if upper > lower:
            seconds += (upper - lower).total_seconds()
    return seconds / 3600


def add_hours(intervals, start: datetime, hours: float) -> datetime | None:
    """The moment ``hours`` working hours after ``start``; None when ``intervals`` end before.

    A start outside the open hours waits for the next opening: 2 working hours asked at 18:00 on a
    9-17 calendar fall due at 11:00 the next working day.
    """
    if hours < 0:
        raise ValueError(f"hours must be >= 0, not {hours!r}")
    if intervals is None:
        return start + timedelta(hours=hours)
    left = timedelta(hours=hours)
    first = bisect_right(intervals, start, key=lambda interval: interval[1])
    for open_from, open_to in islice(intervals, first, None):
        lower = max(open_from, start)
        available = open_to - lower
        if left <= available:
            return lower + left
        left -= available
    return None


def warn_at(intervals, start: datetime, hours: float) -> datetime | None:
    """When a clock of ``hours`` working hours started at ``start`` turns amber."""
    return add_hours(intervals, start, hours * (1 - AMBER_SHARE))


def light(now: datetime, warn: datetime | None, due: datetime | None) -> str | None:
    """``"green"``, ``"amber"`` (past ``warn``) or ``"red"`` (past ``due``); None without due."""
    if not due:
        return None
    if now >= due:
        return "red"
    if warn and now >= warn:
        return "amber"
    return "green"
