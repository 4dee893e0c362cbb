"""Tests of ``tools.template_import``: Meta's template list read back into template specs.

What Meta lists has the shape of what we submit (``template_payloads.create_payload``) plus an id,
a status and the review, so the specs of ``template_specs`` make the round trip.
"""

import pytest
from template_specs import named, positional
from wa_tools import template_import as ti
from wa_tools.template_payloads import create_payload

CONTENT_KEYS = ("name", "language", "category", "parameter_format", "header_type", "body")


def listed(spec, **review) -> dict:
    """What Meta lists for the template ``spec`` once submitted."""
    return {"id": "555", "status": "APPROVED", **create_payload(spec), **review}


@pytest.mark.parametrize("make_spec", [positional, named])
def test_a_submitted_template_reads_back_as_its_spec(make_spec):
    spec = make_spec()
    back = ti.read_listed(listed(spec)).spec
    assert {key: back[key] for key in CONTENT_KEYS} == {key: spec[key] for key in CONTENT_KEYS}
    assert (back["header_text"], back["footer"]) == (spec["header_text"], spec["footer"])
    assert [(b["type"], b["text"]) for b in back["buttons"]] == [
        (b["type"], b.get("text", "")) for b in spec["buttons"]
    ]
    assert {key: back["samples"][key] for key in ("header", "body")} == {
        key: spec["samples"][key] for key in ("header", "body")
    }


def test_buttons_keep_their_targets_and_examples():
    buttons = ti.read_listed(listed(positional())).spec["buttons"]
    quick, link, call, coupon = buttons
    assert quick == {
        "type": "QUICK_REPLY",
        "text": "Falar com atendente",
        "url": "",
        "phone_number": "",
        "example": "",
    }
    assert (link["url"], link["example"]) == (
        "https://shop.example/track/{{1}}",
        "https://shop.example/track/S00042",
    )
    assert call["phone_number"] == "+5511987654321"
    assert (coupon["type"], coupon["example"]) == ("COPY_CODE", "SAVE10")


def test_review_of_a_listed_template():
    template = ti.read_listed(
        listed(
            positional(),
            status="REJECTED",
            rejected_reason="INVALID_FORMAT",
            quality_score={"score": "GREEN", "date": 1795000000},
        )
    )
    assert (template.meta_id, template.status) == ("555", "rejected")
    assert (template.rejected_reason, template.quality_score) == ("INVALID_FORMAT", "GREEN")
    fresh = ti.read_listed({"id": 7, "name": "x", "rejected_reason": "NONE"})
    assert (fresh.meta_id, fresh.status) == ("7", "pending")
    assert (fresh.rejected_reason, fresh.quality_score) == ("", "")


@pytest.mark.parametrize(
    ("meta_status", "expected"),
    [
        ("APPROVED", "approved"),
        ("approved", "approved"),
        ("PENDING_DELETION", "disabled"),
        ("REINSTATED", "approved"),
        ("LIMIT_EXCEEDED", "rejected"),
        (None, "pending"),
        ("SOMETHING_NEW", "pending"),
    ],
)
def test_status_of(meta_status, expected):
    assert ti.status_of(meta_status) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"id": "1234", "status": "PENDING", "category": "UTILITY"}, ("1234", "pending")),
        ({"id": 1234, "status": "APPROVED"}, ("1234", "approved")),
        ({"id": "1234"}, ("1234", "pending")),
        (None, ("", "pending")),
    ],
)
def test_read_created(answer, expected):
    assert ti.read_created(answer) == expected


def test_status_of_keeps_a_default_for_unknown_statuses():
    assert ti.status_of("SOMETHING_NEW", "paused") == "paused"


def test_what_meta_leaves_out_reads_as_our_defaults():
    spec = ti.spec_from_meta(
        {
            "name": "promo",
            "language": "es_MX",
            "category": "SOMETHING_NEW",
            "components": [
                {"type": "HEADER", "text": "Hola"},
                {"type": "BODY", "text": "Oferta"},
                {"type": "BUTTONS", "buttons": [{"text": "Quiero"}, "garbage"]},
                "garbage",
            ],
        }
    )
    assert spec["category"] == "UTILITY"
    assert spec["parameter_format"] == "POSITIONAL"
    assert (spec["header_type"], spec["header_text"]) == ("text", "Hola")
    assert spec["footer"] == ""
    assert [(b["type"], b["text"]) for b in spec["buttons"]] == [("QUICK_REPLY", "Quiero")]


def test_a_media_header_has_no_text_and_no_samples():
    spec = ti.spec_from_meta(
        {
            "name": "catalogue",
            "language": "en_US",
            "components": [
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW"]}},
                {"type": "BODY", "text": "Our new catalogue."},
            ],
        }
    )
    assert (spec["header_type"], spec["header_text"]) == ("image", "")
    assert spec["samples"] == {"header": {}, "body": {}}


@pytest.mark.parametrize("data", [None, [], "x", {"components": "x"}, {"components": [None]}])
def test_garbage_reads_as_an_empty_spec(data):
    spec = ti.spec_from_meta(data)
    assert (spec["name"], spec["body"], spec["buttons"], spec["samples"]) == ("", "", [], {})
