"""Invoices and payments: what a customer owes, what is paid, and where to pay. No Odoo.

The caller fetches the customer's own posted invoices as :class:`Invoice` facts, with the link
to pay one online when the company takes online payments; :func:`answer` says what is due (with
the links and the total), or that everything is paid, or the status of the invoice the customer
named (by its number or its order's reference).
"""

from dataclasses import dataclass
from datetime import date, datetime

from .. import formatting
from .phrases import Reply, join, locale_of, say

MAX_LISTED = 5
OPEN_STATES = frozenset({"not_paid", "partial"})


@dataclass(frozen=True)
class Invoice:
    """A customer invoice; ``payment_state`` as Odoo's (``not_paid``, ``partial``,
    ``in_payment``, ``paid``, ``reversed``); ``residual`` is what remains to pay."""

    id: int
    ref: str
    date: date | None
    due_date: date | None
    amount: float
    residual: float
    currency: str
    payment_state: str
    pay_url: str = ""
    order_refs: tuple[str, ...] = ()

    @property
    def open(self):
        return self.payment_state in OPEN_STATES and self.residual > 0


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


def describe(invoice: Invoice, language, *, today) -> str:
    """The status of one invoice, with its payment link when something is due."""
    locale = locale_of(language)
    amount = formatting.format_money(invoice.amount, invoice.currency, locale)
    if invoice.open:
        due = _as_date(invoice.due_date)
        key = "invoice.overdue" if due and due < _as_date(today) else "invoice.open"
        text = say(
            key,
            language,
            ref=invoice.ref,
            date=formatting.format_date(invoice.date, locale) if invoice.date else "",
            residual=formatting.format_money(invoice.residual, invoice.currency, locale),
            due=formatting.format_date(due, locale) if due else "",
        )
        link = say("invoice.pay_link", language, url=invoice.pay_url) if invoice.pay_url else ""
        return join([text, link])
    if invoice.payment_state == "in_payment":
        return say("invoice.in_payment", language, ref=invoice.ref, amount=amount)
    return say("invoice.paid", language, ref=invoice.ref, amount=amount)


def answer(invoices, *, ref=None, order_ref=None, ambiguous=False, language=None, today) -> Reply:
    """What to tell a customer asking about invoices and payments.

    ``invoices``: the customer's posted invoices, newest first; ``ref`` an invoice number or
    ``order_ref`` an order reference the customer gave; ``ambiguous``: the number belongs to
    several customers, so nothing is shown without a reference.
    """
    invoices = [i for i in invoices if i.payment_state != "reversed"]
    wanted = (ref or "").strip().upper()
    if wanted or order_ref:
        order = (order_ref or "").strip().upper()
        named = [
            i
            for i in invoices
            if (wanted and i.ref.upper() == wanted)
            or (order and order in (r.upper() for r in i.order_refs))
        ]
        if not named:
            return Reply(say("invoice.unknown", language, ref=ref or order_ref), offer_person=True)
        return Reply(join(describe(i, language, today=today) for i in named[:MAX_LISTED]))
    if ambiguous:
        return Reply(
            say("invoice.ask_reference", language),
            offer_person=True,
            state={"flow": "invoice", "step": "reference"},
        )
    if not invoices:
        return Reply(say("invoice.none", language), offer_person=True)
    due = [i for i in invoices if i.open]
    pending = [i for i in invoices if i.payment_state == "in_payment"]
    if not due:
        lines = [describe(i, language, today=today) for i in pending[:MAX_LISTED]]
        return Reply(join([*lines, say("invoice.all_paid", language) if not pending else ""]))
    lines = [describe(i, language, today=today) for i in due[:MAX_LISTED]]
    currencies = {i.currency for i in due}
    if len(due) > 1 and len(currencies) == 1:
        total = formatting.format_money(
            sum(i.residual for i in due), currencies.pop(), locale_of(language)
        )
        lines.append(say("invoice.total", language, amount=total))
    return Reply(join(lines))
