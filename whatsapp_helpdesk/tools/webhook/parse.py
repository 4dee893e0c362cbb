"""Parsing of Meta's webhook notifications into the records of :mod:`.records`. No Odoo import.

Every part of a well-formed notification stands alone: an entry, change, message or status that
cannot be read becomes a :class:`~.records.Rejected` record with its reason, and the others are
parsed as usual.
"""

import math
import re
from contextlib import contextmanager

from ..text import as_text
from . import safe_json
from .records import (
    ACCOUNT_FIELDS,
    MAX_ID_CHARS,
    MAX_TIMESTAMP,
    MEDIA_TYPES,
    MESSAGES_FIELD,
    MIN_TIMESTAMP,
    TEMPLATE_FIELDS,
    WABA_OBJECT,
    AccountError,
    AccountUpdate,
    ButtonReply,
    ContactPhone,
    Context,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageError,
    Order,
    OrderItem,
    OtherChange,
    Pricing,
    Reaction,
    Rejected,
    Restriction,
    SharedContact,
    StatusUpdate,
    SystemNotice,
    TemplateUpdate,
    WebhookBatch,
    WebhookError,
)

_DIGITS = re.compile(r"[0-9]+")
_INT32 = 2**31


# --------------------------------------------------------------------------------------------
# Parsing: envelope
# --------------------------------------------------------------------------------------------


