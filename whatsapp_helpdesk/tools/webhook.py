"""Meta webhook intake: X-Hub-Signature-256 check, GET handshake, payload parsing. No Odoo import.

``parse`` turns a WhatsApp Business Account notification into plain frozen records: inbound
messages, delivery statuses, template updates and the changes it does not interpret. Anything
malformed raises :class:`WebhookError` with a short message naming the offending path.
"""

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

SIGNATURE_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value Meta sends for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(body: bytes, header, app_secrets) -> bool:
    """True when ``header`` is a valid signature of the raw ``body`` with one of ``app_secrets``.

    Every candidate is compared in constant time; a missing or garbled header is simply invalid.
    """
    if not header or not isinstance(header, str) or not header.startswith(SIGNATURE_PREFIX):
        return False
    if isinstance(app_secrets, str):
        app_secrets = [app_secrets]
    given = header.strip().encode()
    valid = False
    for secret in app_secrets:
        if secret and hmac.compare_digest(sign(body, secret).encode(), given):
            valid = True
    return valid


# --------------------------------------------------------------------------------------------
# Errors and constants
# --------------------------------------------------------------------------------------------

MAX_BODY_BYTES = 3 * 1024 * 1024
"""Largest webhook body accepted; the controller answers 413 above it, ``parse`` refuses it."""

WABA_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "message_template_components_update",
        "template_category_update",
    }
)
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
_DIGITS = re.compile(r"[0-9]+")


class WebhookError(ValueError):
    """A webhook request or body that is malformed; the message is short and human readable."""


class HandshakeError(WebhookError):
    """Meta's GET verification request was refused (wrong mode, token or missing challenge)."""


# --------------------------------------------------------------------------------------------
# GET handshake
# --------------------------------------------------------------------------------------------


def handshake(params: Mapping[str, str], verify_tokens) -> str:
    """Answer Meta's subscription check: return ``hub.challenge`` or raise :class:`HandshakeError`.

    ``params`` is the query string (``hub.mode``, ``hub.verify_token``, ``hub.challenge``);
    ``verify_tokens`` is one token or an iterable of them. Every configured token is compared in
    constant time and empty tokens never match. The caller must send the challenge back as
    ``text/plain``.
    """
    if params.get("hub.mode") != "subscribe":
        raise HandshakeError("hub.mode is not 'subscribe'")
    if not _token_matches(params.get("hub.verify_token"), verify_tokens):
        raise HandshakeError("hub.verify_token does not match")
    challenge = params.get("hub.challenge")
    if not isinstance(challenge, str) or not challenge:
        raise HandshakeError("hub.challenge is missing")
    return challenge


def _token_matches(given, verify_tokens) -> bool:
    """Constant-time comparison of ``given`` against every non-empty configured token."""
    if not isinstance(given, str) or not given:
        return False
    if verify_tokens is None:
        verify_tokens = ()
    elif isinstance(verify_tokens, str):
        verify_tokens = (verify_tokens,)
    given_bytes = given.encode()
    matched = False
    for token in verify_tokens:
        if isinstance(token, str) and token and hmac.compare_digest(token.encode(), given_bytes):
            matched = True
    return matched


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageError:
    """One entry of an ``errors`` array (webhook, message or status level)."""

    code: int | None
    title: str = ""
    message: str = ""
    details: str = ""
    href: str = ""


@dataclass(frozen=True, slots=True)
class Media:
    """Media object of an image, document, audio, video or sticker message (download by ``id``)."""

    id: str
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    """A shared location."""

    latitude: float
    longitude: float
    name: str = ""
    address: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class SharedContact:
    """One contact card of a ``contacts`` message."""

    name: str
    phones: tuple[str, ...] = ()
    wa_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    organization: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InteractiveReply:
    """Reply to an interactive message: ``button_reply``, ``list_reply`` or ``nfm_reply`` (Flow).

    For a Flow reply ``id`` is None, ``title`` is the reply body and ``response`` the decoded
    ``response_json`` object (None when absent or not a JSON object).
    """

    kind: str
    id: str | None
    title: str = ""
    description: str = ""
    name: str = ""
    response: dict | None = None


