"""The messages we send, as Meta's Cloud API takes them (plain dicts). No Odoo import.

The one home of the JSON of an outbound message: the Cloud API client's typed senders and the
outbox build their payloads here, nowhere else. A payload is put together from

* a *content*, ``{"type": kind, kind: {...}}``: :func:`text`, :func:`media`, :func:`template`
  (or :func:`filled_template` from a template spec), :func:`interactive` (whose object
  :func:`reply_buttons` and :func:`list_menu` build within Meta's limits), :func:`location`,
  :func:`reaction`;
* an *address*, :func:`address`: the customer's number, or the business-scoped user id of a
  customer known only by a username;
* :func:`message`, which joins them with the optional reply ``context`` and
  ``biz_opaque_callback_data``.

:func:`envelope` adds what every request to ``/{phone_number_id}/messages`` carries; the client
applies it in its one choke point, ``send_message``.
"""

from collections.abc import Mapping

from .template_payloads import send_components

MESSAGING_PRODUCT = "whatsapp"

MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
CAPTION_MEDIA_TYPES = frozenset({"image", "document", "video"})
FILENAME_MEDIA_TYPES = frozenset({"document"})

# Formats Meta takes for each media type; any other file goes as a document.
_MEDIA_MIMETYPES = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
}

# Meta's size limits of uploaded media, in bytes (Cloud API "Supported media types").
MEDIA_MAX_BYTES = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "sticker": 500 * 1024,
}
MAX_CAPTION = 1024

# Meta's limits of interactive messages. Texts beyond them are cut (the customer still reads the
# start); ids are never cut, since the customer's answer is matched on them.
MAX_INTERACTIVE_BODY = 1024
MAX_REPLY_BUTTONS = 3
MAX_REPLY_BUTTON_TITLE = 20
MAX_REPLY_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTION_TITLE = 24
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200


# --------------------------------------------------------------------------------------------
# Address, envelope, message
# --------------------------------------------------------------------------------------------


def address(number, user_id=None) -> dict:
    """Who receives a message: ``{"to": number}``, or ``{"recipient": user_id}`` (the customer's
    business-scoped user id, BSUID) for a customer known only by a username.

    The number wins when there is one; without either, ``{"to": number}`` is left for the
    client to refuse as an invalid recipient.
    """
    if not number and user_id:
        return {"recipient": user_id}
    return {"to": number}


def message(recipient: Mapping, content: Mapping, *, reply_to=None, callback_data=None) -> dict:
    """The payload of ``CloudApiClient.send_message``: ``content`` for ``recipient`` (an
    :func:`address`), quoting the message ``reply_to`` (a wamid) when given, with
    ``callback_data`` (``biz_opaque_callback_data``, echoed back in the status webhooks)."""
    payload = {**recipient, **content}
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    if callback_data:
        payload["biz_opaque_callback_data"] = callback_data
    return payload


def envelope(payload: Mapping) -> dict:
    """``payload`` as the body of ``POST /{phone_number_id}/messages``."""
    return {"messaging_product": MESSAGING_PRODUCT, "recipient_type": "individual", **payload}


def read_receipt(wamid: str, *, typing_indicator=False) -> dict:
    """The body marking the received message ``wamid`` (and earlier ones) as read, optionally
    showing the customer a typing indicator."""
    body = {"messaging_product": MESSAGING_PRODUCT, "status": "read", "message_id": wamid}
    if typing_indicator:
        body["typing_indicator"] = {"type": "text"}
    return body


def _content(kind: str, value) -> dict:
    return {"type": kind, kind: value}


# --------------------------------------------------------------------------------------------
# Contents
# --------------------------------------------------------------------------------------------


def text(body, *, preview_url=False) -> dict:
    """A text; ``preview_url`` renders a preview of the first URL in ``body``."""
    return _content("text", {"body": body, "preview_url": preview_url})


def media_type(mimetype) -> str:
    """The message type a file of ``mimetype`` is sent as ("image/png" -> "image"); "document"
    for anything else (a PDF, a spreadsheet, an image format Meta does not show inline)."""
    base = (mimetype or "").split(";")[0].strip().lower()
    for kind, mimetypes in _MEDIA_MIMETYPES.items():
        if base in mimetypes:
            return kind
    return "document"


def media_object(
    kind: str, *, media_id=None, link=None, caption=None, filename=None, strict=True
) -> dict:
    """The media object of an image, document, audio, video or sticker: an uploaded
    ``media_id`` or a hosted ``link`` (exactly one), with a ``caption`` (images, documents and
    videos) and a ``filename`` (documents).

    Strict, a caption or filename the type cannot carry is a :class:`ValueError`; otherwise it
    is left out (a voice message keeps its caption in Odoo's thread only).
    """
    if kind not in MEDIA_TYPES:
        raise ValueError(f"Unknown media type {kind!r}: one of {sorted(MEDIA_TYPES)}")
    if bool(media_id) == bool(link):
        raise ValueError("Give exactly one of media_id and link")
    if strict and caption and kind not in CAPTION_MEDIA_TYPES:
        raise ValueError(f"A {kind} message cannot have a caption")
    if strict and filename and kind not in FILENAME_MEDIA_TYPES:
        raise ValueError(f"A {kind} message cannot have a filename")
    media = {"id": media_id} if media_id else {"link": link}
    if caption and kind in CAPTION_MEDIA_TYPES:
        media["caption"] = caption
    if filename and kind in FILENAME_MEDIA_TYPES:
        media["filename"] = filename
    return media


