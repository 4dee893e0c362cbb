"""The customer's language when nobody told us: from the number's country and from the customer's
own words. No Odoo import.

Short chat messages ("Obrigada!", "Hola, ¿tienen stock?") defeat general statistical detectors
(they confuse Portuguese and Spanish on a few words), and the accurate ones weigh tens of megabytes.
The shop speaks a known set of languages (:data:`LANGUAGES`), so this module scores a message
against those only: the script (Han characters are Chinese), letters only one language uses
(``ã``/``õ``/``ç`` Portuguese, ``ñ``/``¿``/``¡`` Spanish) and each language's most frequent short
words. A message too short or too mixed to tell gives ``None``, never a guess.

:func:`infer` combines what is known in a fixed order of trust: the agent's correction, the
customer's words when they name another language than the profile, the profile (the partner's
language), then the number's country.
"""

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from .text import base_language, normalize

ENGLISH, PORTUGUESE, SPANISH, CHINESE, INDONESIAN = "en", "pt_BR", "es", "zh_CN", "id"
LANGUAGES = (ENGLISH, PORTUGUESE, SPANISH, CHINESE, INDONESIAN)

# Where the sources of :func:`infer` come from, in decreasing order of trust.
AGENT, WORDS, PROFILE, COUNTRY = "agent", "words", "profile", "country"

# The language most customers of a country write in (ISO 3166 alpha-2), among LANGUAGES.
COUNTRY_LANGUAGES = {
    **dict.fromkeys(("BR", "PT", "AO", "MZ", "CV", "GW", "ST", "TL"), PORTUGUESE),
    **dict.fromkeys(
        (
            "ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY",
            "SV", "NI", "CR", "PA", "UY", "GQ", "PR",
        ),
        SPANISH,
    ),
    **dict.fromkeys(("CN", "TW", "HK", "MO", "SG"), CHINESE),
    "ID": INDONESIAN,
    **dict.fromkeys(
        ("US", "GB", "IN", "AU", "CA", "NZ", "IE", "ZA", "NG", "KE", "PH", "GH", "PK"), ENGLISH
    ),
}  # fmt: skip

# Frequent short words of each Latin-script language, normalized (no accents): a word shared by
# two languages ("a", "que", "de") counts for both and so decides nothing.
_WORDS = {
    ENGLISH: """the and you your is are was i my me it this that to of in for on with have has
        not do does can will what when where how why hello hi thanks thank please yes no order
        shipped delivery help want need would could there here be at an broken""",
    PORTUGUESE: """voce voces obrigado obrigada ola oi nao sim tudo bem meu minha seu sua voces
        pedido entrega quando onde como porque por favor estou esta tem tenho gostaria preciso
        ajuda um uma com para isso essa esse muito bom dia boa tarde noite entregam vcs nao e
        sao tambem ja ainda mas ate""",
    SPANISH: """usted ustedes gracias hola si tiene tienen tengo quiero necesito ayuda mi mis
        su sus pedido entrega cuando donde como porque por favor estoy esta un una con para eso
        esa ese muy buenos buenas dias tardes noches tambien ya todavia pero hasta el los las
        del al es son hay modelo""",
    INDONESIAN: """saya anda kamu apa tidak ya ini itu yang dan di ke dari untuk dengan ada bisa
        mau ingin pesanan kapan dimana bagaimana kenapa terima kasih tolong sudah belum juga
        selamat pagi siang malam halo barang kirim pengiriman berapa harga bapak ibu kak""",
}
_WORD_SETS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
# Words that alone tell the language (greetings, thanks, "you"): they count twice.
_STRONG = frozenset(
    """hello thanks thank obrigado obrigada voce voces vcs gracias hola usted ustedes terima
    kasih saya""".split()
)
# Letters (before accents are stripped) that only one of the Latin-script languages uses.
_MARKS = {PORTUGUESE: "ãõçâêô", SPANISH: "ñ¿¡"}
_MIN_SCORE = 2  # what a language needs: two of its words, or one word and one of its letters


@dataclass(frozen=True, slots=True)
class Guess:
    """A language (one of :data:`LANGUAGES`) and where it came from (:data:`AGENT`...)."""

    language: str
    source: str


def _han_share(text):
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 0.0
    han = sum(1 for char in letters if unicodedata.name(char, "").startswith("CJK UNIFIED"))
    return han / len(letters)


def detect(text):
    """The language of ``text`` among :data:`LANGUAGES`, or None when it cannot be told.

    ``"Olá! Vocês entregam em São Paulo?"`` -> ``"pt_BR"``; ``"ok"`` -> None.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text[:2000]
    if _han_share(text) >= 0.3:
        return CHINESE
    lowered = text.casefold()
    words = normalize(lowered).split()
    scores = {}
    for language, vocabulary in _WORD_SETS.items():
        score = sum(2 if word in _STRONG else 1 for word in words if word in vocabulary)
        score += sum(2 for char in _MARKS.get(language, "") if char in lowered)
        scores[language] = score
    best = max(scores.values())
    if best < _MIN_SCORE:
        return None
    leaders = [language for language, score in scores.items() if score == best]
    return leaders[0] if len(leaders) == 1 else None


def country_language(country_code):
    """The language a customer of this country most likely writes, or None."""
    if not isinstance(country_code, str):
        return None
    return COUNTRY_LANGUAGES.get(country_code.strip().upper())


def number_country(e164):
    """The ISO country code of an E.164 number (``+5511...`` -> ``"BR"``), or None."""
    if not isinstance(e164, str) or not e164.strip():
        return None
    number = e164.strip()
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else f"+{number}")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed) or None


def same_language(first, second):
    """Whether two codes name the same language (``pt_BR`` and ``pt``; ``es_419`` and ``es``)."""
    return bool(first) and base_language(first) == base_language(second)


def infer(*, agent=None, spoken=None, texts=(), profile=None, country=None):
    """The customer's language as a :class:`Guess`, or None when nothing tells it.

    ``agent``: what an agent set (always wins); ``spoken``: the language the customer's words
    were found in, else ``texts``: the customer's messages, newest first (the first one that
    tells a language counts); ``profile``: the partner's language
    (an Odoo code, kept as is when the words say the same language, so ``en_IN`` stays
    ``en_IN``); ``country``: the ISO code of the customer's number.
    """
    if agent:
        return Guess(agent, AGENT)
    spoken = spoken or next((lang for lang in map(detect, texts or ()) if lang), None)
    if spoken and not same_language(spoken, profile):
        return Guess(spoken, WORDS)
    if profile:
        return Guess(profile, PROFILE)
    from_country = country_language(country)
    return Guess(from_country, COUNTRY) if from_country else None


def installed_variant(code, installed):
    """The installed Odoo language closest to ``code``: itself, else the first of the same
    language (``pt_BR`` for ``pt``, ``es_419`` for ``es``), else None. ``installed``: codes in
    order of preference."""
    installed = [lang for lang in installed or () if isinstance(lang, str) and lang]
    if not code:
        return None
    if code in installed:
        return code
    wanted = re.split(r"[_@.-]", code, maxsplit=1)[0].lower()
    return next((lang for lang in installed if base_language(lang) == wanted), None)