@dataclass(frozen=True, slots=True)
class ButtonReply:
    """Quick-reply button of a template message (message type ``button``)."""

    payload: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Reaction:
    """Reaction to ``message_id``; an empty ``emoji`` means the reaction was removed."""

    message_id: str
    emoji: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """What a message replies to or how it was forwarded."""

    from_: str = ""
    id: str = ""
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict | None = None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One product line of an ``order`` message."""

    product_retailer_id: str
    quantity: int | None = None
    item_price: float | None = None
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """A cart sent from a catalog (message type ``order``)."""

    catalog_id: str
    text: str = ""
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True, slots=True)
class SystemNotice:
    """A ``system`` message, e.g. ``user_changed_number`` (then ``new_wa_id`` is set)."""

    kind: str
    body: str = ""
    new_wa_id: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message a WhatsApp user sent to one of our phone numbers.

    ``wa_id`` is the sender (``from``); ``text`` is a human readable summary for the thread. The
    attribute named like ``type`` holds the content (``media`` for the media types); ``raw`` is
    the message object as received.
    """

    waba_id: str
    phone_number_id: str
    display_phone_number: str
    wa_id: str
    profile_name: str
    wamid: str
    timestamp: int
    type: str
    text: str = ""
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    interactive: InteractiveReply | None = None
    button: ButtonReply | None = None
    reaction: Reaction | None = None
    context: Context | None = None
    referral: dict | None = None
    errors: tuple[MessageError, ...] = ()
    raw: dict = field(default_factory=dict)
    order: Order | None = None
    system: SystemNotice | None = None

    @property
    def key(self) -> str:
        """Stable identity of the event, used to store redeliveries once."""
        return "msg:" + self.wamid


