from odoo import models


class MailMessage(models.Model):
    _inherit = "mail.message"

    def _extras_to_store(self, store, format_reply):
        """A chatter message that went (or goes) out on WhatsApp carries its delivery state: the
        thread shows its ticks, or the reason it failed."""
        res = super()._extras_to_store(store, format_reply)
        sent = (
            self.env["whatsapp.message"]
            .sudo()
            .search([("mail_message_id", "in", self.ids), ("direction", "=", "out")])
        )
        for message in sent:
            store.add(
                message.mail_message_id,
                {
                    "whatsapp_state": message.state,
                    "whatsapp_failure": message.failure_reason or False,
                },
            )
        return res
