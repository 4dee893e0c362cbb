import logging
from datetime import timedelta

from odoo import fields, models

from ..tools.assistant import hours, invoices, orders, phrases, returns
from ..tools.assistant import understand as u

_logger = logging.getLogger(__name__)

MAX_ORDERS = 20
MAX_INVOICES = 20
SHOWN_ORDER_STATES = ("sent", "sale", "cancel")
ORDER_STATES = {"sent": "quotation", "sale": "confirmed", "cancel": "cancelled"}


class WhatsappAssistant(models.Model):
    """The self-service answers: the facts fetched from Odoo for the conversation's customer
    only (``_scope``), handed to ``tools.assistant`` to decide and word, and sent back."""

    _inherit = "whatsapp.assistant"

    # -- whose data ------------------------------------------------------------------------------

    def _scope(self, conversation):
        """(customers, ambiguous): the commercial partners whose records this conversation may
        see, and whether the number belongs to several of them (then nothing is listed without a
        reference, and a reference must be one of theirs)."""
        partner = conversation.partner_id
        if not partner:
            return self.env["res.partner"], False
        Partner = self.env["res.partner"].sudo()
        same_number = (
            Partner.search([("whatsapp_e164", "=", conversation.phone_e164)])
            if conversation.phone_e164
            else Partner
        )
        customers = (partner | same_number).commercial_partner_id
        return customers, len(customers) > 1

    def _sale_orders(self, conversation, customers, *, refs=(), ids=(), recent=True):
        """The customers' sales orders in the conversation's company: those named (``refs``,
        ``ids``), else the recent ones, newest first."""
        domain = [
            ("partner_id", "child_of", customers.ids),
            ("company_id", "=", conversation.company_id.id),
            ("state", "in", SHOWN_ORDER_STATES),
        ]
        if refs:
            domain.append(("name", "in", [ref.upper() for ref in refs]))
        elif ids:
            domain.append(("id", "in", list(ids)))
        elif recent:
            since = fields.Datetime.now() - timedelta(
                days=min(max(self.recent_days, 1), orders.MAX_RECENT_DAYS)
            )
            domain.append(("date_order", ">=", since))
        if not customers:
            return self.env["sale.order"]
        return (
            self.env["sale.order"]
            .sudo()
            .search(domain, order="date_order desc, id desc", limit=MAX_ORDERS)
        )

    @staticmethod
    def _tracking_url(picking):
        try:
            return picking.carrier_tracking_url or ""
        except Exception:  # a carrier's link builder may fail; the tracking reference remains
            _logger.info("no tracking link for %s", picking.name, exc_info=True)
            return ""

    def _order_facts(self, sale_orders):
        facts = []
        for order in sale_orders:
            shipments = []
            for picking in order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing"):
                state = {"done": "done", "cancel": "cancel"}.get(picking.state, "waiting")
                shipments.append(
                    orders.Shipment(
                        state,
                        date_done=picking.date_done or None,
                        carrier=picking.carrier_id.name or "",
                        tracking_ref=picking.carrier_tracking_ref or "",
                        tracking_url=self._tracking_url(picking) if state == "done" else "",
                        delivered_at=picking.whatsapp_delivered_at or None,
                    )
                )
            facts.append(
                orders.Order(
                    id=order.id,
                    ref=order.name,
                    state=ORDER_STATES.get(order.state, "confirmed"),
                    date=order.date_order or None,
                    amount=order.amount_total,
                    currency=order.currency_id.name,
                    expected_date=order.commitment_date or order.expected_date or None,
                    shipments=tuple(shipments),
                )
            )
        return facts

    def _tz(self, conversation):
        return conversation.partner_id.tz or conversation.company_id.partner_id.tz or "UTC"

    # -- the intents -----------------------------------------------------------------------------

    def _answer_intent(self, intent, message, conversation, understood, state=None):
        handlers = {
            u.ORDER_STATUS: self._answer_order_status,
            u.INVOICE: self._answer_invoice,
            u.RETURN: self._answer_return,
            u.HOURS: self._answer_hours,
        }
        handlers[intent](message, conversation, understood)

    def _named_orders(self, conversation, understood):
        """(the customer's orders the message is about: the one it names, else the recent ones;
        that reference or None; whether the number cannot tell whose orders to show)."""
        customers, ambiguous = self._scope(conversation)
        ref = understood.order_refs[0] if understood.order_refs else None
        found = self._sale_orders(conversation, customers, refs=[ref] if ref else ())
        return found, ref, ambiguous

    def _answer_order_status(self, message, conversation, understood):
        found, ref, ambiguous = self._named_orders(conversation, understood)
        reply = orders.answer(
            self._order_facts(found),
            ref=ref,
            ambiguous=ambiguous,
            language=conversation.language,
            tz=self._tz(conversation),
        )
        self._send_reply(message, conversation, reply, u.ORDER_STATUS)

    def _pick_order(self, message, conversation, reply_id, state):
        order_id = orders.picked(reply_id, state) if state.get("flow") == "order" else None
        customers, _ambiguous = self._scope(conversation)
        found = self._sale_orders(conversation, customers, ids=[order_id]) if order_id else None
        if not found:
            self._answer_order_status(message, conversation, u.Understanding(u.ORDER_STATUS))
            return
        text = orders.describe(
            self._order_facts(found)[0], conversation.language, tz=self._tz(conversation)
        )
        self._send_reply(message, conversation, phrases.Reply(text), "flow")

    def _answer_invoice(self, message, conversation, understood):
        customers, ambiguous = self._scope(conversation)
        moves = self.env["account.move"]
        if customers:
            moves = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                        ("partner_id", "child_of", customers.ids),
                        ("company_id", "=", conversation.company_id.id),
                    ],
                    order="invoice_date desc, id desc",
                    limit=MAX_INVOICES,
                )
            )
        reply = invoices.answer(
            self._invoice_facts(moves, conversation.company_id),
            ref=understood.invoice_refs[0] if understood.invoice_refs else None,
            order_ref=understood.order_ref,
            ambiguous=ambiguous,
            language=conversation.language,
            today=fields.Date.context_today(self.with_context(tz=self._tz(conversation))),
        )
        self._send_reply(message, conversation, reply, u.INVOICE)

    def _online_payment(self, company):
        """Whether ``company`` takes payments online (an enabled payment provider)."""
        Provider = self.env["payment.provider"].sudo()
        return bool(
            Provider.search_count([("company_id", "=", company.id), ("state", "=", "enabled")])
        )

    def _invoice_facts(self, moves, company):
        online = moves and self._online_payment(company)
        facts = []
        for move in moves:
            due = move.payment_state in invoices.OPEN_STATES and move.amount_residual > 0
            pay_url = move.get_base_url() + move.get_portal_url() if online and due else ""
            facts.append(
                invoices.Invoice(
                    id=move.id,
                    ref=move.name,
                    date=move.invoice_date or None,
                    due_date=move.invoice_date_due or None,
                    amount=move.amount_total,
                    residual=move.amount_residual,
                    currency=move.currency_id.name,
                    payment_state=move.payment_state,
                    pay_url=pay_url,
                    order_refs=tuple(move.invoice_line_ids.sale_line_ids.order_id.mapped("name")),
                )
            )
        return facts

    def _answer_hours(self, message, conversation, understood):
        team = conversation.team_id or self.env["helpdesk.ticket.team"].sudo().search(
            [("whatsapp_enabled", "=", True), ("company_id", "=", conversation.company_id.id)],
            limit=1,
        )
        intervals, tz = team._whatsapp_intervals() if team else ([], None)
        company = conversation.company_id.partner_id
        address = ", ".join(
            part for part in (company.street, company.street2, company.zip, company.city) if part
        )
        reply = hours.answer(
            intervals,
            moment=fields.Datetime.now(),
            tz=tz or "UTC",
            address=address,
            language=conversation.language,
            customer_tz=conversation.partner_id.tz,
        )
        self._send_reply(message, conversation, reply, u.HOURS)

    # -- returns ---------------------------------------------------------------------------------

    def _returnable_facts(self, sale_orders):
        facts = []
        for order in sale_orders:
            shipped = bool(
                order.picking_ids.filtered(
                    lambda p: p.picking_type_code == "outgoing" and p.state == "done"
                )
            )
            lines = order.order_line.filtered(
                lambda line: (
                    not line.display_type and not line.is_delivery and line.qty_delivered > 0
                )
            )
            facts.append(
                returns.Order(
                    id=order.id,
                    ref=order.name,
                    date=order.date_order or None,
                    shipped=shipped and order.state == "sale",
                    lines=tuple(
                        returns.Line(
                            line.id, line.product_id.display_name or line.name, line.qty_delivered
                        )
                        for line in lines
                    ),
                )
            )
        return facts

    def _answer_return(self, message, conversation, understood):
        found, ref, ambiguous = self._named_orders(conversation, understood)
        reply = returns.start(
            self._returnable_facts(found),
            ref=ref,
            exchange=understood.exchange,
            ambiguous=ambiguous,
            language=conversation.language,
            tz=self._tz(conversation),
        )
        self._send_reply(message, conversation, reply, u.RETURN)

    def _restart_return(self, message, conversation):
        self._answer_return(message, conversation, u.Understanding(u.RETURN))

    def _pick_return_order(self, message, conversation, reply_id, state):
        order_id = returns.picked_order(reply_id, state) if state.get("step") == "order" else None
        customers, _ambiguous = self._scope(conversation)
        found = self._sale_orders(conversation, customers, ids=[order_id]) if order_id else None
        facts = self._returnable_facts(found) if found else []
        if not facts or not facts[0].shipped or not facts[0].lines:
            self._restart_return(message, conversation)
            return
        reply = returns.ask_lines(
            facts[0], state.get("kind", returns.RETURN), conversation.language
        )
        self._send_reply(message, conversation, reply, "flow")

    def _pick_return_lines(self, message, conversation, reply_id, state):
        line_ids = returns.picked_lines(reply_id, state) if state.get("step") == "line" else []
        if not line_ids:
            self._restart_return(message, conversation)
            return
        reply = returns.ask_reason({**state, "lines": line_ids}, conversation.language)
        self._send_reply(message, conversation, reply, "flow")

    def _finish_return(self, message, conversation, state, code, words):
        """Record the return (a helpdesk ticket linked to the order and its lines) once the
        order and lines are checked again against the customer's own."""
        customers, _ambiguous = self._scope(conversation)
        order = self._sale_orders(conversation, customers, ids=[state.get("order") or 0])
        lines = order.order_line.filtered(lambda line: line.id in (state.get("lines") or []))
        if not order or not lines:
            self._restart_return(message, conversation)
            return
        kind = state.get("kind", returns.RETURN)
        ticket = (
            self.env["helpdesk.ticket"]
            .sudo()
            ._whatsapp_open_return(
                conversation, order, lines, kind=kind, reason=code, words=words, assistant=self
            )
        )
        reply = returns.done(ticket.number, order.name, kind, conversation.language)
        self._send_reply(message, conversation, reply, u.RETURN)
