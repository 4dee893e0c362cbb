"""Template variable values formatted for the customer's language, with Babel. No Odoo import.

WhatsApp template parameters are plain text: whatever Odoo holds (amounts, dates, booleans, text)
must become one line of text in the customer's conventions, ``R$ 1.234,56`` for Brazil and
``¥1,234.56`` for China. Babel does the formatting; this module only picks the locale, converts
Odoo's naive UTC datetimes to the customer's time zone and cleans the result (Babel's no-break
spaces become plain spaces; newlines and tabs, which Meta rejects, are collapsed).

It also maps Odoo language codes (``pt_BR``, ``es_419``, ``sr@latin``) to the template languages
Meta accepts (:data:`META_LANGUAGES`) and chooses which language variant of a template to send
(:func:`pick_variant`).
"""

import copy
import datetime
import functools
import logging
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytz
from babel import Locale, UnknownLocaleError, dates, numbers
from babel.core import get_global, parse_locale

_logger = logging.getLogger(__name__)

DEFAULT_LOCALE = "en_US"

# The template languages of Meta's WhatsApp Business Platform
# (https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/supported-languages).
META_LANGUAGES = frozenset(
    {
        "af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da",
        "nl", "en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he",
        "hi", "hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt",
        "mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk",
        "sl", "es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur",
        "uz", "vi", "zu",
    }
)  # fmt: skip

BOOLEAN_TRUE = "✔"
BOOLEAN_FALSE = "✘"

# Odoo's ``sr@latin`` / ``sr@Cyrl``: the modifier names the script.
_SCRIPT_MODIFIERS = {"latin": "Latn", "latn": "Latn", "cyrl": "Cyrl", "cyrillic": "Cyrl"}
# Older or alternative codes of a language Meta knows under another one (Odoo's ``tl_PH``).
_LANGUAGE_ALIASES = {"tl": "fil", "no": "nb", "iw": "he", "in": "id", "ji": "yi"}
# Where the Odoo code of a Meta language is not its CLDR likely locale (``ar`` -> ``ar_EG``).
_ODOO_LANGUAGES = {"ar": "ar_001", "bn": "bn_IN", "fil": "tl_PH", "sr": "sr@Cyrl", "sw": "sw"}
# Languages Meta only lists per region: CLDR's default region of each.
_META_DEFAULT_REGIONS = {"pt": "pt_BR", "zh": "zh_CN", "rw": "rw_RW", "ky": "ky_KG"}
_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "hr"})
_HIDDEN_TAGS = frozenset({"script", "style"})


# --- Languages ---------------------------------------------------------------------------------


def _split_code(code):
    """``(language, script, territory)`` of a locale code in Odoo, Meta or POSIX spelling.

    ``"pt-BR"`` and ``"pt_BR.UTF-8"`` give ``("pt", None, "BR")``, ``"sr@latin"`` gives
    ``("sr", "Latn", None)``; anything unparsable gives ``("", None, None)``.
    """
    if not isinstance(code, str):
        return "", None, None
    code, _, modifier = code.strip().replace("-", "_").partition("@")
    try:
        language, territory, script, _variant = parse_locale(code)
    except ValueError:
        return "", None, None
    return language, script or _SCRIPT_MODIFIERS.get(modifier.lower()), territory


@functools.lru_cache(maxsize=128)
def _parse_babel_locale(language, script, territory):
    """The most specific Babel locale of the parts, dropping the script, then the territory."""
    candidates = (
        (language, script, territory),
        (language, None, territory),
        (language, script, None),
        (language, None, None),
    )
    for parts in candidates:
        try:
            return Locale.parse("_".join(part for part in parts if part))
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


def babel_locale(lang):
    """The Babel locale of an Odoo language code; ``en_US`` when Babel knows nothing closer.

    ``es_419``, ``zh_TW`` and ``sr@latin`` map to themselves, ``es_XY`` to ``es``, unknown or
    empty codes to ``en_US``. A :class:`babel.Locale` is returned as is. Never raises.
    """
    if isinstance(lang, Locale):
        return lang
    language, script, territory = _split_code(lang)
    if not language:
        return Locale.parse(DEFAULT_LOCALE)
    return _parse_babel_locale(language, script, territory)


