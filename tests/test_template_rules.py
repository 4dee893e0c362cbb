"""Tests of ``tools.template_rules``: Meta's template rules, creation and send payloads, preview.

Expected payloads follow the shapes of Meta's WhatsApp Cloud API documentation (template
components, template messages, authentication templates).
"""

import copy
import re

import pytest
from wa_tools import template_rules as tr

BODY = "Olá {{1}}, seu pedido {{2}} no valor de {{3}} foi confirmado com sucesso."
NAMED_BODY = (
    "Olá {{first_name}}, seu pedido {{order_ref}} no valor de {{amount}} foi confirmado com "
    "sucesso."
)


def positional() -> dict:
    """A valid positional template using every kind of button."""
    return {
        "name": "order_confirmed",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "header_type": "text",
        "header_text": "Pedido {{1}}",
        "body": BODY,
        "footer": "Loja Exemplo",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Falar com atendente"},
            {"type": "URL", "text": "Acompanhar", "url": "https://shop.example/track/{{1}}"},
            {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+5511987654321"},
            {"type": "COPY_CODE", "example": "SAVE10"},
        ],
        "samples": {
            "header": {"1": "S00042"},
            "body": {"1": "Ana", "2": "S00042", "3": "R$ 1.234,56"},
            "button_0": {},
            "button_1": {"1": "S00042"},
        },
    }


def named() -> dict:
    """A valid named template."""
    return {
        "name": "order_confirmed_named",
        "language": "en_US",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "header_type": "text",
        "header_text": "Order {{order_ref}}",
        "body": NAMED_BODY,
        "footer": "Example Shop",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
        "samples": {
            "header": {"order_ref": "S00042"},
            "body": {"first_name": "Ana", "order_ref": "S00042", "amount": "$ 12.00"},
            "button_0": {"1": "S00042"},
        },
    }


def authentication() -> dict:
    return {
        "name": "login_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "body": "{{1}} is your verification code.",
        "add_security_recommendation": True,
        "code_expiration_minutes": 5,
        "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}],
    }


def codes(spec, existing=()) -> list[str]:
    return [problem.code for problem in tr.lint(spec, existing)]


# --------------------------------------------------------------------------------------------
# placeholders, Problem
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Olá {{1}}, pedido {{2}} e {{1}}", ["1", "2", "1"]),
        ("Hi {{ first_name }}, {{order_ref}}", ["first_name", "order_ref"]),
        ("no variables {1} {{", []),
        ("", []),
        (None, []),
    ],
)
def test_placeholders(text, expected):
    assert tr.placeholders(text) == expected


def test_problem_str_fills_the_message():
    problem = tr.lint({**positional(), "footer": "x" * 61})[0]
    assert problem == tr.Problem(
        "footer_too_long",
        "footer",
        "The footer has %(length)s characters; at most %(limit)s are allowed.",
        {"length": 61, "limit": 60},
    )
    assert str(problem) == "The footer has 61 characters; at most 60 are allowed."


def test_every_message_renders_with_its_params():
    assert tr.PROBLEM_CODES == set(tr.MESSAGES)
    problem = tr.Problem("x", "body", "Missing %(nothing)s", {})
    assert str(problem) == "Missing %(nothing)s"


# --------------------------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [positional, named, authentication])
def test_valid_templates_have_no_problem(make):
    assert tr.lint(make()) == []


def test_minimal_template_is_valid():
    spec = {"name": "hello", "language": "en", "category": "UTILITY", "body": "Hello there!"}
    assert tr.lint(spec) == []


def _set(**changes):
    def change(spec):
        spec.update(changes)

    return change


def _button(index, **changes):
    def change(spec):
        spec["buttons"][index].update(changes)

    return change


def _buttons(*buttons):
    def change(spec):
        spec["buttons"] = list(buttons)

    return change


def _samples(location, **samples):
    def change(spec):
        spec["samples"][location] = samples

    return change


QR = {"type": "QUICK_REPLY", "text": "Ok"}
LINK = {"type": "URL", "text": "Site", "url": "https://shop.example"}
CALL = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550051310"}
COUPON = {"type": "COPY_CODE", "example": "SAVE10"}

