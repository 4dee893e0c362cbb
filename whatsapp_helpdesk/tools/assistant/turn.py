"""What the assistant does with one customer message, once understood. No Odoo.

:func:`decide` turns an :class:`~.understand.Understanding` and the conversation's counters into
an :class:`Action`: hand over to a person, answer a self-service intent or the FAQ, show the help
menu, or stay silent. The hand-off always works: asking for a person, sounding angry (when the
company wants that), or being misunderstood :attr:`Settings.handoff_misses` times in a row
(greetings and thanks are not misses).
"""

from dataclasses import dataclass

from . import understand as u

HANDOFF, INTENT, FAQ, MENU, SILENT = "handoff", "intent", "faq", "menu", "silent"
ASKED, NEGATIVE, MISSES = "asked", "negative", "misses"
MENU_PREFIX = "wa_ai:menu:"
HUMAN_BUTTON = "wa_human"


@dataclass(frozen=True)
class Settings:
    """How a company's assistant behaves. ``intents``: the self-service intents it answers
    (none: only the FAQ and "talk to a person", the bot without the assistant);
    ``handoff_misses``: misunderstood messages in a row before handing over (0: never)."""

    intents: frozenset = frozenset(u.SELF_SERVICE)
    handoff_misses: int = 2
    handoff_on_negative: bool = True
    help_menu: bool = True


@dataclass(frozen=True)
class Action:
    """``kind``: handoff (``reason``: asked, negative, misses), intent (``intent``), faq, menu or
    silent; ``misses``: the misunderstood messages in a row after this one."""

    kind: str
    intent: str = ""
    reason: str = ""
    misses: int = 0


def decide(understanding, *, settings: Settings, misses: int = 0) -> Action:
    """The action for a message understood as ``understanding``; ``misses``: the misunderstood
    messages in a row before it."""
    intent = understanding.intent
    if intent == u.HUMAN:
        return Action(HANDOFF, reason=ASKED)
    if understanding.negative and settings.handoff_on_negative and settings.intents:
        return Action(HANDOFF, reason=NEGATIVE)
    if intent in u.SELF_SERVICE and intent in settings.intents:
        return Action(INTENT, intent=intent)
    if intent == u.FAQ:
        return Action(FAQ)
    if understanding.smalltalk or not settings.intents:
        return Action(SILENT, misses=misses)
    missed = misses + 1
    if settings.handoff_misses and missed >= settings.handoff_misses:
        return Action(HANDOFF, reason=MISSES, misses=missed)
    return Action(MENU if settings.help_menu else SILENT, misses=missed)


def menu_intent(reply_id) -> str | None:
    """The intent a help-menu choice names (``wa_ai:menu:invoice``), else None."""
    if isinstance(reply_id, str) and reply_id.startswith(MENU_PREFIX):
        intent = reply_id[len(MENU_PREFIX) :]
        return intent if intent in u.SELF_SERVICE else None
    return None
