"""A parsed webhook event in its own JSON form, to be stored and read back as the same record.

The durable inbox keeps what :func:`~.parse.parse` made of an event, not a rebuilt Meta payload to
be parsed again: ``from_stored(to_stored(event)) == event``. No Odoo import.
"""

import dataclasses
import types
import typing

from . import records
from .records import WebhookError

EVENT_TYPES = {
    cls.__name__: cls
    for cls in (
        records.InboundMessage,
        records.StatusUpdate,
        records.TemplateUpdate,
        records.AccountUpdate,
        records.AccountError,
        records.OtherChange,
        records.Rejected,
    )
}
_HINTS = {}


def to_stored(event) -> dict:
    """``{"type": <record class>, "event": <its fields as JSON>}``."""
    return {"type": type(event).__name__, "event": _encode(event)}


def from_stored(data) -> object:
    """The record :func:`to_stored` gave ``data`` for; :class:`WebhookError` when it is not one."""
    if (
        not isinstance(data, dict)
        or data.get("type") not in EVENT_TYPES
        or not isinstance(data.get("event"), dict)
    ):
        raise WebhookError("not a stored webhook event")
    try:
        return _decode(EVENT_TYPES[data["type"]], data.get("event"))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise WebhookError(f"stored webhook event unreadable: {error}") from error


def _encode(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value  # str, int, float, bool, None, and JSON dicts/lists kept as they came


def _hints(cls):
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(kind, value):
    """``value`` (JSON) as an instance of the annotation ``kind``."""
    if value is None:
        return None
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        return _decode(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"{kind.__name__} is not an object")
        hints = _hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(
            **{name: _decode(hints[name], item) for name, item in value.items() if name in known}
        )
    if typing.get_origin(kind) is tuple:
        (item_kind, _ellipsis) = typing.get_args(kind)
        return tuple(_decode(item_kind, item) for item in value)
    return value
