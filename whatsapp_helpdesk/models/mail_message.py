import uuid

from markupsafe import Markup
from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import text as wa_text


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

    @api.model
    def _whatsapp_paragraph(self, text):
        """The body stored for the chatter paragraph of ``text`` (see
        ``tools.text.chatter_paragraph``): as is when Odoo's sanitizer would store it unchanged,
        else sanitized by the body field, as the ORM's create would."""
        body, sanitize = wa_text.chatter_paragraph(text)
        if sanitize:
            return self._whatsapp_sanitized(Markup(body))
        return Markup(body)

    @api.model
    def _whatsapp_sanitized(self, html):
        """``html`` as the body field stores it (through Odoo's sanitizer)."""
        return self._fields["body"].convert_to_cache(html, self) or Markup()

    @api.model
    def _whatsapp_insert(self, rows):
        """Chatter messages inserted in one statement (the ORM's create costs milliseconds a
        message: e-mail routing lookups, the body sanitized twice); returns them in the order of
        ``rows``. Each row: ``model``, ``res_id``, ``record_name``, ``body`` (as stored: see
        :meth:`_whatsapp_paragraph`), ``author_id``, ``subtype_id``, ``date``, optionally
        ``message_type`` (comment). For threads without followers: no one is notified."""
        if not rows:
            return self.browse()
        now = fields.Datetime.now()
        columns = {
            "model": "varchar",
            "res_id": "int4",
            "record_name": "varchar",
            "body": "text",
            "message_type": "varchar",
            "subtype_id": "int4",
            "author_id": "int4",
            "date": "timestamp",
            "message_id": "varchar",
        }
        defaults = {"message_type": "comment", "date": now}
        # each row's Message-Id, drawn here: it ties the ids RETURNING gives back to the rows
        message_ids = [f"<{uuid.uuid4().hex}-whatsapp@odoo>" for _row in rows]
        # an empty value (False) is NULL, as the ORM writes it (cast to int4, false would be 0)
        arrays = {
            name: [
                str(row["body"]) if name == "body" else row.get(name, defaults.get(name)) or None
                for row in rows
            ]
            for name in columns
            if name != "message_id"
        }
        arrays["message_id"] = message_ids
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message
                    (model, res_id, record_name, body, message_type, subtype_id, author_id,
                     date, message_id, is_internal, email_add_signature, create_uid, write_uid,
                     create_date, write_date)
                SELECT v.model, v.res_id, v.record_name, v.body, v.message_type, v.subtype_id,
                       v.author_id, v.date, v.message_id,
                       false, true, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(arrays)s) AS v(%(names)s)
                RETURNING message_id, id
                """,
                uid=self.env.uid,
                now=now,
                arrays=SQL(", ").join(
                    SQL("%s::%s[]", values, SQL(columns[name])) for name, values in arrays.items()
                ),
                names=SQL(", ").join(SQL.identifier(name) for name in arrays),
            )
        )
        inserted = dict(self.env.cr.fetchall())
        messages = self.browse([inserted[message_id] for message_id in message_ids])
        bodies = [Markup(body) for body in arrays["body"]]
        self.env.cache.update(messages, self._fields["body"], bodies)
        for model in set(arrays["model"]):
            self.env[model].invalidate_model(
                ["message_ids", "message_needaction", "message_needaction_counter"]
            )
        return messages
