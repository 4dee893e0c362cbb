"""Campaign decisions that need no database (plain Python, no Odoo import): who is skipped and
why, how Meta's messaging limit spreads a campaign over days, and the customer's local window
(read in the customer's time zone: their own, else their number's or country's, else the
company's).

Meta's messaging limit is the number of different customers a business number may start
conversations with in a rolling 24 hours (250, 2,000, 10,000, 100,000 or unlimited). A campaign
never sends more than today's headroom; what is left waits for the next day.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import pytz
from phonenumbers import timezone as phone_timezone

# skip reasons, in the order they are checked (the first that holds is the one recorded)
INVALID_NUMBER = "invalid_number"
DUPLICATE = "duplicate"
BLACKLISTED = "blacklisted"
OPTED_OUT = "opted_out"
NO_OPTIN = "no_optin"
FREQUENCY_CAP = "frequency_cap"
SKIP_REASONS = [
    (INVALID_NUMBER, "No valid WhatsApp number"),
    (DUPLICATE, "Same number as another recipient"),
    (BLACKLISTED, "Blacklisted"),
    (OPTED_OUT, "Opted out of the template's category"),
    (NO_OPTIN, "No opt-in for the template's category"),
    (FREQUENCY_CAP, "Messaged recently (frequency cap)"),
]
# Outbox failure types that mean "this customer does not receive marketing from you now", counted
# apart from the campaign's failures: Meta's marketing limit per customer (131049), and a customer
# who stopped marketing messages (131050) or opted out since the launch.
NOT_RECEIVING_FAILURES = frozenset({"ecosystem_limit", "opted_out"})
UNLIMITED = None
MAX_PLAN_DAYS = 3660
# The zone most of a country's customers live in, where the tz database lists another one first
# (pytz.country_timezones: Brazil's first zone is Fernando de Noronha's islands).
MAIN_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
}


def limit_of(messaging_limit):
    """The number of customers per 24 h of an account's ``messaging_limit`` selection value,
    or ``UNLIMITED``."""
    if not messaging_limit or messaging_limit == "unlimited":
        return UNLIMITED
    return max(0, int(messaging_limit))


def headroom(limit, used):
    """How many new customers may still be started now (``None``: no limit)."""
    if limit is UNLIMITED:
        return None
    return max(0, limit - max(0, used))


def plan_days(total, limit, used_today):
    """[recipients per day] for ``total`` recipients: today gets the headroom left after
    ``used_today`` customers of the last 24 hours, each later day the whole limit."""
    total = max(0, int(total))
    if total == 0:
        return []
    if limit is UNLIMITED:
        return [total]
    if limit <= 0:
        raise ValueError("a messaging limit of zero never sends anything")
    days = [min(total, headroom(limit, used_today))]
    left = total - days[0]
    full_days, rest = divmod(left, limit)
    if full_days + 2 > MAX_PLAN_DAYS:
        raise ValueError("the campaign would take more than ten years at this messaging limit")
    days += [limit] * full_days
    if rest:
        days.append(rest)
    return days


def skip_reasons(recipients, *, blacklisted, opted_in, recently_messaged, opted_out=()):
    """{partner id: reason or None} for ``recipients`` [(partner id, E.164 or None)], in order.

    The first recipient of a number keeps it, later ones are duplicates. ``opted_in``: the numbers
    with the opt-in the template's category needs (None: no opt-in needed); ``blacklisted``,
    ``opted_out`` (of the template's category) and ``recently_messaged``: sets of numbers.
    """
    seen, reasons = set(), {}
    for partner_id, number in recipients:
        if partner_id in reasons:
            continue
        if not number:
            reason = INVALID_NUMBER
        elif number in seen:
            reason = DUPLICATE
        elif number in blacklisted:
            reason = BLACKLISTED
        elif number in opted_out:
            reason = OPTED_OUT
        elif opted_in is not None and number not in opted_in:
            reason = NO_OPTIN
        elif number in recently_messaged:
            reason = FREQUENCY_CAP
        else:
            reason = None
        if number:
            seen.add(number)
        reasons[partner_id] = reason
    return reasons


def _zone(tz):
    try:
        return ZoneInfo(tz) if tz else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _number_zone_and_country(e164):
    """(the zone of an E.164 number when phonenumbers gives it exactly one, its ISO country),
    each None when unknown."""
    if not isinstance(e164, str) or not e164.strip():
        return None, None
    number = e164.strip()
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else f"+{number}")
    except phonenumbers.NumberParseException:
        return None, None
    zones = [
        zone
        for zone in phone_timezone.time_zones_for_number(parsed)
        if zone != phone_timezone.UNKNOWN_TIMEZONE
    ]
    zone = zones[0] if len(zones) == 1 and _zone(zones[0]) else None
    return zone, phonenumbers.region_code_for_number(parsed) or None


def country_zone(country_code):
    """The main time zone of a country (ISO code), or None."""
    code = (country_code or "").strip().upper()
    if code in MAIN_ZONES:
        return MAIN_ZONES[code]
    try:
        zones = pytz.country_timezones[code]
    except KeyError:
        return None
    return zones[0] if zones and _zone(zones[0]) else None


def customer_zone(*, tz=None, number=None, country=None, company_tz=None):
    """The time zone a customer's local window is read in: their own ``tz``; else their
    E.164 ``number``'s when it has a single zone (+55 11: America/Sao_Paulo); else the main zone
    of their ``country`` (ISO code), or of their number's country (+34, Madrid or the Canaries:
    Europe/Madrid); else ``company_tz``. None (read as UTC) when nothing is known."""
    if _zone(tz):
        return tz
    number_zone, number_country = _number_zone_and_country(number)
    for zone in (number_zone, country_zone(country), country_zone(number_country)):
        if zone:
            return zone
    return company_tz if _zone(company_tz) else None


def local_hour(now_utc, tz):
    """The hour of the day (a float) at ``now_utc`` (naive UTC) in ``tz`` (unknown: UTC)."""
    zone = _zone(tz) or ZoneInfo("UTC")
    local = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    return local.hour + local.minute / 60


def in_local_window(now_utc, tz, hour_from, hour_to):
    """Whether ``now_utc`` (naive UTC) falls between ``hour_from`` and ``hour_to`` (hours,
    floats, ``to`` excluded; a window may wrap midnight) in the customer's time zone ``tz``
    (unknown: UTC)."""
    hour = local_hour(now_utc, tz)
    if hour_from == hour_to:
        return True
    if hour_from < hour_to:
        return hour_from <= hour < hour_to
    return hour >= hour_from or hour < hour_to


def next_local_opening(now_utc, tz, hour_from):
    """The next naive UTC moment the local window opens (``hour_from`` in ``tz``)."""
    zone = _zone(tz) or ZoneInfo("UTC")
    local = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    hours, minutes = int(hour_from), round((hour_from % 1) * 60)
    opening = local.replace(hour=hours % 24, minute=minutes % 60, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return opening.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def split_failures(failures):
    """(failed, not receiving) counts of ``failures`` {failure type: count}: the customers who do
    not receive marketing now (NOT_RECEIVING_FAILURES) are not the campaign's failures."""
    not_receiving = sum(
        count for failure, count in failures.items() if failure in NOT_RECEIVING_FAILURES
    )
    return sum(failures.values()) - not_receiving, not_receiving


def progress(done, total):
    """Percentage done, 0-100."""
    return 100.0 * done / total if total else 0.0


_CHECK_COUNTS = ("total", "eligible", "used")
_MAX_COUNT = 10**12


def _count(value):
    return type(value) is int and 0 <= value < _MAX_COUNT


def audience_check(data):
    """A campaign's stored audience check (``{"total", "eligible", "used": int, "limit": int or
    None, "skipped": {reason: int}, "days": [recipients per day]}``) when it has that shape, else
    None: the record's JSON can be written by other hands than the check's."""
    if not isinstance(data, dict):
        return None
    skipped, days, limit = data.get("skipped"), data.get("days"), data.get("limit")
    if not all(_count(data.get(key)) for key in _CHECK_COUNTS):
        return None
    if not (limit is None or _count(limit)):
        return None
    if not isinstance(skipped, dict) or not all(
        isinstance(reason, str) and len(reason) < 100 and "\x00" not in reason and _count(count)
        for reason, count in skipped.items()
    ):
        return None
    if not isinstance(days, list) or len(days) > MAX_PLAN_DAYS or not all(map(_count, days)):
        return None
    return data
