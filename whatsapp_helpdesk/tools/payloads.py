"""Builders of Meta-shaped WhatsApp Cloud API webhook payloads (plain dicts). No Odoo import.

Development infrastructure, like the sandbox: it plays Meta's side of the webhook. The local
sandbox (``tools.sandbox``), the Odoo tests and the benchmarks use it to produce the exact JSON
Meta posts to a webhook: an ``envelope`` holding ``changes``; a ``messages`` change holds
``contacts``, ``messages`` and/or ``statuses``; template changes hold review events. The addon's
models and controllers never import it: they read webhooks with ``tools.webhook``.

Every builder returns a fresh dict; timestamps are strings of Unix seconds, as Meta sends them.
"""

import base64
import json
import secrets
import time

from .webhook import sign

OBJECT = "whatsapp_business_account"
MESSAGING_PRODUCT = "whatsapp"
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
INTERACTIVE_KINDS = ("button_reply", "list_reply")
BILLABLE_CATEGORIES = ("marketing", "utility", "authentication")
ERROR_DOCS_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
# Statuses carrying the conversation and pricing blocks; ``read`` and ``failed`` ones do not.
PRICED_STATUSES = ("sent", "delivered")
CONVERSATION_TTL = 24 * 3600


# -- identifiers and small blocks -----------------------------------------------------------------


def new_wamid() -> str:
    """A fresh, unique WhatsApp message id shaped like Meta's (``wamid.`` + base64 bytes)."""
    return "wamid." + base64.b64encode(secrets.token_bytes(36)).decode()


def new_conversation_id() -> str:
    """A fresh conversation id (32 hex digits, as in Meta's ``conversation.id``)."""
    return secrets.token_hex(16)


def _timestamp(value=None) -> str:
    """``value`` (Unix seconds, default now) as the string Meta sends."""
    return str(int(time.time() if value is None else value))


def error(code: int, title: str, details: str = "", *, message: str | None = None) -> dict:
    """An entry of a webhook ``errors`` list (unsupported messages, failed statuses)."""
    return {
        "code": code,
        "title": title,
        "message": message or title,
        "error_data": {"details": details or title},
        "href": ERROR_DOCS_URL,
    }


def contact(wa_id: str, profile_name: str) -> dict:
    """An entry of a change's ``contacts`` list: the customer's WhatsApp id and profile name."""
    return {"profile": {"name": profile_name}, "wa_id": wa_id}


def reply_context(message_id: str, from_: str) -> dict:
    """A message ``context``: the business message ``message_id`` (sent by ``from_``) replied to."""
    return {"from": from_, "id": message_id}


# -- envelopes and changes ------------------------------------------------------------------------


def envelope(waba_id: str, changes: list[dict], *, time=None) -> dict:
    """The top-level webhook body: one entry for the WhatsApp Business Account ``waba_id``.

    ``time`` (Unix seconds) is the entry date Meta adds to template and account changes.
    """
    entry = {"id": waba_id}
    if time is not None:
        entry["time"] = int(time)
    entry["changes"] = list(changes)
    return {"object": OBJECT, "entry": [entry]}


