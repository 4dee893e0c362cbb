from odoo import api, fields, models

from ..tools.assistant.understand import order_references


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "whatsapp.inbound.hook", "whatsapp.cost.rollup"]
    _whatsapp_inbound_sequence = 20

    whatsapp_conversation_ids = fields.Many2many(
        "whatsapp.conversation",
        "whatsapp_conversation_sale_order_rel",
        "order_id",
        "conversation_id",
        "WhatsApp Conversations",
        copy=False,
    )

    def action_confirm(self):
        res = super().action_confirm()
        self.env["whatsapp.notification.rule"]._notify_event("sale_confirmed", self)
        self.env["whatsapp.tag.rule"]._apply_order_rules(self)
        return res

    def action_whatsapp_conversation(self):
        """The conversation about this order, else the customer's conversations."""
        self.ensure_one()
        if len(self.whatsapp_conversation_ids) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "whatsapp.conversation",
                "res_id": self.whatsapp_conversation_ids.id,
                "view_mode": "form",
            }
        return self.partner_id.action_open_whatsapp_conversations()

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """Link the sales orders a customer mentions (e.g. "S00042") and log the message there."""
        names = {}
        for message in messages.filtered("body"):
            for ref in order_references(message.body):
                names.setdefault(ref, []).append(message)
        if not names:
            return
        orders = self.env["sale.order"].sudo().search([("name", "in", list(names))])
        for order in orders:
            for message in names[order.name]:
                conversation = message.conversation_id
                if (
                    order.company_id != conversation.company_id
                    or order.partner_id.commercial_partner_id
                    != conversation.partner_id.commercial_partner_id
                ):
                    continue  # someone else's order: never leak it into this thread
                if order not in conversation.sale_order_ids:
                    conversation.sale_order_ids = [fields.Command.link(order.id)]
                order.message_post(
                    body=self.env._(
                        "WhatsApp from %(name)s: %(text)s",
                        name=conversation.partner_id.display_name,
                        text=message.body,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
