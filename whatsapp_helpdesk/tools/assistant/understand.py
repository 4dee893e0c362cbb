"""What a customer's WhatsApp message asks, understood locally and deterministically. No Odoo.

:func:`understand` gives an :class:`Understanding`: the intent (one of :data:`INTENTS`), how sure
it is, the order or invoice references the text holds, the FAQ entry it matches, and whether it
sounds angry. It reads the concepts of :mod:`.lexicon` in the text (every language at once, with
misspellings tolerated), scores the self-service intents from them, and otherwise asks the FAQ
matcher (``tools.faq``); "talk to a person" (``faq.wants_human``) comes first, always.

The rules are written for precision on order status: a wrong order answer is worse than a hand-off,
so a question is about an order only with an order word and a status word ("where is my order",
"cadê meu pedido"), a tracking word, or an order reference. General questions on delivery times,
payment methods or the return policy ("how long does delivery take") go to the FAQ.

The work is bounded (:data:`MAX_TEXT_CHARS`, :data:`MAX_TOKENS`); nothing here raises on any input.
"""

import re
from dataclasses import dataclass, field

from .. import faq
from ..text import normalize
from . import lexicon as lx

ORDER_STATUS = "order_status"
INVOICE = "invoice"
RETURN = "return"
HOURS = "hours"
FAQ = "faq"
HUMAN = "human"
NONE = "none"
SELF_SERVICE = (ORDER_STATUS, INVOICE, RETURN, HOURS)
INTENTS = (*SELF_SERVICE, FAQ, HUMAN, NONE)

MAX_TEXT_CHARS = 1000
"""Only the start of a long message is read."""
MAX_TOKENS = 120
MAX_REFERENCES = 5

STRONG = 3.0
"""An intent scored this high wins over an FAQ match."""
WEAK = 2.0
"""An intent scored this high answers when no FAQ entry matches."""

# Sales order references as Odoo numbers them by default (S00042); customers add "#" or "-".
ORDER_REF = re.compile(r"(?<![A-Za-z0-9])[Ss][#-]?(\d{4,9})(?![0-9])")
# Invoice numbers as Odoo 18 numbers them by default (INV/2026/00012).
INVOICE_REF = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,6}/\d{4}/\d{1,7})(?![0-9])")

_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_TIE_BREAK = (RETURN, INVOICE, ORDER_STATUS, HOURS)
"""When two intents score the same: the more specific first."""


@dataclass(frozen=True)
class Understanding:
    """What a message asks. ``intent`` is one of :data:`INTENTS`; ``confidence`` 0..1;
    ``faq_match`` the ``tools.faq.Match`` of an FAQ intent; ``smalltalk`` for greetings and thanks
    (not a question the assistant missed); ``exchange`` when a return is an exchange; ``source``
    ``"local"`` or ``"provider"`` (a language model)."""

    intent: str
    confidence: float = 0.0
    order_refs: tuple[str, ...] = ()
    invoice_refs: tuple[str, ...] = ()
    faq_match: object = None
    negative: bool = False
    smalltalk: bool = False
    exchange: bool = False
    source: str = "local"
    concepts: frozenset = field(default=frozenset(), compare=False, repr=False)

    @property
    def order_ref(self):
        return self.order_refs[0] if self.order_refs else None

    @property
    def faq_id(self):
        return self.faq_match.entry.id if self.faq_match is not None else None

    @property
    def label(self):
        """``faq:<entry id>`` for an FAQ answer, else the intent (the evaluation's labels)."""
        return f"{FAQ}:{self.faq_id}" if self.intent == FAQ else self.intent


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


def order_references(text) -> tuple[str, ...]:
    """The sales order references in ``text``, as Odoo names them (``"#s00042"`` ->
    ``"S00042"``), in order, without repeats, at most :data:`MAX_REFERENCES`."""
    if not isinstance(text, str):
        return ()
    found = dict.fromkeys(f"S{digits}" for digits in ORDER_REF.findall(text[:MAX_TEXT_CHARS]))
    return tuple(found)[:MAX_REFERENCES]


def invoice_references(text) -> tuple[str, ...]:
    """The invoice numbers in ``text`` (``INV/2026/00012``), upper-cased, at most
    :data:`MAX_REFERENCES`."""
    if not isinstance(text, str):
        return ()
    found = dict.fromkeys(ref.upper() for ref in INVOICE_REF.findall(text[:MAX_TEXT_CHARS]))
    return tuple(found)[:MAX_REFERENCES]


