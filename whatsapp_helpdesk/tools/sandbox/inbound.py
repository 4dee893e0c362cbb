"""What a simulated customer sends: the message of an inbound webhook, of each kind ``inject``
knows, and the media files customers and the business exchange.

The builders read and feed the sandbox's state through the few methods they are given it for
(``store_media``, ``last_wamid_to``, ``config``); they do not import it.
"""

import base64
import dataclasses
import hashlib
import re
import time

from .. import payloads
from .config import new_object_id, to_bool

# The customers of the addon's demo data, as the control page offers them (number, name, and a
# first message in their language).
DEMO_CUSTOMERS = (
    {"number": "5511987654321", "name": "Ana Souza", "text": "Obrigada! Quando chega meu pedido?"},
    {"number": "919820012345", "name": "Rahul Mehta", "text": "Thanks! When will my order arrive?"},
    {
        "number": "525512345678",
        "name": "Lucía Hernández",
        "text": "¡Gracias! ¿Cuándo llega mi pedido?",
    },
    {
        "number": "6281234567890",
        "name": "Budi Santoso",
        "text": "Terima kasih! Kapan pesanan saya sampai?",
    },
)


@dataclasses.dataclass
class Media:
    """A stored media file (uploaded by the business, or sent by a simulated customer)."""

    id: str
    data: bytes
    mime_type: str
    filename: str | None = None
    sha256: str = ""
    time: float = 0.0

    @classmethod
    def of(cls, data: bytes, mime_type: str, filename=None) -> "Media":
        """A new media file with a fresh id."""
        sha256 = hashlib.sha256(data).hexdigest()
        return cls(new_object_id(), data, mime_type, filename, sha256, time.time())

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


def message(state, wa_id: str, type_: str, text, content: dict) -> dict:
    """The message dict of ``state.inject`` (``ValueError`` on a bad kind or content)."""
    if type_ in payloads.MEDIA_TYPES:
        return _media(state, wa_id, type_, text, content)
    if type_ == "interactive":
        type_ = content.pop("kind", "button_reply")
        if type_ not in payloads.INTERACTIVE_KINDS:
            raise ValueError(f"kind must be one of {payloads.INTERACTIVE_KINDS}")
    if type_ not in _BUILDERS:
        raise ValueError(f"unknown inbound message type {type_!r}")
    return _BUILDERS[type_](state, wa_id, text, content)


def _text(state, wa_id, text, content):
    if not text:
        raise ValueError("a text message needs a text")
    return payloads.text_message(wa_id, text, context=_reply_context(state, content))


def _media(state, wa_id, media_type, text, content):
    default_mime, default_name, default_data = SAMPLE_MEDIA[media_type]
    data = content.get("data")
    if data is None and content.get("data_base64"):
        data = base64.b64decode(content["data_base64"])
    if isinstance(data, str):
        data = data.encode()
    filename = content.get("filename") or default_name
    media = state.store_media(
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
        voice=to_bool(content.get("voice", False)),
        context=_reply_context(state, content),
    )


def _location(state, wa_id, text, content):
    try:
        latitude, longitude = float(content["latitude"]), float(content["longitude"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("a location needs a numeric latitude and longitude")
    name = content.get("name") or text
    return payloads.location_message(
        wa_id, latitude, longitude, name=name, address=content.get("address")
    )


def _contacts(state, wa_id, text, content):
    cards = content.get("contacts") or [
        payloads.vcard(text or "Contact", content.get("phone") or "+15550002222")
    ]
    return payloads.contacts_message(wa_id, cards)


def _button_reply(state, wa_id, text, content, kind="button_reply"):
    if not text:
        raise ValueError("a reply needs a title (text)")
    reply_id = content.get("reply_id") or re.sub(r"\W+", "_", text.lower()).strip("_")
    return payloads.interactive_reply(
        wa_id,
        kind,
        reply_id or "reply",
        text,
        description=content.get("description"),
        context=_reply_context(state, content, wa_id),
    )


def _list_reply(state, wa_id, text, content):
    return _button_reply(state, wa_id, text, content, kind="list_reply")


def _button(state, wa_id, text, content):
    if not text:
        raise ValueError("a button message needs a text")
    context = _reply_context(state, content, wa_id)
    return payloads.button_message(wa_id, content.get("payload") or text, text, context=context)


def _reaction(state, wa_id, text, content):
    message_id = content.get("message_id") or state.last_wamid_to(wa_id)
    if not message_id:
        raise ValueError("a reaction needs a message_id (nothing was sent to this number)")
    emoji = content.get("emoji", text if text is not None else "\N{THUMBS UP SIGN}")
    return payloads.reaction_message(wa_id, message_id, emoji)


def _unsupported(state, wa_id, text, content):
    return payloads.unsupported_message(wa_id)


_BUILDERS = {
    "text": _text,
    "location": _location,
    "contacts": _contacts,
    "button_reply": _button_reply,
    "list_reply": _list_reply,
    "button": _button,
    "reaction": _reaction,
    "unsupported": _unsupported,
}


def _reply_context(state, content: dict, wa_id: str | None = None) -> dict | None:
    """The ``context`` of an inbound message: explicit, ``reply_to`` or (given ``wa_id``) the
    last message sent to that customer."""
    if content.get("context"):
        return content["context"]
    message_id = content.get("reply_to") or (wa_id and state.last_wamid_to(wa_id))
    if not message_id:
        return None
    return payloads.reply_context(message_id, state.config.display_phone_number)
