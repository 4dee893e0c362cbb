"""WhatsApp message templates: Meta's rules, creation payload, send components, preview. No Odoo.

A template is described by a plain dict, the *spec*::

    {
        "name": "order_confirmed", "language": "pt_BR", "category": "UTILITY",
        "parameter_format": "POSITIONAL",            # or "NAMED" ({{order_ref}} style)
        "header_type": "text",                       # none/text/image/video/document/location
        "header_text": "Pedido {{1}}",
        "header_handle": "4::aW1hZ2U...",            # media headers: Meta's upload handle
        "body": "Olá {{1}}, seu pedido {{2}} ...",
        "footer": "Loja Exemplo",
        "buttons": [{"type": "QUICK_REPLY", "text": "Falar com atendente"}, ...],
        "samples": {"header": {"1": "S00042"}, "body": {"1": "Ana", ...}, "button_1": {"1": "x"}},
    }

Values and samples are keyed by *location*: ``"header"``, ``"body"`` and ``"button_<index>"``
(index of the button in ``buttons``), each mapping a placeholder name (``"1"``, ``"order_ref"``)
to its text.

* :func:`lint` checks the spec against Meta's rules and returns :class:`Problem` records;
* :func:`create_payload` builds the body of ``POST /{waba_id}/message_templates``;
* :func:`send_components` builds ``template.components`` of a template message;
* :func:`render` gives the text a customer sees, for a preview.

AUTHENTICATION templates have a text fixed by Meta (``{{1}} is your verification code.``) and a
single one-time-password button. Their spec may carry ``add_security_recommendation`` (bool),
``code_expiration_minutes`` (int) and, on the button, ``otp_type`` (default ``COPY_CODE``).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
AUTHENTICATION = "AUTHENTICATION"
POSITIONAL = "POSITIONAL"
NAMED = "NAMED"
PARAMETER_FORMATS = (POSITIONAL, NAMED)
HEADER_TYPES = ("none", "text", "image", "video", "document", "location")
MEDIA_HEADER_TYPES = ("image", "video", "document")

QUICK_REPLY = "QUICK_REPLY"
URL = "URL"
PHONE_NUMBER = "PHONE_NUMBER"
COPY_CODE = "COPY_CODE"
OTP = "OTP"
BUTTON_TYPES = (QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP)
TEXT_BUTTON_TYPES = (QUICK_REPLY, URL, PHONE_NUMBER)
"""Button types whose ``text`` (the label) is required."""

MAX_NAME = 512
MAX_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER = 60
MAX_HEADER_VARIABLES = 1
MAX_BUTTONS = 10
MAX_URL_BUTTONS = 2
MAX_PHONE_BUTTONS = 1
MAX_COPY_CODE_BUTTONS = 1
MAX_BUTTON_TEXT = 25
MAX_PHONE_NUMBER = 20
MAX_COUPON_CODE = 15
MAX_PARAMETER_SPACES = 4
"""Longest run of spaces Meta accepts in a parameter value (more is error 132018)."""

WORDS_PER_VARIABLE = 1
"""A body needs at least ``WORDS_PER_VARIABLE * variables + 1`` words outside its variables."""

DEFAULT_BUTTON_LABELS = {COPY_CODE: "Copy offer code", OTP: "Copy code"}

PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAME_RE = re.compile(r"^[a-z0-9_]+$")
PARAMETER_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
URL_RE = re.compile(r"^https?://\S", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+")
_BREAKS_RE = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]")
_SPACES_RE = re.compile(f" {{{MAX_PARAMETER_SPACES + 1},}}")

# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def _lt(message: str) -> str:
    """Mark ``message`` for Odoo's translation export; Odoo translates it at display time."""
    return message