def messages_change(
    phone_number_id: str,
    display_phone_number: str,
    *,
    contacts=(),
    messages=(),
    statuses=(),
) -> dict:
    """A ``messages`` change for one business phone number; empty lists are left out."""
    value = {
        "messaging_product": MESSAGING_PRODUCT,
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    for key, items in (("contacts", contacts), ("messages", messages), ("statuses", statuses)):
        if items:
            value[key] = list(items)
    return {"field": "messages", "value": value}


# -- inbound messages -----------------------------------------------------------------------------


def _message(wa_id: str, type_: str, content, *, wamid=None, timestamp=None, context=None) -> dict:
    """The common frame of an inbound message; ``content`` goes under the key ``type_``."""
    message = {"from": wa_id, "id": wamid or new_wamid(), "timestamp": _timestamp(timestamp)}
    if context:
        message["context"] = dict(context)
    if content is not None:
        message[type_] = content
    message["type"] = type_
    return message


def text_message(wa_id: str, body: str, *, wamid=None, timestamp=None, context=None) -> dict:
    """A text message from the customer ``wa_id``; ``context`` makes it a reply."""
    return _message(
        wa_id, "text", {"body": body}, wamid=wamid, timestamp=timestamp, context=context
    )


def media_message(
    wa_id: str,
    media_type: str,
    media_id: str,
    *,
    mime_type: str,
    sha256: str = "",
    caption=None,
    filename=None,
    voice: bool = False,
    animated: bool = False,
    wamid=None,
    timestamp=None,
    context=None,
) -> dict:
    """An image/document/audio/video/sticker message whose file is the media ``media_id``.

    ``caption`` applies to images, videos and documents, ``filename`` to documents, ``voice`` to
    audio (a voice note recorded in WhatsApp), ``animated`` to stickers.
    """
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"media_type must be one of {MEDIA_TYPES}, not {media_type!r}")
    content = {"mime_type": mime_type, "sha256": sha256, "id": media_id}
    if caption is not None and media_type in ("image", "video", "document"):
        content["caption"] = caption
    if filename is not None and media_type == "document":
        content["filename"] = filename
    if media_type == "audio":
        content["voice"] = bool(voice)
    if media_type == "sticker":
        content["animated"] = bool(animated)
    return _message(wa_id, media_type, content, wamid=wamid, timestamp=timestamp, context=context)


def location_message(
    wa_id: str,
    latitude,
    longitude,
    *,
    name=None,
    address=None,
    url=None,
    wamid=None,
    timestamp=None,
) -> dict:
    """A shared location (a pin, or a place when ``name``/``address`` are given)."""
    content = {"latitude": float(latitude), "longitude": float(longitude)}
    for key, value in (("name", name), ("address", address), ("url", url)):
        if value is not None:
            content[key] = value
    return _message(wa_id, "location", content, wamid=wamid, timestamp=timestamp)


def vcard(formatted_name: str, phone: str, *, wa_id=None, first_name=None) -> dict:
    """One shared contact card, the smallest Meta sends: a name and a phone."""
    entry = {"phone": phone, "type": "CELL"}
    if wa_id:
        entry["wa_id"] = wa_id
    name = {"formatted_name": formatted_name, "first_name": first_name or formatted_name}
    return {"name": name, "phones": [entry]}


def contacts_message(wa_id: str, contacts: list[dict], *, wamid=None, timestamp=None) -> dict:
    """Shared contact cards (see ``vcard``)."""
    return _message(wa_id, "contacts", list(contacts), wamid=wamid, timestamp=timestamp)


def interactive_reply(
    wa_id: str,
    kind: str,
    reply_id: str,
    title: str,
    *,
    description=None,
    context=None,
    wamid=None,
    timestamp=None,
) -> dict:
    """The customer tapped a reply button (``button_reply``) or a list row (``list_reply``)."""
    if kind not in INTERACTIVE_KINDS:
        raise ValueError(f"kind must be one of {INTERACTIVE_KINDS}, not {kind!r}")
    reply = {"id": reply_id, "title": title}
    if description is not None and kind == "list_reply":
        reply["description"] = description
    content = {"type": kind, kind: reply}
    return _message(
        wa_id, "interactive", content, wamid=wamid, timestamp=timestamp, context=context
    )


def button_message(
    wa_id: str, payload: str, text: str, *, context=None, wamid=None, timestamp=None
) -> dict:
    """The customer tapped a quick-reply button of a template message."""
    content = {"payload": payload, "text": text}
    return _message(wa_id, "button", content, wamid=wamid, timestamp=timestamp, context=context)


def reaction_message(wa_id: str, message_id: str, emoji: str, *, wamid=None, timestamp=None):
    """The customer reacted to ``message_id`` with ``emoji`` (an empty emoji removes it)."""
    content = {"message_id": message_id, "emoji": emoji}
    return _message(wa_id, "reaction", content, wamid=wamid, timestamp=timestamp)


def unsupported_message(wa_id: str, *, wamid=None, timestamp=None) -> dict:
    """A message of a kind the Cloud API cannot relay (e.g. a poll): error 131051."""
    message = _message(wa_id, "unsupported", None, wamid=wamid, timestamp=timestamp)
    message["errors"] = [
        error(131051, "Message type unknown", "Message type is currently not supported.")
    ]
    return message