def media(kind: str, **options) -> dict:
    """An image, document, audio, video or sticker; ``options`` as for :func:`media_object`."""
    return _content(kind, media_object(kind, **options))


def template(name: str, language: str, components=None) -> dict:
    """The approved template ``name`` in ``language`` (e.g. ``"en_US"``), with its parameter
    ``components`` when it takes some."""
    value = {"name": name, "language": {"code": language}}
    if components:
        value["components"] = components
    return _content("template", value)


def filled_template(spec: Mapping, values, *, header_media=None) -> dict:
    """The template of ``spec`` (see :mod:`.template_spec`) filled with ``values``; the media
    header takes ``header_media`` (a :func:`media_object`). Raises :class:`ValueError` naming a
    missing value (see :func:`.template_payloads.send_components`)."""
    components = send_components(spec, values, header_media=header_media)
    return template(spec.get("name") or "", spec.get("language") or "", components)


def interactive(value: Mapping) -> dict:
    """An interactive message (buttons, list...): ``value`` is its object, with a ``type``."""
    if not isinstance(value, Mapping) or not value.get("type"):
        raise ValueError("An interactive object is a dict with a 'type'")
    return _content("interactive", dict(value))


def location(latitude, longitude, *, name=None, address=None) -> dict:
    """A location pin; refuses coordinates off the globe."""
    latitude, longitude = float(latitude), float(longitude)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"Invalid coordinates {latitude!r}, {longitude!r}")
    value = {"latitude": latitude, "longitude": longitude}
    if name:
        value["name"] = name
    if address:
        value["address"] = address
    return _content("location", value)


def reaction(message_id: str, emoji: str) -> dict:
    """A reaction to the message ``message_id`` (``""`` removes ours)."""
    return _content("reaction", {"message_id": message_id, "emoji": emoji})


# --------------------------------------------------------------------------------------------
# Interactive objects
# --------------------------------------------------------------------------------------------


def reply_buttons(body: str, buttons) -> dict:
    """The interactive object asking ``body`` with reply buttons, ``buttons`` being
    ``(id, title)`` pairs: the first three (Meta's limit) are kept, titles cut to 20 characters
    and the body to 1,024. An empty, too long or repeated id is a :class:`ValueError`."""
    buttons = _choices(buttons, MAX_REPLY_BUTTONS, MAX_REPLY_BUTTON_ID)
    replies = [
        {"type": "reply", "reply": {"id": ident, "title": title[:MAX_REPLY_BUTTON_TITLE]}}
        for ident, title in buttons
    ]
    return _interactive_object("button", body, {"buttons": replies})


def list_menu(body: str, rows, *, button: str, section_title: str) -> dict:
    """The interactive object asking ``body`` with a list of ``rows``, ``(id, title)`` pairs or
    ``(id, title, description)`` triples, in one section titled ``section_title``, opened by the
    button labelled ``button``.

    The first ten rows (Meta's limit) are kept; row and section titles are cut to 24
    characters, descriptions to 72, the button label to 20 and the body to 1,024. An empty, too
    long or repeated id is a :class:`ValueError`.
    """
    rows = _choices(rows, MAX_LIST_ROWS, MAX_ROW_ID)
    section = {"title": section_title[:MAX_SECTION_TITLE], "rows": [_row(*row) for row in rows]}
    action = {"button": button[:MAX_LIST_BUTTON], "sections": [section]}
    return _interactive_object("list", body, action)


def _row(ident: str, title: str, description: str = "") -> dict:
    row = {"id": ident, "title": title[:MAX_ROW_TITLE]}
    if description:
        row["description"] = description[:MAX_ROW_DESCRIPTION]
    return row


def _interactive_object(kind: str, body: str, action: dict) -> dict:
    return {"type": kind, "body": {"text": body[:MAX_INTERACTIVE_BODY]}, "action": action}


def _choices(pairs, limit: int, id_limit: int) -> list:
    """The first ``limit`` ``(id, title)`` pairs. Their ids come back in the customer's answer:
    each one must be present, at most ``id_limit`` characters long and unique."""
    pairs = list(pairs)[:limit]
    if not pairs:
        raise ValueError("An interactive message needs at least one (id, title) choice")
    ids = [pair[0] for pair in pairs]
    for ident in ids:
        if not isinstance(ident, str) or not ident.strip():
            raise ValueError(f"An interactive reply needs an id, not {ident!r}")
        if len(ident) > id_limit:
            raise ValueError(f"The reply id {ident!r} is longer than {id_limit} characters")
    if len(set(ids)) != len(ids):
        raise ValueError(f"The reply ids must differ: {ids!r}")
    return pairs
