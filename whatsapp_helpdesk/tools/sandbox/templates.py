"""Message templates as Meta reviews them: the checks of a creation or edit (name, category, BODY,
numbered or named variables with their examples, URL buttons), the simulated review's outcome,
and the checks of a template send against the stored template (Meta's 132xxx errors).

Plain functions on template dicts; the state (``state.py``) stores the templates and schedules the
review webhooks.
"""

import copy
import re

from .config import new_object_id
from .errors import (
    require,
    required_parameter_missing,
    template_format_mismatch,
    template_invalid,
    template_params_mismatch,
)

TEMPLATE_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
TEMPLATE_NAME_RE = re.compile(r"[a-z0-9_]{1,512}")
TEMPLATE_PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
TEMPLATE_BODY_MAX_LENGTH = 1024
TEMPLATE_MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
# Statuses a template can be sent in; PAUSED and DISABLED have their own errors, the rest 132001.
SENDABLE_TEMPLATE_STATUSES = ("APPROVED", "FLAGGED")
EDITABLE_TEMPLATE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")
TEMPLATE_QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
# (marker in the template name, rejection reason) of the simulated review; first match wins.
TEMPLATE_REJECTIONS = (
    ("reject_policy", "TAG_CONTENT_MISMATCH"),
    ("reject_category", "INCORRECT_CATEGORY"),
    ("reject", "INVALID_FORMAT"),
)
DEFAULT_TEMPLATE_CATEGORY = "utility"

_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAMED_VARIABLE_RE = re.compile(r"[a-z_][a-z0-9_]*")
_MISSING_FIELDS = 'Message template "components" param is missing expected field(s)'
_EXAMPLE_SUBCODE = 2388043


def _variables(text) -> list[str]:
    """The variables of ``text`` (``"1"``, ``"first_name"``) in order of appearance, once each."""
    names = []
    for match in _PLACEHOLDER_RE.finditer(text if isinstance(text, str) else ""):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def _component(components, type_: str) -> dict | None:
    """The first component of ``type_`` (``HEADER``, ``BODY``, ``BUTTONS``...), any case."""
    for component in components or ():
        if str(component.get("type", "")).upper() == type_.upper():
            return component
    return None


def _url_buttons(components, *, otp: bool = False) -> list[tuple[int, dict]]:
    """(index, button) of the URL buttons whose ``url`` holds a variable; with ``otp``, also
    the one-time password buttons (they are sent as URL buttons carrying the code)."""
    buttons = (_component(components, "BUTTONS") or {}).get("buttons") or []
    result = []
    for index, button in enumerate(buttons):
        kind = str(button.get("type", "")).upper() if isinstance(button, dict) else ""
        if (kind == "URL" and _variables(button.get("url"))) or (otp and kind == "OTP"):
            result.append((index, button))
    return result


def _authentication_components(components: list) -> list:
    """The components of an AUTHENTICATION template with Meta's fixed texts filled in: the body
    ``*{{1}}* is your verification code.`` (the code is its only parameter), the expiry footer
    and the labels of the OTP buttons."""
    result = copy.deepcopy(components)
    for component in result:
        kind = component["type"].upper()
        if kind == "BODY":
            text = "*{{1}}* is your verification code."
            if component.get("add_security_recommendation"):
                text += " For your security, do not share this code."
            component["text"] = text
        elif kind == "FOOTER" and component.get("code_expiration_minutes"):
            component["text"] = f"This code expires in {component['code_expiration_minutes']} "
            component["text"] += "minutes."
        elif kind == "BUTTONS":
            for button in component.get("buttons") or ():
                if isinstance(button, dict) and str(button.get("type", "")).upper() == "OTP":
                    otp_type = str(button.get("otp_type", "COPY_CODE")).upper()
                    button.setdefault(
                        "text", "Autofill" if otp_type != "COPY_CODE" else "Copy code"
                    )
    return result


def _check_variables(where: str, names: list[str], parameter_format: str) -> None:
    """Variables are ``{{1}}``... without gaps (POSITIONAL) or lowercase names (NAMED)."""
    if parameter_format == "NAMED":
        bad = [name for name in names if not _NAMED_VARIABLE_RE.fullmatch(name)]
        if bad:
            raise template_invalid(
                "Invalid Variable Names",
                f"The {where} has variables {', '.join(bad)}: named variables can only have "
                "lowercase letters, numbers and underscores, and start with a letter.",
            )
        return
    numbers = sorted(int(name) for name in names if name.isascii() and name.isdigit())
    if numbers != list(range(1, len(names) + 1)):
        found = ", ".join("{{" + name + "}}" for name in names)
        raise template_invalid(
            "Invalid Variable Parameters",
            f"The {where} has variables {found}: variable parameters must be whole numbers with "
            "two sets of curly brackets, numbered in sequence starting at {{1}}.",
        )


def _example_names(examples) -> set:
    """The ``param_name`` of a list of named examples (``[{"param_name", "example"}]``)."""
    if not isinstance(examples, list):
        return set()
    return {
        item.get("param_name")
        for item in examples
        if isinstance(item, dict) and item.get("example") not in (None, "")
    }


