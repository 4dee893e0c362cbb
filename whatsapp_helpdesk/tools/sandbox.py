"""A local WhatsApp Cloud API sandbox: a Graph API look-alike on 127.0.0.1. No Odoo import.

It answers the documented Graph API shapes (send messages, media, message templates, Meta's error
bodies) and posts Meta-shaped, signed webhooks (inbound messages, ``sent`` / ``delivered`` /
``read`` / ``failed`` statuses, template reviews) to ``webhook_url`` from one ordered worker thread.
Knobs simulate the awkward cases: latency, random retryable errors, 429 bursts, 500 errors with
Meta's "Something went wrong" body or (after accepting the send) without any Graph error, answers
that never come in time, undeliverable numbers, the 24-hour customer service window and pair rate
limits.

Message templates behave like Meta's: creations and edits are validated (name, category, BODY,
numbered variables with examples), answered PENDING and reviewed ``template_review_delay`` later by
a webhook (APPROVED, or REJECTED when the name contains ``reject``); template sends are checked
against the stored template (status, parameter counts, header format, URL button variables) with
Meta's 132xxx errors. Tests pause, disable or flag templates with ``template_event`` and change
their quality with ``template_quality``.

A person drives it from the control page ``/_sandbox/`` or the CLI; tests drive it from Python::

    sandbox = Sandbox(SandboxConfig(port=0, webhook_url="http://127.0.0.1:8069/whatsapp/webhook"))
    sandbox.start()
    sandbox.inject("15551234567", text="Hello, my order is late")
    ...
    sandbox.stop()

Command line (from the addon directory)::

    python -m tools.sandbox serve --webhook-url http://127.0.0.1:8069/whatsapp/webhook
    python -m tools.sandbox say --from 15551234567 --name Alice "Hello"
    python -m tools.sandbox config burst_429=3 fail_numbers=15550009999
"""

import argparse
import base64
import copy
import dataclasses
import email.parser
import email.policy
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import os
import random
import re
import secrets
import sys
import threading
import time
import types
import typing
from collections.abc import Callable
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from . import payloads

_logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
ENV_PREFIX = "WA_SANDBOX_"
WINDOW_SECONDS = 24 * 3600
MAX_TEXT_LENGTH = 4096
SEND_TYPES = (
    "text",
    *payloads.MEDIA_TYPES,
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
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
_VERSION = r"v\d+(?:\.\d+)?"


def _knob(default, help_text: str):
    """A ``SandboxConfig`` field with its help text (shown by ``serve --help``).

    A callable ``default`` (``set``) is a factory, so that each config gets its own value.
    """
    if callable(default):
        return dataclasses.field(default_factory=default, metadata={"help": help_text})
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class SandboxConfig:
    """Identity of the simulated business number, and the knobs of the simulation.

    One-shot knobs (``burst_429``, ``burst_500``, ``gateway_error_next``, ``timeout_next``) count
    down as sends consume them.
    """

    host: str = _knob("127.0.0.1", "interface to listen on")
    port: int = _knob(DEFAULT_PORT, "port to listen on (0: any free port)")
    phone_number_id: str = _knob("100000000000001", "Graph id of the business phone number")
    waba_id: str = _knob("200000000000001", "WhatsApp Business Account id")
    display_phone_number: str = _knob("15550001111", "the business number as customers see it")
    token: str = _knob("sandbox-token", "access token expected as 'Authorization: Bearer ...'")
    app_secret: str = _knob("sandbox-app-secret", "app secret signing the webhooks")
    webhook_url: str | None = _knob(None, "where webhooks are posted (none: recorded only)")
    webhook_timeout: float = _knob(10.0, "seconds to wait for the webhook receiver")
    latency_ms: int = _knob(0, "delay added to every Graph API answer")
    error_rate: float = _knob(0.0, "share of sends failing with HTTP 500/131000 or 429/130429")
    burst_429: int = _knob(0, "the next N sends answer HTTP 429 code 130429")
    burst_500: int = _knob(0, "the next N sends answer HTTP 500 code 131000, and are not sent")
    gateway_error_next: int = _knob(
        0, "the next N sends are accepted but answered HTTP 503 without a Graph error body"
    )
    timeout_next: int = _knob(0, "the next N sends are accepted but answered timeout_seconds late")
    timeout_seconds: float = _knob(30.0, "delay of the answers held back by timeout_next")
    fail_numbers: set[str] = _knob(set, "recipients whose messages get a 'failed' status (131026)")
    enforce_window: bool = _knob(True, "reject free-form sends outside the 24 h window (131047)")
    pair_gap_ms: int = _knob(0, "minimum gap between two sends to one recipient (131056)")
    status_delay: float = _knob(0.2, "seconds between the sent, delivered and read webhooks")
    auto_read: bool = _knob(True, "post a 'read' status after 'delivered'")
    auto_approve_templates: bool = _knob(
        True,
        "review created and edited templates with a webhook: APPROVED, or REJECTED when the name "
        "contains 'reject' (off: they stay PENDING)",
    )
    template_review_delay: float | None = _knob(
        None, "seconds from a template creation or edit to its review (none: status_delay)"
    )
    seed: int | None = _knob(None, "seed of the random knobs")


_FIXED_KNOBS = ("host", "port")  # bound at start(): not changeable at run time


# -- errors ---------------------------------------------------------------------------------------


class GraphError(Exception):
    """A Graph API error answer: an HTTP status and Meta's error body."""

    def __init__(
        self,
        http_status: int,
        code: int,
        message: str,
        details="",
        subcode=None,
        *,
        user_title=None,
        user_msg=None,
    ):
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details or user_msg or message
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg

    def body(self) -> dict:
        """Meta's error body: ``{"error": {"message", "type", "code", ...}}``.

        Business management errors (templates) also carry ``is_transient`` and the
        ``error_user_title`` / ``error_user_msg`` meant for a person.
        """
        error = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title or self.user_msg:
            error["is_transient"] = False
            error["error_user_title"] = self.user_title or self.message
            error["error_user_msg"] = self.user_msg or self.details
        error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}


def invalid_parameter(details: str, subcode=None) -> GraphError:
    """HTTP 400 code 100: the request is malformed."""
    return GraphError(400, 100, "(#100) Invalid parameter", details, subcode)


def invalid_token() -> GraphError:
    """HTTP 401 code 190: missing or wrong access token."""
    return GraphError(
        401, 190, "Error validating access token: the access token is missing or invalid."
    )


def unknown_object(object_id: str, method: str) -> GraphError:
    """HTTP 400 code 100 subcode 33: no such phone number, account, media or template."""
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation."
    )
    return GraphError(400, 100, message, subcode=33)


def rate_limited() -> GraphError:
    """HTTP 429 code 130429: throughput of the business number exceeded."""
    details = "Cloud API message throughput has been reached."
    return GraphError(429, 130429, "(#130429) Rate limit hit", details)


def internal_error() -> GraphError:
    """HTTP 500 code 131000: a transient failure on Meta's side."""
    return GraphError(500, 131000, "(#131000) Something went wrong", "Something went wrong.")


def gateway_error(delay: float = 0.0) -> "Response":
    """HTTP 503 with a proxy's HTML page and no Graph error: the request may have gone through."""
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    return Response(503, page, "text/html", delay)


def window_closed() -> GraphError:
    """HTTP 400 code 131047: free-form message outside the customer service window."""
    details = (
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number."
    )
    return GraphError(400, 131047, "(#131047) Re-engagement message", details)


def pair_rate_limited() -> GraphError:
    """HTTP 400 code 131056: too many messages to one recipient in a short time."""
    message = "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    details = (
        "Too many messages sent from the sender phone number to the same recipient phone number "
        "in a short period of time."
    )
    return GraphError(400, 131056, message, details)


