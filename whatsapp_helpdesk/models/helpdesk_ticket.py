from odoo import api, fields, models
from odoo.tools import html2plaintext


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    whatsapp_conversation_id = fields.Many2one(
        "whatsapp.conversation", "WhatsApp Conversation", index="btree_not_null", copy=False
    )
    whatsapp_message_ids = fields.One2many(
        related="whatsapp_conversation_id.message_ids_wa", string="WhatsApp Messages"
    )
    whatsapp_window_open = fields.Boolean(related="whatsapp_conversation_id.window_open")

    def _whatsapp_sends(self, kwargs):
        """A reply written by an agent in the ticket goes to the customer on WhatsApp."""
        return (
            len(self) == 1
            and self.whatsapp_conversation_id
            and not self.env.context.get("whatsapp_no_send")
            and not self.env.user.share
            and kwargs.get("message_type", "notification") == "comment"
            and kwargs.get("subtype_xmlid", "mail.mt_note") == "mail.mt_comment"
        )

    def message_post(self, **kwargs):
        sends = self._whatsapp_sends(kwargs)
        if sends:
            self.whatsapp_conversation_id._check_window_open()
            kwargs["partner_ids"] = [
                pid for pid in kwargs.get("partner_ids") or [] if pid != self.partner_id.id
            ]
        message = super().message_post(**kwargs)
        if sends:
            self.whatsapp_conversation_id._send_text(
                html2plaintext(message.body or ""), record=self
            )
        return message

    @api.model
    def _whatsapp_channel(self):
        return self.env.ref("whatsapp_helpdesk.helpdesk_ticket_channel_whatsapp", False)

    def action_open_whatsapp_conversation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "whatsapp.conversation",
            "res_id": self.whatsapp_conversation_id.id,
            "view_mode": "form",
        }