def parse(body) -> WebhookBatch:
    """Parse a webhook POST body (``bytes``, ``str`` or decoded ``dict``) into a batch.

    Raises :class:`WebhookError`, and nothing else, when the body is not a WhatsApp Business
    Account notification at all (not JSON, another ``object``, no ``entry`` list). Inside a
    well-formed notification every part stands alone: an entry, change, message or status that
    cannot be read is kept in :attr:`WebhookBatch.rejected` with the reason, and the others are
    parsed as usual. Unknown keys, fields and message types are tolerated; strings lose NUL
    characters and lone surrogates, numbers are bounded (see the module constants).
    """
    payload = safe_json.decode(body)
    if payload.get("object") != WABA_OBJECT:
        raise WebhookError(f"'object' is not {WABA_OBJECT!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise WebhookError("'entry' is missing or not a list")
    batch = WebhookBatch()
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        with _rejecting(batch, where, entry):
            _parse_entry(entry, where, batch)
    return batch


@contextmanager
def _rejecting(batch: WebhookBatch, where: str, raw, waba_id: str = "", phone_number_id: str = ""):
    """Run the block; a WebhookError becomes a rejected part of ``batch`` instead of failing all."""
    try:
        yield
    except WebhookError as error:
        batch.rejected.append(Rejected(where, _short(str(error)), raw, waba_id, phone_number_id))


def _parse_entry(entry, where: str, batch: WebhookBatch) -> None:
    """Add the records of every change of one ``entry`` (one business account) to ``batch``."""
    entry = _require_object(entry, where)
    waba_id = _id(entry.get("id"), f"{where}.id", required=False)
    entry_time = _optional_timestamp(entry.get("time"), f"{where}.time")
    changes = entry.get("changes")
    if changes is None:
        return
    if not isinstance(changes, list):
        raise WebhookError(f"{where}.changes is not a list")
    for index, change in enumerate(changes):
        change_where = f"{where}.changes[{index}]"
        with _rejecting(batch, change_where, change, waba_id):
            _parse_change(change, change_where, waba_id, entry_time, batch)


def _parse_change(change, where: str, waba_id: str, entry_time, batch: WebhookBatch) -> None:
    change = _require_object(change, where)
    field_name = change.get("field")
    if not isinstance(field_name, str) or not field_name:
        raise WebhookError(f"{where}: missing 'field'")
    value = _require_object(change.get("value"), f"{where}.value")
    if field_name == MESSAGES_FIELD:
        _parse_messages_value(waba_id, value, f"{where}.value", entry_time, batch)
    elif field_name in TEMPLATE_FIELDS:
        batch.template_updates.append(_template_update(waba_id, field_name, value, entry_time))
    elif field_name in ACCOUNT_FIELDS:
        batch.account_updates.append(_account_update(waba_id, field_name, value, entry_time))
    else:
        batch.other.append(OtherChange(waba_id, _short(field_name), value, entry_time))


def _parse_messages_value(
    waba_id: str, value: dict, where: str, entry_time, batch: WebhookBatch
) -> None:
    """Messages, statuses, contacts and errors of a ``messages`` change; each item stands alone."""
    metadata = _object(value, "metadata", where)
    origin = {
        "waba_id": waba_id,
        "phone_number_id": _id(metadata.get("phone_number_id"), f"{where}.metadata", False),
        "display_phone_number": _short(as_text(metadata.get("display_phone_number"))),
    }
    context = {"waba_id": waba_id, "phone_number_id": origin["phone_number_id"]}
    contacts = _contacts(value, where)
    for wa_id, user_id, name, _username in contacts:
        batch.profile_names.update({key: name for key in (wa_id, user_id) if key and name})
    for item_where, raw in _items(value, "messages", where):
        with _rejecting(batch, item_where, raw, **context):
            if not origin["phone_number_id"]:
                raise WebhookError(f"{where}.metadata: missing 'phone_number_id'")
            batch.messages.append(_message(origin, contacts, raw, item_where))
    for item_where, raw in _items(value, "statuses", where):
        with _rejecting(batch, item_where, raw, **context):
            batch.statuses.append(_status(origin, raw, item_where))
    for item_where, raw in _items(value, "errors", where):
        with _rejecting(batch, item_where, raw, **context):
            _add_account_error(origin, raw, item_where, entry_time, batch)


def _add_account_error(origin: dict, raw, where: str, entry_time, batch: WebhookBatch) -> None:
    error = _error(_require_object(raw, where))
    batch.errors.append(error)
    batch.account_errors.append(
        AccountError(
            waba_id=origin["waba_id"],
            phone_number_id=origin["phone_number_id"],
            error=error,
            timestamp=entry_time,
            display_phone_number=origin["display_phone_number"],
            raw=raw,
        )
    )


def _contacts(value: dict, where: str) -> list[tuple[str, str, str, str]]:
    """``(wa_id, user_id, profile name, username)`` of each readable ``value.contacts`` item."""
    found = []
    contacts = value.get("contacts")
    for contact in contacts if isinstance(contacts, list) else ():
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
        wa_id = as_text(contact.get("wa_id"))
        user_id = as_text(contact.get("user_id"))
        if len(wa_id) > MAX_ID_CHARS or len(user_id) > MAX_ID_CHARS:
            continue
        found.append(
            (
                wa_id,
                user_id,
                _short(as_text(profile.get("name")), 512),
                _short(as_text(profile.get("username") or contact.get("username")), 512),
            )
        )
    return found


# --------------------------------------------------------------------------------------------
# Parsing: messages
# --------------------------------------------------------------------------------------------


def _message(origin: dict, contacts: list, raw, where: str) -> InboundMessage:
    """One ``value.messages[]`` item."""
    raw = _require_object(raw, where)
    wamid = _id(raw.get("id"), f"{where}.id")
    msg_type = _short(_required_text(raw, "type", where), 64)
    wa_id, user_id, profile_name, username = _sender(raw, contacts, where)
    errors = _errors(raw, where)
    parser = _CONTENT_PARSERS.get(msg_type)
    if parser:
        content = parser(raw, msg_type, where)
    else:
        content = {"text": _fallback_label(msg_type, errors)}
    return InboundMessage(
        **origin,
        wa_id=wa_id,
        profile_name=profile_name,
        wamid=wamid,
        timestamp=_timestamp(raw.get("timestamp"), f"{where}.timestamp"),
        type=msg_type,
        context=_context(raw, where),
        referral=raw["referral"] if isinstance(raw.get("referral"), dict) else None,
        errors=errors,
        raw=raw,
        user_id=user_id,
        username=username,
        **content,
    )


def _sender(raw: dict, contacts: list, where: str) -> tuple[str, str, str, str]:
    """``(wa_id, user_id, profile name, username)`` of a message's sender.

    ``from`` is the number; a user with a username may come with only a business-scoped user id
    (``from_user_id``, or ``user_id``) and an empty ``from``. ``value.contacts`` pairs the two and
    gives the profile. At least one id is required.
    """
    wa_id = _id(raw.get("from"), f"{where}.from", required=False)
    user_id = _id(raw.get("from_user_id") or raw.get("user_id"), f"{where}.from_user_id", False)
    match = next(
        (c for c in contacts if (wa_id and c[0] == wa_id) or (user_id and c[1] == user_id)),
        None,
    )
    if match is None and len(contacts) == 1 and not (wa_id and contacts[0][0]):
        match = contacts[0]  # one sender per change: its card even when it names the other id
    if match:
        wa_id, user_id = wa_id or match[0], user_id or match[1]
    if not wa_id and not user_id:
        raise WebhookError(f"{where}: missing 'from'")
    if wa_id and not (_DIGITS.fullmatch(wa_id) and len(wa_id) <= 20):
        raise WebhookError(f"{where}.from is not a WhatsApp number")
    return wa_id, user_id, match[2] if match else "", match[3] if match else ""


def _fallback_label(msg_type: str, errors: tuple[MessageError, ...]) -> str:
    """Label of an ``unsupported`` or unknown message, followed by the first error title."""
    label = "[unsupported message]" if msg_type == "unsupported" else f"[{msg_type} message]"
    titles = [error.title for error in errors if error.title]
    return f"{label} {titles[0]}" if titles else label


def _unsupported_content(raw: dict, msg_type: str, where: str) -> dict:
    """An ``unsupported`` message; ``unsupported.type`` tells what it was (e.g. an ``edit``)."""
    data = raw.get("unsupported") if isinstance(raw.get("unsupported"), dict) else {}
    subtype = _short(as_text(data.get("type")), 64)
    label = _fallback_label(msg_type, _errors(raw, where))
    if subtype:
        label = f"[unsupported message: {subtype}]"
    return {"text": label, "subtype": subtype}


def _text_content(raw: dict, msg_type: str, where: str) -> dict:
    return {"text": as_text(_object(raw, "text", where).get("body"))}


def _media_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, msg_type, where)
    media = Media(
        id=_id(data.get("id"), f"{where}.{msg_type}.id", required=False),
        mime_type=_short(as_text(data.get("mime_type")), 255),
        sha256=_short(as_text(data.get("sha256")), 255),
        filename=_short(as_text(data.get("filename")), 1024),
        caption=as_text(data.get("caption")),
        voice=data.get("voice") is True,
        animated=data.get("animated") is True,
        url=_url(data.get("url")),
    )
    label = "[voice message]" if media.voice else f"[{msg_type}]"
    return {"text": media.caption or media.filename or label, "media": media}