MESSAGES = {
    "spec_invalid": _lt("The template description is not a dictionary."),
    "name_required": _lt("The template name is required."),
    "name_invalid": _lt(
        "The template name %(name)r may only contain lowercase letters, digits and underscores."
    ),
    "name_too_long": _lt(
        "The template name has %(length)s characters; at most %(limit)s are allowed."
    ),
    "name_duplicate": _lt("A template named %(name)r already exists in language %(language)r."),
    "language_required": _lt("The template language is required."),
    "category_invalid": _lt("The category %(category)r is not one of %(allowed)s."),
    "parameter_format_invalid": _lt(
        "The parameter format %(parameter_format)r is not one of %(allowed)s."
    ),
    "header_type_invalid": _lt("The header type %(header_type)r is not one of %(allowed)s."),
    "header_text_required": _lt("A text header needs a text."),
    "header_text_too_long": _lt(
        "The header text has %(length)s characters; at most %(limit)s are allowed."
    ),
    "header_too_many_variables": _lt(
        "The header text has %(count)s variables; at most %(limit)s is allowed."
    ),
    "header_handle_required": _lt("A %(header_type)s header needs an uploaded sample file."),
    "body_required": _lt("The body text is required."),
    "body_too_long": _lt("The body text has %(length)s characters; at most %(limit)s are allowed."),
    "body_starts_with_variable": _lt("The body text may not start with a variable."),
    "body_ends_with_variable": _lt("The body text may not end with a variable."),
    "variables_adjacent": _lt(
        "The variables %(first)s and %(second)s of the body are next to each other; put some text between them."
    ),
    "too_many_variables": _lt(
        "The body has too many variables for the length of the text: %(variables)s variables need at least %(required)s words, there are %(words)s."
    ),
    "footer_too_long": _lt("The footer has %(length)s characters; at most %(limit)s are allowed."),
    "footer_variables": _lt("The footer may not contain variables."),
    "placeholder_not_number": _lt(
        "The variable %(placeholder)s of the %(component)s is not a number; positional templates use {{1}}, {{2}}, ..."
    ),
    "placeholder_sequence": _lt(
        "The variables of the %(component)s must be numbered from {{1}} to {{%(count)s}} without gaps; found %(found)s."
    ),
    "placeholder_repeated": _lt(
        "The variable %(placeholder)s appears more than once in the %(component)s."
    ),
    "placeholder_invalid_name": _lt(
        "The variable %(placeholder)s of the %(component)s must start with a lowercase letter followed by lowercase letters, digits or underscores."
    ),
    "placeholder_mixed": _lt("The template mixes numbered and named variables."),
    "sample_missing": _lt(
        "The variable %(placeholder)s of the %(component)s needs a sample value."
    ),
    "buttons_too_many": _lt("The template has %(count)s buttons; at most %(limit)s are allowed."),
    "buttons_too_many_url": _lt(
        "The template has %(count)s URL buttons; at most %(limit)s are allowed."
    ),
    "buttons_too_many_phone": _lt(
        "The template has %(count)s phone number buttons; at most %(limit)s is allowed."
    ),
    "buttons_too_many_copy_code": _lt(
        "The template has %(count)s copy code buttons; at most %(limit)s is allowed."
    ),
    "buttons_quick_reply_not_grouped": _lt(
        "Quick reply buttons must be grouped together, before or after the other buttons."
    ),
    "button_type_invalid": _lt("Button %(number)s has the unknown type %(type)r."),
    "button_text_required": _lt("Button %(number)s needs a text."),
    "button_text_too_long": _lt(
        "The text of button %(number)s has %(length)s characters; at most %(limit)s are allowed."
    ),
    "button_url_invalid": _lt("The URL of button %(number)s must start with http:// or https://."),
    "button_url_too_many_variables": _lt(
        "The URL of button %(number)s has %(count)s variables; at most 1 is allowed."
    ),
    "button_url_variable_position": _lt(
        "The variable of the URL of button %(number)s must be at the very end of the URL."
    ),
    "button_url_variable_name": _lt("The variable of the URL of button %(number)s must be {{1}}."),
    "button_phone_invalid": _lt(
        "The phone number of button %(number)s must start with + and have at most %(limit)s characters."
    ),
    "button_copy_code_example_required": _lt(
        "The copy code button %(number)s needs a sample code."
    ),
    "button_copy_code_example_too_long": _lt(
        "The sample code of button %(number)s has %(length)s characters; at most %(limit)s are allowed."
    ),
    "auth_header_not_allowed": _lt("Authentication templates may not have a header."),
    "auth_button_not_allowed": _lt(
        "Authentication templates only allow a copy code button, not button %(number)s of type %(type)r."
    ),
}
"""English message of every problem code; ``%(param)s`` are filled from :attr:`Problem.params`."""

