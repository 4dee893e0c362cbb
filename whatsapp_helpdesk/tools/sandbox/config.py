"""The sandbox's configuration: the identity of the simulated business number and the knobs of the
simulation, with their coercion from the control API, the command line and the environment.

The bottom layer of the sandbox package: it imports nothing else from it.
"""

import dataclasses
import os
import re
import secrets
import types
import typing

DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
ENV_PREFIX = "WA_SANDBOX_"
# The environment variable holding the control token, for ``serve`` and for ``say`` / ``config``.
CONTROL_TOKEN_ENV = ENV_PREFIX + "CONTROL_TOKEN"
WINDOW_SECONDS = 24 * 3600


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
    control_token: str | None = _knob(
        None,
        "token the /_sandbox/ control routes require in the X-Sandbox-Token header "
        "(none: drawn at start)",
    )
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
    statuses: bool = _knob(
        True, "post the status webhooks of accepted sends (off: a benchmark measures sends only)"
    )
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
    # The language model (OpenAI-compatible chat completions at /llm/v1, see chat.py)
    chat_api_key: str = _knob("sandbox-llm-key", "key expected as 'Authorization: Bearer ...'")
    chat_latency_ms: int = _knob(0, "delay added to every chat-completions answer")
    chat_error_next: int = _knob(0, "the next N completions answer HTTP 500")
    chat_timeout_next: int = _knob(0, "the next N completions answer timeout_seconds late")
    chat_garbage_next: int = _knob(
        0,
        "the next N completions answer text that is not what was asked (unknown intent, "
        "invented figures)",
    )
    chat_answer: str | None = _knob(
        None, "the content every completion answers (none: the deterministic model)"
    )


# Bound at start(): not changeable at run time (the control token guards the control routes).
FIXED_KNOBS = ("host", "port", "control_token")
# Never shown by the control API: a web page reading them could call Odoo as Meta, or the sandbox.
SECRET_KNOBS = ("control_token", "token", "app_secret", "chat_api_key")
FIELDS = {field.name: field for field in dataclasses.fields(SandboxConfig)}


def digits(value) -> str:
    """Only the ASCII digits of ``value`` (a phone number as WhatsApp ids it)."""
    return re.sub(r"[^0-9]", "", str(value or ""))


def new_object_id() -> str:
    """A fresh numeric Graph id (media, templates)."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


# -- knob coercion (HTTP control API, CLI, environment) -------------------------------------------


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def field_kind(name: str):
    """(base type, optional) of the config field ``name``; ``set`` for ``set[str]``."""
    annotation = FIELDS[name].type
    if isinstance(annotation, types.UnionType):
        (base,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return base, True
    return typing.get_origin(annotation) or annotation, False


def to_bool(value) -> bool:
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
    return {digits(item) for item in value or () if digits(item)}


def coerce_knob(name: str, value):
    """``value`` (possibly a string from the CLI or the environment) as config field ``name``."""
    if name not in FIELDS:
        raise ValueError(f"unknown knob {name!r}")
    base, optional = field_kind(name)
    if optional and (value is None or str(value).strip().lower() in ("", "none", "null")):
        return None
    if base is bool:
        return to_bool(value)
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
    """``config`` as a JSON-ready dict, without the secrets (``SECRET_KNOBS``)."""
    values = dataclasses.asdict(config)
    values["fail_numbers"] = sorted(config.fail_numbers)
    for name in SECRET_KNOBS:
        del values[name]
    return values


def config_from_env(environ=None, **overrides) -> SandboxConfig:
    """A config from the ``WA_SANDBOX_<FIELD>`` environment variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    values = {}
    for name in FIELDS:
        if (ENV_PREFIX + name.upper()) in environ:
            values[name] = coerce_knob(name, environ[ENV_PREFIX + name.upper()])
        if overrides.get(name) is not None:
            values[name] = coerce_knob(name, overrides[name])
    return SandboxConfig(**values)