def _location_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "location", where)
    location = Location(
        latitude=_coordinate(data.get("latitude"), 90, f"{where}.location.latitude"),
        longitude=_coordinate(data.get("longitude"), 180, f"{where}.location.longitude"),
        name=as_text(data.get("name")),
        address=as_text(data.get("address")),
        url=_url(data.get("url")),
    )
    text = ", ".join(part for part in (location.name, location.address) if part)
    return {"text": text or f"{location.latitude}, {location.longitude}", "location": location}


def _contacts_content(raw: dict, msg_type: str, where: str) -> dict:
    contacts = tuple(_shared_contact(data) for _where, data in _objects(raw, "contacts", where))
    names = ", ".join(contact.name for contact in contacts if contact.name)
    return {"text": names or "[contacts]", "contacts": contacts}


def _shared_contact(data: dict) -> SharedContact:
    name = data.get("name") if isinstance(data.get("name"), dict) else {}
    phones = tuple(
        ContactPhone(
            phone=as_text(p.get("phone")),
            type=_short(as_text(p.get("type")), 64),
            wa_id=as_text(p.get("wa_id")) if len(as_text(p.get("wa_id"))) <= MAX_ID_CHARS else "",
        )
        for p in _list(data.get("phones"))
        if isinstance(p, dict) and (p.get("phone") or p.get("wa_id"))
    )
    emails = [email for email in _list(data.get("emails")) if isinstance(email, dict)]
    org = data.get("org") if isinstance(data.get("org"), dict) else {}
    full_name = as_text(name.get("formatted_name")) or " ".join(
        as_text(name.get(part)) for part in ("first_name", "last_name") if name.get(part)
    )
    return SharedContact(
        name=full_name or next((p.phone for p in phones if p.phone), ""),
        phones=phones,
        emails=tuple(as_text(e.get("email")) for e in emails if e.get("email")),
        organization=as_text(org.get("company")),
        raw=data,
    )


