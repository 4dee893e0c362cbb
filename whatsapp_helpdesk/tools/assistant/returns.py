"""Returns and exchanges: the steps of a customer's request, as plain decisions. No Odoo.

The customer picks the order (an interactive list of their shipped orders), then the item or
all items, then a reason (a list, or their own words); the caller then records the request (a
helpdesk ticket linked to the order and its lines) and :func:`done` gives the reference back.
Each step returns a :class:`~.phrases.Reply` whose ``state`` says what is awaited next; an
answer is only taken when it names something the assistant offered in that state.
"""

from dataclasses import dataclass
from datetime import datetime

from .. import formatting
from .orders import find
from .phrases import MAX_ROWS, Reply, Row, locale_of, say

RETURN, EXCHANGE = "return", "exchange"
REASONS = ("damaged", "wrong_item", "size", "not_as_described", "changed_mind", "other")
ORDER_PREFIX = "wa_ai:ret_order:"
LINE_PREFIX = "wa_ai:ret_line:"
REASON_PREFIX = "wa_ai:ret_reason:"
ALL_LINES = "all"
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class Line:
    id: int
    product: str
    quantity: float


@dataclass(frozen=True)
class Order:
    """An order of the customer; ``shipped`` when something of it left the warehouse (only
    then can it come back); ``lines`` what was delivered."""

    id: int
    ref: str
    date: datetime | None
    shipped: bool
    lines: tuple[Line, ...] = ()


def _state(kind, step, **values):
    return {"flow": "return", "kind": kind, "step": step, **values}


def start(orders, *, ref=None, exchange=False, ambiguous=False, language=None, tz=None) -> Reply:
    """The first step: the order named by ``ref``, else the only shipped order, else a list of
    the shipped ones. ``orders``: the customer's orders, newest first."""
    kind = EXCHANGE if exchange else RETURN
    orders = list(orders)
    if ref:
        order = find(orders, ref)
        if order is None:
            return Reply(say("order.unknown", language, ref=ref), offer_person=True)
        if not order.shipped or not order.lines:
            return Reply(say("return.not_shipped", language, ref=order.ref))
        return ask_lines(order, kind, language)
    if ambiguous:
        return Reply(
            say("order.ask_reference", language),
            offer_person=True,
            state=_state(kind, "reference"),
        )
    shipped = [o for o in orders if o.shipped and o.lines]
    if not shipped:
        return Reply(say("return.none", language), offer_person=True)
    if len(shipped) == 1:
        return ask_lines(shipped[0], kind, language)
    shown = shipped[:MAX_ROWS]
    locale = locale_of(language)
    rows = tuple(
        Row(
            f"{ORDER_PREFIX}{o.id}",
            o.ref,
            formatting.format_date(o.date, locale, tz=tz) if o.date else "",
        )
        for o in shown
    )
    return Reply(
        say("return.pick_order", language),
        rows=rows,
        list_button=say("order.button", language),
        state=_state(kind, "order", offered=[o.id for o in shown]),
    )


def ask_lines(order: Order, kind, language) -> Reply:
    """Which item of ``order``: asked only when it has several."""
    if len(order.lines) == 1:
        return ask_reason(
            _state(kind, "reason", order=order.id, lines=[order.lines[0].id]), language
        )
    shown = order.lines[: MAX_ROWS - 1]
    rows = [
        Row(
            f"{LINE_PREFIX}{line.id}",
            line.product,
            f"{formatting.format_number(line.quantity, locale_of(language))} × {line.product}",
        )
        for line in shown
    ]
    rows.append(Row(f"{LINE_PREFIX}{ALL_LINES}", say("return.all_items", language)))
    return Reply(
        say("return.pick_line", language, ref=order.ref),
        rows=tuple(rows),
        list_button=say("return.items_button", language),
        state=_state(kind, "line", order=order.id, offered=[line.id for line in order.lines]),
    )


def ask_reason(state, language) -> Reply:
    rows = tuple(Row(f"{REASON_PREFIX}{code}", say(f"reason.{code}", language)) for code in REASONS)
    return Reply(
        say("return.ask_reason", language),
        rows=rows,
        list_button=say("return.reasons_button", language),
        state={**state, "step": "reason"},
    )


def _offered_id(reply_id, prefix, state):
    if not isinstance(reply_id, str) or not reply_id.startswith(prefix):
        return None
    try:
        value = int(reply_id[len(prefix) :])
    except ValueError:
        return None
    return value if value in ((state or {}).get("offered") or []) else None


def picked_order(reply_id, state) -> int | None:
    """The order id of the "which order?" answer, when the assistant offered it."""
    return _offered_id(reply_id, ORDER_PREFIX, state)


def picked_lines(reply_id, state) -> list[int]:
    """The line ids of the "which item?" answer ("all items": every offered one); [] when the
    answer names nothing the assistant offered."""
    if reply_id == f"{LINE_PREFIX}{ALL_LINES}":
        return list((state or {}).get("offered") or [])
    line_id = _offered_id(reply_id, LINE_PREFIX, state)
    return [line_id] if line_id is not None else []


def reason(reply_id, text) -> tuple[str, str]:
    """(code, words) of the reason: a listed one, or the customer's own words (``other``)."""
    if isinstance(reply_id, str) and reply_id.startswith(REASON_PREFIX):
        code = reply_id[len(REASON_PREFIX) :]
        if code in REASONS:
            return code, ""
    words = " ".join(str(text or "").split())[:MAX_REASON_CHARS]
    return "other", words


def done(ticket_ref, order_ref, kind, language) -> Reply:
    key = "exchange.created" if kind == EXCHANGE else "return.created"
    return Reply(say(key, language, ticket=ticket_ref, ref=order_ref))
