"""Tests of ``tools.template_lint`` (Meta's review rules) and ``tools.template_spec`` helpers."""

import pytest
from template_specs import (
    BODY,
    CALL,
    COUPON,
    LINK,
    NAMED_BODY,
    QR,
    authentication,
    named,
    positional,
)
from wa_tools import template_lint as tr
from wa_tools import template_spec


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
    assert template_spec.placeholders(text) == expected


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