def _interactive_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "interactive", where)
    kind = _short(as_text(data.get("type")), 64)
    reply = data.get(kind) if isinstance(data.get(kind), dict) else {}
    if kind == "nfm_reply":
        interactive = InteractiveReply(
            kind=kind,
            id=None,
            title=as_text(reply.get("body")),
            name=as_text(reply.get("name")),
            response=safe_json.json_object(reply.get("response_json")),
        )
    else:
        interactive = InteractiveReply(
            kind=kind,
            id=_short(as_text(reply.get("id")), MAX_ID_CHARS),
            title=as_text(reply.get("title")),
            description=as_text(reply.get("description")),
        )
    label = f"[interactive {kind}]" if kind else "[interactive]"
    return {"text": interactive.title or label, "interactive": interactive}


def _button_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "button", where)
    button = ButtonReply(payload=as_text(data.get("payload")), text=as_text(data.get("text")))
    return {"text": button.text or button.payload or "[button]", "button": button}


def _reaction_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "reaction", where)
    reaction = Reaction(
        message_id=_id(data.get("message_id"), f"{where}.reaction.message_id", required=False),
        emoji=_short(as_text(data.get("emoji")), 32),
    )
    return {"text": reaction.emoji or "[reaction removed]", "reaction": reaction}


def _order_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "order", where)
    items = tuple(
        OrderItem(
            product_retailer_id=as_text(item.get("product_retailer_id")),
            quantity=_optional_int(item.get("quantity")),
            item_price=_optional_float(item.get("item_price")),
            currency=_short(as_text(item.get("currency")), 8),
        )
        for _where, item in _objects(data, "product_items", f"{where}.order")
    )
    order = Order(as_text(data.get("catalog_id")), text=as_text(data.get("text")), items=items)
    label = f"[order: {len(items)} item{'' if len(items) == 1 else 's'}]"
    return {"text": order.text or label, "order": order}


def _system_content(raw: dict, msg_type: str, where: str) -> dict:
    data = _object(raw, "system", where)
    new_wa_id = as_text(data.get("new_wa_id") or data.get("wa_id"))
    notice = SystemNotice(
        kind=_short(as_text(data.get("type")), 64),
        body=as_text(data.get("body")),
        new_wa_id=new_wa_id if len(new_wa_id) <= MAX_ID_CHARS else "",
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
    "unsupported": _unsupported_content,
}
"""Message type -> ``parser(raw, type, where)`` returning InboundMessage keywords (``text``...)."""


def _context(raw: dict, where: str) -> Context | None:
    """The ``context`` block of a message (reply target, forwarding, product inquiry)."""
    if raw.get("context") is None:
        return None
    data = _object(raw, "context", where)
    product = data.get("referred_product")
    return Context(
        from_=_short(as_text(data.get("from")), MAX_ID_CHARS),
        id=_id(data.get("id"), f"{where}.context.id", required=False),
        forwarded=data.get("forwarded") is True,
        frequently_forwarded=data.get("frequently_forwarded") is True,
        referred_product=product if isinstance(product, dict) else None,
    )


# --------------------------------------------------------------------------------------------
# Parsing: statuses, errors, template and account updates
# --------------------------------------------------------------------------------------------


