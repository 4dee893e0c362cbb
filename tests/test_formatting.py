"""Template variable formatting: expected strings are Babel 2.10.3's (CLDR 41) real output."""

import datetime as dt
from decimal import Decimal

import pytest
import pytz
from babel import Locale
from wa_tools import formatting

# 2026-03-01 02:30 UTC: still 28 February in Brazil, already 1 March in China.
NIGHT_UTC = dt.datetime(2026, 3, 1, 2, 30)


# --- babel_locale ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("pt_BR", "pt_BR"),
        ("es_MX", "es_MX"),
        ("zh_CN", "zh_Hans_CN"),
        ("zh_TW", "zh_Hant_TW"),
        ("id_ID", "id_ID"),
        ("en_US", "en_US"),
        ("fr_FR", "fr_FR"),
        ("es_419", "es_419"),
        ("es", "es"),
        ("pt", "pt"),
        ("sr@latin", "sr_Latn"),
        ("sr@Cyrl", "sr_Cyrl"),
        ("tl_PH", "fil_PH"),  # Odoo's Tagalog / Filipino
        ("pt-BR", "pt_BR"),
        ("pt_BR.UTF-8", "pt_BR"),
        ("es_XY", "es"),  # unknown territory: the language
        ("xx_YY", "en_US"),
        ("", "en_US"),
        (None, "en_US"),
        (False, "en_US"),
        (42, "en_US"),
        ("??", "en_US"),
    ],
)
def test_babel_locale(lang, expected):
    assert str(formatting.babel_locale(lang)) == expected


def test_babel_locale_passes_a_locale_through():
    locale = Locale.parse("de_DE")
    assert formatting.babel_locale(locale) is locale


# --- format_money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "lang", "expected"),
    [
        (1234.56, "BRL", "pt_BR", "R$ 1.234,56"),
        (1234.56, "CNY", "zh_CN", "¥1,234.56"),
        (1234.56, "USD", "en_US", "$1,234.56"),
        (1234.56, "MXN", "es_MX", "$1,234.56"),
        (1234.56, "IDR", "id_ID", "Rp1.234,56"),
        (1234.56, "EUR", "fr_FR", "1 234,56 €"),
        (1234.56, "EUR", "de_DE", "1.234,56 €"),
        (1234.56, "USD", "pt_BR", "US$ 1.234,56"),
        (1234.56, "BRL", "en_US", "R$1,234.56"),
        (Decimal("1234567.891"), "INR", "en_IN", "₹12,34,567.89"),  # lakh grouping
        (1234.5, "JPY", "en_US", "¥1,235"),  # no decimals, half up
        (1234.5, "JPY", "ja_JP", "￥1,235"),  # CLDR's full-width yen sign
        (Decimal("1.5"), "KWD", "en_US", "KWD1.500"),  # three decimals
        (-1234.5, "BRL", "pt_BR", "-R$ 1.234,50"),
        (1234, "usd", "en_US", "$1,234.00"),  # int amount, lower-case code
    ],
)
def test_format_money(amount, currency, lang, expected):
    assert formatting.format_money(amount, currency, lang) == expected


def test_format_money_plain_spaces_only():
    for lang, currency in [("pt_BR", "BRL"), ("fr_FR", "EUR"), ("de_CH", "CHF"), ("ru", "RUB")]:
        text = formatting.format_money(1234567.5, currency, lang)
        assert "\u00a0" not in text and "\u202f" not in text, (lang, text)
    assert formatting.format_money(1234567.5, "EUR", "fr_FR") == "1 234 567,50 €"


def test_format_money_rounds_half_up_like_odoo():
    assert formatting.format_money(0.125, "USD", "en_US") == "$0.13"
    assert formatting.format_money(2.675, "USD", "en_US") == "$2.68"  # float 2.67499... in binary
    assert formatting.format_money(Decimal("0.005"), "BRL", "pt_BR") == "R$ 0,01"


def test_format_money_has_no_negative_zero():
    assert formatting.format_money(-0.001, "USD", "en_US") == "$0.00"