def _check_examples(where: str, component: dict, key: str, names: list, named: bool) -> None:
    """Each variable of ``component`` has an example (``example.<key>[_named_params]``)."""
    if not names:
        return
    example = component.get("example")
    example = example if isinstance(example, dict) else {}
    if named:
        ok = set(names) <= _example_names(example.get(key + "_named_params"))
    else:
        values = example.get(key)
        if key == "body_text":  # a list of example sets: [["value 1", "value 2"]]
            values = values[0] if isinstance(values, list) and values else None
        ok = isinstance(values, list) and len(values) == len(names)
    if not ok:
        field = key + ("_named_params" if named else "")
        raise template_invalid(
            _MISSING_FIELDS,
            f"component of type {where} is missing expected field(s) (example.{field}): each of "
            f"its {len(names)} variable(s) needs an example value.",
            _EXAMPLE_SUBCODE,
        )


def check_template_content(category: str, components, parameter_format: str) -> tuple[list, str]:
    """Check the content of a template creation or edit as Meta does (else ``template_invalid``);
    return the (components, parameter format) to store.

    AUTHENTICATION templates have no body text of their own: Meta's fixed texts are filled in.
    """
    if category not in TEMPLATE_CATEGORIES:
        raise template_invalid(
            "Invalid Category", f"The category must be one of {', '.join(TEMPLATE_CATEGORIES)}."
        )
    if parameter_format not in TEMPLATE_PARAMETER_FORMATS:
        raise template_invalid(
            "Invalid Parameter Format",
            f"parameter_format must be one of {', '.join(TEMPLATE_PARAMETER_FORMATS)}.",
        )
    if not (
        isinstance(components, list)
        and components
        and all(isinstance(c, dict) and isinstance(c.get("type"), str) for c in components)
    ):
        raise template_invalid(
            "Invalid Components", "components must be a non-empty list of objects with a type."
        )
    if category == "AUTHENTICATION":
        if _component(components, "BODY") is None:
            raise template_invalid(_MISSING_FIELDS, "A message template needs a BODY component.")
        return _authentication_components(components), "POSITIONAL"
    named = parameter_format == "NAMED"
    body = _component(components, "BODY")
    if body is None or not isinstance(body.get("text"), str) or not body["text"].strip():
        raise template_invalid(
            _MISSING_FIELDS, "A message template needs a component of type BODY with a text."
        )
    if len(body["text"]) > TEMPLATE_BODY_MAX_LENGTH:
        raise template_invalid(
            "Message Template Body Too Long",
            f"The body text can have at most {TEMPLATE_BODY_MAX_LENGTH} characters; this one has "
            f"{len(body['text'])}.",
        )
    names = _variables(body["text"])
    _check_variables("body", names, parameter_format)
    _check_examples("BODY", body, "body_text", names, named)
    header = _component(components, "HEADER")
    if header is not None and str(header.get("format", "TEXT")).upper() == "TEXT":
        names = _variables(header.get("text"))
        if len(names) > 1:
            raise template_invalid(
                "Too Many Variables in Header", "A text header can have at most one variable."
            )
        _check_variables("header", names, parameter_format)
        _check_examples("HEADER", header, "header_text", names, named)
    for index, button in _url_buttons(components):
        if _variables(button["url"]) != ["1"]:
            raise template_invalid(
                "Invalid URL Button",
                f"The URL of button {index} can only have one variable, {{{{1}}}}.",
            )
        if not button.get("example"):
            raise template_invalid(
                _MISSING_FIELDS,
                "component of type BUTTONS is missing expected field(s) (example): the URL "
                f"button {index} has a variable.",
                _EXAMPLE_SUBCODE,
            )
    return copy.deepcopy(components), parameter_format


def template_definition(body: dict) -> dict:
    """The checked fields of a template creation request (``name``, ``language``, ...)."""
    name, language = body.get("name"), body.get("language")
    if not (isinstance(name, str) and TEMPLATE_NAME_RE.fullmatch(name)):
        raise template_invalid(
            "Name Format is Incorrect",
            "The message template name can only have lowercase letters, numbers and underscores.",
            2388046,
        )
    category = str(body.get("category") or "").upper()
    parameter_format = str(body.get("parameter_format") or "POSITIONAL").upper()
    if category not in TEMPLATE_CATEGORIES:
        raise template_invalid(
            "Invalid Category", f"The category must be one of {', '.join(TEMPLATE_CATEGORIES)}."
        )
    if not (isinstance(language, str) and language):
        raise template_invalid("Missing Language", "The language of the template is required.")
    components, parameter_format = check_template_content(
        category, body.get("components"), parameter_format
    )
    return {
        "name": name,
        "language": language,
        "category": category,
        "components": components,
        "parameter_format": parameter_format,
    }


