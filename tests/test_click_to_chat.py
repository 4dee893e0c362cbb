"""Tests of ``tools.click_to_chat``: wa.me links and the source tag of their prefilled text."""

from datetime import datetime

import pytest
from wa_tools import autoreply, click_to_chat
from wa_tools.click_to_chat import link, parse_source, prefilled_text, source_tag, strip_tag


def test_a_product_page_link_round_trips():
    source = {"w": 1, "p": 42, "c": "summer sale", "pg": "/shop/office-chair-42"}
    text = prefilled_text("Hello! A question about the Office Chair", source)
    assert text == (
        "Hello! A question about the Office Chair "
        "[ref w1 p42 c=summer-sale pg=/shop/office-chair-42]"
    )
    url = link("+1 555-000-9999", text)
    assert url.startswith("https://wa.me/15550009999?text=Hello%21%20A%20question")
    assert parse_source(text) == {
        "w": 1,
        "p": 42,
        "c": "summer-sale",
        "pg": "/shop/office-chair-42",
    }
    assert strip_tag(text) == "Hello! A question about the Office Chair"


def test_the_tag_survives_what_whatsapp_and_customers_do_to_the_text():
    text = "Oi!! quero saber   [ref  w2 e7 s=instagram ]  obrigado"
    assert parse_source(text) == {"w": 2, "e": 7, "s": "instagram"}
    assert strip_tag(text) == "Oi!! quero saber obrigado"


@pytest.mark.parametrize(
    "text",
    [
        "Hello",
        "[ref]",
        "[ref w0 p-1]",
        "[ref w99999999999 zz=1]",
        "[REF w1]",
        None,
        42,
        "[ref w1" + " p2" * 5000,
    ],
)
def test_texts_without_a_readable_tag_have_no_source(text):
    assert parse_source(text) is None


def test_hostile_values_are_cleaned_and_bounded():
    source = {"w": "1", "p": "drop table", "c": "<script>alert(1)</script>" * 10, "x": "y"}
    tag = source_tag(source)
    assert tag.startswith("[ref w1 c=script-alert-1-")
    assert "<" not in tag and "p" not in tag.split()[2][:2]
    assert len(parse_source(tag)["c"]) == click_to_chat.MAX_SLUG
    assert source_tag({}) == "" and source_tag(None) == ""
    assert prefilled_text("  Hi  there ", {}) == "Hi there"


def test_a_long_text_is_cut_but_keeps_its_tag():
    text = prefilled_text("x" * 5000, {"w": 1, "p": 3})
    assert len(text) <= click_to_chat.MAX_TEXT
    assert parse_source(text) == {"w": 1, "p": 3}


@pytest.mark.parametrize("number", ["", None, "abc", "12345", "1" * 16])
def test_a_link_needs_an_international_number(number):
    with pytest.raises(ValueError):
        link(number)


def test_a_link_without_text_opens_the_chat():
    assert link("+55 11 98123-4567") == "https://wa.me/5511981234567"


# -- opening hours --------------------------------------------------------------------------

WEEKDAYS_9_TO_18 = [(day, 9.0, 18.0) for day in range(5)]


def test_next_opening_is_tomorrow_morning_after_hours():
    # Tuesday 2026-12-01 22:00 UTC = 19:00 in Sao Paulo, closed
    moment = datetime(2026, 12, 1, 22, 0)
    opening = autoreply.next_working_time(WEEKDAYS_9_TO_18, moment, "America/Sao_Paulo")
    assert (opening.weekday(), opening.hour, opening.minute) == (2, 9, 0)
    assert opening.utcoffset().total_seconds() == -3 * 3600


def test_next_opening_skips_the_weekend():
    saturday = datetime(2026, 12, 5, 12, 0)
    opening = autoreply.next_working_time(WEEKDAYS_9_TO_18, saturday, "UTC")
    assert (opening.day, opening.hour) == (7, 9)


def test_next_opening_with_half_hours_and_without_intervals():
    monday_afternoon = datetime(2026, 11, 30, 13, 0)
    opening = autoreply.next_working_time([(0, 8.5, 12.0)], monday_afternoon, "UTC")
    assert (opening.day, opening.hour, opening.minute) == (7, 8, 30)
    assert autoreply.next_working_time([], monday_afternoon, "UTC") is None
    assert autoreply.next_working_time([(9, 8.0, 9.0)], monday_afternoon, "UTC") is None


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ({"w": 1, "p": 42}, "website"),
        ({"w": 3}, "website"),
        ({"e": 7, "c": "summer"}, "link"),
        ({"pg": "/contact"}, "link"),
        ({}, None),
        (None, None),
    ],
)
def test_the_entry_point_a_tag_stands_for(source, kind):
    assert click_to_chat.source_kind(source) == kind


def test_the_entry_point_of_a_customer_message():
    assert click_to_chat.source_kind(parse_source("Hi [ref w1 p2]")) == "website"
    assert click_to_chat.source_kind(parse_source("Hi [ref e5]")) == "link"
    assert click_to_chat.source_kind(parse_source("Hi")) is None
