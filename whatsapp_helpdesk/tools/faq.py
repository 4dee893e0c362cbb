"""First-line FAQ bot: match an inbound question against a multilingual knowledge base. No Odoo.

A knowledge base is a list of :class:`Entry` (several phrasings of one question, optional
keywords, the answer) per language. :class:`Matcher` scores an inbound text against every
phrasing of the entries in the customer's language and returns the best :class:`Match` when its
score reaches the threshold; below it the conversation goes to a person. The score combines

* the IDF-weighted cosine between the token sets of the text and of a stored phrasing (words
  with light stop-word removal and conservative plural trimming for Latin scripts, character
  bigrams for Chinese, Japanese and Korean; a misspelt word is mapped to its closest known word),
* a :class:`difflib.SequenceMatcher` ratio on the normalized strings of short texts (typos),
* a boost for every entry keyword found in the text.

Everything is deterministic, standard library only, and the work per inbound text is bounded
(:data:`MAX_TEXT_CHARS`, :data:`MAX_QUERY_TOKENS`). :func:`wants_human` recognises "talk to a
person" requests in the supported languages.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from .text import base_language, id_key, normalize

DEFAULT_THRESHOLD = 0.55
"""Lowest score :meth:`Matcher.match` answers with."""

MAX_TEXT_CHARS = 2000
"""Only the first characters of an inbound text are matched (bounded work for long messages)."""

MAX_QUERY_TOKENS = 200
"""Distinct tokens of an inbound text taken into account, in order of appearance."""

SEQ_MAX_CHARS = 120
"""The string similarity is only computed when both normalized strings are at most this long."""

SEQ_FLOOR = 0.6
"""A ``SequenceMatcher`` ratio at or below this counts for nothing (unrelated short questions
easily share half of their characters); above it the ratio is rescaled to 0..1."""

KEYWORD_BOOST = 0.25
"""Each keyword hit closes this fraction of the remaining gap between the score and 1."""

FUZZY_CUTOFF = 0.8
"""Least ``SequenceMatcher`` ratio for mapping an unknown word onto a known one (typos)."""

FUZZY_MIN_LEN = 4
MAX_FUZZY_LOOKUPS = 32

HUMAN_SCAN_CHARS = 10000
""":func:`wants_human` looks at this many characters of the text."""


# --------------------------------------------------------------------------------------------
# Normalization and tokens
# --------------------------------------------------------------------------------------------

_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")
_RUNS = re.compile(f"([{_CJK_RANGES}]+)|([^\\s{_CJK_RANGES}]+)")
_ZH_PARTICLES = re.compile("[的吗呢吧啊呀嘛]+")
"""Chinese sentence particles: cut CJK runs there so they do not glue bigrams together."""


_STOP_WORDS = {
    "en": """
        a an the is are was were be been am do does did i me my mine you your yours we us our he
        she it its they them their this that these those of to in on at for from by with about
        and or but if so as than then there here into can could would should will shall may
        might must have has had get got please pls thanks thank thx hi hello hey dear sir madam
        want wanted like know tell just also any some don dont doesn didn isn aren cant cannot
    """,
    "pt": """
        a o as os um uma uns umas e é ser são foi era de do da dos das no na nos nas em ao aos à
        às pelo pela pelos pelas por para pra pro com sem que se me mim meu minha meus minhas
        seu sua seus suas você vocês voce voces vc vcs eu nós nos ele ela eles elas lhe isso isto
        esse essa este esta aquele aquela tem têm ter está estão estou olá ola oi obrigado
        obrigada favor gostaria queria quero saber tá ta aí ai já ja também tambem
    """,
    "es": """
        a al el la los las un una unos unas y o e u de del en por para con sin que se me mi mis
        tu tus su sus yo usted ustedes nosotros le les lo es son ser está están estoy esta este
        esto ese esa eso hay hola buenas gracias favor quisiera quiero queria saber también ya
    """,
    "id": """
        yang dan di ke dari ini itu saya aku kami kita anda kamu dia mereka adalah ada untuk
        dengan pada atau juga akan sudah telah bisa boleh mau ingin tolong mohon halo hai terima
        kasih kak min gan sis nya ya dong deh sih tanya nanya
    """,
}
STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(normalize(words).split()) for lang, words in _STOP_WORDS.items()
}
"""Small built-in stop-word lists per base language (normalized, accent-free)."""

_ALL_STOP_WORDS = frozenset().union(*STOP_WORDS.values())


def _stem(word: str, lang: str) -> str:
    """Conservative suffix trimming of a lower-case ASCII word (mostly plurals)."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if lang == "id":
        for suffix in ("nya", "lah", "kah"):
            if word.endswith(suffix) and len(word) >= 7:
                return word[: -len(suffix)]
        return word
    if lang == "pt" and len(word) > 4 and word.endswith(("oes", "aes")):
        return word[:-3] + "ao"
    if lang == "es" and len(word) > 4 and word.endswith("ces"):
        return word[:-3] + "z"
    if lang in ("pt", "es") and len(word) > 4 and word.endswith("es") and word[-3] in "lnrsz":
        return word[:-2]
    if lang == "en" and len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text, language=None) -> list[str]:
    """Tokens of ``text`` in order of appearance (duplicates kept).

    Latin and other spaced scripts give words minus the stop words of ``language`` (of all built-in
    lists when the language is None or has no list), single ASCII letters dropped, plurals
    trimmed. Chinese, Japanese and Korean runs give character bigrams (a single character stays a
    unigram); Chinese sentence particles split the runs.
    """
    norm = normalize(text)
    lang = base_language(language)
    stops = STOP_WORDS.get(lang, _ALL_STOP_WORDS)
    out = []
    for cjk, words in _RUNS.findall(norm):
        if cjk:
            for piece in _ZH_PARTICLES.split(cjk):
                if len(piece) == 1:
                    out.append(piece)
                else:
                    out.extend(piece[i : i + 2] for i in range(len(piece) - 1))
            continue
        if words in stops or (len(words) == 1 and words.isascii() and not words.isdigit()):
            continue
        out.append(_stem(words, lang))
    return out