POSITIONAL_CASES = [
    ("name_required", "name", _set(name="")),
    ("name_invalid", "name", _set(name="Order-Confirmed")),
    ("name_too_long", "name", _set(name="a" * 513)),
    ("language_required", "language", _set(language=" ")),
    ("category_invalid", "category", _set(category="TRANSACTIONAL")),
    ("category_invalid", "category", _set(category=None)),
    ("parameter_format_invalid", "parameter_format", _set(parameter_format="MIXED")),
    ("header_type_invalid", "header_type", _set(header_type="gif")),
    ("header_text_required", "header_text", _set(header_text="  ")),
    ("header_text_too_long", "header_text", _set(header_text="Pedido {{1}} " + "x" * 50)),
    ("header_too_many_variables", "header_text", _set(header_text="Pedido {{1}} de {{2}}")),
    ("header_handle_required", "header_handle", _set(header_type="image")),
    ("header_handle_required", "header_handle", _set(header_type="document", header_handle="")),
    ("body_required", "body", _set(body=" \n ")),
    ("body_too_long", "body", _set(body=BODY + " texto" * 200)),
    ("body_starts_with_variable", "body", _set(body=" {{1}} " + BODY.replace("{{1}}", "você"))),
    ("body_ends_with_variable", "body", _set(body=BODY.replace("sucesso.", "sucesso {{4}}\n"))),
    ("variables_adjacent", "body", _set(body=BODY.replace("{{2}}", "{{2}}{{3}}", 1))),
    ("too_many_variables", "body", _set(body="Olá {{1}}, pedido {{2}} {{3}}.")),
    ("footer_too_long", "footer", _set(footer="x" * 61)),
    ("footer_variables", "footer", _set(footer="Loja {{1}}")),
    ("placeholder_not_number", "body", _set(body=BODY.replace("{{3}}", "{{amount}}"))),
    ("placeholder_sequence", "body", _set(body=BODY.replace("{{3}}", "{{4}}"))),
    ("placeholder_sequence", "header_text", _set(header_text="Pedido {{2}}")),
    ("placeholder_repeated", "body", _set(body=BODY.replace("{{3}}", "{{2}}"))),
    ("placeholder_mixed", "body", _set(body=BODY.replace("{{3}}", "{{amount}}"))),
    ("sample_missing", "samples", _samples("body", **{"1": "Ana", "2": "S1", "3": " "})),
    ("sample_missing", "samples", _samples("header")),
    ("sample_missing", "samples", _samples("button_1")),
    ("sample_missing", "samples", _set(samples=None)),
    ("buttons_too_many", "buttons", _buttons(*[QR] * 11)),
    ("buttons_too_many_url", "buttons", _buttons(LINK, LINK, LINK)),
    ("buttons_too_many_phone", "buttons", _buttons(CALL, CALL)),
    ("buttons_too_many_copy_code", "buttons", _buttons(COUPON, COUPON)),
    ("buttons_quick_reply_not_grouped", "buttons", _buttons(QR, LINK, QR)),
    ("buttons_quick_reply_not_grouped", "buttons", _buttons(LINK, QR, CALL)),
    ("button_type_invalid", "buttons", _button(0, type="FLOW")),
    ("button_type_invalid", "buttons", _buttons(QR, "not a button")),
    ("button_type_invalid", "buttons", _button(3, type="OTP")),
    ("button_text_required", "buttons", _button(0, text="")),
    ("button_text_required", "buttons", _button(2, text=None)),
    ("button_text_too_long", "buttons", _button(0, text="x" * 26)),
    ("button_url_invalid", "buttons", _button(1, url="shop.example/{{1}}")),
    ("button_url_invalid", "buttons", _button(1, url="")),
    ("button_url_too_many_variables", "buttons", _button(1, url="https://s.example/{{1}}/{{1}}")),
    ("button_url_variable_position", "buttons", _button(1, url="https://s.example/{{1}}/track")),
    ("button_url_variable_name", "buttons", _button(1, url="https://s.example/{{2}}")),
    ("button_phone_invalid", "buttons", _button(2, phone_number="5511987654321")),
    ("button_phone_invalid", "buttons", _button(2, phone_number="+" + "1" * 20)),
    ("button_copy_code_example_required", "buttons", _button(3, example="")),
    ("button_copy_code_example_too_long", "buttons", _button(3, example="X" * 16)),
]


@pytest.mark.parametrize(
    "code, field, change", POSITIONAL_CASES, ids=[case[0] for case in POSITIONAL_CASES]
)
def test_positional_rule(code, field, change):
    spec = positional()
    change(spec)
    problems = [problem for problem in tr.lint(spec) if problem.code == code]
    assert problems, codes(spec)
    assert problems[0].field == field
    assert str(problems[0])  # the message renders with its params