def _status(origin: dict, raw, where: str) -> StatusUpdate:
    """One ``value.statuses[]`` item."""
    raw = _require_object(raw, where)
    conversation = _object(raw, "conversation", where)
    conversation_origin = _object(conversation, "origin", f"{where}.conversation")
    expiration = _optional_timestamp(
        conversation.get("expiration_timestamp"), f"{where}.conversation.expiration_timestamp"
    )
    return StatusUpdate(
        **origin,
        wamid=_id(raw.get("id"), f"{where}.id"),
        status=_short(_required_text(raw, "status", where).lower(), 32),
        timestamp=_timestamp(raw.get("timestamp"), f"{where}.timestamp"),
        recipient_id=_id(raw.get("recipient_id"), f"{where}.recipient_id", required=False),
        recipient_user_id=_id(
            raw.get("recipient_user_id") or raw.get("user_id"),
            f"{where}.recipient_user_id",
            required=False,
        ),
        conversation_id=_short(as_text(conversation.get("id")), MAX_ID_CHARS),
        conversation_origin=_short(as_text(conversation_origin.get("type")), 64),
        conversation_expiration=expiration,
        pricing=_pricing(raw, where),
        errors=_errors(raw, where),
        biz_opaque_callback_data=_short(as_text(raw.get("biz_opaque_callback_data")), 512),
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
        pricing_model=_short(as_text(data.get("pricing_model")), 64),
        category=_short(as_text(data.get("category")), 64),
        type=_short(as_text(data.get("type")), 64),
    )


def _errors(container: dict, where: str) -> tuple[MessageError, ...]:
    """The ``errors`` array of ``container``."""
    return tuple(_error(data) for _where, data in _objects(container, "errors", where))


def _error(data: dict) -> MessageError:
    """One error object; ``details`` from ``error_data`` (or the legacy key)."""
    error_data = data.get("error_data") if isinstance(data.get("error_data"), dict) else {}
    return MessageError(
        code=_optional_int(data.get("code")),
        title=_short(as_text(data.get("title")), 1024),
        message=_short(as_text(data.get("message")), 1024),
        details=_short(as_text(error_data.get("details") or data.get("details")), 2048),
        href=_url(data.get("href")),
    )


def _template_update(waba_id: str, field_name: str, value: dict, entry_time) -> TemplateUpdate:
    """A template status / quality / category / components change; ``entry_time`` is its date."""
    rejection = _first_object(value, "rejection_info", "other_info")
    return TemplateUpdate(
        waba_id=waba_id,
        field=field_name,
        event=_short(as_text(value.get("event")), 64),
        template_id=_id(value.get("message_template_id"), "message_template_id", required=False),
        name=_short(as_text(value.get("message_template_name")), 512),
        language=_short(as_text(value.get("message_template_language")), 32),
        reason=_short(as_text(value.get("reason")), 1024),
        new_quality_score=_short(as_text(value.get("new_quality_score")), 32),
        previous_quality_score=_short(as_text(value.get("previous_quality_score")), 32),
        new_category=_short(as_text(value.get("new_category")), 32),
        previous_category=_short(as_text(value.get("previous_category")), 32),
        timestamp=entry_time,
        raw=value,
        category=_short(as_text(value.get("message_template_category")), 32),
        rejection_reason=_short(as_text(rejection.get("reason") or rejection.get("title")), 1024),
        rejection_recommendation=_short(
            as_text(rejection.get("recommendation") or rejection.get("description")), 4096
        ),
        correct_category=_short(as_text(value.get("correct_category")), 32),
        category_update_at=_optional_timestamp(
            value.get("category_update_timestamp"), "category_update_timestamp"
        ),
    )