# --------------------------------------------------------------------------------------------
# Concepts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    stem: str
    prefix: bool


def _compile():
    """(latin phrases, CJK phrases, every latin word) of the lexicon."""
    latin, cjk, words = [], [], set()
    for concept, by_language in lx.PHRASES.items():
        for text in by_language.values():
            for raw in text.split("|"):
                parts = []
                for piece in raw.split():
                    prefix = piece.endswith("*")
                    stem = normalize(piece.rstrip("*"))
                    if stem:
                        parts.append(_Word(stem, prefix))
                if not parts:
                    continue
                if any(_CJK.search(p.stem) for p in parts):
                    cjk.append((concept, "".join(p.stem for p in parts)))
                else:
                    latin.append((concept, tuple(parts)))
                    words.update(p.stem for p in parts)
    return tuple(latin), tuple(cjk), frozenset(words)


_LATIN, _CJK_PHRASES, _KNOWN = _compile()


def _by_initial(latin):
    """{first letter: the latin phrases whose first word starts with it}: a token matches a
    word only when it starts with the word's first letter (exactly, as a prefix or misspelt),
    so each token is tried against a few dozen phrases instead of thousands."""
    index = {}
    for concept, words in latin:
        index.setdefault(words[0].stem[0], []).append((concept, words))
    return {initial: tuple(phrases) for initial, phrases in index.items()}


_LATIN_BY_INITIAL = _by_initial(_LATIN)
_STOP = frozenset().union(*faq.STOP_WORDS.values())


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of two
    neighbouring letters (and not already equal)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            return True
    return False


def _fuzzy_ok(token: str) -> bool:
    return (
        len(token) >= 4
        and token.isascii()
        and token.isalpha()
        and token not in _STOP
        and token not in _KNOWN
    )


def _word_matches(word: _Word, token: str) -> bool:
    if token == word.stem or (word.prefix and token.startswith(word.stem)):
        return True
    # a misspelling: one edit away from a word of five letters or more, same first letter
    return (
        len(word.stem) >= 5
        and token[:1] == word.stem[:1]
        and _fuzzy_ok(token)
        and _one_edit(token, word.stem)
    )


def concepts(text) -> frozenset[str]:
    """The :mod:`.lexicon` concepts found in ``text`` (normalized, bounded)."""
    if not isinstance(text, str):
        return frozenset()
    norm = normalize(text[:MAX_TEXT_CHARS])
    if not norm:
        return frozenset()
    tokens = norm.split()[:MAX_TOKENS]
    found = set()
    for start, token in enumerate(tokens):
        for concept, words in _LATIN_BY_INITIAL.get(token[:1], ()):
            if concept in found or start + len(words) > len(tokens):
                continue
            if all(_word_matches(w, tokens[start + i]) for i, w in enumerate(words)):
                found.add(concept)
    squeezed = norm.replace(" ", "")
    for concept, phrase in _CJK_PHRASES:
        if concept not in found and phrase in squeezed:
            found.add(concept)
    return frozenset(found)


def is_negative(text, found=None) -> bool:
    """Whether ``text`` sounds angry: an insult or a complaint word (lexicon ``NEGATIVE``), or
    shouting (three words in capitals, or "!!!")."""
    if not isinstance(text, str):
        return False
    found = concepts(text) if found is None else found
    head = text[:MAX_TEXT_CHARS]
    return lx.NEGATIVE in found or len(_SHOUT.findall(head)) >= 3 or "!!!" in head


# --------------------------------------------------------------------------------------------
# Intents
# --------------------------------------------------------------------------------------------


