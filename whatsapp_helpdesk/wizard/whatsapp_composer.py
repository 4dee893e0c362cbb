from odoo import api, fields, models
from odoo.exceptions import UserError


class WhatsappComposer(models.TransientModel):
    """Write a WhatsApp message to the partner of any record, within the 24-hour window."""

    _name = "whatsapp.composer"
    _description = "Send WhatsApp Message"

    res_model = fields.Char("Document Model")
    res_id = fields.Many2oneReference("Document", model_field="res_model")
    partner_id = fields.Many2one("res.partner", required=True)
    account_id = fields.Many2one(
        "whatsapp.account",
        required=True,
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    phone_e164 = fields.Char(related="partner_id.whatsapp_e164")
    conversation_id = fields.Many2one("whatsapp.conversation", compute="_compute_conversation")
    window_open = fields.Boolean(compute="_compute_conversation")
    window_end = fields.Datetime(compute="_compute_conversation")
    body = fields.Text("Message")

    @api.depends("partner_id", "account_id")
    def _compute_conversation(self):
        Conversation = self.env["whatsapp.conversation"]
        for composer in self:
            number = composer.partner_id.whatsapp_e164
            conversation = Conversation
            if number and composer.account_id:
                conversation = Conversation.search(
                    [("account_id", "=", composer.account_id.id), ("phone_e164", "=", number)],
                    limit=1,
                )
            composer.conversation_id = conversation
            composer.window_open = conversation.window_open
            composer.window_end = conversation.window_end

    def _related_record(self):
        if self.res_model and self.res_id and self.res_model in self.env:
            return self.env[self.res_model].browse(self.res_id).exists()
        return None

    def action_send(self):
        self.ensure_one()
        if not self.account_id:
            raise UserError(self.env._("Configure a WhatsApp account first."))
        conversation = self.account_id._get_conversation(self.partner_id)
        record = self._related_record()
        message = conversation._send_text(self.body, record=record)
        if record and record != conversation and hasattr(record, "message_post"):
            # a trace on the record for whoever can read it; posting may need write rights the
            # sender does not have (a salesperson on a partner), hence sudo with the real author
            record.check_access("read")
            record.sudo().message_post(
                body=self.env._("WhatsApp message sent: %(body)s", body=message.body),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
            )
        return {"type": "ir.actions.act_window_close"}