def _account_update(waba_id: str, field_name: str, value: dict, entry_time) -> AccountUpdate:
    """An account, review, capability or phone number change."""
    ban = _first_object(value, "ban_info")
    ban_state = ban.get("waba_ban_state")
    if isinstance(ban_state, list):
        ban_state = ",".join(as_text(state) for state in ban_state)
    violation = _first_object(value, "violation_info")
    restrictions = value.get("restriction_info")
    limit = value.get("current_limit") or value.get("max_daily_conversations_per_business")
    return AccountUpdate(
        waba_id=waba_id,
        field=field_name,
        event=_short(as_text(value.get("event") or value.get("decision")), 64),
        display_phone_number=_digits_only(
            value.get("display_phone_number") or value.get("phone_number")
        ),
        timestamp=entry_time,
        ban_state=_short(as_text(ban_state), 128),
        ban_date=_short(as_text(ban.get("waba_ban_date")), 64),
        violation_type=_short(as_text(violation.get("violation_type")), 128),
        restrictions=tuple(
            Restriction(
                _short(as_text(item.get("restriction_type")), 128),
                _short(as_text(item.get("expiration")), 64),
            )
            for item in (restrictions if isinstance(restrictions, list) else ())
            if isinstance(item, dict)
        ),
        messaging_limit=_short(as_text(limit), 32) if not isinstance(limit, int) else "",
        previous_limit=_short(as_text(value.get("old_limit")), 32),
        daily_conversation_limit=_optional_int(
            value.get("max_daily_conversation_per_phone")
            or (limit if isinstance(limit, int) else None)
        ),
        decision=_short(as_text(value.get("decision")), 64),
        requested_name=_short(as_text(value.get("requested_verified_name")), 512),
        rejection_reason=_short(as_text(value.get("rejection_reason")), 1024),
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


def _first_object(container: dict, *keys) -> dict:
    """The first of ``container[key]`` that is an object, leniently; ``{}`` when none is."""
    for key in keys:
        if isinstance(container.get(key), dict):
            return container[key]
    return {}


def _items(container: dict, key: str, where: str) -> list[tuple[str, object]]:
    """``(path, item)`` for each item of the list ``container[key]`` (absent means empty)."""
    values = container.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise WebhookError(f"{where}.{key} is not a list")
    return [(f"{where}.{key}[{i}]", value) for i, value in enumerate(values)]


def _objects(container: dict, key: str, where: str) -> list[tuple[str, dict]]:
    """Like :func:`_items`, every item required to be an object."""
    return [(path, _require_object(value, path)) for path, value in _items(container, key, where)]


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _short(text: str, limit: int = 256) -> str:
    """``text`` cut to ``limit`` characters: for labels, never for ids (see :func:`_id`)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(value, where: str, required: bool = True) -> str:
    """An identifier: non-empty text of at most ``MAX_ID_CHARS`` characters."""
    text = as_text(value).strip()
    if not text:
        if required:
            raise WebhookError(f"{where} is missing")
        return ""
    if len(text) > MAX_ID_CHARS:
        raise WebhookError(f"{where} is longer than {MAX_ID_CHARS} characters")
    return text


def _digits_only(value) -> str:
    text = as_text(value)
    return text if _DIGITS.fullmatch(text) and len(text) <= 20 else ""


def _url(value) -> str:
    text = as_text(value)
    return text if text.startswith(("https://", "http://")) and len(text) <= 4096 else ""


def _required_text(container: dict, key: str, where: str) -> str:
    value = as_text(container.get(key))
    if not value:
        raise WebhookError(f"{where}: missing '{key}'")
    return value


def _timestamp(value, where: str) -> int:
    """Unix seconds between 2000 and 2100, sent by Meta as a string of digits (or a number)."""
    number = None
    if isinstance(value, str) and len(value) <= 20 and _DIGITS.fullmatch(value.strip()):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None:
        raise WebhookError(f"{where} is not a Unix timestamp")
    if not MIN_TIMESTAMP <= number < MAX_TIMESTAMP:
        raise WebhookError(f"{where} is not a date between 2000 and 2100")
    return number


def _optional_timestamp(value, where: str) -> int | None:
    return None if value is None or value == "" else _timestamp(value, where)


def _optional_int(value) -> int | None:
    """Lenient 32-bit integer (error codes, quantities): None when absent, not numeric or absurd."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and len(value) <= 12 and _DIGITS.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, int) and -_INT32 < value < _INT32:
        return value
    return None


def _optional_float(value) -> float | None:
    """Lenient finite float (prices): None when absent, not numeric or absurd."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and len(value) > 40:
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and abs(number) < 1e15 else None


def _coordinate(value, bound: float, where: str) -> float:
    number = _optional_float(value)
    if number is None or not -bound <= number <= bound:
        raise WebhookError(f"{where} is not a coordinate")
    return number