def _meta_regional_variant(language, script, territory):
    """For a language Meta lists only per region (pt, zh, rw, ky): the closest region, or None."""
    if language == "pt" and territory:
        return "pt_PT"  # CLDR: every pt_XX locale but pt_BR follows European Portuguese.
    if language == "zh" and (script == "Hant" or territory == "MO"):
        return "zh_HK" if territory == "MO" else "zh_TW"
    return _META_DEFAULT_REGIONS.get(language)


def meta_language(odoo_lang):
    """The Meta template language for an Odoo language code, or None when Meta has none.

    The regional code when Meta has it (``pt_BR``, ``es_MX``, ``en_GB``), else the bare language
    (``es_CO`` -> ``es``, ``id_ID`` -> ``id``, ``tl_PH`` -> ``fil``), else the closest region of
    a language Meta only lists per region (``pt_AO`` -> ``pt_PT``, ``zh_SG`` -> ``zh_CN``).
    """
    _language, script, territory = _split_code(odoo_lang)
    language = _base_language(odoo_lang)
    if not language:
        return None
    if territory and f"{language}_{territory}" in META_LANGUAGES:
        return f"{language}_{territory}"
    if language in META_LANGUAGES:
        return language
    return _meta_regional_variant(language, script, territory)


def odoo_language(meta_code):
    """The Odoo language code most likely meant by a Meta template language; ``en_US`` if none.

    Regional codes are kept (``pt_BR``, ``es_MX``); a bare language takes Odoo's code for it
    (``ar`` -> ``ar_001``, ``fil`` -> ``tl_PH``) or else CLDR's most likely region
    (``id`` -> ``id_ID``, ``en`` -> ``en_US``, ``es`` -> ``es_ES``).
    """
    language, _script, territory = _split_code(meta_code)
    if not language:
        return DEFAULT_LOCALE
    if territory:
        return f"{language}_{territory}"
    if language in _ODOO_LANGUAGES:
        return _ODOO_LANGUAGES[language]
    likely = get_global("likely_subtags").get(language)
    if not likely:
        return DEFAULT_LOCALE
    likely_language, likely_territory, _script, _variant = parse_locale(likely)
    return f"{likely_language}_{likely_territory}" if likely_territory else likely_language


def _base_language(code):
    """The language of a locale code, aliases resolved (``tl_PH`` -> ``fil``); "" if none."""
    language = _split_code(code)[0]
    return _LANGUAGE_ALIASES.get(language, language)


def _cldr_family(language, territory):
    """The CLDR parent of a regional locale when it is not the bare language (``es_MX`` ->
    ``es_419``, ``en_IN`` -> ``en_001``, ``pt_AO`` -> ``pt_PT``), else the locale itself."""
    code = f"{language}_{territory}" if territory else language
    return get_global("parent_exceptions").get(code, code)


def _same_language_variant(available, odoo_lang):
    """The variant in ``available`` closest to ``odoo_lang``, or None.

    Meta's own code for the language if offered, else one of the same language, preferring the
    same script (Traditional Chinese for ``zh_TW``), then the same CLDR family (``es_MX`` for an
    ``es_CO`` customer rather than ``es_ES``), then the bare language, then the order given.
    """
    wanted = meta_language(odoo_lang)
    if wanted is None:
        return None
    if wanted in available:
        return wanted
    language = _base_language(odoo_lang)
    script = babel_locale(odoo_lang).script
    family = _cldr_family(language, _split_code(odoo_lang)[2])

    def rank(index):
        code = available[index]
        territory = _split_code(code)[2]
        return (
            babel_locale(code).script != script,
            _cldr_family(language, territory) != family,
            territory is not None,
            index,
        )

    same = [index for index, code in enumerate(available) if _base_language(code) == language]
    return available[min(same, key=rank)] if same else None