NAMED_CASES = [
    ("placeholder_invalid_name", "body", _set(body=NAMED_BODY.replace("amount", "Amount"))),
    ("placeholder_invalid_name", "header_text", _set(header_text="Order {{1ref}}")),
    ("placeholder_invalid_name", "body", _set(body=NAMED_BODY.replace("{{amount}}", "{{3}}"))),
    ("placeholder_mixed", "body", _set(body=NAMED_BODY.replace("{{amount}}", "{{3}}"))),
    ("sample_missing", "samples", _samples("body", first_name="Ana", order_ref="S1")),
    ("sample_missing", "samples", _samples("header", order_ref="")),
    ("body_starts_with_variable", "body", _set(body="{{first_name}}" + NAMED_BODY[3:])),
    ("body_ends_with_variable", "body", _set(body=NAMED_BODY[:-1] + " {{amount}}")),
    ("variables_adjacent", "body", _set(body=NAMED_BODY.replace(" no valor", "{{amount}}"))),
    ("too_many_variables", "body", _set(body="Hi {{a}}, order {{b}}: {{c}}.")),
    ("header_too_many_variables", "header_text", _set(header_text="{{a}} and {{b}}")),
    ("footer_variables", "footer", _set(footer="{{shop}}")),
    ("button_url_variable_name", "buttons", _button(0, url="https://s.example/{{order_ref}}")),
]


@pytest.mark.parametrize("code, field, change", NAMED_CASES, ids=[case[0] for case in NAMED_CASES])
def test_named_rule(code, field, change):
    spec = named()
    change(spec)
    problems = [problem for problem in tr.lint(spec) if problem.code == code]
    assert problems, codes(spec)
    assert problems[0].field == field


def test_named_template_allows_repeated_names():
    spec = named()
    spec["body"] = NAMED_BODY + " Obrigado, {{first_name}}, volte sempre a nossa loja!"
    assert tr.lint(spec) == []


def test_duplicate_name_and_language():
    existing = [("order_confirmed", "en_US"), ("other", "pt_BR"), None, ("x",)]
    assert codes(positional(), existing) == []
    existing.append(("order_confirmed", "pt_BR"))
    (problem,) = tr.lint(positional(), iter(existing))
    assert (problem.code, problem.field) == ("name_duplicate", "name")
    assert problem.params == {"name": "order_confirmed", "language": "pt_BR"}


def test_all_problems_are_reported_together():
    spec = positional()
    spec.update(name="Bad Name", footer="{{1}}", header_text="{{1}} {{3}} " + "y" * 60)
    assert codes(spec) == [
        "name_invalid",
        "header_text_too_long",
        "header_too_many_variables",
        "footer_variables",
        "placeholder_sequence",
        "sample_missing",
    ]


def test_too_many_variables_threshold():
    spec = positional()
    spec.update(header_type="none", body="Olá {{1}} e {{2}}, tudo bem?")  # 4 words >= 1 * 2 + 1
    spec["samples"]["body"] = {"1": "Ana", "2": "Bia"}
    assert codes(spec) == []
    spec["body"] = "Olá {{1}} e {{2}}?"
    problem = tr.lint(spec)[0]
    assert problem.code == "too_many_variables"
    assert problem.params == {"variables": 2, "words": 2, "required": 3}


def test_body_variable_allowed_inside_with_spacing():
    spec = positional()
    spec["body"] = "  \n" + BODY + "  \n"
    assert codes(spec) == []


def test_quick_replies_grouped_before_or_after():
    for buttons in ([QR, QR, LINK, CALL], [LINK, CALL, QR, QR], [QR], [LINK, COUPON]):
        spec = positional()
        spec["buttons"] = [dict(button) for button in buttons]
        assert codes(spec) == [], buttons


@pytest.mark.parametrize(
    "change, expected",
    [
        (_set(header_type="text", header_text="Code"), ["auth_header_not_allowed"]),
        (_set(header_type="image", header_handle="4::x"), ["auth_header_not_allowed"]),
        (_buttons(dict(LINK)), ["auth_button_not_allowed"]),
        (_buttons(dict(CALL), {"type": "COPY_CODE"}), ["auth_button_not_allowed"]),
        (_buttons(dict(QR)), ["auth_button_not_allowed"]),
        (_buttons({"type": "OTP"}, {"type": "OTP"}), ["buttons_too_many_copy_code"]),
        (_set(body=""), []),
    ],
)
def test_authentication_rules(change, expected):
    spec = authentication()
    change(spec)
    assert codes(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        None,
        [],
        "template",
        {},
        {"name": 5, "language": ["x"], "category": {}, "body": 12, "buttons": "x"},
        {"buttons": [None, 3, {"type": None}, {"type": "URL", "url": None, "text": 7}]},
        {"header_type": None, "header_text": None, "footer": None, "samples": []},
        {"body": "{{}} {{ }} {{1}", "parameter_format": None, "samples": {"body": "x"}},
        {"body": "Hi {{a}} there you", "parameter_format": "NAMED", "samples": {"body": {"a": {}}}},
    ],
)
def test_lint_never_raises(spec):
    problems = tr.lint(spec, existing=None)
    assert all(isinstance(problem, tr.Problem) and str(problem) for problem in problems)


def test_lint_of_non_mapping():
    assert codes(None) == ["spec_invalid"]


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
    assert tr.clean_parameter(raw) == cleaned


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