# -- statuses of outbound messages ----------------------------------------------------------------


def pricing(category: str = "service", *, billable=None, pricing_model: str = "PMP") -> dict:
    """A status ``pricing`` block; ``billable`` defaults to True except for ``service``."""
    if billable is None:
        billable = category in BILLABLE_CATEGORIES
    price_type = "regular" if billable else "free_customer_service"
    return {
        "billable": bool(billable),
        "pricing_model": pricing_model,
        "category": category,
        "type": price_type,
    }


def conversation(conversation_id=None, *, origin_type="service", expiration_timestamp=None):
    """A status ``conversation`` block; ``expiration_timestamp`` is set on ``sent`` only."""
    block = {"id": conversation_id or new_conversation_id(), "origin": {"type": origin_type}}
    if expiration_timestamp is not None:
        block["expiration_timestamp"] = _timestamp(expiration_timestamp)
    return block


def status(
    wamid: str,
    status: str,
    recipient_id: str,
    *,
    timestamp=None,
    category: str = "service",
    billable=None,
    pricing_model: str = "PMP",
    errors=None,
    conversation_id=None,
    origin_type=None,
    biz_opaque_callback_data=None,
) -> dict:
    """Meta's status object for the outbound message ``wamid``.

    ``sent`` and ``delivered`` carry the ``conversation`` and ``pricing`` blocks (``sent`` also the
    conversation's ``expiration_timestamp``); ``failed`` carries ``errors`` (default: 131026).
    ``biz_opaque_callback_data`` echoes the value the send carried, as Meta does.
    """
    ts = _timestamp(timestamp)
    result = {"id": wamid, "status": status, "timestamp": ts, "recipient_id": recipient_id}
    if status in PRICED_STATUSES:
        expiration = int(ts) + CONVERSATION_TTL if status == "sent" else None
        result["conversation"] = conversation(
            conversation_id, origin_type=origin_type or category, expiration_timestamp=expiration
        )
        result["pricing"] = pricing(category, billable=billable, pricing_model=pricing_model)
    if status == "failed":
        result["errors"] = list(errors) if errors else [undeliverable_error()]
    elif errors:
        result["errors"] = list(errors)
    if biz_opaque_callback_data:
        result["biz_opaque_callback_data"] = biz_opaque_callback_data
    return result


def undeliverable_error() -> dict:
    """Error 131026 of a ``failed`` status: the recipient cannot receive the message."""
    return error(131026, "Message undeliverable", "Message Undeliverable.")


# -- template review events -----------------------------------------------------------------------


def template_status_change(template_id, name: str, language: str, event: str, *, reason=None):
    """A ``message_template_status_update`` change (``APPROVED``, ``REJECTED``, ``PAUSED``...)."""
    value = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason or "NONE",
    }
    return {"field": "message_template_status_update", "value": value}


def template_quality_change(template_id, name: str, language: str, previous: str, new: str):
    """A ``message_template_quality_update`` change (scores ``GREEN``/``YELLOW``/``RED``)."""
    value = {
        "previous_quality_score": previous,
        "new_quality_score": new,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
    }
    return {"field": "message_template_quality_update", "value": value}


# -- complete payloads ----------------------------------------------------------------------------


def inbound_payload(
    *,
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str,
    wa_id: str,
    profile_name: str,
    messages: list[dict],
) -> dict:
    """A full webhook body: the customer ``wa_id`` wrote ``messages`` to the business number."""
    change = messages_change(
        phone_number_id,
        display_phone_number,
        contacts=[contact(wa_id, profile_name)],
        messages=messages,
    )
    return envelope(waba_id, [change])


def status_payload(
    *, waba_id: str, phone_number_id: str, display_phone_number: str, statuses: list[dict]
) -> dict:
    """A full webhook body carrying ``statuses`` of outbound messages."""
    change = messages_change(phone_number_id, display_phone_number, statuses=statuses)
    return envelope(waba_id, [change])


def encode(payload) -> bytes:
    """``payload`` as compact UTF-8 JSON (non-ASCII characters kept as is, like Meta)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signed(payload, app_secret: str) -> tuple[bytes, dict]:
    """The exact body to post and its headers, signed with ``app_secret`` as Meta does."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}
    return body, headers