def pick_variant(available_meta_langs, customer_lang, company_lang):
    """Which language variant of a template to send, or None when there is none.

    ``available_meta_langs`` are the Meta codes the template is approved in. Tries the
    customer's language (its Meta code, else the same language in another region: ``pt_PT`` for
    a ``pt_BR`` customer), then the company's the same way, then English, then the first one.
    """
    available = [c for c in dict.fromkeys(available_meta_langs or ()) if c and isinstance(c, str)]
    if not available:
        return None
    for lang in (customer_lang, company_lang, DEFAULT_LOCALE):
        variant = _same_language_variant(available, lang)
        if variant:
            return variant
    return available[0]


# --- Numbers and money -------------------------------------------------------------------------


def _plain_spaces(text):
    """``text`` with every Unicode space (Babel's U+00A0, U+202F...) made a plain space."""
    return "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)


def _to_decimal(value):
    """``value`` (Decimal, float, int or numeric string) as a Decimal; floats by their repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # 0.1 -> Decimal("0.1"), not its binary expansion
    if isinstance(value, str):
        return Decimal(value.strip())
    return Decimal(int(value))


def _round_half_up(value, places):
    """``value`` rounded half up to ``places`` decimals like Odoo rounds, without a ``-0``."""
    if not value.is_finite():
        return value
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)


def _scale(digits):
    """Decimal places from ``digits``: an int, or Odoo's ``(precision, scale)`` pair."""
    if isinstance(digits, tuple | list):
        digits = digits[1]
    return max(int(digits), 0)


def _apply_pattern(pattern, value, locale, places, **kwargs):
    """Format ``value`` with Babel's ``pattern`` forced to ``places`` decimals (None: as is)."""
    if places is not None:
        pattern = copy.copy(pattern)
        pattern.frac_prec = (places, places)
    value = _round_half_up(_to_decimal(value), pattern.frac_prec[1])
    return _plain_spaces(pattern.apply(value, locale, **kwargs))


def format_number(value, lang, *, digits=None):
    """``value`` as a number in ``lang``'s conventions (``1.234,5`` for pt_BR).

    ``digits`` (an int or Odoo's ``(precision, scale)``) fixes the decimals; None keeps the
    locale's default, at most three, without trailing zeros. Rounds half up.
    """
    locale = babel_locale(lang)
    places = None if digits is None else _scale(digits)
    return _apply_pattern(locale.decimal_formats[None], value, locale, places)


def format_money(amount, currency_code, lang, *, digits=None):
    """``amount`` of ``currency_code`` (ISO 4217) as ``lang`` writes money: ``R$ 1.234,56``.

    Uses the currency's decimal places (JPY has none) unless ``digits`` says otherwise (pass
    ``currency.decimal_places`` where Odoo's differ), rounding half up. Without a currency code,
    the amount is a plain number with two decimals. Accepts Decimal, float, int.
    """
    code = currency_code.strip().upper() if isinstance(currency_code, str) else ""
    if not code:
        return format_number(amount, lang, digits=2 if digits is None else digits)
    locale = babel_locale(lang)
    places = numbers.get_currency_precision(code) if digits is None else _scale(digits)
    pattern = locale.currency_formats["standard"]
    return _apply_pattern(pattern, amount, locale, places, currency=code, currency_digits=False)


# --- Dates and times ---------------------------------------------------------------------------


def _timezone(tz):
    """The tzinfo for an IANA name (or a tzinfo); UTC when missing or unknown."""
    if isinstance(tz, datetime.tzinfo):
        return tz
    if isinstance(tz, str) and tz.strip():
        try:
            return pytz.timezone(tz.strip())
        except (pytz.UnknownTimeZoneError, ValueError):
            _logger.debug("unknown time zone %r: UTC used", tz)
    return pytz.utc


def _to_date_or_datetime(value):
    """A date or datetime from one or from its ISO string (``"2026-03-01 02:30:00"``)."""
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if len(text) <= len("2026-03-01"):
        return datetime.date.fromisoformat(text)
    return datetime.datetime.fromisoformat(text)


def _in_timezone(value, tz):
    """A naive datetime taken as UTC (how Odoo stores them), or an aware one, in ``tz``."""
    if value.tzinfo is None:
        value = pytz.utc.localize(value)
    return value.astimezone(_timezone(tz))