def test_format_money_float_and_decimal_agree():
    assert formatting.format_money(0.1 + 0.2, "BRL", "pt_BR") == "R$ 0,30"
    assert formatting.format_money(Decimal("0.30"), "BRL", "pt_BR") == "R$ 0,30"


def test_format_money_digits_override():
    assert formatting.format_money(1500000, "IDR", "id_ID") == "Rp1.500.000,00"
    assert formatting.format_money(1500000, "IDR", "id_ID", digits=0) == "Rp1.500.000"
    assert formatting.format_money(1234.5, "USD", "en_US", digits=(16, 3)) == "$1,234.500"


@pytest.mark.parametrize("currency", [None, "", False])
def test_format_money_without_currency_is_a_number(currency):
    assert formatting.format_money(1234.5, currency, "pt_BR") == "1.234,50"


def test_format_money_unknown_lang_is_en_us():
    assert formatting.format_money(1234.56, "BRL", "xx_YY") == "R$1,234.56"


# --- format_number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "lang", "digits", "expected"),
    [
        (1234567.891, "pt_BR", None, "1.234.567,891"),
        (1234567.891, "en_US", None, "1,234,567.891"),
        (1234567.891, "fr_FR", None, "1 234 567,891"),
        (1234567.891, "en_IN", None, "12,34,567.891"),
        (1234567.891, "en_IN", 2, "12,34,567.89"),
        (1234567.891, "zh_CN", 2, "1,234,567.89"),
        (1234567.891, "id_ID", 2, "1.234.567,89"),
        (1.23456, "es_MX", None, "1.235"),  # at most three decimals by default
        (0.1 + 0.2, "en_US", None, "0.3"),
        (1234, "pt_BR", None, "1.234"),
        (1234.5, "pt_BR", 2, "1.234,50"),
        (1234.5, "pt_BR", (16, 2), "1.234,50"),  # Odoo's digits pair
        (2.5, "en_US", 0, "3"),  # half up, not Babel's default half even
        (Decimal("-0.0004"), "en_US", 3, "0.000"),
        ("1234.5", "de_DE", 1, "1.234,5"),
    ],
)
def test_format_number(value, lang, digits, expected):
    assert formatting.format_number(value, lang, digits=digits) == expected


# --- format_date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("pt_BR", "1 de mar. de 2026"),
        ("es_MX", "1 mar 2026"),
        ("zh_CN", "2026年3月1日"),
        ("id_ID", "1 Mar 2026"),
        ("en_US", "Mar 1, 2026"),
        ("en_IN", "01-Mar-2026"),
        ("fr_FR", "1 mars 2026"),
    ],
)
def test_format_date_medium(lang, expected):
    assert formatting.format_date(dt.date(2026, 3, 1), lang) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("short", "01/03/2026"),
        ("medium", "1 de mar. de 2026"),
        ("long", "1 de março de 2026"),
        ("full", "domingo, 1 de março de 2026"),
    ],
)
def test_format_date_formats(fmt, expected):
    assert formatting.format_date(dt.date(2026, 3, 1), "pt_BR", format=fmt) == expected


def test_format_date_of_datetime_takes_date_part():
    assert formatting.format_date(NIGHT_UTC, "pt_BR") == "1 de mar. de 2026"


def test_format_date_of_datetime_in_timezone():
    text = formatting.format_date(NIGHT_UTC, "pt_BR", tz="America/Sao_Paulo")
    assert text == "28 de fev. de 2026"


def test_format_date_accepts_iso_string():
    assert formatting.format_date("2026-03-01", "en_US") == "Mar 1, 2026"


# --- format_datetime ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "tz", "expected"),
    [
        ("pt_BR", "America/Sao_Paulo", "28 de fev. de 2026 23:30:00"),
        ("pt_BR", "Asia/Shanghai", "1 de mar. de 2026 10:30:00"),
        ("zh_CN", "Asia/Shanghai", "2026年3月1日 10:30:00"),
        ("zh_CN", "America/Sao_Paulo", "2026年2月28日 23:30:00"),
        ("en_US", "America/Sao_Paulo", "Feb 28, 2026, 11:30:00 PM"),
        ("es_MX", "America/Mexico_City", "28 feb 2026 20:30:00"),
        ("id_ID", "Asia/Jakarta", "1 Mar 2026 09.30.00"),
        ("en_IN", "Asia/Kolkata", "01-Mar-2026, 8:00:00 am"),  # UTC+05:30
        ("fr_FR", "Europe/Paris", "1 mars 2026, 03:30:00"),
    ],
)
def test_format_datetime_in_timezone(lang, tz, expected):
    assert formatting.format_datetime(NIGHT_UTC, lang, tz=tz) == expected


