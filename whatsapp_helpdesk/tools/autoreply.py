"""Automatic replies to inbound WhatsApp messages: welcome, keywords, out of hours. No Odoo import.

:func:`choose` decides which :class:`Rule` records fire for one inbound message, from plain facts
the caller gathers (text, customer language, first contact or silence, working hours, when each
rule last fired for this customer). :func:`in_working_hours` turns Odoo's ``resource.calendar``
attendances (weekday, hour_from, hour_to in the calendar's time zone) into that ``in_hours``.
"""

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytz

from .routing import language_fit
from .text import id_key, normalize

WELCOME = "welcome"
KEYWORD = "keyword"
OUT_OF_HOURS = "out_of_hours"
KINDS = (WELCOME, OUT_OF_HOURS, KEYWORD)  # also the order of the rules returned by choose()
MATCHES = frozenset({"contains", "exact", "regex"})


@dataclass(frozen=True, slots=True)
class Rule:
    """An automatic reply rule.

    ``pattern`` (keyword rules) may list alternatives separated by ``"|"`` for ``contains`` and
    ``exact``; for ``regex`` it is one regular expression. ``languages`` left empty means any
    language. Lower ``priority`` wins. The rule does not fire again for the same customer within
    ``cooldown_seconds`` (0: no cool-down). ``silence_seconds`` (welcome only): also greet a
    customer again after that much silence (0: first contact only).
    """

    id: object
    kind: str
    match: str = "contains"
    pattern: str = ""
    languages: frozenset = frozenset()
    priority: int = 10
    cooldown_seconds: int = 3600
    silence_seconds: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, not {self.kind!r}")
        if self.match not in MATCHES:
            raise ValueError(f"match must be one of {sorted(MATCHES)}, not {self.match!r}")
        languages = self.languages
        languages = frozenset({languages} if isinstance(languages, str) else languages or ())
        object.__setattr__(self, "languages", languages)
        object.__setattr__(self, "pattern", self.pattern or "")


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------

# Scripts written without spaces between words: a keyword in them is matched as a substring.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x30FF),  # CJK punctuation, Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFFDC),  # half-width Katakana and Hangul
    (0x20000, 0x3FFFF),  # CJK Extensions B and beyond
)


def _unspaced(char):
    """True for a character of a script written without spaces (CJK, kana, Hangul, Thai...)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


def _is_word_char(char):
    """A character that glues to a Latin-like word (so bounds a keyword match)."""
    return (char.isalnum() or char == "_") and not _unspaced(char)


def _contains(text, phrase):
    """True when normalized ``phrase`` occurs in normalized ``text``: as whole words / a whole
    phrase for spaced scripts (``"stop"`` does not match ``"stopped"``), as a substring when it
    holds CJK-like characters (``"退订"`` matches ``"我要退订了"``)."""
    if any(_unspaced(char) for char in phrase):
        return phrase in text
    check_left = _is_word_char(phrase[0])
    check_right = _is_word_char(phrase[-1])
    start = text.find(phrase)
    while start != -1:
        end = start + len(phrase)
        left_ok = not check_left or start == 0 or not _is_word_char(text[start - 1])
        right_ok = not check_right or end == len(text) or not _is_word_char(text[end])
        if left_ok and right_ok:
            return True
        start = text.find(phrase, start + 1)
    return False


@functools.lru_cache(maxsize=512)
def _compile(pattern):
    """``pattern`` compiled case-insensitively, or None when it is not a valid expression."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError, ValueError, RecursionError, OverflowError):
        return None


def alternatives(pattern):
    """The normalized non-empty alternatives of a ``contains`` / ``exact`` pattern."""
    found = (normalize(part) for part in (pattern or "").split("|"))
    return [part for part in found if part]


def keyword_matches(rule, text):
    """True when the inbound ``text`` matches ``rule.pattern`` (never raises).

    * ``contains``: one of the alternatives occurs in the text, both normalized (see
      :func:`normalize`); Latin-like words match whole words only, CJK-like text as a substring;
    * ``exact``: the whole normalized text equals one of the alternatives;
    * ``regex``: ``re.search``, case-insensitive, on the raw text or on the normalized text (so
      ``"promocao"`` matches ``"Promoção"``); an invalid expression never matches.

    An empty pattern or text never matches.
    """
    if not text or not rule.pattern:
        return False
    if rule.match == "regex":
        compiled = _compile(rule.pattern)
        if compiled is None:
            return False
        return bool(compiled.search(str(text)) or compiled.search(normalize(text)))
    normalized = normalize(text)
    if rule.match == "exact":
        return normalized in alternatives(rule.pattern)
    return any(_contains(normalized, phrase) for phrase in alternatives(rule.pattern))


# --------------------------------------------------------------------------------------------------
# Choice
# --------------------------------------------------------------------------------------------------


def language_accepted(rule, language):
    """True when ``rule`` applies to a customer speaking ``language`` (exact or base code; empty
    ``rule.languages``: any). A rule restricted to languages skips customers of unknown language."""
    return language_fit(language, rule.languages) >= 1


def cooling_down(rule, last_fired, now):
    """True when ``rule`` fired for this customer less than ``rule.cooldown_seconds`` ago."""
    last = (last_fired or {}).get(rule.id)
    return last is not None and rule.cooldown_seconds > 0 and now - last < rule.cooldown_seconds