PROBLEM_CODES = frozenset(MESSAGES)


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule of a template.

    ``code`` is stable (a key of :data:`MESSAGES`, used to translate), ``field`` names the part
    of the spec at fault (``name``, ``body``, ``header_text``, ``buttons``, ``samples``...),
    ``message`` is the English sentence with ``%(param)s`` placeholders and ``params`` their
    values. ``str(problem)`` is the filled sentence.
    """

    code: str
    field: str
    message: str
    params: dict

    def __str__(self) -> str:
        try:
            return self.message % self.params
        except (KeyError, TypeError, ValueError):
            return self.message


def _problem(code: str, field: str, **params) -> Problem:
    return Problem(code, field, MESSAGES[code], params)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def placeholders(text) -> list[str]:
    """Names inside ``{{...}}`` of ``text`` in order of appearance, stripped (``"1"``, ``"ref"``).

    Repeated placeholders are listed each time; anything but a string has none.
    """
    if not isinstance(text, str):
        return []
    return PLACEHOLDER_RE.findall(text)


def _ordered(text) -> list[str]:
    """Distinct placeholder names of ``text`` in parameter order.

    Numbered placeholders are sorted by number ({{1}} is the first parameter wherever it
    stands); named ones keep their order of first appearance.
    """
    names = list(dict.fromkeys(placeholders(text)))
    if names and all(name.isdigit() for name in names):
        names.sort(key=int)
    return names


def _str(value) -> str:
    """``value`` as text: strings as is, numbers converted, anything else (None, dicts...) ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _upper(value, default: str = "") -> str:
    text = _str(value).strip()
    return text.upper() if text else default