# --------------------------------------------------------------------------------------------
# Knowledge base and matcher
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One question of the knowledge base.

    ``language`` is an Odoo/WhatsApp code (``pt_BR``, ``es``, ``zh_CN``...); ``""`` answers in
    every language. ``questions`` are several phrasings, ``keywords`` words or short phrases whose
    presence in the inbound text makes this entry more likely. Lists are stored as tuples.
    """

    id: object
    language: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    answer: str = ""

    def __post_init__(self):
        for name in ("questions", "keywords"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "language", self.language or "")


@dataclass(frozen=True)
class Match:
    """The entry an inbound text matched, its score (0..1) and the closest stored phrasing."""

    entry: Entry
    score: float
    matched_question: str


@dataclass(frozen=True, slots=True)
class _Phrasing:
    question: str
    norm: str
    tokens: tuple[str, ...]  # distinct, sorted: a fixed summation order
    norm_sq: float


@dataclass(frozen=True, slots=True)
class _Keyword:
    norm: str
    tokens: frozenset[str]
    cjk: bool


@dataclass(frozen=True, slots=True)
class _Prepared:
    entry: Entry
    base: str
    order: tuple
    phrasings: tuple[_Phrasing, ...]
    keywords: tuple[_Keyword, ...]


class Matcher:
    """Match inbound texts against ``entries``; :meth:`match` answers from ``threshold`` on.

    All token weights are computed once here. The matcher is read-only after construction and
    may be shared between threads.
    """

    def __init__(self, entries: Iterable[Entry], *, threshold: float = DEFAULT_THRESHOLD):
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = threshold
        self.entries = tuple(entries)
        for entry in self.entries:
            if not isinstance(entry, Entry):
                raise TypeError(f"not an Entry: {entry!r}")

        raw = []
        document_frequency: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            lang = entry.language or None
            questions = []
            for question in entry.questions:
                norm = normalize(question)
                if norm:
                    questions.append((question, norm, frozenset(tokens(norm, lang))))
            keywords = []
            for keyword in entry.keywords:
                norm = normalize(keyword)
                if norm:
                    cjk = bool(_CJK_CHAR.search(norm))
                    keywords.append(_Keyword(norm, frozenset(tokens(norm, lang)), cjk))
            document = set().union(*(q[2] for q in questions), *(k.tokens for k in keywords))
            for token in document:
                document_frequency[token] = document_frequency.get(token, 0) + 1
            order = (id_key(entry.id), entry.language, index)
            raw.append((entry, order, questions, keywords))

        count = len(self.entries)
        self._idf = {
            token: 1.0 + math.log((count + 1) / (df + 1))
            for token, df in document_frequency.items()
        }
        self._unknown_idf = 1.0 + math.log(count + 1)
        self._prepared = tuple(
            _Prepared(
                entry=entry,
                base=base_language(entry.language),
                order=order,
                phrasings=tuple(
                    _Phrasing(
                        question,
                        norm,
                        tuple(sorted(toks)),
                        math.fsum(self._idf[t] ** 2 for t in sorted(toks)),
                    )
                    for question, norm, toks in questions
                ),
                keywords=tuple(keywords),
            )
            for entry, order, questions, keywords in raw
        )
        by_length: dict[int, list[str]] = {}
        for token in sorted(self._idf):
            if len(token) >= FUZZY_MIN_LEN - 1 and token.isascii() and token.isalpha():
                by_length.setdefault(len(token), []).append(token)
        self._by_length = by_length

    # ----------------------------------------------------------------------------------------

    def match(self, text, language=None) -> Match | None:
        """The best match when its score reaches the threshold, else None.

        Only entries of the same base language as ``language`` (``pt`` ~ ``pt_BR``) and entries
        with language ``""`` are considered; every entry when ``language`` is None. Ties go to
        the lower id.
        """
        results = self._rank(text, language)
        if results and results[0].score >= self.threshold:
            return results[0]
        return None

    def match_all(self, text, language=None, limit=3, *, min_score=0.0) -> list[Match]:
        """Up to ``limit`` matches (score > 0 and >= ``min_score``), best first, whatever the
        threshold: the candidates of a "did you mean" list."""
        if limit is not None and limit <= 0:
            return []
        results = [m for m in self._rank(text, language) if m.score >= min_score]
        return results if limit is None else results[:limit]

    # ----------------------------------------------------------------------------------------

    def _closest(self, token: str) -> tuple[str, float] | None:
        """The known token nearest to an unknown ``token`` (typo), with its similarity, or None.

        A candidate qualifies with a ``SequenceMatcher`` ratio of at least :data:`FUZZY_CUTOFF`
        or when it is one typo away (two neighbours swapped; one letter changed from five
        letters on), which then counts as a similarity of :data:`FUZZY_CUTOFF`.
        """
        if len(token) < FUZZY_MIN_LEN or not token.isascii() or not token.isalpha():
            return None
        best, best_similarity = None, 0.0
        for length in range(len(token) - 2, len(token) + 3):
            for candidate in self._by_length.get(length, ()):
                matcher = SequenceMatcher(None, token, candidate, autojunk=False)
                similarity = 0.0
                if matcher.real_quick_ratio() >= FUZZY_CUTOFF and matcher.quick_ratio() >= max(
                    FUZZY_CUTOFF, best_similarity
                ):
                    similarity = matcher.ratio()
                if similarity < FUZZY_CUTOFF and _one_typo(token, candidate):
                    similarity = FUZZY_CUTOFF
                if similarity >= FUZZY_CUTOFF and similarity > best_similarity:
                    best, best_similarity = candidate, similarity
        return None if best is None else (best, best_similarity)

    def _query_weights(self, norm: str, language) -> tuple[dict[str, float], float]:
        """IDF weight of every known (or typo-mapped) token of the text, and the squared norm."""
        weights: dict[str, float] = {}
        unknown_sq = 0.0
        lookups = 0
        distinct = list(dict.fromkeys(tokens(norm, language)))[:MAX_QUERY_TOKENS]
        for token in distinct:
            if token in self._idf:
                weights[token] = self._idf[token]
                continue
            near = None
            if lookups < MAX_FUZZY_LOOKUPS and len(token) >= FUZZY_MIN_LEN:
                lookups += 1
                near = self._closest(token)
            if near is None:
                unknown_sq += self._unknown_idf**2
            else:
                known, ratio = near
                weights[known] = max(weights.get(known, 0.0), self._idf[known] * ratio)
        norm_sq = math.fsum(w * w for _, w in sorted(weights.items())) + unknown_sq
        return weights, norm_sq

    def _rank(self, text, language) -> list[Match]:
        if not isinstance(text, str):
            return []
        norm = normalize(text[:MAX_TEXT_CHARS])
        if not norm:
            return []
        wanted = base_language(language)
        weights, query_sq = self._query_weights(norm, language)
        present = frozenset(weights)
        short = len(norm) <= SEQ_MAX_CHARS
        scored = []
        for prepared in self._prepared:
            if wanted and prepared.base and prepared.base != wanted:
                continue
            best, best_question = 0.0, ""
            for phrasing in prepared.phrasings:
                similarity = 0.0
                if query_sq > 0 and phrasing.norm_sq > 0:
                    overlap = math.fsum(
                        weights[t] * self._idf[t] for t in phrasing.tokens if t in weights
                    )
                    similarity = overlap / math.sqrt(query_sq * phrasing.norm_sq)
                if short and len(phrasing.norm) <= SEQ_MAX_CHARS:
                    similarity = max(similarity, _string_similarity(norm, phrasing.norm))
                if similarity > best:
                    best, best_question = similarity, phrasing.question
            hits = sum(
                1
                for k in prepared.keywords
                if (k.tokens and k.tokens <= present) or (k.cjk and k.norm in norm)
            )
            score = best + (1.0 - best) * (1.0 - (1.0 - KEYWORD_BOOST) ** hits)
            score = round(min(1.0, score), 6)
            if score <= 0:
                continue
            if not best_question and prepared.phrasings:
                best_question = prepared.phrasings[0].question
            scored.append((prepared.order, Match(prepared.entry, score, best_question)))
        scored.sort(key=lambda item: (-item[1].score, item[0]))
        return [m for _, m in scored]


def _one_typo(a: str, b: str) -> bool:
    """Same length, differing by two swapped neighbours, or by one letter from five letters on."""
    if len(a) != len(b) or len(a) < FUZZY_MIN_LEN:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return len(a) >= 5
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _string_similarity(a: str, b: str) -> float:
    """``SequenceMatcher`` ratio above :data:`SEQ_FLOOR`, rescaled to 0..1."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() <= SEQ_FLOOR or matcher.quick_ratio() <= SEQ_FLOOR:
        return 0.0
    return max(0.0, (matcher.ratio() - SEQ_FLOOR) / (1.0 - SEQ_FLOOR))


