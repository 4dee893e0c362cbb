"""Small text helpers shared by the tools: one rule each for reading a value as text, comparing
customer words, language codes and ordering ids. No Odoo import."""

import html
import math
import re
import unicodedata


def as_text(value) -> str:
    """A string field: strings as is, numbers in decimal, anything else (None, bool...) ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return ""


def _accented_base(char: str) -> bool:
    """A base character whose combining marks are accents to strip: Latin, Greek and Cyrillic
    (other scripts keep theirs: kana voicing marks, Devanagari vowel signs...)."""
    code = ord(char)
    return code < 0x0530 or 0x1D00 <= code <= 0x1FFF or 0x2C60 <= code <= 0x2C7F


def normalize(text) -> str:
    """Customer words as rules, keywords and the FAQ compare them.

    Case-folded; compatibility forms folded (full-width ``"ＳＴＯＰ"`` is ``"stop"``); accents of
    Latin, Greek and Cyrillic letters stripped; letters and digits of every script kept (CJK,
    Hangul and kana as they are, with their marks); punctuation, symbols and emoji become spaces;
    runs of spaces collapse. ``"  Olá,   SÃO Paulo! "`` -> ``"ola sao paulo"``. Anything that is
    not a string normalizes to ``""``.
    """
    if not isinstance(text, str) or not text:
        return ""
    out = []
    base = ""  # the letter a mark belongs to; "" after a space (a stray mark is dropped)
    for char in unicodedata.normalize("NFKD", text.casefold()):
        category = unicodedata.category(char)
        if category[0] == "M":
            if base and not _accented_base(base):
                out.append(char)
        elif category[0] in "LN":
            out.append(char)
            base = char
        else:
            out.append(" ")
            base = ""
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def normalize_language(code) -> str:
    """``"pt-BR"`` / ``"PT_br"`` -> ``"pt_br"``; empty or None -> ``""``."""
    return code.strip().replace("-", "_").lower() if isinstance(code, str) else ""


def base_language(code) -> str:
    """``"pt_BR"`` -> ``"pt"``, ``"zh-Hans"`` -> ``"zh"``, ``"sr@latin"`` -> ``"sr"``; ``""`` for
    None or empty."""
    return re.split(r"[_@.]", normalize_language(code), maxsplit=1)[0]


def id_key(value) -> tuple:
    """Sort key of an id: numbers before strings, each in natural order (mixed ids never raise)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0, str(value))
    return (0, value, "")


# Characters an HTML body cannot hold (XML 1.0 minus what the sanitizer keeps): dropped.
_NOT_IN_HTML = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What Odoo's HTML sanitizer does more to text than escaping it: lone surrogates (and NUL: it
# mangles the text around them), e-mail quotes and signatures (lines starting with ">" or
# "-- "), which it wraps in quote markers.
_SANITIZER_REWRITES = re.compile("[\ud800-\udfff]|\n>|--")


def chatter_paragraph(text) -> tuple[str, bool]:
    """``(body, sanitize)``: the chatter paragraph of a text, the one rule of every message body
    written from a text (a customer's, the bot's, a campaign's preview).

    ``sanitize`` False: the body is exactly what Odoo's HTML sanitizer stores for
    ``<p>{escaped text}</p>``, to store as is: ``<``, ``>`` and ``&`` escaped, no-break spaces as
    ``&nbsp;``, characters HTML cannot hold dropped; it holds no tag but the paragraph and no
    attribute, inert whatever the customer wrote. True: ``<p>{escaped text}</p>``, which the
    sanitizer must still see (NUL, lone surrogates, quote or signature lines: it rewrites more
    than markup)."""
    text = as_text(text)
    if "\x00" not in text:
        kept = _NOT_IN_HTML.sub("", text)  # before the search: dropping them can make a quote
        if not _SANITIZER_REWRITES.search(kept):
            escaped = kept.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            return f"<p>{escaped.replace(chr(0xA0), '&nbsp;')}</p>", False
    return f"<p>{html.escape(text, quote=False)}</p>", True