def template_invalid(title: str, user_msg: str, subcode=None) -> GraphError:
    """HTTP 400 code 100 refusing a template creation or edit, with Meta's ``error_user_*``."""
    return GraphError(
        400, 100, "Invalid parameter", user_msg, subcode, user_title=title, user_msg=user_msg
    )


def template_missing(name: str, language: str) -> GraphError:
    """HTTP 400 code 132001: no such template in that language, or not approved (yet)."""
    message = "(#132001) Template name does not exist in the translation"
    return GraphError(400, 132001, message, f"template name ({name}) does not exist in {language}")


def template_paused(name: str) -> GraphError:
    """HTTP 400 code 132015: the template is paused for low quality."""
    details = f"Template {name} is paused due to low quality so it cannot be sent."
    return GraphError(400, 132015, "(#132015) Template is Paused", details)


def template_disabled(name: str) -> GraphError:
    """HTTP 400 code 132016: the template was paused too often and is disabled for good."""
    details = f"Template {name} has been paused too many times due to low quality and is now "
    details += "permanently disabled."
    return GraphError(400, 132016, "(#132016) Template is disabled", details)


def template_params_mismatch(details: str) -> GraphError:
    """HTTP 400 code 132000: the parameters sent do not fit the template's variables."""
    message = "(#132000) Number of parameters does not match the expected number of params"
    return GraphError(400, 132000, message, details)


def template_format_mismatch(details: str) -> GraphError:
    """HTTP 400 code 132012: a header parameter is missing or of the wrong kind."""
    message = "(#132012) Parameter format does not match format in the created template"
    return GraphError(400, 132012, message, details)


def required_parameter_missing(details: str) -> GraphError:
    """HTTP 400 code 131008: a parameter lacks its value (e.g. a text parameter without text)."""
    return GraphError(400, 131008, "(#131008) Required parameter is missing", details)


def _require(condition, details: str) -> None:
    """Raise ``invalid_parameter(details)`` unless ``condition``."""
    if not condition:
        raise invalid_parameter(details)


def _digits(value) -> str:
    """Only the ASCII digits of ``value`` (a phone number as WhatsApp ids it)."""
    return re.sub(r"[^0-9]", "", str(value or ""))


def _new_object_id() -> str:
    """A fresh numeric Graph id (media, templates)."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


# -- knob coercion (HTTP control API, CLI, environment) -------------------------------------------


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_FIELDS = {field.name: field for field in dataclasses.fields(SandboxConfig)}


def _field_kind(name: str):
    """(base type, optional) of the config field ``name``; ``set`` for ``set[str]``."""
    annotation = _FIELDS[name].type
    if isinstance(annotation, types.UnionType):
        (base,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return base, True
    return typing.get_origin(annotation) or annotation, False


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"not a boolean: {value!r}")


def _to_numbers(value) -> set[str]:
    """Phone numbers (digits only) from a list, or from a string separated by commas."""
    if isinstance(value, str):
        value = re.split(r"[,;]", value)
    return {_digits(item) for item in value or () if _digits(item)}


def coerce_knob(name: str, value):
    """``value`` (possibly a string from the CLI or the environment) as config field ``name``."""
    if name not in _FIELDS:
        raise ValueError(f"unknown knob {name!r}")
    base, optional = _field_kind(name)
    if optional and (value is None or str(value).strip().lower() in ("", "none", "null")):
        return None
    if base is bool:
        return _to_bool(value)
    if base is set:
        return _to_numbers(value)
    if base is int:
        result = int(float(value))
    elif base is float:
        result = float(value)
    else:
        return str(value)
    if result < 0 or (name == "error_rate" and result > 1):
        raise ValueError(f"{name} out of range: {value!r}")
    return result


def knobs_of(config: SandboxConfig) -> dict:
    """``config`` as a JSON-ready dict."""
    values = dataclasses.asdict(config)
    values["fail_numbers"] = sorted(config.fail_numbers)
    return values


def config_from_env(environ=None, **overrides) -> SandboxConfig:
    """A config from the ``WA_SANDBOX_<FIELD>`` environment variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    values = {}
    for name in _FIELDS:
        if (ENV_PREFIX + name.upper()) in environ:
            values[name] = coerce_knob(name, environ[ENV_PREFIX + name.upper()])
        if overrides.get(name) is not None:
            values[name] = coerce_knob(name, overrides[name])
    return SandboxConfig(**values)


# -- requests and responses -----------------------------------------------------------------------


@dataclasses.dataclass
class Request:
    """One HTTP request, as the routes see it."""

    method: str
    path: str
    query: dict = dataclasses.field(default_factory=dict)
    headers: typing.Any = dataclasses.field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name) or default

    def json(self):
        """The body as JSON; an empty body is ``{}``. Raises ``ValueError`` if garbled."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


@dataclasses.dataclass
class Response:
    """One HTTP answer; ``delay`` holds it back (seconds) to make the client time out."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0

    @classmethod
    def json(cls, data, status: int = 200, delay: float = 0.0) -> "Response":
        return cls(status, payloads.encode(data), "application/json", delay)

    @classmethod
    def error(cls, exc: GraphError) -> "Response":
        return cls.json(exc.body(), exc.http_status)


class ControlError(ValueError):
    """A bad control API request (HTTP 400 with ``{"error": message}``)."""


def _json_object(request: Request) -> dict:
    """The Graph request body as a JSON object, else HTTP 400 code 100."""
    try:
        data = request.json()
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.")
    _require(isinstance(data, dict), "The request body must be a JSON object.")
    return data


def _control_json(request: Request) -> dict:
    """The control request body as a JSON object, else ``ControlError``."""
    try:
        data = request.json()
    except ValueError:
        raise ControlError("the body is not valid JSON")
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _limit(request: Request, items: list) -> list:
    """The last ``?limit=N`` items (all of them without a positive limit)."""
    try:
        limit = int(request.query.get("limit") or 0)
    except ValueError:
        raise ControlError("limit must be an integer")
    return list(items[-limit:]) if limit > 0 else list(items)


# -- outbound message validation ------------------------------------------------------------------


def _check_text(content) -> None:
    body = content.get("body")
    _require(isinstance(body, str) and body.strip(), "Param text['body'] is required.")
    _require(len(body) <= MAX_TEXT_LENGTH, f"Param text['body'] exceeds {MAX_TEXT_LENGTH} chars.")


def _check_media(content) -> None:
    _require(content.get("id") or content.get("link"), "Media requires an 'id' or a 'link'.")


def _check_location(content) -> None:
    for key in ("latitude", "longitude"):
        try:
            float(content.get(key))
        except (TypeError, ValueError):
            raise invalid_parameter(f"Param location['{key}'] must be a number.")


def _check_contacts(content) -> None:
    _require(isinstance(content, list) and content, "Param 'contacts' must be a non-empty list.")
    _require(all(isinstance(c, dict) and c.get("name") for c in content), "Contacts need a name.")


def _check_interactive(content) -> None:
    _require(isinstance(content.get("type"), str), "Param interactive['type'] is required.")
    _require(isinstance(content.get("action"), dict), "Param interactive['action'] is required.")


def _check_template(content) -> None:
    _require(isinstance(content.get("name"), str) and content["name"], "Template name required.")
    language = content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    _require(isinstance(code, str) and code, "Param template['language']['code'] is required.")
    components = content.get("components", [])
    _require(
        isinstance(components, list) and all(isinstance(c, dict) for c in components),
        "Param template['components'] must be a list of objects.",
    )


def _check_reaction(content) -> None:
    _require(content.get("message_id"), "Param reaction['message_id'] is required.")
    _require(isinstance(content.get("emoji"), str), "Param reaction['emoji'] is required.")