# --------------------------------------------------------------------------------------------
# "Talk to a person"
# --------------------------------------------------------------------------------------------


def _phrases(verbs, links, targets) -> list[str]:
    return [f"{v} {link} {t}" for v in verbs for link in links for t in targets]


_HUMAN_PHRASES = {
    "en": [
        *_phrases(
            ("talk", "speak", "chat"),
            ("to", "with"),
            (
                "a person",
                "a real person",
                "someone",
                "somebody",
                "a human",
                "human",
                "an agent",
                "agent",
                "a representative",
                "an operator",
                "staff",
                "your staff",
                "support",
            ),
        ),
        "human",
        "agent",
        "operator",
        "representative",
        "real person",
        "live person",
    ],
    "pt": [
        *_phrases(
            ("falar", "conversar"),
            ("com",),
            (
                "alguem",
                "uma pessoa",
                "pessoa",
                "um humano",
                "humano",
                "um atendente",
                "uma atendente",
                "atendente",
                "um agente",
                "agente",
            ),
        ),
        "atendente",
        "atendimento humano",
        "humano",
        "pessoa real",
        "operador",
    ],
    "es": [
        *_phrases(
            ("hablar", "conversar", "comunicarme"),
            ("con",),
            (
                "alguien",
                "una persona",
                "persona",
                "un humano",
                "humano",
                "un agente",
                "agente",
                "un asesor",
                "asesor",
                "un operador",
            ),
        ),
        "agente",
        "asesor",
        "humano",
        "persona real",
        "operador",
    ],
    "id": [
        *_phrases(
            ("bicara", "berbicara", "ngobrol", "chat"),
            ("dengan", "sama", "ke"),
            ("orang", "manusia", "agen", "cs", "petugas", "operator"),
        ),
        *_phrases(("sambungkan", "hubungkan"), ("ke", "dengan"), ("cs", "admin", "petugas")),
        "manusia",
        "agen",
        "petugas",
        "orang asli",
    ],
    "zh": ["人工", "客服", "真人"],
    "fr": [
        *_phrases(("parler",), ("a", "avec"), ("quelqu un", "une personne", "un conseiller")),
        "conseiller",
        "humain",
    ],
    "de": ["mitarbeiter", "mensch", "menschen", "mit jemandem sprechen"],
    "it": [
        *_phrases(("parlare",), ("con",), ("qualcuno", "una persona", "un operatore")),
        "operatore",
    ],
    "hi": ["इंसान", "एजेंट", "किसी से बात", "व्यक्ति से बात"],
}
HUMAN_PHRASES: dict[str, frozenset[str]] = {
    lang: frozenset(normalize(p) for p in phrases) for lang, phrases in _HUMAN_PHRASES.items()
}
"""Normalized "talk to a person" phrases per base language."""

_ALL_HUMAN_PHRASES = frozenset().union(*HUMAN_PHRASES.values())


def wants_human(text, language=None) -> bool:
    """True when ``text`` asks for a person ("talk to a person", "atendente", "人工"...).

    With a known ``language`` its phrases, the English ones and the Chinese ones are looked for;
    otherwise those of every language. Latin phrases must match whole words.
    """
    if not isinstance(text, str):
        return False
    norm = normalize(text[:HUMAN_SCAN_CHARS])
    if not norm:
        return False
    lang = base_language(language)
    if lang in HUMAN_PHRASES:
        phrases = HUMAN_PHRASES[lang] | HUMAN_PHRASES["en"] | HUMAN_PHRASES["zh"]
    else:
        phrases = _ALL_HUMAN_PHRASES
    padded = f" {norm} "
    for phrase in sorted(phrases):
        if _CJK_CHAR.search(phrase):
            if phrase in norm:
                return True
        elif f" {phrase} " in padded:
            return True
    return False
