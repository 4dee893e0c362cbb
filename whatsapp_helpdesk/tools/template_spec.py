"""WhatsApp message templates as plain dicts (*specs*): Meta's limits and shared helpers. No Odoo.

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

:mod:`.template_lint` checks a spec against Meta's review rules; :mod:`.template_payloads` builds
what Meta receives (the creation payload, the send components) and the preview.
"""

import re
from collections.abc import Mapping

from .text import as_text

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

MARKETING = "MARKETING"
UTILITY = "UTILITY"
AUTHENTICATION = "AUTHENTICATION"
CATEGORIES = (MARKETING, UTILITY, AUTHENTICATION)
"""Meta's template categories: the one list, which the models' selections reuse."""
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
# Small helpers
# --------------------------------------------------------------------------------------------


def placeholders(text) -> list[str]:
    """Names inside ``{{...}}`` of ``text`` in order of appearance, stripped (``"1"``, ``"ref"``).

    Repeated placeholders are listed each time; anything but a string has none.
    """
    if not isinstance(text, str):
        return []
    return PLACEHOLDER_RE.findall(text)


def ordered(text) -> list[str]:
    """Distinct placeholder names of ``text`` in parameter order.

    Numbered placeholders are sorted by number ({{1}} is the first parameter wherever it
    stands); named ones keep their order of first appearance.
    """
    names = list(dict.fromkeys(placeholders(text)))
    if names and all(name.isdigit() for name in names):
        names.sort(key=int)
    return names


def upper(value, default: str = "") -> str:
    text = as_text(value).strip()
    return text.upper() if text else default


def mapping(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def buttons_of(spec: Mapping) -> list:
    buttons = spec.get("buttons")
    return list(buttons) if isinstance(buttons, (list, tuple)) else []


def button_type(button) -> str:
    return upper(button.get("type")) if isinstance(button, Mapping) else ""


def header_type_of(spec: Mapping) -> str:
    return as_text(spec.get("header_type")).strip().lower() or "none"


def parameter_format_of(spec: Mapping) -> str:
    return upper(spec.get("parameter_format"), POSITIONAL)


def is_authentication(spec: Mapping) -> bool:
    return upper(spec.get("category")) == AUTHENTICATION


def brace(name: str) -> str:
    return "{{" + name + "}}"


def clean_parameter(value) -> str:
    """A parameter value as Meta accepts it: newlines and tabs become spaces, runs of more than
    four spaces become one space, and the ends are stripped (error 132018 otherwise)."""
    text = value if isinstance(value, str) else str(value)
    text = _BREAKS_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


def value_at(values: Mapping, location: str, name: str) -> str:
    """The cleaned value of placeholder ``name`` at ``location``; '' when missing or blank."""
    value = mapping(values.get(location)).get(name)
    if value is None or isinstance(value, (Mapping, list, tuple, set)):
        return ""
    return clean_parameter(value)
