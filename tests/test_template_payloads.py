"""Tests of ``tools.template_payloads``: creation and send payloads, preview.

Expected payloads follow the shapes of Meta's WhatsApp Cloud API documentation (template
components, template messages, authentication templates).
"""

import copy
import re

import pytest
from template_specs import BODY, LINK, NAMED_BODY, authentication, named, positional
from wa_tools import template_payloads as tr
from wa_tools import template_spec

# --------------------------------------------------------------------------------------------
# create_payload
# --------------------------------------------------------------------------------------------


def test_create_payload_positional():
    assert tr.create_payload(positional()) == {
        "name": "order_confirmed",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Pedido {{1}}",
                "example": {"header_text": ["S00042"]},
            },
            {
                "type": "BODY",
                "text": BODY,
                "example": {"body_text": [["Ana", "S00042", "R$ 1.234,56"]]},
            },
            {"type": "FOOTER", "text": "Loja Exemplo"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Falar com atendente"},
                    {
                        "type": "URL",
                        "text": "Acompanhar",
                        "url": "https://shop.example/track/{{1}}",
                        "example": ["https://shop.example/track/S00042"],
                    },
                    {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+5511987654321"},
                    {"type": "COPY_CODE", "example": "SAVE10"},
                ],
            },
        ],
    }


def test_create_payload_named():
    spec = named()
    spec["body"] = NAMED_BODY + " Até logo, {{first_name}}!"
    assert tr.create_payload(spec) == {
        "name": "order_confirmed_named",
        "language": "en_US",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{order_ref}}",
                "example": {
                    "header_text_named_params": [{"param_name": "order_ref", "example": "S00042"}]
                },
            },
            {
                "type": "BODY",
                "text": spec["body"],
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Ana"},
                        {"param_name": "order_ref", "example": "S00042"},
                        {"param_name": "amount", "example": "$ 12.00"},
                    ]
                },
            },
            {"type": "FOOTER", "text": "Example Shop"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://shop.example/track/{{1}}",
                        "example": ["https://shop.example/track/S00042"],
                    },
                    {"type": "QUICK_REPLY", "text": "Stop"},
                ],
            },
        ],
    }


def test_create_payload_minimal_omits_empty_components():
    spec = {"name": "hello", "language": "en", "category": "utility", "body": "Hello there!"}
    assert tr.create_payload(spec) == {
        "name": "hello",
        "language": "en",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hello there!"}],
    }


def test_create_payload_positional_examples_in_number_order():
    spec = positional()
    spec["body"] = "Pedido {{2}} de cliente {{1}} no valor de {{3}} foi confirmado hoje mesmo."
    body = tr.create_payload(spec)["components"][1]
    assert body["example"] == {"body_text": [["Ana", "S00042", "R$ 1.234,56"]]}


@pytest.mark.parametrize("header_type", ["image", "video", "document"])
def test_create_payload_media_header(header_type):
    spec = {**positional(), "header_type": header_type, "header_handle": "4::aW1hZ2U="}
    header = tr.create_payload(spec)["components"][0]
    assert header == {
        "type": "HEADER",
        "format": header_type.upper(),
        "example": {"header_handle": ["4::aW1hZ2U="]},
    }


def test_create_payload_location_header_and_static_url():
    spec = {**positional(), "header_type": "location"}
    spec["buttons"] = [{"type": "URL", "text": "Site", "url": "https://shop.example"}]
    components = tr.create_payload(spec)["components"]
    assert components[0] == {"type": "HEADER", "format": "LOCATION"}
    assert components[-1] == {
        "type": "BUTTONS",
        "buttons": [{"type": "URL", "text": "Site", "url": "https://shop.example"}],
    }


def test_create_payload_authentication():
    assert tr.create_payload(authentication()) == {
        "name": "login_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 5},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}],
            },
        ],
    }


def test_create_payload_does_not_change_the_spec():
    spec = positional()
    before = copy.deepcopy(spec)
    tr.create_payload(spec)
    tr.send_components(spec, spec["samples"])
    tr.render(spec, spec["samples"])
    assert spec == before


def test_edit_payload_changes_category_and_components_only():
    spec = named()
    created = tr.create_payload(spec)
    assert tr.edit_payload(spec) == {
        "category": created["category"],
        "components": created["components"],
    }


# --------------------------------------------------------------------------------------------
# send_components
# --------------------------------------------------------------------------------------------


def test_send_components_positional():
    values = {
        "header": {"1": "S00042"},
        "body": {"1": "Ana", "2": "S00042", "3": "R$ 1.234,56"},
        "button_0": {"payload": "talk-to-agent"},
        "button_1": {"1": "S00042"},
        "button_3": {"code": "ANA15"},
    }
    assert tr.send_components(positional(), values) == [
        {"type": "header", "parameters": [{"type": "text", "text": "S00042"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "text", "text": "S00042"},
                {"type": "text", "text": "R$ 1.234,56"},
            ],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": "talk-to-agent"}],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "1",
            "parameters": [{"type": "text", "text": "S00042"}],
        },
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "3",
            "parameters": [{"type": "coupon_code", "coupon_code": "ANA15"}],
        },
    ]


def test_send_components_named():
    values = {
        "header": {"order_ref": "S7"},
        "body": {"first_name": "Ana", "order_ref": "S7", "amount": 12.5},
        "button_0": {"1": "S7"},
    }
    assert tr.send_components(named(), values) == [
        {
            "type": "header",
            "parameters": [{"type": "text", "parameter_name": "order_ref", "text": "S7"}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ana"},
                {"type": "text", "parameter_name": "order_ref", "text": "S7"},
                {"type": "text", "parameter_name": "amount", "text": "12.5"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "S7"}],
        },
    ]