@pytest.mark.parametrize("tz", [None, "", "Nowhere/Atlantis", 42])
def test_format_datetime_without_valid_timezone_is_utc(tz):
    assert formatting.format_datetime(NIGHT_UTC, "pt_BR", tz=tz) == "1 de mar. de 2026 02:30:00"


def test_format_datetime_accepts_tzinfo():
    zone = pytz.timezone("America/Sao_Paulo")
    assert formatting.format_datetime(NIGHT_UTC, "pt_BR", tz=zone) == "28 de fev. de 2026 23:30:00"


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (dt.datetime(2026, 3, 29, 0, 30), "29/03/2026 01:30"),  # CET, UTC+1
        (dt.datetime(2026, 3, 29, 1, 30), "29/03/2026 03:30"),  # CEST from 01:00 UTC, UTC+2
        (dt.datetime(2026, 10, 25, 0, 30), "25/10/2026 02:30"),  # CEST
        (dt.datetime(2026, 10, 25, 1, 30), "25/10/2026 02:30"),  # CET again: 02:30 twice
    ],
)
def test_format_datetime_across_dst_switch(utc, expected):
    assert formatting.format_datetime(utc, "fr_FR", tz="Europe/Paris", format="short") == expected


def test_format_datetime_us_dst_switch():
    before = dt.datetime(2026, 3, 8, 6, 30)  # 01:30 EST
    after = dt.datetime(2026, 3, 8, 7, 30)  # 03:30 EDT: 02:xx does not exist that night
    assert formatting.format_datetime(before, "en_US", tz="America/New_York", format="short") == (
        "3/8/26, 1:30 AM"
    )
    assert formatting.format_datetime(after, "en_US", tz="America/New_York", format="short") == (
        "3/8/26, 3:30 AM"
    )


def test_format_datetime_full_names_the_zone():
    text = formatting.format_datetime(NIGHT_UTC, "pt_BR", tz="America/Sao_Paulo", format="full")
    assert text == "sábado, 28 de fevereiro de 2026 23:30:00 Horário Padrão de Brasília"


def test_format_datetime_aware_value_keeps_its_offset():
    aware = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert formatting.format_datetime(aware, "pt_BR", tz="UTC") == "1 de mar. de 2026 05:30:00"


def test_format_datetime_accepts_odoo_string_and_date():
    assert (
        formatting.format_datetime("2026-03-01 02:30:00", "pt_BR", tz="America/Sao_Paulo")
        == "28 de fev. de 2026 23:30:00"
    )
    assert formatting.format_datetime(dt.date(2026, 3, 1), "pt_BR") == "1 de mar. de 2026"


def test_format_datetime_plain_spaces_only():
    for lang in ("en_US", "fr_FR", "pt_BR", "zh_CN", "id_ID", "en_IN", "es_MX"):
        for fmt in ("short", "medium", "long", "full"):
            text = formatting.format_datetime(NIGHT_UTC, lang, tz="Asia/Kolkata", format=fmt)
            assert "\u00a0" not in text and "\u202f" not in text, (lang, fmt, text)


