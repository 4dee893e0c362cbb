"""Meta's review rules for message templates: what would get a template rejected. No Odoo.

:func:`lint` checks a template *spec* (see :mod:`.template_spec`) and returns :class:`Problem`
records with stable codes, whose English messages Odoo translates at display time.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .template_spec import (
    _WORD_RE,
    BUTTON_TYPES,
    CATEGORIES,
    COPY_CODE,
    HEADER_TYPES,
    MAX_BODY,
    MAX_BUTTON_TEXT,
    MAX_BUTTONS,
    MAX_COPY_CODE_BUTTONS,
    MAX_COUPON_CODE,
    MAX_FOOTER,
    MAX_HEADER_TEXT,
    MAX_HEADER_VARIABLES,
    MAX_NAME,
    MAX_PHONE_BUTTONS,
    MAX_PHONE_NUMBER,
    MAX_URL_BUTTONS,
    MEDIA_HEADER_TYPES,
    NAME_RE,
    NAMED,
    OTP,
    PARAMETER_FORMATS,
    PARAMETER_NAME_RE,
    PHONE_NUMBER,
    PLACEHOLDER_RE,
    POSITIONAL,
    QUICK_REPLY,
    TEXT_BUTTON_TYPES,
    URL,
    URL_RE,
    WORDS_PER_VARIABLE,
    brace,
    button_type,
    buttons_of,
    header_type_of,
    is_authentication,
    mapping,
    parameter_format_of,
    placeholders,
    upper,
    value_at,
)
from .text import as_text

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
    name = as_text(spec.get("name"))
    language = as_text(spec.get("language")).strip()
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
    if upper(category) not in CATEGORIES:
        problems.append(
            _problem(
                "category_invalid", "category", category=category, allowed=", ".join(CATEGORIES)
            )
        )
    if parameter_format_of(spec) not in PARAMETER_FORMATS:
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
            pairs.add((as_text(item[0]), as_text(item[1]).strip()))
    return pairs


def _lint_header(spec: Mapping) -> list[Problem]:
    """Header type, text length and variable count, media sample handle."""
    header_type = header_type_of(spec)
    if header_type not in HEADER_TYPES:
        allowed = ", ".join(HEADER_TYPES)
        return [
            _problem("header_type_invalid", "header_type", header_type=header_type, allowed=allowed)
        ]
    if is_authentication(spec):
        if header_type != "none":
            return [_problem("auth_header_not_allowed", "header_type")]
        return []
    problems = []
    if header_type == "text":
        text = as_text(spec.get("header_text"))
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
    elif header_type in MEDIA_HEADER_TYPES and not as_text(spec.get("header_handle")).strip():
        problems.append(
            _problem("header_handle_required", "header_handle", header_type=header_type)
        )
    return problems


def _lint_body(spec: Mapping) -> list[Problem]:
    """Body presence, length, variable positions and density (fixed text for authentication)."""
    if is_authentication(spec):
        return []
    body = as_text(spec.get("body"))
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
    footer = as_text(spec.get("footer"))
    problems = []
    if len(footer) > MAX_FOOTER:
        problems.append(_problem("footer_too_long", "footer", length=len(footer), limit=MAX_FOOTER))
    if placeholders(footer):
        problems.append(_problem("footer_variables", "footer"))
    return problems


def _text_components(spec: Mapping) -> list[tuple[str, str, str]]:
    """``(location, field, text)`` of the header and body texts that may hold variables."""
    if is_authentication(spec):
        return []
    components = []
    if header_type_of(spec) == "text":
        components.append(("header", "header_text", as_text(spec.get("header_text"))))
    components.append(("body", "body", as_text(spec.get("body"))))
    return components


def _url_variables(spec: Mapping) -> list[tuple[str, str]]:
    """``(location, url)`` of the URL buttons whose URL holds a variable."""
    if is_authentication(spec):
        return []
    result = []
    for index, button in enumerate(buttons_of(spec)):
        if button_type(button) == URL:
            url = as_text(button.get("url"))
            if placeholders(url):
                result.append((f"button_{index}", url))
    return result


def _lint_placeholders(spec: Mapping) -> list[Problem]:
    """Placeholder names and numbering of the header and body, for the parameter format."""
    parameter_format = parameter_format_of(spec)
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
                            placeholder=brace(name),
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
                    "placeholder_not_number", field, placeholder=brace(name), component=location
                )
            )
    numbers = sorted({int(name) for name in names if name.isdigit()})
    if numbers != list(range(1, len(numbers) + 1)):
        found = ", ".join(brace(str(number)) for number in numbers)
        problems.append(
            _problem(
                "placeholder_sequence", field, component=location, count=len(numbers), found=found
            )
        )
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            problems.append(
                _problem("placeholder_repeated", field, placeholder=brace(name), component=location)
            )
    return problems


def _lint_samples(spec: Mapping) -> list[Problem]:
    """Every placeholder of the header, body and URL buttons has a non-blank sample."""
    samples = mapping(spec.get("samples"))
    texts = [(location, text) for location, _field, text in _text_components(spec)]
    problems = []
    for location, text in texts + _url_variables(spec):
        for name in dict.fromkeys(placeholders(text)):
            if not value_at(samples, location, name):
                problems.append(
                    _problem(
                        "sample_missing", "samples", placeholder=brace(name), component=location
                    )
                )
    return problems


def _lint_buttons(spec: Mapping) -> list[Problem]:
    """Button counts per type, grouping of quick replies, and each button on its own."""
    buttons = buttons_of(spec)
    authentication = is_authentication(spec)
    problems = []
    if len(buttons) > MAX_BUTTONS:
        problems.append(
            _problem("buttons_too_many", "buttons", count=len(buttons), limit=MAX_BUTTONS)
        )
    types = [button_type(button) for button in buttons]
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
    kind = button_type(button)
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
        text = as_text(button.get("text")).strip()
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
        problems += _lint_url(index, as_text(button.get("url")).strip())
    elif kind == PHONE_NUMBER:
        phone = as_text(button.get("phone_number")).strip()
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
        example = as_text(button.get("example")).strip()
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
