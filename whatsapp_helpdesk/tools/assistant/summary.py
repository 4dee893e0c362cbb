"""What the customer asked, in a few lines, for the person who takes the conversation. No Odoo.

:func:`summarize` reads the customer's recent messages (oldest first, with what the assistant
understood of each) and keeps what matters to the agent: the questions (greetings, thanks and
repeats left out, each cut short), the intents seen and the order references mentioned.
"""

import functools
from dataclasses import dataclass

from ..text import normalize
from . import understand as u

MAX_QUESTIONS = 5
MAX_CHARS = 200
TOPICS = (*u.SELF_SERVICE, u.FAQ)


@dataclass(frozen=True)
class Turn:
    """One customer message: its text and what the assistant made of it (an intent, or another
    outcome such as a hand-off, which is not a topic); empty: what the text says."""

    text: str
    intent: str = ""


@dataclass(frozen=True)
class Summary:
    questions: tuple[str, ...]
    intents: tuple[str, ...]
    references: tuple[str, ...]


@functools.lru_cache(maxsize=4096)
def _understood(text: str) -> u.Understanding:
    """What ``text`` asks, without FAQ or language (immutable, kept per text: a summary is made
    at every hand-off of the conversation's recent messages, most of them seen before)."""
    return u.understand(text)


def _short(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def summarize(turns, *, limit=MAX_QUESTIONS) -> Summary:
    """The last ``limit`` distinct questions of ``turns``, the intents and references seen."""
    questions, seen, intents, references = [], set(), [], []
    for turn in turns:
        text = turn.text if isinstance(turn.text, str) else ""
        if not text.strip():
            continue
        understood = _understood(text)
        references.extend(understood.order_refs + understood.invoice_refs)
        intent = turn.intent or understood.intent
        if intent in TOPICS:
            intents.append(intent)
        key = normalize(text)
        bare_request = understood.intent == u.HUMAN and len(key.split()) <= 6
        if understood.smalltalk or bare_request or not key or key in seen:
            continue
        seen.add(key)
        questions.append(_short(text))
    return Summary(
        questions=tuple(questions[-limit:]),
        intents=tuple(dict.fromkeys(intents)),
        references=tuple(dict.fromkeys(references)),
    )