@dataclass(frozen=True, slots=True)
class Pricing:
    """The ``pricing`` block of a status (``pricing_model`` e.g. ``PMP``)."""

    billable: bool | None
    pricing_model: str = ""
    category: str = ""
    type: str = ""


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """Delivery status of a message we sent; ``status`` is lower-cased (sent, delivered, ...)."""

    waba_id: str
    phone_number_id: str
    wamid: str
    status: str
    timestamp: int
    recipient_id: str = ""
    conversation_id: str = ""
    conversation_origin: str = ""
    conversation_expiration: int | None = None
    pricing: Pricing | None = None
    errors: tuple[MessageError, ...] = ()
    biz_opaque_callback_data: str = ""
    raw: dict = field(default_factory=dict)
    display_phone_number: str = ""

    @property
    def key(self) -> str:
        """Stable identity of the event, used to store redeliveries once."""
        return f"st:{self.wamid}:{self.status}"


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    """A template status, quality, category or components change (``field`` tells which)."""

    waba_id: str
    field: str
    event: str
    template_id: str
    name: str = ""
    language: str = ""
    reason: str = ""
    new_quality_score: str = ""
    previous_quality_score: str = ""
    new_category: str = ""
    previous_category: str = ""
    timestamp: int | None = None
    raw: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity of the event; a missing part (e.g. no entry ``time``) reads as ''."""
        change = self.event or self.new_quality_score or self.new_category
        timestamp = "" if self.timestamp is None else str(self.timestamp)
        return f"tpl:{self.template_id}:{self.field}:{change}:{timestamp}"


@dataclass(frozen=True, slots=True)
class OtherChange:
    """A change of a field this module does not interpret (``account_update``, ...)."""

    waba_id: str
    field: str
    value: dict


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """Everything one webhook POST carried, in body order within each list.

    ``errors`` holds the webhook-level ``value.errors``; ``profile_names`` maps ``wa_id`` to the
    WhatsApp profile name from ``value.contacts``. ``len()`` counts :attr:`events` only.
    """

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    template_updates: list[TemplateUpdate] = field(default_factory=list)
    other: list[OtherChange] = field(default_factory=list)
    errors: list[MessageError] = field(default_factory=list)
    profile_names: dict[str, str] = field(default_factory=dict)

    @property
    def events(self) -> list:
        """Messages, then statuses, then template updates: the records that carry a ``key``."""
        return [*self.messages, *self.statuses, *self.template_updates]

    def __len__(self) -> int:
        return len(self.messages) + len(self.statuses) + len(self.template_updates)


# --------------------------------------------------------------------------------------------
# Parsing: envelope
# --------------------------------------------------------------------------------------------


def parse(body) -> WebhookBatch:
    """Parse a webhook POST body (``bytes``, ``str`` or decoded ``dict``) into a batch.

    Raises :class:`WebhookError` when the body is not a well-formed WhatsApp Business Account
    notification; unknown keys, fields and message types are tolerated.
    """
    payload = _decode(body)
    if payload.get("object") != WABA_OBJECT:
        raise WebhookError(f"'object' is not {WABA_OBJECT!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise WebhookError("'entry' is missing or not a list")
    batch = WebhookBatch()
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        _parse_entry(_require_object(entry, where), where, batch)
    return batch


def _decode(body) -> dict:
    """The JSON object of ``body``."""
    if isinstance(body, dict):
        return body
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
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookError("body is not valid JSON")
    if not isinstance(payload, dict):
        raise WebhookError("body is not a JSON object")
    return payload


def _parse_entry(entry: dict, where: str, batch: WebhookBatch) -> None:
    """Add the records of every change of one ``entry`` (one business account) to ``batch``."""
    waba_id = _text(entry.get("id"))
    entry_time = _optional_timestamp(entry.get("time"), f"{where}.time")
    for change_where, change in _objects(entry, "changes", where):
        field_name = change.get("field")
        if not isinstance(field_name, str) or not field_name:
            raise WebhookError(f"{change_where}: missing 'field'")
        value = _require_object(change.get("value"), f"{change_where}.value")
        if field_name == MESSAGES_FIELD:
            _parse_messages_value(waba_id, value, f"{change_where}.value", batch)
        elif field_name in TEMPLATE_FIELDS:
            batch.template_updates.append(_template_update(waba_id, field_name, value, entry_time))
        else:
            batch.other.append(OtherChange(waba_id, field_name, value))


def _parse_messages_value(waba_id: str, value: dict, where: str, batch: WebhookBatch) -> None:
    """Messages, statuses, contacts and errors of a ``messages`` change."""
    metadata = _object(value, "metadata", where)
    origin = {
        "waba_id": waba_id,
        "phone_number_id": _text(metadata.get("phone_number_id")),
        "display_phone_number": _text(metadata.get("display_phone_number")),
    }
    names = _profile_names(value, where)
    batch.profile_names.update(names)
    messages = _objects(value, "messages", where)
    if messages and not origin["phone_number_id"]:
        raise WebhookError(f"{where}.metadata: missing 'phone_number_id'")
    for message_where, raw in messages:
        batch.messages.append(_message(origin, names, raw, message_where))
    for status_where, raw in _objects(value, "statuses", where):
        batch.statuses.append(_status(origin, raw, status_where))
    batch.errors.extend(_errors(value, where))


def _profile_names(value: dict, where: str) -> dict[str, str]:
    """``{wa_id: profile name}`` from ``value.contacts``."""
    names = {}
    for _where, contact in _objects(value, "contacts", where):
        wa_id = _text(contact.get("wa_id"))
        profile = contact.get("profile")
        if wa_id and isinstance(profile, dict):
            names[wa_id] = _text(profile.get("name"))
    return names


# --------------------------------------------------------------------------------------------
# Parsing: messages
# --------------------------------------------------------------------------------------------


def _message(origin: dict, names: dict, raw: dict, where: str) -> InboundMessage:
    """One ``value.messages[]`` item."""
    wamid = _required_text(raw, "id", where)
    wa_id = _required_text(raw, "from", where)
    msg_type = _required_text(raw, "type", where)
    errors = _errors(raw, where)
    parser = _CONTENT_PARSERS.get(msg_type)
    if parser:
        content = parser(raw, msg_type, where)
    else:
        content = {"text": _fallback_label(msg_type, errors)}
    return InboundMessage(
        **origin,
        wa_id=wa_id,
        profile_name=names.get(wa_id, ""),
        wamid=wamid,
        timestamp=_timestamp(raw.get("timestamp"), f"{where}.timestamp"),
        type=msg_type,
        context=_context(raw, where),
        referral=raw["referral"] if isinstance(raw.get("referral"), dict) else None,
        errors=errors,
        raw=raw,
        **content,
    )


def _fallback_label(msg_type: str, errors: tuple[MessageError, ...]) -> str:
    """Label of an ``unsupported`` or unknown message, followed by the first error title."""
    label = "[unsupported message]" if msg_type == "unsupported" else f"[{msg_type} message]"
    titles = [error.title for error in errors if error.title]
    return f"{label} {titles[0]}" if titles else label


def _text_content(raw: dict, msg_type: str, where: str) -> dict:
    return {"text": _text(_object(raw, "text", where).get("body"))}


def _media_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, msg_type, where)
    media = Media(
        id=_text(data.get("id")),
        mime_type=_text(data.get("mime_type")),
        sha256=_text(data.get("sha256")),
        filename=_text(data.get("filename")),
        caption=_text(data.get("caption")),
        voice=data.get("voice") is True,
        animated=data.get("animated") is True,
    )
    label = "[voice message]" if media.voice else f"[{msg_type}]"
    return {"text": media.caption or media.filename or label, "media": media}


def _location_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "location", where)
    location = Location(
        latitude=_coordinate(data.get("latitude"), f"{where}.location.latitude"),
        longitude=_coordinate(data.get("longitude"), f"{where}.location.longitude"),
        name=_text(data.get("name")),
        address=_text(data.get("address")),
        url=_text(data.get("url")),
    )
    text = ", ".join(part for part in (location.name, location.address) if part)
    return {"text": text or f"{location.latitude}, {location.longitude}", "location": location}


def _contacts_content(raw: dict, msg_type: str, where: str) -> dict:
    contacts = tuple(_shared_contact(data) for _where, data in _objects(raw, "contacts", where))
    names = ", ".join(contact.name for contact in contacts if contact.name)
    return {"text": names or "[contacts]", "contacts": contacts}


def _shared_contact(data: dict) -> SharedContact:
    name = data.get("name") if isinstance(data.get("name"), dict) else {}
    phones = [phone for phone in _list(data.get("phones")) if isinstance(phone, dict)]
    emails = [email for email in _list(data.get("emails")) if isinstance(email, dict)]
    org = data.get("org") if isinstance(data.get("org"), dict) else {}
    full_name = _text(name.get("formatted_name")) or " ".join(
        _text(name.get(part)) for part in ("first_name", "last_name") if name.get(part)
    )
    return SharedContact(
        name=full_name or next((_text(p.get("phone")) for p in phones if p.get("phone")), ""),
        phones=tuple(_text(p.get("phone")) for p in phones if p.get("phone")),
        wa_ids=tuple(_text(p.get("wa_id")) for p in phones if p.get("wa_id")),
        emails=tuple(_text(e.get("email")) for e in emails if e.get("email")),
        organization=_text(org.get("company")),
        raw=data,
    )


def _interactive_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "interactive", where)
    kind = _text(data.get("type"))
    reply = data.get(kind) if isinstance(data.get(kind), dict) else {}
    if kind == "nfm_reply":
        interactive = InteractiveReply(
            kind=kind,
            id=None,
            title=_text(reply.get("body")),
            name=_text(reply.get("name")),
            response=_json_object(reply.get("response_json")),
        )
    else:
        interactive = InteractiveReply(
            kind=kind,
            id=_text(reply.get("id")),
            title=_text(reply.get("title")),
            description=_text(reply.get("description")),
        )
    label = f"[interactive {kind}]" if kind else "[interactive]"
    return {"text": interactive.title or label, "interactive": interactive}


def _button_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "button", where)
    button = ButtonReply(payload=_text(data.get("payload")), text=_text(data.get("text")))
    return {"text": button.text or button.payload or "[button]", "button": button}


def _reaction_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "reaction", where)
    reaction = Reaction(message_id=_text(data.get("message_id")), emoji=_text(data.get("emoji")))
    return {"text": reaction.emoji or "[reaction removed]", "reaction": reaction}


def _order_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "order", where)
    items = tuple(
        OrderItem(
            product_retailer_id=_text(item.get("product_retailer_id")),
            quantity=_optional_int(item.get("quantity")),
            item_price=_optional_float(item.get("item_price")),
            currency=_text(item.get("currency")),
        )
        for _where, item in _objects(data, "product_items", f"{where}.order")
    )
    order = Order(_text(data.get("catalog_id")), text=_text(data.get("text")), items=items)
    label = f"[order: {len(items)} item{'' if len(items) == 1 else 's'}]"
    return {"text": order.text or label, "order": order}


def _system_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "system", where)
    notice = SystemNotice(
        kind=_text(data.get("type")),
        body=_text(data.get("body")),
        new_wa_id=_text(data.get("new_wa_id") or data.get("wa_id")),
    )
    return {"text": notice.body or "[system message]", "system": notice}


_CONTENT_PARSERS = {
    "text": _text_content,
    **dict.fromkeys(MEDIA_TYPES, _media_content),
    "location": _location_content,
    "contacts": _contacts_content,
    "interactive": _interactive_content,
    "button": _button_content,
    "reaction": _reaction_content,
    "order": _order_content,
    "system": _system_content,
}
"""Message type -> ``parser(raw, type, where)`` returning InboundMessage keywords (``text``...)."""


def _context(raw: dict, where: str) -> Context | None:
    """The ``context`` block of a message (reply target, forwarding, product inquiry)."""
    if raw.get("context") is None:
        return None
    data = _object(raw, "context", where)
    product = data.get("referred_product")
    return Context(
        from_=_text(data.get("from")),
        id=_text(data.get("id")),
        forwarded=data.get("forwarded") is True,
        frequently_forwarded=data.get("frequently_forwarded") is True,
        referred_product=product if isinstance(product, dict) else None,
    )


# --------------------------------------------------------------------------------------------
# Parsing: statuses, errors, template updates
# --------------------------------------------------------------------------------------------


def _status(origin: dict, raw: dict, where: str) -> StatusUpdate:
    """One ``value.statuses[]`` item."""
    conversation = _object(raw, "conversation", where)
    conversation_origin = _object(conversation, "origin", f"{where}.conversation")
    expiration = _optional_timestamp(
        conversation.get("expiration_timestamp"), f"{where}.conversation.expiration_timestamp"
    )
    return StatusUpdate(
        **origin,
        wamid=_required_text(raw, "id", where),
        status=_required_text(raw, "status", where).lower(),
        timestamp=_timestamp(raw.get("timestamp"), f"{where}.timestamp"),
        recipient_id=_text(raw.get("recipient_id")),
        conversation_id=_text(conversation.get("id")),
        conversation_origin=_text(conversation_origin.get("type")),
        conversation_expiration=expiration,
        pricing=_pricing(raw, where),
        errors=_errors(raw, where),
        biz_opaque_callback_data=_text(raw.get("biz_opaque_callback_data")),
        raw=raw,
    )


def _pricing(raw: dict, where: str) -> Pricing | None:
    """The ``pricing`` block of a status, or None when absent."""
    if raw.get("pricing") is None:
        return None
    data = _object(raw, "pricing", where)
    billable = data.get("billable")
    return Pricing(
        billable=billable if isinstance(billable, bool) else None,
        pricing_model=_text(data.get("pricing_model")),
        category=_text(data.get("category")),
        type=_text(data.get("type")),
    )


def _errors(container: dict, where: str) -> tuple[MessageError, ...]:
    """The ``errors`` array of ``container``; ``details`` from ``error_data`` (or legacy key)."""
    errors = []
    for _where, data in _objects(container, "errors", where):
        error_data = data.get("error_data") if isinstance(data.get("error_data"), dict) else {}
        errors.append(
            MessageError(
                code=_optional_int(data.get("code")),
                title=_text(data.get("title")),
                message=_text(data.get("message")),
                details=_text(error_data.get("details") or data.get("details")),
                href=_text(data.get("href")),
            )
        )
    return tuple(errors)


def _template_update(waba_id: str, field_name: str, value: dict, entry_time) -> TemplateUpdate:
    """A template status / quality / category / components change; ``entry_time`` is its date."""
    return TemplateUpdate(
        waba_id=waba_id,
        field=field_name,
        event=_text(value.get("event")),
        template_id=_text(value.get("message_template_id")),
        name=_text(value.get("message_template_name")),
        language=_text(value.get("message_template_language")),
        reason=_text(value.get("reason")),
        new_quality_score=_text(value.get("new_quality_score")),
        previous_quality_score=_text(value.get("previous_quality_score")),
        new_category=_text(value.get("new_category")),
        previous_category=_text(value.get("previous_category")),
        timestamp=entry_time,
        raw=value,
    )


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _require_object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise WebhookError(f"{where} is not an object")
    return value


def _object(container: dict, key: str, where: str) -> dict:
    """``container[key]`` as an object; ``{}`` when absent, WebhookError when of another type."""
    value = container.get(key)
    if value is None:
        return {}
    return _require_object(value, f"{where}.{key}")


def _objects(container: dict, key: str, where: str) -> list[tuple[str, dict]]:
    """``(path, object)`` for each item of the list ``container[key]`` (absent means empty)."""
    values = container.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise WebhookError(f"{where}.{key} is not a list")
    return [
        (f"{where}.{key}[{i}]", _require_object(v, f"{where}.{key}[{i}]"))
        for i, v in enumerate(values)
    ]


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _text(value) -> str:
    """A string field: strings as is, numbers as their decimal form, anything else empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _required_text(container: dict, key: str, where: str) -> str:
    value = _text(container.get(key))
    if not value:
        raise WebhookError(f"{where}: missing '{key}'")
    return value


def _timestamp(value, where: str) -> int:
    """Unix seconds, sent by Meta as a string of digits (sometimes as a number)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    raise WebhookError(f"{where} is not a Unix timestamp")


def _optional_timestamp(value, where: str) -> int | None:
    return None if value is None or value == "" else _timestamp(value, where)


def _optional_int(value) -> int | None:
    """Lenient integer (error codes, quantities): None when absent or not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    return None


def _optional_float(value) -> float | None:
    """Lenient finite float (prices): None when absent or not numeric."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _coordinate(value, where: str) -> float:
    number = _optional_float(value)
    if number is None:
        raise WebhookError(f"{where} is not a number")
    return number


def _json_object(value) -> dict | None:
    """A dict, or a JSON string holding an object (Flow ``response_json``); else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return decoded if isinstance(decoded, dict) else None
    return None
