"""Tests of ``tools.audience``: segment rules as domains."""

from datetime import datetime

import pytest
from wa_tools import audience

SUB = object()


def test_no_rule_is_everyone():
    assert audience.rule_domains({}, {}) == []
    assert audience.combine([]) == []


def test_each_rule_kind_gives_its_domain():
    parts = dict(
        audience.rule_domains(
            {
                "company": 3,
                "whatsapp": True,
                "tags_all": [1, 2],
                "tags_any": [3],
                "tags_none": [4],
                "country": [31],
                "language": ["pt_BR"],
                "marketing_optin": audience.OPTIN_IN,
                "utility_optin": audience.OPTIN_NOT_OUT,
                "consent_company": 3,
                "extra": [("city", "=", "Rio")],
            },
            {"inbound": SUB, "orders": SUB},
        )
    )
    assert parts["company"] == ["|", ("company_id", "=", False), ("company_id", "=", 3)]
    assert parts["tags_all"] == [("whatsapp_tags", "like", ",1,"), ("whatsapp_tags", "like", ",2,")]
    assert parts["tags_any"] == [("whatsapp_tags", "like", ",3,")]
    assert parts["tags_none"] == [("whatsapp_tags", "not like", ",4,")]
    assert parts["marketing_optin"] == [("whatsapp_consent", "like", ",3:marketing:in,")]
    assert parts["utility_optin"] == [("whatsapp_consent", "not like", ",3:utility:out,")]
    assert parts["orders"] == [("commercial_partner_id", "in", SUB)]
    assert list(parts) == list(audience.RULES)


def test_combine_ands_normalized_rules():
    combined = audience.combine(
        [("a", ["|", ("x", "=", 1), ("y", "=", 2)]), ("b", [("z", "=", 3), ("w", "=", 4)])]
    )
    assert combined == [
        "&",
        "|",
        ("x", "=", 1),
        ("y", "=", 2),
        "&",
        ("z", "=", 3),
        ("w", "=", 4),
    ]


def test_tag_rules_read_the_stored_tags_text():
    parts = dict(audience.tag_domains({"tags_all": [2, 1, 2], "tags_any": [3, 30, 300]}))
    assert parts["tags_all"] == [("whatsapp_tags", "like", ",1,"), ("whatsapp_tags", "like", ",2,")]
    token = [("whatsapp_tags", "like", f",{tag},") for tag in (3, 30, 300)]
    assert parts["tags_any"] == ["|", "|", *token]
    assert audience.normalize(parts["tags_any"]) == parts["tags_any"]
    assert audience.tag_domains({"tags_all": [], "tags_any": None}) == []


def test_tags_text_marks_each_tag_once_in_order_and_tokens_never_overlap():
    text = audience.tags_text([18, 8, 8, 108])
    assert text == ",8,18,108,"
    assert audience.tags_text([]) is None
    assert audience.tag_token(8) in text
    assert audience.tag_token(1) not in text
    assert audience.tag_token(10) not in text
    assert audience.tag_token(18) in ",18,"


@pytest.mark.parametrize("hostile", ["8", "%", 8.0, True, None, [8]])
def test_tag_token_takes_integers_only(hostile):
    with pytest.raises(TypeError):
        audience.tag_token(hostile)


def test_consent_text_marks_each_optin_once_in_order():
    optins = [(11, "utility", "opted_out"), (1, "marketing", "opted_in")] * 2
    text = audience.consent_text(optins)
    assert text == ",11:utility:out,1:marketing:in,"
    assert audience.consent_token(1, "marketing", "opted_in") in text
    # company 1 is not company 11, nor a state the other
    assert audience.consent_token(1, "utility", "opted_out") not in text
    assert audience.consent_text([]) is None
    with pytest.raises(KeyError):
        audience.consent_token(1, "marketing", "maybe")


def test_optin_any_adds_nothing():
    assert audience.rule_domains({"marketing_optin": audience.OPTIN_ANY}, {}) == []


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "[('a', '=')]",
        "['|', ('a', '=', 1)]",
        "['x']",
        "{'a': 1}",
        "[" * 3000,
        "x" * (audience.MAX_EXTRA_DOMAIN + 1),
        "[(1, '=', 1)]",
    ],
)
def test_hostile_extra_domains_are_refused(text):
    with pytest.raises(ValueError):
        audience.check_extra_domain(text)


def test_extra_domain_literal():
    assert audience.check_extra_domain(" [['city', '=', 'Rio']] ") == [("city", "=", "Rio")]
    assert audience.check_extra_domain("") == []


def test_since_is_bounded():
    now = datetime(2026, 11, 30)
    assert audience.since(now, 7) == datetime(2026, 11, 23)
    assert audience.since(now, 10**12) == now - (now - audience.since(now, audience.MAX_DAYS))