def test_send_components_copy_code_defaults_to_example_and_no_quick_reply_payload():
    spec = positional()
    components = tr.send_components(spec, spec["samples"])
    assert [c.get("sub_type") for c in components] == [None, None, "url", "copy_code"]
    assert components[-1]["parameters"] == [{"type": "coupon_code", "coupon_code": "SAVE10"}]


def test_send_components_positional_order_is_by_number():
    spec = {**positional(), "header_type": "none", "buttons": []}
    spec["body"] = "Pedido {{2}} de {{1}} no valor de {{3}} foi confirmado hoje."
    (body,) = tr.send_components(spec, {"body": {"1": "a", "2": "b", "3": "c"}})
    assert [p["text"] for p in body["parameters"]] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "header_type, media",
    [
        ("image", {"id": "1013859600285441"}),
        ("video", {"link": "https://cdn.example/v.mp4"}),
        ("document", {"id": "55", "filename": "pedido.pdf"}),
    ],
)
def test_send_components_media_header(header_type, media):
    spec = {**positional(), "header_type": header_type, "header_handle": "4::x", "buttons": []}
    header = tr.send_components(spec, spec["samples"], header_media=media)[0]
    assert header == {"type": "header", "parameters": [{"type": header_type, header_type: media}]}


def test_send_components_location_header():
    location = {"latitude": -23.55, "longitude": -46.63, "name": "Loja", "address": "Av. X, 1"}
    spec = {**positional(), "header_type": "location", "buttons": []}
    values = {**spec["samples"], "header": {"location": location}}
    header = tr.send_components(spec, values)[0]
    assert header == {
        "type": "header",
        "parameters": [{"type": "location", "location": location}],
    }


def test_send_components_authentication():
    expected_text = [{"type": "text", "text": "123456"}]
    assert tr.send_components(authentication(), {"body": {"1": "123456"}}) == [
        {"type": "body", "parameters": expected_text},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": expected_text},
    ]
    by_button = tr.send_components(authentication(), {"button_0": {"code": "123456"}})
    assert by_button[0]["parameters"] == expected_text


def test_send_components_without_variables():
    spec = {"name": "hello", "language": "en", "category": "UTILITY", "body": "Hello there!"}
    assert tr.send_components(spec, None) == []


@pytest.mark.parametrize(
    "spec, values, header_media, match",
    [
        (positional(), {"header": {"1": "S1"}, "body": {"1": "Ana", "2": "S1"}}, None, "{{3}}"),
        (positional(), {"body": {"1": "a", "2": "b", "3": "c"}}, None, "header"),
        (
            named(),
            {"header": {"order_ref": "S1"}, "body": {"first_name": "  "}},
            None,
            "first_name",
        ),
        (
            {**positional(), "buttons": [LINK, {**LINK, "url": "https://x.example/{{1}}"}]},
            {"header": {"1": "a"}, "body": {"1": "a", "2": "b", "3": "c"}},
            None,
            "button_1",
        ),
        ({**positional(), "header_type": "image"}, {}, None, "image"),
        ({**positional(), "header_type": "video"}, {}, {"caption": "x"}, "video"),
        ({**positional(), "header_type": "location"}, {"header": {}}, None, "location"),
        ({**positional(), "buttons": [{"type": "COPY_CODE"}]}, positional()["samples"], None, "0"),
        (authentication(), {"body": {"1": ""}}, None, "verification code"),
    ],
)
def test_send_components_missing_value(spec, values, header_media, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        tr.send_components(spec, values, header_media=header_media)


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Ana\nMaria", "Ana Maria"),
        ("a\r\n\tb", "a   b"),
        ("a    b", "a    b"),
        ("a     b", "a b"),
        ("a \n\n\n\n b", "a b"),
        ("  padded  ", "padded"),
        (1234, "1234"),
    ],
)
def test_clean_parameter(raw, cleaned):
    assert template_spec.clean_parameter(raw) == cleaned


def test_send_values_are_cleaned():
    spec = {**positional(), "header_type": "none", "buttons": []}
    values = {"body": {"1": "Ana\nMaria", "2": "S1\t\t", "3": "R$      10"}}
    (body,) = tr.send_components(spec, values)
    assert [p["text"] for p in body["parameters"]] == ["Ana Maria", "S1", "R$ 10"]
    with pytest.raises(ValueError, match="body"):
        tr.send_components(spec, {"body": {"1": "\n\t", "2": "x", "3": "y"}})


# --------------------------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------------------------


def test_render_positional():
    spec = positional()
    assert tr.render(spec, spec["samples"]) == {
        "header": "Pedido S00042",
        "body": "Olá Ana, seu pedido S00042 no valor de R$ 1.234,56 foi confirmado com sucesso.",
        "footer": "Loja Exemplo",
        "buttons": ["Falar com atendente", "Acompanhar", "Ligar", "Copy offer code"],
    }


def test_render_named_with_missing_values():
    spec = named()
    spec["body"] = NAMED_BODY + " Até logo, {{ first_name }}!"
    rendered = tr.render(spec, {"body": {"first_name": "Ana\nMaria", "amount": ""}})
    assert rendered == {
        "header": "Order {{order_ref}}",
        "body": "Olá Ana Maria, seu pedido {{order_ref}} no valor de {{amount}} foi confirmado "
        "com sucesso. Até logo, Ana Maria!",
        "footer": "Example Shop",
        "buttons": ["Track", "Stop"],
    }


def test_render_without_values_and_media_header():
    spec = {**positional(), "header_type": "image", "footer": None, "buttons": None}
    assert tr.render(spec) == {"header": "", "body": BODY, "footer": "", "buttons": []}
    assert tr.render(authentication(), {"body": {"1": "123456"}})["buttons"] == ["Copy code"]