def _triggered(rule, text, first_contact, silence_seconds, in_hours):
    if rule.kind == WELCOME:
        if first_contact:
            return True
        return bool(
            rule.silence_seconds > 0
            and silence_seconds is not None
            and silence_seconds >= rule.silence_seconds
        )
    if rule.kind == OUT_OF_HOURS:
        return not in_hours
    return keyword_matches(rule, text)


def choose(
    rules,
    *,
    text,
    language=None,
    first_contact=False,
    silence_seconds=None,
    in_hours=True,
    now,
    last_fired=None,
):
    """The rules to fire for one inbound message: welcome, out_of_hours, keyword (in that order).

    For each kind, the applicable rule with the lowest ``priority`` (then id) is chosen among the
    rules of the customer's ``language``:

    * welcome: on ``first_contact``, or when ``silence_seconds`` (since the customer's previous
      message; None: unknown) reaches the rule's ``silence_seconds`` (when that is > 0);
    * out_of_hours: when not ``in_hours``;
    * keyword: when the ``text`` matches the rule (:func:`keyword_matches`).

    The chosen rule is then skipped if it fired for this customer within its cool-down
    (``last_fired``: ``{rule_id: epoch seconds}``, ``now`` in epoch seconds): that kind stays
    silent rather than falling back to a lower-priority rule of the same kind, so a customer is
    never answered twice in a short time for the same situation (e.g. two welcomes in a row).
    """
    fired = []
    for kind in KINDS:
        candidates = [
            rule
            for rule in rules
            if rule.kind == kind
            and language_accepted(rule, language)
            and _triggered(rule, text, first_contact, silence_seconds, in_hours)
        ]
        if not candidates:
            continue
        best = min(candidates, key=lambda rule: (rule.priority, id_key(rule.id)))
        if not cooling_down(best, last_fired, now):
            fired.append(best)
    return fired


def allowed_kinds(*, person_owns=False, person_live=False):
    """The kinds of automatic replies that may still go out, given who handles the conversation.

    ``person_owns``: a person owns the conversation (the customer asked for one or was handed
    over, an agent claimed it, routing assigned it, or an agent wrote in it) until it is resolved;
    ``person_live``: a person wrote in it a moment ago (also right after it was resolved).

    The moment a person owns the conversation, nothing automatic goes out until it is resolved:
    not only answers (the person answers, a bot answering too would talk over them) but also the
    welcome and out-of-hours notices, which would read as a glitch in a conversation a person is
    leading (the hand-off itself tells the customer when a person will answer).
    """
    if person_live or person_owns:
        return frozenset()
    return frozenset(KINDS)


# --------------------------------------------------------------------------------------------------
# Working hours
# --------------------------------------------------------------------------------------------------


def local_time(moment, tz):
    """``moment`` (aware datetime, naive datetime in UTC, or epoch seconds) in the time zone
    ``tz`` (IANA name; empty: UTC). An unknown zone raises ``ValueError``."""
    try:
        zone = pytz.timezone(tz) if tz else pytz.utc
    except pytz.UnknownTimeZoneError:
        raise ValueError(f"unknown time zone {tz!r}") from None
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def in_working_hours(intervals, moment, tz):
    """True when ``moment`` falls in one of ``intervals``, read in the local time of ``tz``.

    ``intervals``: ``(weekday, hour_from, hour_to)`` with weekday 0 (Monday) to 6 and hours as
    floats (8.5 = 08:30), ``hour_from`` included, ``hour_to`` excluded (24 = midnight), as in
    Odoo's ``resource.calendar.attendance`` (``dayofweek`` is a string there: ints are taken). An
    interval with ``hour_from > hour_to`` runs overnight into the next weekday. No intervals:
    never in hours (a team without calendar should be treated as open by the caller).
    """
    local = local_time(moment, tz)
    hour = local.hour + local.minute / 60 + (local.second + local.microsecond / 1e6) / 3600
    weekday = local.weekday()
    for day, hour_from, hour_to in intervals:
        day, hour_from, hour_to = int(day), float(hour_from), float(hour_to)
        if hour_from <= hour_to:
            if day == weekday and hour_from <= hour < hour_to:
                return True
        elif (day == weekday and hour >= hour_from) or (
            (day + 1) % 7 == weekday and hour < hour_to
        ):
            return True
    return False


def next_working_time(intervals, moment, tz, *, horizon_days=14):
    """The start of the next working interval after ``moment`` (same inputs as
    :func:`in_working_hours`), as an aware datetime in ``tz``; ``moment`` itself (in ``tz``) when
    it is in working hours; None without intervals within ``horizon_days``."""
    local = local_time(moment, tz)
    if in_working_hours(intervals, local, tz):
        return local
    zone = pytz.timezone(tz) if tz else pytz.utc
    starts = []
    for offset in range(horizon_days + 1):
        day = (local + timedelta(days=offset)).date()
        for weekday, hour_from, _hour_to in intervals:
            if int(weekday) != day.weekday():
                continue
            minutes = round(float(hour_from) * 60)
            naive = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)
            start = zone.localize(naive)
            if start > local:
                starts.append(start)
        if starts:
            return min(starts)
    return None