# --- format_value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "kwargs", "expected"),
    [
        (1234.56, "monetary", {"currency": "BRL"}, "R$ 1.234,56"),
        (1234.5, "monetary", {"currency": "JPY"}, "JP¥ 1.235"),
        (0.0, "monetary", {"currency": "BRL"}, "R$ 0,00"),
        (1234.5678, "float", {}, "1.234,568"),
        (1234.5, "float", {"digits": (16, 2)}, "1.234,50"),
        (0.0, "float", {}, "0"),
        (1234, "integer", {}, "1.234"),
        (0, "integer", {}, "0"),
        (dt.date(2026, 3, 1), "date", {}, "1 de mar. de 2026"),
        (NIGHT_UTC, "datetime", {"tz": "America/Sao_Paulo"}, "28 de fev. de 2026 23:30:00"),
        (NIGHT_UTC, "datetime", {}, "1 de mar. de 2026 02:30:00"),
        (True, "boolean", {}, "✔"),
        (False, "boolean", {}, "✘"),
        ("  Pedido\n\tnº 42      urgente ", "char", {}, "Pedido nº 42 urgente"),
        ("linha 1\r\nlinha 2", "text", {}, "linha 1 linha 2"),
        ("in_progress", "selection", {}, "in_progress"),
        ("<p>Olá&nbsp;<b>mundo</b></p><p>fim<br/>!</p><script>x()</script>", "html", {}, None),
        (42, "many2one_reference", {}, "42"),
        (1234.56, "MONETARY", {"currency": "BRL"}, "R$ 1.234,56"),
    ],
)
def test_format_value(value, kind, kwargs, expected):
    if expected is None:
        expected = "Olá mundo fim !"
    assert formatting.format_value(value, kind, "pt_BR", **kwargs) == expected


@pytest.mark.parametrize(
    "kind", ["monetary", "float", "integer", "date", "datetime", "char", "text", "html", "x"]
)
def test_format_value_empty(kind):
    assert formatting.format_value(None, kind, "pt_BR", currency="BRL") == ""
    assert formatting.format_value(False, kind, "pt_BR", currency="BRL") == ""


def test_format_value_boolean_none_is_empty():
    assert formatting.format_value(None, "boolean", "pt_BR") == ""


def test_format_value_text_never_has_what_meta_rejects():
    text = formatting.format_value("a\n\nb\t\tc" + " " * 10 + "d\u00a0\u00a0e", "text", "en_US")
    assert text == "a b c d e"


# --- Meta languages ----------------------------------------------------------------------------


def test_meta_languages():
    assert len(formatting.META_LANGUAGES) == 71
    ours = {"pt_BR", "es_MX", "zh_CN", "id", "en_US", "en", "hi", "fil"}
    assert ours <= formatting.META_LANGUAGES
    assert "pt" not in formatting.META_LANGUAGES and "zh" not in formatting.META_LANGUAGES


@pytest.mark.parametrize(
    ("odoo_lang", "meta"),
    [
        ("pt_BR", "pt_BR"),
        ("pt_PT", "pt_PT"),
        ("pt_AO", "pt_PT"),  # African Portuguese follows the European norm
        ("pt", "pt_BR"),
        ("es_MX", "es_MX"),
        ("es_AR", "es_AR"),
        ("es_ES", "es_ES"),
        ("es_CO", "es"),
        ("es_419", "es"),
        ("zh_CN", "zh_CN"),
        ("zh_TW", "zh_TW"),
        ("zh_HK", "zh_HK"),
        ("zh_SG", "zh_CN"),
        ("zh_MO", "zh_HK"),
        ("zh_Hant", "zh_TW"),
        ("id_ID", "id"),
        ("en_US", "en_US"),
        ("en_GB", "en_GB"),
        ("en_IN", "en"),
        ("hi_IN", "hi"),
        ("fr_FR", "fr"),
        ("fr_CA", "fr"),
        ("de_DE", "de"),
        ("nb_NO", "nb"),
        ("fil_PH", "fil"),
        ("tl_PH", "fil"),
        ("ar_001", "ar"),
        ("sr@latin", "sr"),
        ("sr@Cyrl", "sr"),
        ("he_IL", "he"),
        ("pt-BR", "pt_BR"),
        ("ku", None),
        ("my_MM", None),
        ("", None),
        (None, None),
        (False, None),
    ],
)
def test_meta_language(odoo_lang, meta):
    assert formatting.meta_language(odoo_lang) == meta