def intent_scores(found, *, order_refs=(), invoice_refs=(), only_reference=False) -> dict:
    """{self-service intent: score} from the concepts ``found`` and the references of a text."""
    f = found
    # "wrong item" is a return, "the invoice is wrong" is not
    returning = bool(f & {lx.RETURN, lx.EXCHANGE}) or (
        lx.DEFECT in f and not f & {lx.INVOICE, lx.PAY}
    )
    general = bool(f & {lx.POLICY, lx.DURATION})
    scores = dict.fromkeys(SELF_SERVICE, 0.0)

    if returning and not general:
        scores[RETURN] = STRONG

    if f & {lx.INVOICE, lx.PAY_LINK, lx.OWE} or invoice_refs:
        scores[INVOICE] = STRONG
    elif lx.PAY in f and lx.PAY_DONE in f:
        scores[INVOICE] = STRONG
    elif lx.PAY in f and lx.MY in f:
        scores[INVOICE] = WEAK
    if lx.PAY_MEANS in f and not (f & {lx.INVOICE, lx.PAY_DONE, lx.PAY_LINK, lx.OWE}):
        scores[INVOICE] = 0.0

    if f & {lx.HOURS, lx.ADDRESS}:
        scores[HOURS] = STRONG
    elif lx.OPEN in f:
        scores[HOURS] = STRONG if f & {lx.DAY, lx.STORE} else WEAK
    elif lx.WHERE in f and lx.STORE in f and lx.ORDER not in f:
        scores[HOURS] = STRONG

    order = 0.0
    if lx.TRACK in f or (lx.ORDER in f and lx.STATUS in f) or only_reference:
        order = STRONG
    elif order_refs and f & {lx.STATUS, lx.ORDER}:
        order = STRONG
    elif lx.ORDER in f and lx.MY in f:
        order = WEAK
    if lx.DURATION in f and not (lx.MY in f or order_refs):
        order = 0.0  # "how long does delivery take": the FAQ's
    if returning or scores[INVOICE] >= WEAK:
        order = 0.0  # "return my order", "the invoice of my order": the more specific intent
    scores[ORDER_STATUS] = order
    return scores


def _only_reference(norm: str, order_refs, found) -> bool:
    """Whether the text is little more than order references ("S00042", "e o S00042?", "what
    about S00042"): at most three other words, none of them about something else."""
    if not order_refs or found - {lx.MY, lx.SMALLTALK}:
        return False
    rest = norm
    for ref in order_refs:
        rest = re.sub(rf"\bs\s?{ref[1:]}\b", " ", rest)
    return len(rest.split()) <= 3


def understand(text, language=None, matcher=None, *, intents=SELF_SERVICE) -> Understanding:
    """What ``text`` asks; ``language`` (the customer's, may be None) narrows the FAQ entries,
    ``matcher`` is the company's ``tools.faq.Matcher`` (None: no FAQ), ``intents`` the
    self-service intents that may be recognized (the others are not: their questions may still
    be the FAQ's). Never raises."""
    if not isinstance(text, str) or not text.strip():
        return Understanding(NONE)
    head = text[:MAX_TEXT_CHARS]
    found = concepts(head)
    order_refs = order_references(head)
    invoice_refs = invoice_references(head)
    negative = is_negative(head, found)
    common = {
        "order_refs": order_refs,
        "invoice_refs": invoice_refs,
        "negative": negative,
        "exchange": lx.EXCHANGE in found,
        "concepts": found,
    }
    if faq.wants_human(head, language):
        return Understanding(HUMAN, 1.0, **common)
    scores = intent_scores(
        found,
        order_refs=order_refs,
        invoice_refs=invoice_refs,
        only_reference=_only_reference(normalize(head), order_refs, found),
    )
    scores = {intent: score if intent in intents else 0.0 for intent, score in scores.items()}
    best = max(_TIE_BREAK, key=lambda intent: (scores[intent], -_TIE_BREAK.index(intent)))
    if scores[best] >= STRONG:
        return Understanding(best, 0.9, **common)
    if _smalltalk(head, found):
        # "buenas tardes" is no question on delivery times ("cuánto tarda"), whatever the FAQ
        return Understanding(NONE, 0.0, smalltalk=True, **common)
    match = matcher.match(head, language) if matcher is not None else None
    if match is not None:
        return Understanding(FAQ, round(match.score, 3), faq_match=match, **common)
    if scores[best] >= WEAK:
        return Understanding(best, 0.6, **common)
    return Understanding(NONE, 0.0, **common)


def _smalltalk(text: str, found) -> bool:
    """A greeting, thanks or an acknowledgement and nothing else ("hi", "ok valeu", "👍")."""
    if not any(ch.isalnum() for ch in text):
        return True  # emoji, punctuation
    norm = normalize(text)
    short = len(norm.split()) <= 3 and len(_CJK.findall(norm)) <= 6
    return short and lx.SMALLTALK in found and not (found - {lx.SMALLTALK, lx.MY})
