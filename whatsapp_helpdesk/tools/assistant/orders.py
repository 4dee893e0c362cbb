"""Order status: what to tell a customer asking where their order is. No Odoo.

The caller fetches the customer's own orders (and only theirs) as :class:`Order` facts;
:func:`answer` picks the order the question is about and says where it stands, with the carrier
and the tracking link of what left the warehouse, or asks which order it is about (an interactive
list), or for the reference when the number cannot tell whose orders to show.
"""

from dataclasses import dataclass
from datetime import datetime

from .. import formatting
from .phrases import MAX_ROWS, Reply, Row, join, locale_of, say

QUOTATION, CONFIRMED, PARTIAL, SHIPPED, DELIVERED, CANCELLED = (
    "quotation",
    "confirmed",
    "partial",
    "shipped",
    "delivered",
    "cancelled",
)
ACTIVE_STAGES = frozenset({QUOTATION, CONFIRMED, PARTIAL, SHIPPED})
ROW_PREFIX = "wa_ai:order:"
# Orders listed without a reference are those of the last days the company set, ten years at most.
MAX_RECENT_DAYS = 3660


@dataclass(frozen=True)
class Shipment:
    """A delivery of the order: ``state`` is ``waiting`` (not shipped yet), ``done`` (left the
    warehouse) or ``cancel``; ``delivered_at`` when the carrier confirmed the delivery."""

    state: str
    date_done: datetime | None = None
    carrier: str = ""
    tracking_ref: str = ""
    tracking_url: str = ""
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Order:
    """A sales order of the customer; ``state`` is ``quotation``, ``confirmed`` or
    ``cancelled``; dates are naive UTC as Odoo stores them."""

    id: int
    ref: str
    state: str
    date: datetime | None
    amount: float
    currency: str
    expected_date: datetime | None = None
    shipments: tuple[Shipment, ...] = ()


def stage(order: Order) -> str:
    """Where ``order`` stands: one of quotation, confirmed (being prepared), partial, shipped,
    delivered, cancelled."""
    if order.state == "cancelled":
        return CANCELLED
    if order.state == "quotation":
        return QUOTATION
    live = [s for s in order.shipments if s.state != "cancel"]
    done = [s for s in live if s.state == "done"]
    if not done:
        return CONFIRMED
    if len(done) < len(live):
        return PARTIAL
    return DELIVERED if all(s.delivered_at for s in done) else SHIPPED


def _tracking_lines(order: Order, language) -> list[str]:
    lines = []
    for shipment in order.shipments:
        if shipment.state != "done" or shipment.delivered_at:
            continue
        if shipment.carrier:
            lines.append(say("order.carrier", language, carrier=shipment.carrier))
        if shipment.tracking_url:
            lines.append(say("order.track_link", language, url=shipment.tracking_url))
        elif shipment.tracking_ref:
            lines.append(say("order.track_ref", language, tracking=shipment.tracking_ref))
    return list(dict.fromkeys(lines))


def describe(order: Order, language, *, tz=None) -> str:
    """Where ``order`` stands, in the customer's ``language``; dates in time zone ``tz``."""
    locale = locale_of(language)

    def date(value):
        return formatting.format_date(value, locale, tz=tz) if value else ""

    amount = formatting.format_money(order.amount, order.currency, locale)
    current = stage(order)
    if current == CANCELLED:
        return say("order.cancelled", language, ref=order.ref)
    if current == QUOTATION:
        return say("order.quotation", language, ref=order.ref, amount=amount)
    if current == CONFIRMED:
        expected = order.expected_date
        return join(
            [
                say("order.confirmed", language, ref=order.ref, amount=amount),
                say("order.expected", language, date=date(expected)) if expected else "",
            ]
        )
    done = [s for s in order.shipments if s.state == "done"]
    if current == DELIVERED:
        delivered = max(s.delivered_at for s in done)
        return say("order.delivered", language, ref=order.ref, date=date(delivered))
    shipped = max((s.date_done for s in done if s.date_done), default=None)
    key = "order.partial" if current == PARTIAL else "order.shipped"
    return join(
        [say(key, language, ref=order.ref, date=date(shipped)), *_tracking_lines(order, language)]
    )


def row(order: Order, language, *, tz=None) -> Row:
    """``order`` as a choice of the "which order?" list."""
    locale = locale_of(language)
    parts = [
        formatting.format_date(order.date, locale, tz=tz) if order.date else "",
        formatting.format_money(order.amount, order.currency, locale),
        say(f"stage.{stage(order)}", language),
    ]
    return Row(f"{ROW_PREFIX}{order.id}", order.ref, " · ".join(p for p in parts if p))


def find(orders, ref):
    """The order named ``ref`` (any case) among ``orders``, or None."""
    wanted = (ref or "").strip().upper()
    return next((o for o in orders if o.ref.upper() == wanted), None) if wanted else None


def answer(orders, *, ref=None, ambiguous=False, language=None, tz=None) -> Reply:
    """What to tell a customer asking about their order.

    ``orders``: the customer's orders, newest first (the caller fetched only theirs);
    ``ref``: the reference the customer gave, if any; ``ambiguous``: the number belongs to
    several customers, so no order is shown without its reference.
    """
    orders = list(orders)
    if ref:
        order = find(orders, ref)
        if order is None:
            return Reply(say("order.unknown", language, ref=ref), offer_person=True)
        return Reply(describe(order, language, tz=tz))
    if ambiguous:
        return Reply(
            say("order.ask_reference", language),
            offer_person=True,
            state={"flow": "order", "step": "reference"},
        )
    if not orders:
        return Reply(say("order.none", language), offer_person=True)
    active = [o for o in orders if stage(o) in ACTIVE_STAGES]
    if len(orders) == 1 or len(active) == 1:
        return Reply(describe(active[0] if active else orders[0], language, tz=tz))
    shown = (active or orders)[:MAX_ROWS]
    return Reply(
        say("order.pick", language),
        rows=tuple(row(o, language, tz=tz) for o in shown),
        list_button=say("order.button", language),
        state={"flow": "order", "step": "pick", "offered": [o.id for o in shown]},
    )


def picked(reply_id, state) -> int | None:
    """The order id of a "which order?" list answer, when that order was offered in ``state``
    (an id the assistant did not offer is never taken)."""
    if not isinstance(reply_id, str) or not reply_id.startswith(ROW_PREFIX):
        return None
    try:
        order_id = int(reply_id[len(ROW_PREFIX) :])
    except ValueError:
        return None
    offered = (state or {}).get("offered") or []
    return order_id if order_id in offered else None