@pytest.mark.parametrize(
    ("meta", "odoo_lang"),
    [
        ("id", "id_ID"),
        ("en", "en_US"),
        ("es", "es_ES"),
        ("pt_BR", "pt_BR"),
        ("pt_PT", "pt_PT"),
        ("es_MX", "es_MX"),
        ("zh_CN", "zh_CN"),
        ("zh_TW", "zh_TW"),
        ("fr", "fr_FR"),
        ("hi", "hi_IN"),
        ("ar", "ar_001"),
        ("fil", "tl_PH"),
        ("sr", "sr@Cyrl"),
        ("nb", "nb_NO"),
        ("ko", "ko_KR"),
        ("sw", "sw"),
        ("xx", "en_US"),
        ("", "en_US"),
        (None, "en_US"),
    ],
)
def test_odoo_language(meta, odoo_lang):
    assert formatting.odoo_language(meta) == odoo_lang


@pytest.mark.parametrize("meta", sorted(formatting.META_LANGUAGES))
def test_odoo_language_round_trips(meta):
    odoo_lang = formatting.odoo_language(meta)
    back = formatting.meta_language(odoo_lang)
    # Only bare codes that Meta also lists per region come back as that region.
    assert back == {"en": "en_US", "es": "es_ES"}.get(meta, meta)
    assert formatting.babel_locale(odoo_lang).language == meta.split("_")[0]


# --- pick_variant ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "customer", "company", "expected"),
    [
        (["en_US", "pt_BR"], "pt_BR", "en_US", "pt_BR"),
        (["en_US", "pt_PT"], "pt_BR", "en_US", "pt_PT"),  # same language, other region
        (["en_US", "es"], "es_MX", "en_US", "es"),
        (["es_ES", "es_MX", "en"], "es_CO", "en_US", "es_MX"),  # Latin American Spanish first
        (["es_MX", "es_ES"], "es_ES", "en_US", "es_ES"),
        (["es_ES", "es"], "es_AR", "en_US", "es"),  # the bare language before another region
        (["zh_CN", "zh_HK"], "zh_TW", "en_US", "zh_HK"),  # Traditional script first
        (["zh_TW", "zh_CN"], "zh_SG", "en_US", "zh_CN"),
        (["en_US", "id"], "id_ID", "en_US", "id"),
        (["en_GB", "en_US"], "en_IN", "en_US", "en_GB"),  # same CLDR family (en_001)
        (["fil", "en"], "tl_PH", "en_US", "fil"),
        (["de", "pt_BR"], "ja_JP", "pt_BR", "pt_BR"),  # the company's language
        (["de", "pt_PT"], "ja_JP", "pt_BR", "pt_PT"),
        (["de", "en_GB", "en"], "ja_JP", "ko_KR", "en"),  # then English
        (["de", "en_GB", "en_US"], "ja_JP", None, "en_US"),
        (["de", "fr"], "ja_JP", "ko_KR", "de"),  # then the first one
        (["de", "fr"], None, None, "de"),
        (("fr", "de", "fr"), "xx", False, "fr"),
        ([], "pt_BR", "en_US", None),
        (None, "pt_BR", "en_US", None),
        (["", None, "hi"], "en_US", "en_US", "hi"),
    ],
)
def test_pick_variant(available, customer, company, expected):
    assert formatting.pick_variant(available, customer, company) == expected


def test_pick_variant_accepts_a_set():
    assert formatting.pick_variant({"pt_BR", "en_US"}, "pt_BR", "en_US") == "pt_BR"


def test_opening_hours_values():
    assert formatting.format_time(9.5, "en_US") == "9:30 AM"
    assert formatting.format_time(18, "pt_BR") == "18:00"
    assert formatting.format_time(24, "pt_BR") == "00:00"
    assert (
        formatting.format_time(dt.datetime(2026, 3, 2, 12, 0), "es", tz="America/Mexico_City")
        == "6:00"
    )
    assert formatting.format_weekday(5, "zh_CN") == "星期六"
    assert formatting.format_weekday(0, "id", width="abbreviated") == "Sen"
    monday_noon_utc = dt.datetime(2026, 3, 2, 12, 0)
    assert (
        formatting.format_moment(monday_noon_utc, "pt_BR", tz="America/Sao_Paulo")
        == "segunda-feira 09:00"
    )
    assert formatting.format_moment(monday_noon_utc, "en_US") == "Monday 12:00 PM"
