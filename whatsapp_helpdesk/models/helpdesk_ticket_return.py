from odoo import api, fields, models
from odoo.tools import plaintext2html

from ..tools.assistant import returns

RETURN_REASONS = [
    ("damaged", "Arrived Damaged"),
    ("wrong_item", "Wrong Item"),
    ("size", "Size Does Not Fit"),
    ("not_as_described", "Not as Described"),
    ("changed_mind", "Changed Their Mind"),
    ("other", "Other"),
]


class HelpdeskTicket(models.Model):
    """Returns and exchanges a customer asked for on WhatsApp: a ticket of the "Return" category
    linked to the order and the lines to take back (OCA ``rma`` was weighed and left out: an
    application with its own stock routes for a request the helpdesk already follows)."""

    _inherit = "helpdesk.ticket"

    whatsapp_sale_order_id = fields.Many2one(
        "sale.order", "Order to Return", index="btree_not_null", copy=False
    )
    whatsapp_sale_line_ids = fields.Many2many(
        "sale.order.line",
        "helpdesk_ticket_whatsapp_return_line_rel",
        "ticket_id",
        "line_id",
        "Items to Return",
        copy=False,
    )
    whatsapp_return_kind = fields.Selection(
        [("return", "Return"), ("exchange", "Exchange")], "Request", copy=False
    )
    whatsapp_return_reason = fields.Selection(RETURN_REASONS, "Reason", copy=False)

    @api.model
    def _whatsapp_open_return(self, conversation, order, lines, *, kind, reason, words, assistant):
        """The ticket of a return (or exchange) the customer of ``conversation`` asked for, of
        ``order`` and its ``lines``; noted on the order."""
        kind = kind if kind in (returns.RETURN, returns.EXCHANGE) else returns.RETURN
        reason = reason if reason in dict(RETURN_REASONS) else "other"
        kinds = {"return": self.env._("Return"), "exchange": self.env._("Exchange")}
        reasons = dict(self._fields["whatsapp_return_reason"]._description_selection(self.env))
        items = "\n".join(
            f"- {line.qty_delivered:g} × {line.product_id.display_name or line.name}"
            for line in lines
        )
        text = "\n".join(
            part
            for part in (
                f"{kinds[kind]} {order.name}",
                items,
                self.env._("Reason: %s", reasons[reason]),
                words,
            )
            if part
        )
        team = assistant.return_team_id or conversation.team_id
        ticket = self.with_context(mail_create_nosubscribe=True).create(
            {
                "name": f"{kinds[kind]} {order.name}: {lines[:1].product_id.display_name or ''}"[
                    :80
                ],
                # the customer's words are text: escaped, never markup in the HTML field
                "description": plaintext2html(text),
                "partner_id": conversation.partner_id.id,
                "channel_id": self._whatsapp_channel().id,
                "category_id": assistant.return_category_id.id,
                "whatsapp_conversation_id": conversation.id,
                "team_id": team.id,
                "company_id": conversation.company_id.id,
                "whatsapp_sale_order_id": order.id,
                "whatsapp_sale_line_ids": [fields.Command.set(lines.ids)],
                "whatsapp_return_kind": kind,
                "whatsapp_return_reason": reason,
            }
        )
        ticket.message_unsubscribe(partner_ids=conversation.partner_id.ids)
        order.message_post(
            body=self.env._(
                "%(kind)s requested on WhatsApp: ticket %(ticket)s.",
                kind=kinds[kind],
                ticket=ticket.number,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return ticket