def format_date(value, lang, *, format="medium", tz=None):
    """The date of ``value`` as ``lang`` writes it; ``format`` is short/medium/long/full.

    A datetime is first converted to ``tz`` when one is given (naive ones taken as UTC), else
    its date part is used as is. Accepts ISO strings too.
    """
    value = _to_date_or_datetime(value)
    if isinstance(value, datetime.datetime):
        value = (_in_timezone(value, tz) if tz else value).date()
    return _plain_spaces(dates.format_date(value, format=format, locale=babel_locale(lang)))


def format_datetime(value, lang, *, tz=None, format="medium"):
    """``value``, a naive UTC datetime as Odoo stores it, in time zone ``tz`` as ``lang`` writes.

    ``tz`` is an IANA name (``America/Sao_Paulo``); missing or unknown means UTC. Aware datetimes
    keep their own offset; a plain date is formatted as a date. Accepts ISO strings too.
    """
    value = _to_date_or_datetime(value)
    if not isinstance(value, datetime.datetime):
        return format_date(value, lang, format=format)
    zone = _timezone(tz)
    text = dates.format_datetime(
        _in_timezone(value, zone), format=format, tzinfo=zone, locale=babel_locale(lang)
    )
    return _plain_spaces(text)


# --- Text and dispatch -------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, a space for each block boundary, no scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._hidden = 0  # depth inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def plain_text(value):
    """``value`` as one line: newlines, tabs and runs of spaces (refused by Meta) become a space."""
    return " ".join(str(value).split())


def html_to_text(html):
    """The visible text of an HTML fragment (an Odoo html field), entities decoded, one line."""
    extractor = _TextExtractor()
    extractor.feed(str(html))
    extractor.close()
    return plain_text("".join(extractor.parts))


def format_value(value, kind, lang, *, currency=None, tz=None, digits=None):
    """An Odoo field value of type ``kind`` as template parameter text in ``lang``.

    ``monetary`` needs ``currency`` (an ISO code); ``float``/``monetary`` take ``digits``;
    ``date``/``datetime`` take ``tz`` (naive datetimes are UTC); ``boolean`` gives ✔ or ✘;
    ``html`` is reduced to its text; anything else is ``str(value)`` on one line. None, and
    False outside booleans (Odoo's empty value), give ``""``.
    """
    kind = (kind or "").lower()
    if value is None or (value is False and kind != "boolean"):
        return ""
    if kind == "boolean":
        return BOOLEAN_TRUE if value else BOOLEAN_FALSE
    if kind == "monetary":
        return format_money(value, currency, lang, digits=digits)
    if kind == "float":
        return format_number(value, lang, digits=digits)
    if kind == "integer":
        return format_number(value, lang, digits=0)
    if kind == "date":
        return format_date(value, lang, tz=tz)
    if kind == "datetime":
        return format_datetime(value, lang, tz=tz)
    if kind == "html":
        return html_to_text(value)
    return plain_text(value)


# --- Opening hours -----------------------------------------------------------------------------


def format_time(value, lang, *, tz=None):
    """A time of day as ``lang`` writes it (``9:30 AM``, ``09:30``, ``09.30``); a datetime is first
    converted to ``tz`` (naive ones taken as UTC), a float is hours (8.5 = 08:30)."""
    if isinstance(value, int | float):
        minutes = round(float(value) * 60) % (24 * 60)
        value = datetime.time(minutes // 60, minutes % 60)
    elif isinstance(value, datetime.datetime):
        value = _in_timezone(value, tz).time() if tz else value.time()
    return _plain_spaces(dates.format_time(value, format="short", locale=babel_locale(lang)))


def format_weekday(weekday, lang, *, width="wide"):
    """The name of ``weekday`` (0: Monday) in ``lang``; ``width`` wide or abbreviated."""
    return dates.get_day_names(width, locale=babel_locale(lang))[int(weekday) % 7]


def format_moment(value, lang, *, tz=None):
    """A day and time as ``lang`` writes it (``Monday 9:00 AM``, ``segunda-feira 09:00``):
    ``value`` a naive UTC or aware datetime, shown in ``tz``."""
    local = _in_timezone(_to_date_or_datetime(value), _timezone(tz))
    return f"{format_weekday(local.weekday(), lang)} {format_time(local.time(), lang)}"