def _mapping(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _buttons(spec: Mapping) -> list:
    buttons = spec.get("buttons")
    return list(buttons) if isinstance(buttons, (list, tuple)) else []


def _button_type(button) -> str:
    return _upper(button.get("type")) if isinstance(button, Mapping) else ""


def _header_type(spec: Mapping) -> str:
    return _str(spec.get("header_type")).strip().lower() or "none"


def _parameter_format(spec: Mapping) -> str:
    return _upper(spec.get("parameter_format"), POSITIONAL)


def _is_authentication(spec: Mapping) -> bool:
    return _upper(spec.get("category")) == AUTHENTICATION


def _brace(name: str) -> str:
    return "{{" + name + "}}"


def clean_parameter(value) -> str:
    """A parameter value as Meta accepts it: newlines and tabs become spaces, runs of more than
    four spaces become one space, and the ends are stripped (error 132018 otherwise)."""
    text = value if isinstance(value, str) else str(value)
    text = _BREAKS_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


def _value(values: Mapping, location: str, name: str) -> str:
    """The cleaned value of placeholder ``name`` at ``location``; '' when missing or blank."""
    value = _mapping(values.get(location)).get(name)
    if value is None or isinstance(value, (Mapping, list, tuple, set)):
        return ""
    return clean_parameter(value)


# --------------------------------------------------------------------------------------------
# Lint
# --------------------------------------------------------------------------------------------


def lint(spec, existing=()) -> list[Problem]:
    """Every rule of Meta's that ``spec`` breaks, in a stable order; an empty list when none.

    ``existing`` is an iterable of ``(name, language)`` pairs of the *other* templates of the
    account. Never raises, whatever the shape of ``spec``.
    """
    if not isinstance(spec, Mapping):
        return [_problem("spec_invalid", "name")]
    problems = []
    problems += _lint_identity(spec, existing)
    problems += _lint_header(spec)
    problems += _lint_body(spec)
    problems += _lint_footer(spec)
    problems += _lint_placeholders(spec)
    problems += _lint_samples(spec)
    problems += _lint_buttons(spec)
    return problems


def _lint_identity(spec: Mapping, existing) -> list[Problem]:
    """Name, language, category and parameter format."""
    problems = []
    name = _str(spec.get("name"))
    language = _str(spec.get("language")).strip()
    if not name:
        problems.append(_problem("name_required", "name"))
    else:
        if not NAME_RE.match(name):
            problems.append(_problem("name_invalid", "name", name=name))
        if len(name) > MAX_NAME:
            problems.append(_problem("name_too_long", "name", length=len(name), limit=MAX_NAME))
        if language and (name, language) in _pairs(existing):
            problems.append(_problem("name_duplicate", "name", name=name, language=language))
    if not language:
        problems.append(_problem("language_required", "language"))
    category = spec.get("category")
    if _upper(category) not in CATEGORIES:
        problems.append(
            _problem(
                "category_invalid", "category", category=category, allowed=", ".join(CATEGORIES)
            )
        )
    if _parameter_format(spec) not in PARAMETER_FORMATS:
        problems.append(
            _problem(
                "parameter_format_invalid",
                "parameter_format",
                parameter_format=spec.get("parameter_format"),
                allowed=", ".join(PARAMETER_FORMATS),
            )
        )
    return problems


def _pairs(existing) -> set:
    """``existing`` as a set of (name, language) string pairs; malformed entries are skipped."""
    pairs = set()
    if not isinstance(existing, (list, tuple, set, frozenset)):
        existing = list(existing) if hasattr(existing, "__iter__") else ()
    for item in existing:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.add((_str(item[0]), _str(item[1]).strip()))
    return pairs


def _lint_header(spec: Mapping) -> list[Problem]:
    """Header type, text length and variable count, media sample handle."""
    header_type = _header_type(spec)
    if header_type not in HEADER_TYPES:
        allowed = ", ".join(HEADER_TYPES)
        return [
            _problem("header_type_invalid", "header_type", header_type=header_type, allowed=allowed)
        ]
    if _is_authentication(spec):
        if header_type != "none":
            return [_problem("auth_header_not_allowed", "header_type")]
        return []
    problems = []
    if header_type == "text":
        text = _str(spec.get("header_text"))
        if not text.strip():
            problems.append(_problem("header_text_required", "header_text"))
        if len(text) > MAX_HEADER_TEXT:
            problems.append(
                _problem(
                    "header_text_too_long", "header_text", length=len(text), limit=MAX_HEADER_TEXT
                )
            )
        count = len(placeholders(text))
        if count > MAX_HEADER_VARIABLES:
            problems.append(
                _problem(
                    "header_too_many_variables",
                    "header_text",
                    count=count,
                    limit=MAX_HEADER_VARIABLES,
                )
            )
    elif header_type in MEDIA_HEADER_TYPES and not _str(spec.get("header_handle")).strip():
        problems.append(
            _problem("header_handle_required", "header_handle", header_type=header_type)
        )
    return problems


def _lint_body(spec: Mapping) -> list[Problem]:
    """Body presence, length, variable positions and density (fixed text for authentication)."""
    if _is_authentication(spec):
        return []
    body = _str(spec.get("body"))
    stripped = body.strip()
    if not stripped:
        return [_problem("body_required", "body")]
    problems = []
    if len(body) > MAX_BODY:
        problems.append(_problem("body_too_long", "body", length=len(body), limit=MAX_BODY))
    matches = list(PLACEHOLDER_RE.finditer(stripped))
    if not matches:
        return problems
    if matches[0].start() == 0:
        problems.append(_problem("body_starts_with_variable", "body"))
    if matches[-1].end() == len(stripped):
        problems.append(_problem("body_ends_with_variable", "body"))
    for before, after in zip(matches, matches[1:], strict=False):
        if before.end() == after.start():
            problems.append(
                _problem("variables_adjacent", "body", first=before.group(0), second=after.group(0))
            )
    variables = len(matches)
    words = len(_WORD_RE.findall(PLACEHOLDER_RE.sub(" ", stripped)))
    required = WORDS_PER_VARIABLE * variables + 1
    if words < required:
        problems.append(
            _problem(
                "too_many_variables", "body", variables=variables, words=words, required=required
            )
        )
    return problems


def _lint_footer(spec: Mapping) -> list[Problem]:
    """Footer length; no variables."""
    footer = _str(spec.get("footer"))
    problems = []
    if len(footer) > MAX_FOOTER:
        problems.append(_problem("footer_too_long", "footer", length=len(footer), limit=MAX_FOOTER))
    if placeholders(footer):
        problems.append(_problem("footer_variables", "footer"))
    return problems


def _text_components(spec: Mapping) -> list[tuple[str, str, str]]:
    """``(location, field, text)`` of the header and body texts that may hold variables."""
    if _is_authentication(spec):
        return []
    components = []
    if _header_type(spec) == "text":
        components.append(("header", "header_text", _str(spec.get("header_text"))))
    components.append(("body", "body", _str(spec.get("body"))))
    return components


def _url_variables(spec: Mapping) -> list[tuple[str, str]]:
    """``(location, url)`` of the URL buttons whose URL holds a variable."""
    if _is_authentication(spec):
        return []
    result = []
    for index, button in enumerate(_buttons(spec)):
        if _button_type(button) == URL:
            url = _str(button.get("url"))
            if placeholders(url):
                result.append((f"button_{index}", url))
    return result


def _lint_placeholders(spec: Mapping) -> list[Problem]:
    """Placeholder names and numbering of the header and body, for the parameter format."""
    parameter_format = _parameter_format(spec)
    problems = []
    numbered = named = False
    for location, field, text in _text_components(spec):
        names = placeholders(text)
        numbered = numbered or any(name.isdigit() for name in names)
        named = named or any(not name.isdigit() for name in names)
        if parameter_format == NAMED:
            for name in dict.fromkeys(names):
                if not PARAMETER_NAME_RE.match(name):
                    problems.append(
                        _problem(
                            "placeholder_invalid_name",
                            field,
                            placeholder=_brace(name),
                            component=location,
                        )
                    )
        elif parameter_format == POSITIONAL:
            problems += _lint_positional(names, location, field)
    if numbered and named:
        problems.append(_problem("placeholder_mixed", "body"))
    return problems


def _lint_positional(names: list[str], location: str, field: str) -> list[Problem]:
    """Numbered placeholders of one component: digits only, 1..n without gaps, each once."""
    problems = []
    for name in dict.fromkeys(names):
        if not name.isdigit():
            problems.append(
                _problem(
                    "placeholder_not_number", field, placeholder=_brace(name), component=location
                )
            )
    numbers = sorted({int(name) for name in names if name.isdigit()})
    if numbers != list(range(1, len(numbers) + 1)):
        found = ", ".join(_brace(str(number)) for number in numbers)
        problems.append(
            _problem(
                "placeholder_sequence", field, component=location, count=len(numbers), found=found
            )
        )
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            problems.append(
                _problem(
                    "placeholder_repeated", field, placeholder=_brace(name), component=location
                )
            )
    return problems


def _lint_samples(spec: Mapping) -> list[Problem]:
    """Every placeholder of the header, body and URL buttons has a non-blank sample."""
    samples = _mapping(spec.get("samples"))
    texts = [(location, text) for location, _field, text in _text_components(spec)]
    problems = []
    for location, text in texts + _url_variables(spec):
        for name in dict.fromkeys(placeholders(text)):
            if not _value(samples, location, name):
                problems.append(
                    _problem(
                        "sample_missing", "samples", placeholder=_brace(name), component=location
                    )
                )
    return problems


def _lint_buttons(spec: Mapping) -> list[Problem]:
    """Button counts per type, grouping of quick replies, and each button on its own."""
    buttons = _buttons(spec)
    authentication = _is_authentication(spec)
    problems = []
    if len(buttons) > MAX_BUTTONS:
        problems.append(
            _problem("buttons_too_many", "buttons", count=len(buttons), limit=MAX_BUTTONS)
        )
    types = [_button_type(button) for button in buttons]
    for code, kinds, limit in (
        ("buttons_too_many_url", (URL,), MAX_URL_BUTTONS),
        ("buttons_too_many_phone", (PHONE_NUMBER,), MAX_PHONE_BUTTONS),
        ("buttons_too_many_copy_code", (COPY_CODE, OTP), MAX_COPY_CODE_BUTTONS),
    ):
        count = sum(1 for kind in types if kind in kinds)
        if count > limit:
            problems.append(_problem(code, "buttons", count=count, limit=limit))
    groups = [kind == QUICK_REPLY for kind in types if kind in BUTTON_TYPES]
    runs = sum(1 for i, group in enumerate(groups) if i == 0 or group != groups[i - 1])
    if runs > 2:
        problems.append(_problem("buttons_quick_reply_not_grouped", "buttons"))
    for index, button in enumerate(buttons):
        problems += _lint_button(index, button, authentication)
    return problems


def _lint_button(index: int, button, authentication: bool) -> list[Problem]:
    """The rules of one button (``index`` in the list)."""
    number = index + 1
    kind = _button_type(button)
    valid = BUTTON_TYPES if authentication else BUTTON_TYPES[:-1]  # OTP is for authentication
    if kind not in valid:
        raw = button.get("type") if isinstance(button, Mapping) else button
        return [_problem("button_type_invalid", "buttons", index=index, number=number, type=raw)]
    if authentication:
        if kind in (COPY_CODE, OTP):
            return []
        return [
            _problem("auth_button_not_allowed", "buttons", index=index, number=number, type=kind)
        ]
    problems = []
    if kind in TEXT_BUTTON_TYPES:
        text = _str(button.get("text")).strip()
        if not text:
            problems.append(_problem("button_text_required", "buttons", index=index, number=number))
        elif len(text) > MAX_BUTTON_TEXT:
            problems.append(
                _problem(
                    "button_text_too_long",
                    "buttons",
                    index=index,
                    number=number,
                    length=len(text),
                    limit=MAX_BUTTON_TEXT,
                )
            )
    if kind == URL:
        problems += _lint_url(index, _str(button.get("url")).strip())
    elif kind == PHONE_NUMBER:
        phone = _str(button.get("phone_number")).strip()
        if not phone.startswith("+") or len(phone) > MAX_PHONE_NUMBER:
            problems.append(
                _problem(
                    "button_phone_invalid",
                    "buttons",
                    index=index,
                    number=number,
                    limit=MAX_PHONE_NUMBER,
                )
            )
    elif kind == COPY_CODE:
        example = _str(button.get("example")).strip()
        if not example:
            problems.append(
                _problem("button_copy_code_example_required", "buttons", index=index, number=number)
            )
        elif len(example) > MAX_COUPON_CODE:
            problems.append(
                _problem(
                    "button_copy_code_example_too_long",
                    "buttons",
                    index=index,
                    number=number,
                    length=len(example),
                    limit=MAX_COUPON_CODE,
                )
            )
    return problems


def _lint_url(index: int, url: str) -> list[Problem]:
    """A URL button's URL: http(s), at most one variable, ``{{1}}``, at the very end."""
    number = index + 1
    problems = []
    if not URL_RE.match(url):
        problems.append(_problem("button_url_invalid", "buttons", index=index, number=number))
    matches = list(PLACEHOLDER_RE.finditer(url))
    if len(matches) > 1:
        problems.append(
            _problem(
                "button_url_too_many_variables",
                "buttons",
                index=index,
                number=number,
                count=len(matches),
            )
        )
    if any(match.end() != len(url) for match in matches):
        problems.append(
            _problem("button_url_variable_position", "buttons", index=index, number=number)
        )
    if any(match.group(1) != "1" for match in matches):
        problems.append(_problem("button_url_variable_name", "buttons", index=index, number=number))
    return problems


# --------------------------------------------------------------------------------------------
# Creation payload
# --------------------------------------------------------------------------------------------


def create_payload(spec: Mapping) -> dict:
    """The body of Meta's ``POST /{waba_id}/message_templates`` for ``spec``.

    Examples come from ``spec["samples"]`` (missing ones are sent empty: :func:`lint` first).
    Empty components are left out. Authentication templates get Meta's preset body, optional
    expiry footer and OTP button instead of the spec's texts.
    """
    spec = _mapping(spec)
    category = _upper(spec.get("category"))
    payload = {
        "name": _str(spec.get("name")),
        "language": _str(spec.get("language")).strip(),
        "category": category,
        "parameter_format": _parameter_format(spec),
    }
    if category == AUTHENTICATION:
        payload["components"] = _authentication_components(spec)
        return payload
    named = payload["parameter_format"] == NAMED
    samples = _mapping(spec.get("samples"))
    components = []
    header = _create_header(spec, samples, named)
    if header:
        components.append(header)
    body = _str(spec.get("body"))
    if body:
        component = {"type": "BODY", "text": body}
        names = _ordered(body)
        if names and named:
            examples = [_named_example(samples, "body", name) for name in names]
            component["example"] = {"body_text_named_params": examples}
        elif names:
            component["example"] = {"body_text": [[_value(samples, "body", n) for n in names]]}
        components.append(component)
    footer = _str(spec.get("footer"))
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    buttons = [
        _create_button(index, button, samples) for index, button in enumerate(_buttons(spec))
    ]
    buttons = [button for button in buttons if button]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    payload["components"] = components
    return payload


def _named_example(samples: Mapping, location: str, name: str) -> dict:
    return {"param_name": name, "example": _value(samples, location, name)}


def _create_header(spec: Mapping, samples: Mapping, named: bool) -> dict | None:
    """The HEADER component, or None for no header."""
    header_type = _header_type(spec)
    if header_type == "text":
        text = _str(spec.get("header_text"))
        if not text:
            return None
        component = {"type": "HEADER", "format": "TEXT", "text": text}
        names = _ordered(text)
        if names and named:
            examples = [_named_example(samples, "header", name) for name in names]
            component["example"] = {"header_text_named_params": examples}
        elif names:
            component["example"] = {"header_text": [_value(samples, "header", n) for n in names]}
        return component
    if header_type in MEDIA_HEADER_TYPES:
        component = {"type": "HEADER", "format": header_type.upper()}
        handle = _str(spec.get("header_handle")).strip()
        if handle:
            component["example"] = {"header_handle": [handle]}
        return component
    if header_type == "location":
        return {"type": "HEADER", "format": "LOCATION"}
    return None


def _create_button(index: int, button, samples: Mapping) -> dict | None:
    """One entry of the BUTTONS component; None for an unusable button."""
    kind = _button_type(button)
    if kind == QUICK_REPLY:
        return {"type": QUICK_REPLY, "text": _str(button.get("text"))}
    if kind == URL:
        url = _str(button.get("url")).strip()
        result = {"type": URL, "text": _str(button.get("text")), "url": url}
        if placeholders(url):
            location = f"button_{index}"
            example = PLACEHOLDER_RE.sub(lambda m: _value(samples, location, m.group(1)), url)
            result["example"] = [example]
        return result
    if kind == PHONE_NUMBER:
        phone = _str(button.get("phone_number")).strip()
        return {"type": PHONE_NUMBER, "text": _str(button.get("text")), "phone_number": phone}
    if kind == COPY_CODE:
        return {"type": COPY_CODE, "example": _str(button.get("example")).strip()}
    return None


def _authentication_components(spec: Mapping) -> list[dict]:
    """Preset BODY, optional expiry FOOTER and OTP BUTTONS of an authentication template."""
    body = {"type": "BODY"}
    if "add_security_recommendation" in spec:
        body["add_security_recommendation"] = bool(spec["add_security_recommendation"])
    components = [body]
    minutes = spec.get("code_expiration_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
        components.append({"type": "FOOTER", "code_expiration_minutes": minutes})
    buttons = []
    for button in _buttons(spec):
        if _button_type(button) in (COPY_CODE, OTP):
            otp = {"type": OTP, "otp_type": _upper(button.get("otp_type"), COPY_CODE)}
            text = _str(button.get("text")).strip()
            if text:
                otp["text"] = text
            buttons.append(otp)
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


# --------------------------------------------------------------------------------------------
# Send components
# --------------------------------------------------------------------------------------------


def send_components(spec: Mapping, values, *, header_media=None) -> list[dict]:
    """``template.components`` of a message sending the template ``spec``.

    ``values`` has the shape of ``samples`` (location -> {name: text}); text values are cleaned
    with :func:`clean_parameter`. ``header_media`` is the media object of an image, video or
    document header (``{"id": ...}`` or ``{"link": ...}``, documents may add ``"filename"``); a
    location header takes ``values["header"]["location"]`` (latitude, longitude, name,
    address). A copy code button sends ``values["button_<i>"]["code"]`` or else its example; a
    quick reply sends ``values["button_<i>"]["payload"]`` when given. For an authentication
    template the code is ``values["body"]["1"]`` (or the button's ``code``) and goes both in
    the body and in the OTP button.

    Raises :class:`ValueError` naming the placeholder when a value is missing or blank.
    """
    spec = _mapping(spec)
    values = _mapping(values)
    if _is_authentication(spec):
        return _authentication_send(spec, values)
    named = _parameter_format(spec) == NAMED
    components = []
    header = _send_header(spec, values, named, header_media)
    if header:
        components.append(header)
    body = _text_parameters(_str(spec.get("body")), values, "body", named)
    if body:
        components.append({"type": "body", "parameters": body})
    for index, button in enumerate(_buttons(spec)):
        component = _send_button(index, button, values)
        if component:
            components.append(component)
    return components


def _required(values: Mapping, location: str, name: str) -> str:
    value = _value(values, location, name)
    if not value:
        raise ValueError(f"No value for the variable {_brace(name)} of the {location}.")
    return value


def _text_parameters(text: str, values: Mapping, location: str, named: bool) -> list[dict]:
    """The text parameters of ``text``'s placeholders, in parameter order."""
    parameters = []
    for name in _ordered(text):
        parameter = {"type": "text", "text": _required(values, location, name)}
        if named:
            parameter["parameter_name"] = name
        parameters.append(parameter)
    return parameters


def _send_header(spec: Mapping, values: Mapping, named: bool, header_media) -> dict | None:
    """The header component of a send, or None when the header takes no parameter."""
    header_type = _header_type(spec)
    if header_type == "text":
        parameters = _text_parameters(_str(spec.get("header_text")), values, "header", named)
        return {"type": "header", "parameters": parameters} if parameters else None
    if header_type in MEDIA_HEADER_TYPES:
        if not isinstance(header_media, Mapping) or not (
            header_media.get("id") or header_media.get("link")
        ):
            raise ValueError(f"The {header_type} header needs a media with an 'id' or a 'link'.")
        parameter = {"type": header_type, header_type: dict(header_media)}
        return {"type": "header", "parameters": [parameter]}
    if header_type == "location":
        location = _mapping(values.get("header")).get("location")
        if not isinstance(location, Mapping) or not location:
            raise ValueError("The location header needs values['header']['location'].")
        parameter = {"type": "location", "location": dict(location)}
        return {"type": "header", "parameters": [parameter]}
    return None


def _send_button(index: int, button, values: Mapping) -> dict | None:
    """The button component of a send, or None when the button takes no parameter."""
    kind = _button_type(button)
    location = f"button_{index}"
    if kind == URL:
        names = _ordered(_str(button.get("url")))
        if not names:
            return None
        parameters = [{"type": "text", "text": _required(values, location, n)} for n in names]
        return _button_component("url", index, parameters)
    if kind == COPY_CODE:
        code = _value(values, location, "code") or clean_parameter(_str(button.get("example")))
        if not code:
            raise ValueError(f"No code for the copy code button {index}.")
        parameter = {"type": "coupon_code", "coupon_code": code}
        return _button_component("copy_code", index, [parameter])
    if kind == QUICK_REPLY:
        payload = _mapping(values.get(location)).get("payload")
        if payload is None or payload == "":
            return None
        payload = payload if isinstance(payload, str) else str(payload)
        parameter = {"type": "payload", "payload": payload}
        return _button_component("quick_reply", index, [parameter])
    return None


def _button_component(sub_type: str, index: int, parameters: list[dict]) -> dict:
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": parameters}


def _authentication_send(spec: Mapping, values: Mapping) -> list[dict]:
    """Body and OTP button components of an authentication template: the code in both."""
    buttons = [
        (index, button)
        for index, button in enumerate(_buttons(spec))
        if _button_type(button) in (COPY_CODE, OTP)
    ]
    code = _value(values, "body", "1")
    for index, _button in buttons:
        code = code or _value(values, f"button_{index}", "code")
    if not code:
        raise ValueError("No value for the verification code {{1}} of the body.")
    text = [{"type": "text", "text": code}]
    components = [{"type": "body", "parameters": text}]
    components += [_button_component("url", index, text) for index, _button in buttons]
    return components


# --------------------------------------------------------------------------------------------
# Preview
# --------------------------------------------------------------------------------------------


def render(spec: Mapping, values=None) -> dict:
    """The texts a customer sees: ``{"header", "body", "footer", "buttons"}``.

    Placeholders are replaced by their cleaned value from ``values`` (shaped like ``samples``);
    missing ones stay as ``{{name}}``. ``header`` is '' unless the header is text; ``buttons``
    lists the button labels.
    """
    spec = _mapping(spec)
    values = _mapping(values)

    def fill(text: str, location: str) -> str:
        def replace(match) -> str:
            name = match.group(1)
            return _value(values, location, name) or _brace(name)

        return PLACEHOLDER_RE.sub(replace, text)

    header = ""
    if _header_type(spec) == "text":
        header = fill(_str(spec.get("header_text")), "header")
    labels = []
    for button in _buttons(spec):
        kind = _button_type(button)
        if kind in BUTTON_TYPES:
            label = _str(button.get("text")).strip()
            labels.append(label or DEFAULT_BUTTON_LABELS.get(kind, ""))
    return {
        "header": header,
        "body": fill(_str(spec.get("body")), "body"),
        "footer": _str(spec.get("footer")),
        "buttons": labels,
    }
