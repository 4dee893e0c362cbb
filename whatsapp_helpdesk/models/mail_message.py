from markupsafe import Markup
from odoo import models
from odoo.tools import SQL


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

    def _whatsapp_write_bodies(self, bodies):
        """Give these messages their ``bodies`` (one per message, None: kept as created), in one
        statement. Each body is what Odoo's sanitizer stores for it (see
        ``tools.text.paragraph_html``): the ORM would sanitize it again on create, twice (column
        and cache), which costs more than the rest of a message."""
        written = [(m.id, Markup(b)) for m, b in zip(self, bodies, strict=True) if b]
        if not written:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE mail_message m SET body = v.body FROM (VALUES %s) AS v(id, body)"
                " WHERE m.id = v.id",
                SQL(", ").join(SQL("(%s, %s)", mid, str(body)) for mid, body in written),
            )
        )
        records = self.browse([mid for mid, _b in written])
        self.env.cache.update(records, self._fields["body"], [body for _m, body in written])
        records.modified(["body"])