def review_outcome(name: str) -> tuple[str, str | None]:
    """(event, reason) of the simulated review of the template ``name``."""
    for marker, reason in TEMPLATE_REJECTIONS:
        if marker in name:
            return "REJECTED", reason
    return "APPROVED", None


def _sent_parameters(components: list, type_: str) -> list | None:
    """The ``parameters`` of the sent ``header``/``body`` component, None without one."""
    component = _component(components, type_)
    if component is None:
        return None
    parameters = component.get("parameters", [])
    require(isinstance(parameters, list), f"Param {type_}['parameters'] must be a list.")
    require(all(isinstance(p, dict) for p in parameters), "Parameters must be objects.")
    return parameters


def _check_text_parameters(where: str, names: list, parameters: list, named: bool) -> None:
    """The parameters of a header or body: one per variable, named ones by their name."""
    if len(parameters) != len(names):
        raise template_params_mismatch(
            f"{where}: number of localizable_params ({len(parameters)}) does not match the "
            f"expected number of params ({len(names)})"
        )
    for parameter in parameters:
        if parameter.get("type", "text") == "text" and not parameter.get("text"):
            raise required_parameter_missing("Parameter of type text is missing text value")
    if named:
        given = sorted(str(p.get("parameter_name")) for p in parameters)
        if given != sorted(names):
            raise template_params_mismatch(
                f"{where}: parameter names ({', '.join(given)}) do not match the expected "
                f"parameter names ({', '.join(sorted(names))})"
            )


def _check_header_parameters(header: dict | None, parameters, named: bool) -> None:
    if header is None:
        names, format_ = [], "TEXT"
    else:
        format_ = str(header.get("format", "TEXT")).upper()
        names = _variables(header.get("text")) if format_ == "TEXT" else []
    if format_ in TEMPLATE_MEDIA_FORMATS:
        kind = format_.lower()
        received = (parameters or [{}])[0].get("type") or "UNKNOWN"
        if (
            len(parameters or ()) != 1
            or received != kind
            or not isinstance(parameters[0].get(kind), dict)
        ):
            raise template_format_mismatch(
                f"header: Format mismatch, expected {format_}, received {str(received).upper()}"
            )
        return
    if names and not parameters:
        raise template_format_mismatch("header: Format mismatch, expected TEXT, received UNKNOWN")
    _check_text_parameters("header", names, parameters or [], named)


def _check_button_parameters(template_components, sent_components: list) -> None:
    """Each URL button with a variable (or OTP button) gets a ``button`` component of sub_type
    url for its index, with one parameter."""
    sent = {}
    for component in sent_components:
        if str(component.get("type", "")).lower() == "button":
            sub_type = str(component.get("sub_type", "")).lower()
            sent[(sub_type, str(component.get("index")))] = component
    for index, _button in _url_buttons(template_components, otp=True):
        component = sent.get(("url", str(index)))
        parameters = (component or {}).get("parameters")
        count = len(parameters) if isinstance(parameters, list) else 0
        if count != 1:
            raise template_params_mismatch(
                f"button at index {index} of type Url: number of localizable_params ({count}) "
                "does not match the expected number of params (1)"
            )
        parameter = parameters[0]
        if not isinstance(parameter, dict) or not parameter.get("text"):
            raise required_parameter_missing("Parameter of type text is missing text value")


def check_template_parameters(template: dict, components) -> None:
    """Check the ``components`` of a template send against the stored ``template``."""
    components = components or []
    named = template.get("parameter_format") == "NAMED"
    definition = template.get("components") or []
    _check_header_parameters(
        _component(definition, "HEADER"), _sent_parameters(components, "header"), named
    )
    body = _component(definition, "BODY") or {}
    body_parameters = _sent_parameters(components, "body") or []
    _check_text_parameters("body", _variables(body.get("text")), body_parameters, named)
    _check_button_parameters(definition, components)


def new_template(
    name,
    *,
    category="UTILITY",
    language="en_US",
    components=(),
    status="APPROVED",
    parameter_format="POSITIONAL",
    **extra,
) -> dict:
    """A template dict with a fresh id, as stored (no check: see ``template_definition``)."""
    return {
        "id": new_object_id(),
        "name": name,
        "language": language,
        "status": status,
        "category": category.upper(),
        "components": copy.deepcopy(list(components)),
        "parameter_format": parameter_format.upper(),
        "rejected_reason": "NONE",
        **extra,
    }


def check_editable(template: dict) -> None:
    """Only APPROVED, REJECTED or PAUSED templates can be edited (else ``template_invalid``)."""
    if template["status"] not in EDITABLE_TEMPLATE_STATUSES:
        raise template_invalid(
            "Message Template Can't Be Edited",
            f"Only approved, rejected or paused templates can be edited; this one is "
            f"{template['status']}.",
        )


def hello_world_template() -> dict:
    """The sample template every new WhatsApp Business Account has."""
    return new_template(
        "hello_world",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {
                "type": "BODY",
                "text": "Welcome and congratulations!! This message demonstrates "
                "your ability to send a WhatsApp message notification from the Cloud API.",
            },
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
    )
