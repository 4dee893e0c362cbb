"""Click-to-chat links (``https://wa.me/<number>?text=...``) and the source tag they carry. No
Odoo import.

A visitor who clicks a WhatsApp button on the website (or scans a QR code on a shop window)
lands in WhatsApp with a prefilled text; when they send it, the first message tells us where
they came from. The entry point travels in a short tag at the end of that text::

    Hello! I have a question about the Office Chair [ref w1 p42 c=summer pg=/shop/chair]

Keys: ``w`` website id, ``p`` product (template) id, ``e`` entry point id (a QR code, a
campaign), ``c``/``s``/``m`` UTM campaign, source and medium, ``pg`` the page. The customer may
edit or delete the tag: it says where a conversation came from, never who the customer is, and
every id in it is checked against the records of the receiving account's company.
"""

import re
from urllib.parse import quote

# Keys with an integer id; the others carry a short slug.
ID_KEYS = ("w", "p", "e")
SLUG_KEYS = ("c", "s", "m", "pg")
KEYS = ID_KEYS + SLUG_KEYS
MAX_SLUG = 60
MAX_ID = 2**31 - 1
# Longest text a wa.me link carries here (WhatsApp cuts long prefilled texts anyway).
MAX_TEXT = 500

_SLUG_DROP = re.compile(r"[^A-Za-z0-9_./-]+")
_TAG = re.compile(r"\[ref((?: +[a-z]{1,2}(?:=[^\s\]]*|\d+))+) *\]")
_PART = re.compile(r"([a-z]{1,2})(?:=([^\s\]]*)|(\d+))")


def slug(value) -> str:
    """``value`` as a tag value: letters, digits and ``_./-`` only, at most 60 characters."""
    text = _SLUG_DROP.sub("-", str(value or "")).strip("-")
    return text[:MAX_SLUG]


def _valid_id(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def source_tag(source) -> str:
    """The tag for ``source`` (a dict of :data:`KEYS`); empty values and unknown keys are left
    out, ``""`` when nothing is left."""
    parts = []
    for key in KEYS:
        value = (source or {}).get(key)
        if key in ID_KEYS:
            number = _valid_id(value)
            if number:
                parts.append(f"{key}{number}")
        else:
            text = slug(value)
            if text:
                parts.append(f"{key}={text}")
    return f"[ref {' '.join(parts)}]" if parts else ""


def prefilled_text(text, source=None) -> str:
    """The text a visitor finds in WhatsApp: ``text`` and the source tag, within the limit."""
    tag = source_tag(source)
    text = " ".join((text or "").split())
    room = MAX_TEXT - len(tag) - 1
    text = text[: max(room, 0)].rstrip()
    return f"{text} {tag}".strip()


def link(number, text="") -> str:
    """``https://wa.me/<digits>`` opening a chat with ``number`` (any spelling of an
    international number), with ``text`` prefilled when given. No digits: ``ValueError``."""
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    if not 6 <= len(digits) <= 15:
        raise ValueError(f"Not an international phone number: {number!r}")
    url = f"https://wa.me/{digits}"
    if text:
        url += "?text=" + quote(text[: MAX_TEXT + 20], safe="")
    return url


def parse_source(text):
    """The source of the first tag in ``text`` as a dict (ids as ints, slugs as strings), or
    None when there is no readable tag. Unknown keys and invalid values are dropped."""
    if not isinstance(text, str):
        return None
    match = _TAG.search(text[:4096])
    if not match:
        return None
    source = {}
    for key, value, digits in _PART.findall(match.group(1)):
        if key in source or key not in KEYS:
            continue
        if key in ID_KEYS:
            number = _valid_id(digits) if digits else None
            if number:
                source[key] = number
        elif value:
            cleaned = slug(value)
            if cleaned:
                source[key] = cleaned
    return source or None


def source_kind(source):
    """The entry point a parsed tag (:func:`parse_source`) stands for: ``"website"`` when it
    names a website, ``"link"`` for any other tagged link (a QR code, a campaign), None without
    a tag."""
    if not source:
        return None
    return "website" if "w" in source else "link"


def strip_tag(text) -> str:
    """``text`` without its source tag (what the customer meant to say)."""
    if not isinstance(text, str):
        return ""
    return " ".join(_TAG.sub(" ", text).split())
