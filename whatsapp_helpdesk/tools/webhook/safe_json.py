"""JSON from the outside made safe to store: decoding with bounded numbers, and cleaning of what
PostgreSQL refuses (NUL, lone surrogates, NaN) or what no real payload holds (absurd nesting).
No Odoo import."""

import json
import math
import re

from .records import MAX_BODY_BYTES, MAX_DEPTH, MAX_INT_DIGITS, WebhookError

# JSON escapes of what PostgreSQL cannot store (NUL) or encode (a lone UTF-16 surrogate).
_UNSAFE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(body) -> dict:
    """The JSON object of ``body``, with strings and numbers made safe to store."""
    if isinstance(body, dict):
        try:
            text = json.dumps(body, allow_nan=False)
        except (ValueError, TypeError, RecursionError):
            return sanitize(body)
        return sanitize(body) if _needs_sanitizing(text, body) else body
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body)
        if len(body) > MAX_BODY_BYTES:
            raise WebhookError("body is too large")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookError("body is not valid UTF-8")
    if not isinstance(body, str):
        raise WebhookError(f"unsupported body type {type(body).__name__}")
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError("body is too large")
    try:
        payload = json.loads(
            body,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=lambda _name: None,  # NaN, Infinity: not JSON, not storable
        )
    except (ValueError, RecursionError):
        raise WebhookError("body is not valid JSON")
    if not isinstance(payload, dict):
        raise WebhookError("body is not a JSON object")
    return sanitize(payload) if _needs_sanitizing(body, payload) else payload


def _needs_sanitizing(text: str, payload: dict) -> bool:
    """Whether the JSON ``text`` of ``payload`` holds what cannot be stored as it is."""
    if _UNSAFE_ESCAPE.search(text):
        return True
    # fewer containers than the depth limit cannot nest past it: no walk for most bodies
    return text.count("{") + text.count("[") > MAX_DEPTH and _nested_deeper_than(payload, MAX_DEPTH)


def _bounded_int(text: str):
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None


def _finite_float(text: str):
    number = float(text)
    return number if math.isfinite(number) else None


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text)


def _nested_deeper_than(value, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` deep (iterative: no recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def sanitize(value):
    """A copy of decoded JSON that PostgreSQL can store: strings (keys included) without NUL or
    lone surrogates, non-finite or absurd numbers as None, nesting cut at ``MAX_DEPTH``."""

    def clean_scalar(item):
        if isinstance(item, str):
            return _clean_text(item)
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10**MAX_INT_DIGITS:
            return None
        return item

    def shell(item, depth):
        if not isinstance(item, (dict, list)):
            return clean_scalar(item)
        if depth >= MAX_DEPTH:
            return None
        return {} if isinstance(item, dict) else []

    root = shell(value, 0)
    stack = [(value, root, 0)]
    while stack:
        source, target, depth = stack.pop()
        if isinstance(source, dict):
            pairs = ((_clean_text(str(key)), child) for key, child in source.items())
        else:
            pairs = enumerate(source)
        for key, child in pairs:
            copy = shell(child, depth + 1)
            if isinstance(target, dict):
                target[key] = copy
            else:
                target.append(copy)
            if isinstance(copy, (dict, list)):
                stack.append((child, copy, depth + 1))
    return root


def json_object(value) -> dict | None:
    """A dict, or a JSON string holding an object (Flow ``response_json``); else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and len(value) <= 256 * 1024:
        try:
            decoded = json.loads(
                value,
                parse_int=_bounded_int,
                parse_float=_finite_float,
                parse_constant=lambda _name: None,
            )
        except (ValueError, RecursionError):
            return None
        return sanitize(decoded) if isinstance(decoded, dict) else None
    return None