_CONTENT_CHECKS = {
    "text": _check_text,
    **dict.fromkeys(payloads.MEDIA_TYPES, _check_media),
    "location": _check_location,
    "contacts": _check_contacts,
    "interactive": _check_interactive,
    "template": _check_template,
    "reaction": _check_reaction,
}


_BSUID_RE = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def validate_message(body: dict) -> str:
    """Check an outbound message request as the Cloud API does; return its type.

    Raises ``GraphError`` (HTTP 400 code 100, the reason in ``error_data.details``).
    """
    _require(body.get("messaging_product") == "whatsapp", "messaging_product must be 'whatsapp'.")
    _require(body.get("recipient_type", "individual") == "individual", "Bad recipient_type.")
    if "recipient" in body and "to" not in body:  # a customer known by username: a BSUID
        _require(
            isinstance(body["recipient"], str) and _BSUID_RE.fullmatch(body["recipient"]),
            "Param 'recipient' must be a business-scoped user id.",
        )
    else:
        _require(isinstance(body.get("to"), str) and _digits(body["to"]), "Param 'to' is required.")
    type_ = body.get("type", "text")
    _require(type_ in SEND_TYPES, f"Param 'type' must be one of {', '.join(SEND_TYPES)}.")
    content = body.get(type_)
    expected = list if type_ == "contacts" else dict
    _require(isinstance(content, expected), f"Param '{type_}' is required.")
    _CONTENT_CHECKS[type_](content)
    return type_


# -- message templates: definitions and parameters ------------------------------------------------


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


def _review_outcome(name: str) -> tuple[str, str | None]:
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
    _require(isinstance(parameters, list), f"Param {type_}['parameters'] must be a list.")
    _require(all(isinstance(p, dict) for p in parameters), "Parameters must be objects.")
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


# -- media ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Media:
    """A stored media file (uploaded by the business, or sent by a simulated customer)."""

    id: str
    data: bytes
    mime_type: str
    filename: str | None = None
    sha256: str = ""
    time: float = 0.0

    @property
    def file_size(self) -> int:
        return len(self.data)


_TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
# (mime type, file name, content) of the file a simulated customer sends by default.
SAMPLE_MEDIA = {
    "image": ("image/png", "image.png", _TINY_PNG),
    "document": ("application/pdf", "document.pdf", _TINY_PDF),
    "audio": ("audio/ogg; codecs=opus", "audio.ogg", b"OggS\x00\x02" + bytes(20)),
    "video": ("video/mp4", "video.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(12)),
    "sticker": ("image/webp", "sticker.webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(14)),
}


def _parse_multipart(content_type: str, body: bytes) -> dict:
    """``{field name: (file name, content type, bytes)}`` of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    _require(message.is_multipart(), "The request must be multipart/form-data.")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[name] = (part.get_filename(), part.get_content_type(), data)
    return fields


# -- the webhook worker ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Job:
    """A webhook to post: ``build()`` makes the payload when it is due."""

    kind: str
    count: int
    build: Callable[[], dict]
    after: Callable[[dict], None] | None = None
    future: Future | None = None


class _WebhookWorker:
    """One background thread posting the scheduled jobs in due-time order (FIFO on ties)."""

    def __init__(self, post: Callable[[_Job], None]):
        self._post = post
        self._heap = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread = None
        self.running = False

    def start(self) -> None:
        with self._cond:
            if self.running:
                return
            self.running = True
        self._thread = threading.Thread(target=self._run, name="wa-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Drop the pending jobs and end the thread (after the post in progress, if any)."""
        with self._cond:
            self.running = False
            self._cond.notify_all()
        self.clear()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def clear(self) -> None:
        """Drop the pending jobs."""
        with self._cond:
            dropped, self._heap = self._heap, []
        for _due, _seq, job in dropped:
            if job.future:
                job.future.cancel()

    def schedule(self, job: _Job, delay: float = 0.0) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify_all()

    def _next_job(self):
        with self._cond:
            while self.running:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(wait)
        return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                self._post(job)
            except Exception:
                _logger.exception("webhook job %s failed", job.kind)
                if job.future and not job.future.done():
                    job.future.cancel()


# -- the sandbox ----------------------------------------------------------------------------------


def _hello_world_template() -> dict:
    """The sample template every new WhatsApp Business Account has."""
    return {
        "id": _new_object_id(),
        "name": "hello_world",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "rejected_reason": "NONE",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {
                "type": "BODY",
                "text": "Welcome and congratulations!! This message demonstrates "
                "your ability to send a WhatsApp message notification from the Cloud API.",
            },
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
    }


class Sandbox:
    """The simulated Cloud API: an HTTP server thread plus the webhook worker thread.

    Recorded state (read it, do not mutate it): ``sent`` (accepted outbound messages),
    ``deliveries`` (webhook posts), ``read_receipts``, ``media`` (id -> ``Media``) and
    ``templates`` (id -> template dict).
    """

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self._initial = copy.deepcopy(self.config)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._worker = _WebhookWorker(self._post_job)
        self._reset_state()

    # -- life cycle

    def start(self) -> "Sandbox":
        """Listen in a background thread (and start the webhook worker); return ``self``."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.config.host, self.config.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wa-sandbox-http",
            daemon=True,
        )
        self._thread.start()
        self._worker.start()
        _logger.info("WhatsApp Cloud API sandbox listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; pending webhooks are dropped and held-back answers released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None
        self._worker.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server (the configured address when not started)."""
        host, port = self.config.host, self.config.port
        if self._server is not None:
            host, port = self._server.server_address[:2]
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    # -- configuration and state

    def configure(self, **knobs) -> dict:
        """Change knobs at run time (strings are coerced); return all of them."""
        fixed = set(knobs) & set(_FIXED_KNOBS)
        if fixed and self._server is not None:
            raise ValueError(f"cannot change {', '.join(sorted(fixed))} while running")
        values = {name: coerce_knob(name, value) for name, value in knobs.items()}
        with self._lock:
            for name, value in values.items():
                setattr(self.config, name, value)
            if "seed" in values:
                self._random.seed(values["seed"])
        _logger.info("sandbox knobs changed: %s", values)
        return self.knobs()

    def knobs(self) -> dict:
        """The current configuration as a JSON-ready dict."""
        with self._lock:
            return knobs_of(self.config)

    def reset(self) -> None:
        """Forget everything recorded, drop pending webhooks, restore the initial knobs."""
        self._worker.clear()
        with self._lock:
            for name in _FIELDS:
                if name not in _FIXED_KNOBS:
                    setattr(self.config, name, copy.deepcopy(getattr(self._initial, name)))
            self._reset_state()
            self._changed.notify_all()

    def _reset_state(self) -> None:
        self.sent = []
        self.deliveries = []
        self.read_receipts = []
        self.media = {}
        template = _hello_world_template()
        self.templates = {template["id"]: template}
        self._reviews = {}  # template id -> token of its pending review
        self._last_inbound = {}
        self._last_send = {}
        self._conversations = {}
        self._random = random.Random(self.config.seed)

    def wait_for_deliveries(self, n: int, timeout: float = 10) -> bool:
        """Wait until at least ``n`` webhook posts are recorded; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.deliveries) >= n, timeout)

    def window_open(self, wa_id: str, now: float | None = None) -> bool:
        """Whether ``wa_id`` wrote in the last 24 hours (free-form messages allowed)."""
        now = time.time() if now is None else now
        with self._lock:
            last = self._last_inbound.get(_digits(wa_id))
        return last is not None and now - last < WINDOW_SECONDS

    def add_template(
        self,
        name,
        *,
        category="UTILITY",
        language="en_US",
        components=(),
        status="APPROVED",
        parameter_format="POSITIONAL",
        **extra,
    ):
        """Register a template as is, without review nor validation (tests set up with this).

        Sends of it are checked against its ``components`` and billed with its category.
        """
        template = {
            "id": _new_object_id(),
            "name": name,
            "language": language,
            "status": status,
            "category": category.upper(),
            "components": copy.deepcopy(list(components)),
            "parameter_format": parameter_format.upper(),
            "rejected_reason": "NONE",
            **extra,
        }
        with self._lock:
            self.templates[template["id"]] = template
        return template

    def find_template(self, name: str, language: str | None = None) -> dict | None:
        """The template ``name`` (in ``language`` when given), or None."""
        with self._lock:
            for template in self.templates.values():
                if template["name"] == name and language in (None, template["language"]):
                    return template
        return None

    # -- simulated customers

    def inject(self, wa_id, *, profile_name="Customer", type="text", text=None, **content) -> dict:
        """A customer ``wa_id`` writes: post the inbound webhook now, return its outcome.

        ``type`` is ``text``, a media type (``text`` is the caption; a tiny sample file is
        stored unless ``data``/``data_base64`` is given), ``location`` (``latitude``,
        ``longitude``), ``contacts``, ``button_reply``/``list_reply`` (``text`` is the title;
        ``reply_id``), ``button`` (``payload``), ``reaction`` (``emoji``, ``message_id``) or
        ``unsupported``. Replies default their context to the last message sent to ``wa_id``.
        The 24-hour window of ``wa_id`` opens. Returns ``{"wamid", "status_code", "error"}``.
        """
        wa_id = _digits(wa_id)
        if not wa_id:
            raise ValueError("the customer number has no digits")
        message = self._inbound_message(wa_id, type, text, content)
        cfg = self.config
        payload = payloads.inbound_payload(
            waba_id=cfg.waba_id,
            phone_number_id=cfg.phone_number_id,
            display_phone_number=cfg.display_phone_number,
            wa_id=wa_id,
            profile_name=profile_name or "Customer",
            messages=[message],
        )
        with self._lock:
            self._last_inbound[wa_id] = time.time()
        record = self._post_now(_Job("messages", 1, lambda: payload))
        _logger.info("customer %s wrote %s %s", wa_id, type, message["id"])
        return {
            "wamid": message["id"],
            "status_code": record.get("status_code"),
            "error": record.get("error"),
        }

    def _inbound_message(self, wa_id: str, type_: str, text, content: dict) -> dict:
        """The message dict of ``inject``."""
        if type_ in payloads.MEDIA_TYPES:
            return self._inbound_media(wa_id, type_, text, content)
        if type_ == "interactive":
            type_ = content.pop("kind", "button_reply")
            if type_ not in payloads.INTERACTIVE_KINDS:
                raise ValueError(f"kind must be one of {payloads.INTERACTIVE_KINDS}")
        builders = {
            "text": self._inbound_text,
            "location": self._inbound_location,
            "contacts": self._inbound_contacts,
            "button_reply": self._inbound_button_reply,
            "list_reply": self._inbound_list_reply,
            "button": self._inbound_button,
            "reaction": self._inbound_reaction,
            "unsupported": self._inbound_unsupported,
        }
        if type_ not in builders:
            raise ValueError(f"unknown inbound message type {type_!r}")
        return builders[type_](wa_id, text, content)

    def _inbound_text(self, wa_id, text, content):
        if not text:
            raise ValueError("a text message needs a text")
        return payloads.text_message(wa_id, text, context=self._reply_context(content))

    def _inbound_media(self, wa_id, media_type, text, content):
        default_mime, default_name, default_data = SAMPLE_MEDIA[media_type]
        data = content.get("data")
        if data is None and content.get("data_base64"):
            data = base64.b64decode(content["data_base64"])
        if isinstance(data, str):
            data = data.encode()
        filename = content.get("filename") or default_name
        media = self._store_media(
            default_data if data is None else data,
            content.get("mime_type") or default_mime,
            filename,
        )
        return payloads.media_message(
            wa_id,
            media_type,
            media.id,
            mime_type=media.mime_type,
            sha256=media.sha256,
            caption=text,
            filename=filename,
            voice=_to_bool(content.get("voice", False)),
            context=self._reply_context(content),
        )

    def _inbound_location(self, wa_id, text, content):
        try:
            latitude, longitude = float(content["latitude"]), float(content["longitude"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a location needs a numeric latitude and longitude")
        name = content.get("name") or text
        return payloads.location_message(
            wa_id, latitude, longitude, name=name, address=content.get("address")
        )

    def _inbound_contacts(self, wa_id, text, content):
        cards = content.get("contacts") or [
            payloads.vcard(text or "Contact", content.get("phone") or "+15550002222")
        ]
        return payloads.contacts_message(wa_id, cards)

    def _inbound_button_reply(self, wa_id, text, content, kind="button_reply"):
        if not text:
            raise ValueError("a reply needs a title (text)")
        reply_id = content.get("reply_id") or re.sub(r"\W+", "_", text.lower()).strip("_")
        return payloads.interactive_reply(
            wa_id,
            kind,
            reply_id or "reply",
            text,
            description=content.get("description"),
            context=self._reply_context(content, wa_id),
        )

    def _inbound_list_reply(self, wa_id, text, content):
        return self._inbound_button_reply(wa_id, text, content, kind="list_reply")

    def _inbound_button(self, wa_id, text, content):
        if not text:
            raise ValueError("a button message needs a text")
        context = self._reply_context(content, wa_id)
        return payloads.button_message(wa_id, content.get("payload") or text, text, context=context)

    def _inbound_reaction(self, wa_id, text, content):
        message_id = content.get("message_id") or self._last_wamid_to(wa_id)
        if not message_id:
            raise ValueError("a reaction needs a message_id (nothing was sent to this number)")
        emoji = content.get("emoji", text if text is not None else "\N{THUMBS UP SIGN}")
        return payloads.reaction_message(wa_id, message_id, emoji)

    def _inbound_unsupported(self, wa_id, text, content):
        return payloads.unsupported_message(wa_id)

    def _reply_context(self, content: dict, wa_id: str | None = None) -> dict | None:
        """The ``context`` of an inbound message: explicit, ``reply_to`` or (given ``wa_id``) the
        last message sent to that customer."""
        if content.get("context"):
            return content["context"]
        message_id = content.get("reply_to") or (wa_id and self._last_wamid_to(wa_id))
        if not message_id:
            return None
        return payloads.reply_context(message_id, self.config.display_phone_number)

    def _last_wamid_to(self, wa_id: str) -> str | None:
        with self._lock:
            for entry in reversed(self.sent):
                if entry["to"] == wa_id:
                    return entry["wamid"]
        return None

    def template_event(self, name: str, event: str, *, reason=None, language=None) -> dict:
        """Meta changed template ``name``: set its status to ``event`` (``APPROVED``, ``REJECTED``,
        ``PAUSED``, ``DISABLED``, ``FLAGGED``...) and post the webhook now; return its outcome.

        A review still pending for the template is dropped.
        """
        template = self.find_template(name, language)
        if template is None:
            raise ValueError(f"unknown template {name!r}")
        with self._lock:
            self._reviews.pop(template["id"], None)
        return self._post_now(self._template_job(template, event.upper(), reason))

    def template_quality(self, name: str, new_score: str, *, language=None) -> dict:
        """The quality of template ``name`` became ``new_score`` (``GREEN``, ``YELLOW``, ``RED``):
        post the ``message_template_quality_update`` webhook now; return its outcome."""
        template = self.find_template(name, language)
        if template is None:
            raise ValueError(f"unknown template {name!r}")
        new_score = str(new_score).upper()
        if new_score not in TEMPLATE_QUALITY_SCORES:
            raise ValueError(f"the score must be one of {TEMPLATE_QUALITY_SCORES}")
        cfg = self.config

        def build():
            with self._lock:
                previous = (template.get("quality_score") or {}).get("score", "UNKNOWN")
                template["quality_score"] = {"score": new_score, "date": int(time.time())}
            change = payloads.template_quality_change(
                int(template["id"]), template["name"], template["language"], previous, new_score
            )
            return payloads.envelope(cfg.waba_id, [change], time=time.time())

        return self._post_now(_Job("template_quality", 1, build))

    # -- webhooks

    def _post_now(self, job: _Job) -> dict:
        """Post ``job`` through the worker (in order with the scheduled ones) and wait."""
        if not self._worker.running:
            return self._post_job(job)
        job.future = Future()
        self._worker.schedule(job)
        try:
            return job.future.result(timeout=self.config.webhook_timeout + 5)
        except Exception as exc:  # cancelled by stop()/reset(), or stuck receiver
            return {"status_code": None, "error": f"not posted: {exc!r}"}

    def _post_job(self, job: _Job) -> dict:
        """Post one webhook, signed; record the outcome (failures are recorded, not raised).

        A job whose ``build()`` gives None became moot (e.g. the review of a deleted template):
        nothing is posted nor recorded.
        """
        cfg = self.config
        payload = job.build()
        if payload is None:
            record = {"kind": job.kind, "status_code": None, "error": "not posted: moot"}
            if job.future and not job.future.done():
                job.future.set_result(record)
            return record
        record = {
            "url": cfg.webhook_url,
            "kind": job.kind,
            "count": job.count,
            "status_code": None,
            "error": None,
            "time": time.time(),
            "payload": payload,
        }
        if not cfg.webhook_url:
            record["error"] = "no webhook_url configured"
        else:
            body, headers = payloads.signed(payload, cfg.app_secret)
            try:
                answer = requests.post(
                    cfg.webhook_url, data=body, headers=headers, timeout=cfg.webhook_timeout
                )
                record["status_code"] = answer.status_code
            except requests.RequestException as exc:
                record["error"] = str(exc)
        self._log_delivery(record)
        if job.after:
            job.after(record)
        with self._changed:
            self.deliveries.append(record)
            self._changed.notify_all()
        if job.future and not job.future.done():
            job.future.set_result(record)
        return record

    @staticmethod
    def _log_delivery(record: dict) -> None:
        outcome = record["status_code"] or record["error"]
        _logger.info(
            "webhook %s (%d) -> %s: %s", record["kind"], record["count"], record["url"], outcome
        )

    def _status_job(self, entry: dict, status_name: str) -> _Job:
        """The webhook job of one status of the outbound message ``entry``."""
        cfg = self.config

        def build():
            status = payloads.status(
                entry["wamid"],
                status_name,
                entry["to"],
                category=entry["category"],
                billable=entry["billable"],
                conversation_id=entry["conversation_id"],
                biz_opaque_callback_data=entry["payload"].get("biz_opaque_callback_data"),
            )
            if not entry["to"].isdigit():  # sent to a business-scoped user id
                status["recipient_user_id"] = status.pop("recipient_id")
            return payloads.status_payload(
                waba_id=cfg.waba_id,
                phone_number_id=cfg.phone_number_id,
                display_phone_number=cfg.display_phone_number,
                statuses=[status],
            )

        def after(_record):
            with self._lock:
                entry["status"] = status_name

        return _Job("statuses", 1, build, after)

    def _schedule_review(self, template: dict) -> None:
        """Review a PENDING template ``template_review_delay`` later, if auto-approving."""
        cfg = self.config
        if not cfg.auto_approve_templates:
            return
        delay = cfg.status_delay if cfg.template_review_delay is None else cfg.template_review_delay
        event, reason = _review_outcome(template["name"])
        token = object()
        with self._lock:
            self._reviews[template["id"]] = token
        self._worker.schedule(self._template_job(template, event, reason, token), delay)

    def _schedule_statuses(self, entry: dict) -> None:
        """sent -> delivered (-> read), or failed for ``fail_numbers``, ``status_delay`` apart."""
        cfg = self.config
        if entry["to"] in cfg.fail_numbers:
            sequence = ["failed"]
        else:
            sequence = ["sent", "delivered"] + (["read"] if cfg.auto_read else [])
        for step, status_name in enumerate(sequence, start=1):
            self._worker.schedule(self._status_job(entry, status_name), cfg.status_delay * step)

    def _template_job(self, template: dict, event: str, reason=None, token=None) -> _Job:
        """The webhook job of a template status change; the template changes when it is posted.

        With a review ``token``, the job is dropped unless that review is still the pending one of
        the template (not deleted, edited again or changed by ``template_event`` meanwhile).
        """
        cfg = self.config

        def build():
            with self._lock:
                if token is not None:
                    if self._reviews.get(template["id"]) is not token:
                        return None
                    del self._reviews[template["id"]]
                    if self.templates.get(template["id"]) is not template:
                        return None
                template["status"] = "APPROVED" if event == "REINSTATED" else event
                if event == "REJECTED":
                    template["rejected_reason"] = reason or "NONE"
                elif event in ("APPROVED", "PENDING"):
                    template["rejected_reason"] = "NONE"
            change = payloads.template_status_change(
                int(template["id"]), template["name"], template["language"], event, reason=reason
            )
            return payloads.envelope(cfg.waba_id, [change], time=time.time())

        return _Job("template_status", 1, build)

    # -- HTTP entry point

    def handle(self, request: Request) -> Response:
        """Answer one request (the HTTP handler calls this; tests may too)."""
        try:
            if request.path.rstrip("/") == "/_sandbox" or request.path.startswith("/_sandbox/"):
                return self._handle_control(request)
            return self._handle_graph(request)
        except GraphError as exc:
            _logger.info("%s %s -> %s %s", request.method, request.path, exc.code, exc.details)
            return Response.error(exc)
        except ControlError as exc:
            return Response.json({"error": str(exc)}, 400)
        except Exception:
            _logger.exception("sandbox failed on %s %s", request.method, request.path)
            return Response.error(GraphError(500, 1, "An unknown error occurred"))

    def hold(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the sandbox stops meanwhile."""
        self._stopping.wait(seconds)

    def _handle_graph(self, request: Request) -> Response:
        if self.config.latency_ms:
            self.hold(self.config.latency_ms / 1000)
        self._check_token(request)
        handler, params = _route(_GRAPH_ROUTES, request)
        if handler is None:
            raise GraphError(400, 2500, f"Unknown path components: {request.path}")
        return handler(self, request, **params)

    def _handle_control(self, request: Request) -> Response:
        handler, params = _route(_CONTROL_ROUTES, request)
        if handler is None:
            return Response.json({"error": f"no route {request.method} {request.path}"}, 404)
        return handler(self, request, **params)

    def _check_token(self, request: Request) -> None:
        """The access token (``Authorization: Bearer``, or ``access_token=``), else code 190."""
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer":
            token = request.query.get("access_token", "")
        if not hmac.compare_digest(token.strip().encode(), self.config.token.encode()):
            raise invalid_token()

    # -- Graph API: messages

    def _send_message(self, request: Request, phone_number_id: str) -> Response:
        """``POST /{version}/{phone_number_id}/messages``."""
        self._check_phone_number(phone_number_id, request.method)
        body = _json_object(request)
        if body.get("status") == "read":
            return self._mark_read(body)
        type_ = validate_message(body)
        if type_ == "template":
            self._check_template_send(body["template"])
        with self._lock:
            entry = self._accept(phone_number_id, body, type_)
            delay = self._consume_timeout()
            lost_answer = self._consume_one_shot("gateway_error_next")
        self._schedule_statuses(entry)
        if lost_answer:
            return gateway_error(delay)
        message = {"id": entry["wamid"]}
        if type_ == "template":
            message["message_status"] = "accepted"
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to") or body["recipient"], "wa_id": entry["to"]}],
            "messages": [message],
        }
        return Response.json(answer, delay=delay)

    def _check_template_send(self, content: dict) -> None:
        """The template exists in the language, may be sent, and gets the right parameters."""
        name, language = content["name"], content["language"]["code"]
        with self._lock:
            template = copy.deepcopy(self.find_template(name, language))
        status = template["status"] if template else None
        if status == "PAUSED":
            raise template_paused(name)
        if status == "DISABLED":
            raise template_disabled(name)
        if status not in SENDABLE_TEMPLATE_STATUSES:
            _logger.info("template %s (%s) cannot be sent: %s", name, language, status or "unknown")
            raise template_missing(name, language)
        check_template_parameters(template, content.get("components"))

    def _check_phone_number(self, phone_number_id: str, method: str) -> None:
        if phone_number_id != self.config.phone_number_id:
            raise unknown_object(phone_number_id, method)

    def _mark_read(self, body: dict) -> Response:
        _require(
            body.get("messaging_product") == "whatsapp", "messaging_product must be 'whatsapp'."
        )
        _require(isinstance(body.get("message_id"), str), "Param 'message_id' is required.")
        with self._lock:
            self.read_receipts.append({"message_id": body["message_id"], "time": time.time()})
        return Response.json({"success": True})

    def _accept(self, phone_number_id: str, body: dict, type_: str) -> dict:
        """Apply the knobs to a valid send (raising their errors), then record it."""
        to, now = (_digits(body["to"]) if "to" in body else body["recipient"]), time.time()
        self._check_knobs(to, type_, now)
        category, billable = self._pricing_of(body, type_)
        entry = {
            "wamid": payloads.new_wamid(),
            "to": to,
            "type": type_,
            "payload": body,
            "time": now,
            "phone_number_id": phone_number_id,
            "category": category,
            "billable": billable,
            "conversation_id": self._conversation_id(to, category, now),
            "status": "accepted",
        }
        self.sent.append(entry)
        self._last_send[to] = now
        _logger.info("accepted %s to %s: %s", type_, to, entry["wamid"])
        return entry

    def _check_knobs(self, to: str, type_: str, now: float) -> None:
        """Raise the error the knobs ask for this send, if any (called under the lock)."""
        cfg = self.config
        if self._consume_one_shot("burst_429"):
            raise rate_limited()
        if self._consume_one_shot("burst_500"):
            raise internal_error()
        if cfg.error_rate and self._random.random() < cfg.error_rate:
            raise self._random.choice((internal_error, rate_limited))()
        if cfg.enforce_window and type_ != "template" and not self.window_open(to, now):
            raise window_closed()
        last = self._last_send.get(to)
        if cfg.pair_gap_ms > 0 and last is not None and (now - last) * 1000 < cfg.pair_gap_ms:
            raise pair_rate_limited()

    def _consume_timeout(self) -> float:
        """Seconds to hold this answer back (``timeout_next``), counting the knob down."""
        return self.config.timeout_seconds if self._consume_one_shot("timeout_next") else 0.0

    def _consume_one_shot(self, name: str) -> bool:
        """Count the one-shot knob ``name`` down; True when this send uses it (under the lock)."""
        left = getattr(self.config, name)
        if left <= 0:
            return False
        setattr(self.config, name, left - 1)
        return True

    def _pricing_of(self, body: dict, type_: str) -> tuple[str, bool]:
        """(category, billable): templates are billed by their category, the rest is service."""
        if type_ != "template":
            return "service", False
        template = self.find_template(
            body["template"]["name"], body["template"]["language"]["code"]
        )
        template = template or self.find_template(body["template"]["name"])
        category = template["category"].lower() if template else DEFAULT_TEMPLATE_CATEGORY
        return category, True

    def _conversation_id(self, to: str, category: str, now: float) -> str:
        """The open conversation of (``to``, ``category``), or a new 24-hour one."""
        current = self._conversations.get((to, category))
        if current and current[1] > now:
            return current[0]
        conversation_id = payloads.new_conversation_id()
        self._conversations[(to, category)] = (conversation_id, now + WINDOW_SECONDS)
        return conversation_id

    # -- Graph API: media and objects

    def _store_media(self, data: bytes, mime_type: str, filename=None) -> Media:
        media = Media(
            id=_new_object_id(),
            data=data,
            mime_type=mime_type,
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            time=time.time(),
        )
        with self._lock:
            self.media[media.id] = media
        return media

    def _upload_media(self, request: Request, phone_number_id: str) -> Response:
        """``POST /{version}/{phone_number_id}/media``: multipart file, type, messaging_product."""
        self._check_phone_number(phone_number_id, request.method)
        fields = _parse_multipart(request.header("Content-Type"), request.body)
        product = fields.get("messaging_product", (None, None, b""))[2].decode(errors="replace")
        _require(product == "whatsapp", "messaging_product must be 'whatsapp'.")
        _require("file" in fields, "Param 'file' is required.")
        filename, part_type, data = fields["file"]
        _require(data, "The file is empty.")
        mime_type = fields["type"][2].decode(errors="replace") if "type" in fields else part_type
        media = self._store_media(data, mime_type, filename)
        _logger.info("media %s uploaded (%s, %d bytes)", media.id, mime_type, len(data))
        return Response.json({"id": media.id})

    def _get_object(self, request: Request, object_id: str) -> Response:
        """``GET /{version}/{id}``: the business phone number, a template (``fields`` narrows it)
        or a media's download URL."""
        cfg = self.config
        if object_id == cfg.phone_number_id:
            return Response.json(self._phone_number_info())
        with self._lock:
            template = copy.deepcopy(self.templates.get(object_id))
        if template is not None:
            fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
            if fields:
                template = {k: v for k, v in template.items() if k == "id" or k in fields}
            return Response.json(template)
        media = self._media_or_error(object_id, request.method)
        host = request.header("Host") or self.base_url.split("://", 1)[1]
        answer = {
            "messaging_product": "whatsapp",
            "url": f"http://{host}/_sandbox/media/{media.id}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.file_size,
            "id": media.id,
        }
        return Response.json(answer)

    def _phone_number_info(self) -> dict:
        cfg = self.config
        return {
            "id": cfg.phone_number_id,
            "display_phone_number": cfg.display_phone_number,
            "verified_name": "WhatsApp Sandbox",
            "quality_rating": "GREEN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
        }

    def _post_object(self, request: Request, object_id: str) -> Response:
        """``POST /{version}/{template_id}``: edit a template's ``components`` and/or ``category``.

        Only APPROVED, REJECTED or PAUSED templates can be edited; the template goes back to
        PENDING and is reviewed again like a new one.
        """
        with self._lock:
            template = self.templates.get(object_id)
        if template is None:
            raise unknown_object(object_id, request.method)
        body = _json_object(request)
        if "components" not in body and "category" not in body:
            raise template_invalid(
                "Nothing to Edit", "Give the new components and/or category of the template."
            )
        with self._lock:
            category = str(body.get("category") or template["category"]).upper()
            components = body.get("components", template["components"])
            parameter_format = str(
                body.get("parameter_format") or template.get("parameter_format") or "POSITIONAL"
            ).upper()
            components, parameter_format = check_template_content(
                category, components, parameter_format
            )
            if template["status"] not in EDITABLE_TEMPLATE_STATUSES:
                raise template_invalid(
                    "Message Template Can't Be Edited",
                    f"Only approved, rejected or paused templates can be edited; this one is "
                    f"{template['status']}.",
                )
            template.update(
                category=category,
                components=components,
                parameter_format=parameter_format,
                status="PENDING",
                rejected_reason="NONE",
            )
            self._reviews.pop(template["id"], None)
        _logger.info("template %s (%s) edited", template["name"], template["language"])
        self._schedule_review(template)
        return Response.json({"success": True})

    def _delete_object(self, request: Request, object_id: str) -> Response:
        """``DELETE /{version}/{media_id}``."""
        self._media_or_error(object_id, request.method)
        with self._lock:
            self.media.pop(object_id, None)
        return Response.json({"success": True})

    def _media_or_error(self, media_id: str, method: str) -> Media:
        with self._lock:
            media = self.media.get(media_id)
        if media is None:
            raise unknown_object(media_id, method)
        return media

    def _download_media(self, request: Request, media_id: str) -> Response:
        """``GET /_sandbox/media/<id>``: the file bytes (the access token is required)."""
        self._check_token(request)
        with self._lock:
            media = self.media.get(media_id)
        if media is None:
            raise GraphError(404, 100, "(#100) Invalid parameter", f"No media {media_id}.")
        return Response(200, media.data, media.mime_type)

    # -- Graph API: message templates

    def _check_waba(self, waba_id: str, method: str) -> None:
        if waba_id != self.config.waba_id:
            raise unknown_object(waba_id, method)

    def _list_templates(self, request: Request, waba_id: str) -> Response:
        """``GET /{version}/{waba_id}/message_templates`` (``name``, ``status``, ``limit``)."""
        self._check_waba(waba_id, request.method)
        query = request.query
        with self._lock:
            data = [
                copy.deepcopy(t)
                for t in self.templates.values()
                if query.get("name", "") in t["name"]
                and query.get("status", t["status"]).upper() == t["status"]
            ]
        start = int(_decode_cursor(query.get("after")) or 0)
        limit = int(query.get("limit") or 25)
        page = data[start : start + limit]
        cursors = {"before": _cursor(start), "after": _cursor(start + max(len(page) - 1, 0))}
        paging = {"cursors": cursors}
        if start + limit < len(data):
            cursors["after"] = _cursor(start + limit)
            paging["next"] = f"{self.base_url}{request.path}?limit={limit}&after={cursors['after']}"
        return Response.json({"data": page, "paging": paging})

    def _create_template(self, request: Request, waba_id: str) -> Response:
        """``POST /{version}/{waba_id}/message_templates``: a PENDING template, reviewed later."""
        self._check_waba(waba_id, request.method)
        definition = template_definition(_json_object(request))
        name, language = definition["name"], definition["language"]
        with self._lock:
            if self.find_template(name, language):
                raise template_invalid(
                    "Content in This Language Already Exists",
                    f"There is already {language} content for this template. You can create a "
                    "new template and try again.",
                    2388024,
                )
            template = self.add_template(
                name,
                category=definition["category"],
                language=language,
                components=definition["components"],
                status="PENDING",
                parameter_format=definition["parameter_format"],
            )
        _logger.info("template %s (%s) created: PENDING", name, language)
        self._schedule_review(template)
        return Response.json(
            {"id": template["id"], "status": "PENDING", "category": template["category"]}
        )

    def _delete_template(self, request: Request, waba_id: str) -> Response:
        """``DELETE /{version}/{waba_id}/message_templates?name=...`` (``hsm_id`` narrows)."""
        self._check_waba(waba_id, request.method)
        name, hsm_id = request.query.get("name"), request.query.get("hsm_id")
        _require(name, "Param 'name' is required.")
        with self._lock:
            doomed = [
                t["id"]
                for t in self.templates.values()
                if t["name"] == name and hsm_id in (None, t["id"])
            ]
            for template_id in doomed:
                del self.templates[template_id]
                self._reviews.pop(template_id, None)
        _require(doomed, f"Message template '{name}' was not found.")
        return Response.json({"success": True})

    # -- control API

    def _control_page(self, request: Request) -> Response:
        return Response(200, CONTROL_PAGE.encode(), "text/html; charset=utf-8")

    def _control_health(self, request: Request) -> Response:
        return Response.json({"ok": True})

    def _control_inbound(self, request: Request) -> Response:
        data = _control_json(request)
        sender = data.pop("from", None)
        if not sender:
            raise ControlError("'from' (the customer number) is required")
        try:
            result = self.inject(
                sender,
                profile_name=data.pop("name", None) or "Customer",
                type=data.pop("type", None) or "text",
                text=data.pop("text", None),
                **data,
            )
        except (ValueError, TypeError) as exc:
            raise ControlError(str(exc))
        return Response.json(result)

    def _control_messages(self, request: Request) -> Response:
        with self._lock:
            return Response.json({"messages": _limit(request, self.sent)})

    def _control_deliveries(self, request: Request) -> Response:
        with self._lock:
            return Response.json({"deliveries": _limit(request, self.deliveries)})

    def _control_get_config(self, request: Request) -> Response:
        return Response.json(self.knobs())

    def _control_set_config(self, request: Request) -> Response:
        try:
            return Response.json(self.configure(**_control_json(request)))
        except ValueError as exc:
            raise ControlError(str(exc))

    def _control_reset(self, request: Request) -> Response:
        self.reset()
        return Response.json({"ok": True})


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _decode_cursor(cursor) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise invalid_parameter("Invalid paging cursor.")


def _routes(prefix: str, table) -> list:
    """Compile ``(method, pattern, handler)`` rows; ``{v}`` matches any Graph version."""
    return [
        (method, re.compile(prefix + pattern.replace("{v}", _VERSION)), handler)
        for method, pattern, handler in table
    ]


_GRAPH_ROUTES = _routes(
    "",
    [
        ("POST", r"/{v}/(?P<phone_number_id>[^/]+)/messages/?", Sandbox._send_message),
        ("POST", r"/{v}/(?P<phone_number_id>[^/]+)/media/?", Sandbox._upload_media),
        ("GET", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", Sandbox._list_templates),
        ("POST", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", Sandbox._create_template),
        ("DELETE", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", Sandbox._delete_template),
        ("GET", r"/{v}/(?P<object_id>[^/]+)/?", Sandbox._get_object),
        ("POST", r"/{v}/(?P<object_id>[^/]+)/?", Sandbox._post_object),
        ("DELETE", r"/{v}/(?P<object_id>[^/]+)/?", Sandbox._delete_object),
    ],
)
_CONTROL_ROUTES = _routes(
    "/_sandbox",
    [
        ("GET", r"/?", Sandbox._control_page),
        ("GET", r"/health", Sandbox._control_health),
        ("POST", r"/inbound", Sandbox._control_inbound),
        ("GET", r"/messages", Sandbox._control_messages),
        ("GET", r"/deliveries", Sandbox._control_deliveries),
        ("GET", r"/config", Sandbox._control_get_config),
        ("POST", r"/config", Sandbox._control_set_config),
        ("POST", r"/reset", Sandbox._control_reset),
        ("GET", r"/media/(?P<media_id>[^/]+)", Sandbox._download_media),
    ],
)


def _route(routes, request: Request):
    """(handler, path parameters) of the first route matching ``request``, or (None, {})."""
    for method, pattern, handler in routes:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            return handler, match.groupdict()
    return None, {}


# -- HTTP plumbing --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a ``Request`` for ``Sandbox.handle``."""

    server_version = "WhatsAppCloudSandbox/1.0"
    # keep-alive, like graph.facebook.com: every answer carries its Content-Length
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        response = sandbox.handle(Request(self.command, url.path, query, self.headers, body))
        if response.delay:
            sandbox.hold(response.delay)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            _logger.info("client left before the answer to %s %s", self.command, url.path)

    def log_message(self, format, *args):
        _logger.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Meta takes hundreds of concurrent connections; the stdlib default backlog of 5 resets them
    request_queue_size = 1024

    def __init__(self, address, sandbox: Sandbox):
        super().__init__(address, _Handler)
        self.sandbox = sandbox


# -- control page ---------------------------------------------------------------------------------


CONTROL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>WhatsApp Cloud API sandbox</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
form{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;background:#e7f7ee;padding:1em}
label{display:flex;flex-direction:column;font-size:.85em}
input,select,button{font:inherit;padding:.3em}
button{background:#128c7e;color:#fff;border:0;padding:.4em 1.2em;cursor:pointer}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
.err{color:#b00}.ok{color:#080}.hidden{display:none}#result{margin:.5em 0;font-family:monospace}
</style></head><body>
<h1>WhatsApp Cloud API sandbox</h1>
<p id="config"></p>
<form id="say">
<label>Customer number<input id="from" list="numbers" value="15551234567" required></label>
<datalist id="numbers"></datalist>
<label>Name<input id="name" value="Customer"></label>
<label>Kind<select id="type">
<option value="text">text</option><option value="image">image</option>
<option value="location">location</option><option value="button_reply">button reply</option>
</select></label>
<label id="text-field">Text / caption / button title<input id="text" size="40"></label>
<label class="loc hidden">Latitude<input id="latitude" value="50.8466"></label>
<label class="loc hidden">Longitude<input id="longitude" value="4.3528"></label>
<button type="submit">Send</button>
</form>
<div id="result"></div>
<h2>Outbound messages (latest first)</h2>
<table><thead><tr><th>Time</th><th>To</th><th>Type</th><th>Content</th><th>Status</th>
<th>wamid</th></tr></thead><tbody id="messages"></tbody></table>
<h2>Webhook deliveries (latest first)</h2>
<table><thead><tr><th>Time</th><th>Kind</th><th>Events</th><th>Outcome</th><th>URL</th>
</tr></thead><tbody id="deliveries"></tbody></table>
<script>
const $ = (id) => document.getElementById(id);
const when = (t) => new Date(t * 1000).toLocaleTimeString();
function row(cells, cls) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell == null ? "" : String(cell);
    tr.appendChild(td);
  }
  if (cls) tr.className = cls;
  return tr;
}
function summary(m) {
  const p = m.payload || {};
  if (p.text) return p.text.body;
  if (p.template) return "template " + p.template.name;
  if (p.interactive) return "interactive " + p.interactive.type;
  const media = p[m.type] || {};
  return media.caption || media.link || media.id || m.type;
}
function events(d) {
  try {
    const v = d.payload.entry[0].changes[0].value;
    if (v.statuses) return v.statuses.map((s) => s.status).join(",");
    if (v.messages) return v.messages.map((x) => x.type + " from " + x.from).join(",");
    return v.event || d.kind;
  } catch (e) { return d.kind; }
}
async function refresh() {
  try {
    const m = (await (await fetch("/_sandbox/messages?limit=30")).json()).messages;
    const d = (await (await fetch("/_sandbox/deliveries?limit=30")).json()).deliveries;
    const c = await (await fetch("/_sandbox/config")).json();
    $("config").textContent = "Business number " + c.display_phone_number + " (id " +
      c.phone_number_id + ") - webhooks to " + (c.webhook_url || "nowhere (no webhook_url)");
    $("messages").replaceChildren(...m.reverse().map((x) =>
      row([when(x.time), x.to, x.type, summary(x), x.status, x.wamid])));
    $("deliveries").replaceChildren(...d.reverse().map((x) =>
      row([when(x.time), x.kind, events(x), x.error || x.status_code, x.url],
          x.error || x.status_code >= 300 ? "err" : "")));
    const numbers = [...new Set(m.map((x) => x.to))];
    $("numbers").replaceChildren(...numbers.map((n) => {
      const o = document.createElement("option"); o.value = n; return o; }));
  } catch (e) { $("result").textContent = "refresh failed: " + e; }
}
$("type").addEventListener("change", () => {
  for (const el of document.querySelectorAll(".loc"))
    el.classList.toggle("hidden", $("type").value !== "location");
});
$("say").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {from: $("from").value, name: $("name").value, type: $("type").value,
                text: $("text").value || null};
  if (body.type === "location") {
    body.latitude = $("latitude").value; body.longitude = $("longitude").value;
  }
  const answer = await fetch("/_sandbox/inbound", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const result = await answer.json();
  $("result").className = answer.ok && !result.error ? "ok" : "err";
  $("result").textContent = JSON.stringify(result);
  if (answer.ok) $("text").value = "";
  refresh();
});
refresh();
setInterval(refresh, 2000);
</script></body></html>
"""


# -- command line ---------------------------------------------------------------------------------


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per ``SandboxConfig`` field (default: the ``WA_SANDBOX_*`` env variable)."""
    for name, field in _FIELDS.items():
        option = "--" + name.replace("_", "-")
        help_text = f"{field.metadata['help']} (env {ENV_PREFIX}{name.upper()})"
        if _field_kind(name)[0] is bool:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            parser.add_argument(option, metavar=name.upper(), help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sandbox", description="Local WhatsApp Cloud API sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox server until Ctrl-C")
    _add_config_options(serve)
    default_url = os.environ.get(ENV_PREFIX + "URL", DEFAULT_URL)
    say = commands.add_parser("say", help="make a customer write a text message")
    say.add_argument("--sandbox-url", default=default_url, help=f"default {default_url}")
    say.add_argument("--from", dest="sender", required=True, help="the customer's number")
    say.add_argument("--name", default="Customer", help="the customer's profile name")
    say.add_argument("text", nargs="+", help="the message")
    config = commands.add_parser("config", help="show, or set with key=value, the knobs")
    config.add_argument("--sandbox-url", default=default_url, help=f"default {default_url}")
    config.add_argument("pairs", nargs="*", metavar="key=value")
    return parser


def _serve(args) -> int:
    overrides = {name: getattr(args, name) for name in _FIELDS}
    config = config_from_env(**overrides)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    sandbox = Sandbox(config).start()
    _logger.info("WhatsApp Cloud API sandbox on %s", sandbox.base_url)
    _logger.info("control page: %s/_sandbox/", sandbox.base_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        _logger.info("stopping")
    finally:
        sandbox.stop()
    return 0


def _call(method: str, url: str, payload=None) -> int:
    """Call the control API, print its JSON answer; 0 when it succeeded."""
    try:
        answer = requests.request(method, url, json=payload, timeout=30)
        result = answer.json()
    except (requests.RequestException, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0 if answer.ok and not result.get("error") else 1


def _say(args) -> int:
    payload = {"from": args.sender, "name": args.name, "type": "text", "text": " ".join(args.text)}
    return _call("POST", args.sandbox_url.rstrip("/") + "/_sandbox/inbound", payload)


def _config(args, parser) -> int:
    url = args.sandbox_url.rstrip("/") + "/_sandbox/config"
    if not args.pairs:
        return _call("GET", url)
    knobs = {}
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            parser.error(f"expected key=value, got {pair!r}")
        knobs[key.strip()] = value
    return _call("POST", url, knobs)


def main(argv=None) -> int:
    """Entry point of ``python -m tools.sandbox``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            return _serve(args)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "say":
        return _say(args)
    return _config(args, parser)


if __name__ == "__main__":
    sys.exit(main())
