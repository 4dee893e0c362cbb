"""Opening hours and address: when a person answers, and where the shop is. No Odoo.

From the team's working hours (``resource.calendar`` attendances, as ``tools.autoreply`` reads
them) :func:`schedule` writes the week in the customer's language, days with the same hours
together ("Mon–Fri 9:00 AM–6:00 PM; Sat 9:00 AM–1:00 PM"); :func:`answer` adds whether the team
is working now, and if not when it is back, and the company's address.
"""

from .. import autoreply, formatting
from .phrases import Reply, join, locale_of, say


def _day_hours(intervals):
    """{weekday: ((hour_from, hour_to), ...)} sorted, overnight intervals kept as given."""
    days = {}
    for weekday, hour_from, hour_to in intervals:
        days.setdefault(int(weekday) % 7, []).append((float(hour_from), float(hour_to)))
    return {day: tuple(sorted(spans)) for day, spans in days.items()}


def schedule(intervals, language) -> str:
    """The week of ``intervals`` (``(weekday, hour_from, hour_to)``) in ``language``; "" without
    any. Consecutive days with the same hours are written as one range."""
    locale = locale_of(language)
    days = _day_hours(intervals)
    if not days:
        return ""
    groups = []  # [first day, last day, spans]
    for day in range(7):
        spans = days.get(day)
        if spans is None:
            continue
        if groups and groups[-1][2] == spans and groups[-1][1] == day - 1:
            groups[-1][1] = day
        else:
            groups.append([day, day, spans])
    parts = []
    for first, last, spans in groups:
        name = formatting.format_weekday(first, locale, width="abbreviated")
        if last != first:
            name += "–" + formatting.format_weekday(last, locale, width="abbreviated")
        hours = ", ".join(
            f"{formatting.format_time(start, locale)}–{formatting.format_time(end, locale)}"
            for start, end in spans
        )
        parts.append(f"{name} {hours}")
    return "; ".join(parts)


def when_back(intervals, moment, tz, language, *, customer_tz=None) -> str:
    """The next opening after ``moment`` (in working hours: "" ) as the customer reads it, in
    their time zone ``customer_tz`` when known, else the team's ``tz``."""
    if not intervals or autoreply.in_working_hours(intervals, moment, tz):
        return ""
    start = autoreply.next_working_time(intervals, moment, tz)
    if start is None:
        return ""
    return formatting.format_moment(start, locale_of(language), tz=customer_tz or tz)


def answer(intervals, *, moment, tz, address="", language=None, customer_tz=None) -> Reply:
    """The opening hours, whether the team works now (else when it is back) and the address.
    No ``intervals``: the team has no working hours, it answers at any time."""
    if not intervals:
        lines = [say("hours.always", language)]
    else:
        lines = [say("hours.schedule", language, schedule=schedule(intervals, language))]
        if autoreply.in_working_hours(intervals, moment, tz):
            lines.append(say("hours.open_now", language))
        elif back := when_back(intervals, moment, tz, language, customer_tz=customer_tz):
            lines.append(say("hours.closed_now", language, when=back))
    if address:
        lines.append(say("hours.address", language, address=address))
    return Reply(join(lines))
