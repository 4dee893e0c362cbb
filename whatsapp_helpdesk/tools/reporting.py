"""The rules of the managers' reports that are plain decisions: backlog age buckets, what counts
as a reopened conversation, the periods the dashboard offers, how a figure is shown. No Odoo.

The figures themselves are computed by PostgreSQL from the stored reporting tables (see
``models/whatsapp_report_*.py``); these rules are what the SQL and the screens share.
"""

from datetime import timedelta

# A resolved conversation counts as reopened when its customer writes again within this time.
REOPEN_WITHIN = timedelta(days=7)

# Backlog ages: (key, label, upper bound in hours, None for the last bucket), youngest first.
AGE_BUCKETS = (
    ("0_1h", "Under 1 hour", 1),
    ("1_4h", "1 to 4 hours", 4),
    ("4_24h", "4 to 24 hours", 24),
    ("1_3d", "1 to 3 days", 72),
    ("3d", "Over 3 days", None),
)

# The periods of the dashboard, in days.
PERIODS = (7, 30)

# Figures whose value is a duration in hours, a percentage or a count (how they are shown).
HOURS, PERCENT, COUNT = "hours", "percent", "count"


def age_bucket(hours: float) -> str:
    """The key of the backlog bucket of a conversation waiting for ``hours``."""
    for key, _label, upper in AGE_BUCKETS:
        if upper is None or hours < upper:
            return key
    raise AssertionError("the last bucket has no upper bound")


def dashboard_period(value) -> int:
    """``value`` as one of :data:`PERIODS` (a number of days); ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"period must be one of {PERIODS}, not {value!r}")
    try:
        days = int(value)
    except ValueError:
        raise ValueError(f"period must be one of {PERIODS}, not {value!r}") from None
    if days not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {value!r}")
    return days


def format_hours(hours) -> str:
    """A duration for people: ``"45 min"``, ``"2 h 05"``, ``"3 d 4 h"``; ``"–"`` for none."""
    if hours is None:
        return "–"
    minutes = round(float(hours) * 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    days, rest = divmod(minutes, 24 * 60)
    return f"{days} d {round(rest / 60)} h"


def format_figure(value, kind: str) -> str:
    """``value`` shown as its ``kind`` (:data:`HOURS`, :data:`PERCENT` or :data:`COUNT`)."""
    if value is None:
        return "–"
    if kind == HOURS:
        return format_hours(value)
    if kind == PERCENT:
        return f"{round(value)} %"
    if kind == COUNT:
        return f"{round(value):,}".replace(",", "\u202f")
    raise ValueError(f"unknown kind of figure {kind!r}")


def trend(current, previous):
    """The change from ``previous`` to ``current`` in percent (None when it cannot be said)."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100)


def ratio(numerator, denominator, scale=100.0):
    """``numerator / denominator * scale``, None when the denominator is empty."""
    if not denominator:
        return None
    return (numerator or 0) * scale / denominator
