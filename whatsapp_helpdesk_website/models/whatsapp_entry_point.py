import base64
import io

import qrcode
from odoo import api, fields, models
from odoo.addons.whatsapp_helpdesk.tools import click_to_chat


class WhatsappEntryPoint(models.Model):
    """A way in to a WhatsApp conversation that is not a web page: a QR code on a shop window or
    a parcel, a link in a newsletter or an ad. Its link carries its id, so the first message of
    a customer who came through it records it (and the conversation goes to its team)."""

    _name = "whatsapp.entry.point"
    _description = "WhatsApp Entry Point"
    _inherit = ["whatsapp.inbound.hook"]
    _order = "name"
    _check_company_auto = True
    # Before tickets and automatic answers: they may read where the customer came from.
    _whatsapp_inbound_sequence = 5

    name = fields.Char(required=True, help="Where it is used: 'Shop window Rio', 'Parcel insert'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    account_id = fields.Many2one(
        "whatsapp.account",
        "WhatsApp Number",
        required=True,
        check_company=True,
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
    )
    website_id = fields.Many2one("website", check_company=True)
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        check_company=True,
        help="Conversations started here go to this team while nobody holds them.",
    )
    product_id = fields.Many2one("product.template", check_company=True)
    prefill = fields.Char(
        "Prefilled Text",
        translate=True,
        help="What the customer finds typed in WhatsApp, before the entry point's tag.",
    )
    utm_campaign = fields.Char("Campaign")
    utm_source = fields.Char("Source")
    utm_medium = fields.Char("Medium")
    link = fields.Char(compute="_compute_link", help="The wa.me link the QR code opens.")
    qr_code = fields.Binary("QR Code", compute="_compute_qr_code")
    conversation_ids = fields.One2many("whatsapp.conversation", "entry_point_id")
    conversation_count = fields.Integer(compute="_compute_conversation_count")

    def _source(self):
        self.ensure_one()
        return {
            "e": self.id,
            "w": self.website_id.id,
            "p": self.product_id.id,
            "c": self.utm_campaign,
            "s": self.utm_source,
            "m": self.utm_medium,
        }

    @api.depends(
        "account_id.display_phone_number",
        "prefill",
        "website_id",
        "product_id",
        "utm_campaign",
        "utm_source",
        "utm_medium",
    )
    def _compute_link(self):
        for entry in self:
            number = entry.account_id.sudo().display_phone_number
            text = entry.prefill or self.env._("Hello!")
            try:
                entry.link = click_to_chat.link(
                    number, click_to_chat.prefilled_text(text, entry._source())
                )
            except ValueError:
                entry.link = False

    @api.depends("link")
    def _compute_qr_code(self):
        for entry in self:
            if not entry.link:
                entry.qr_code = False
                continue
            image = qrcode.make(entry.link, box_size=10, border=2)
            stream = io.BytesIO()
            image.save(stream, format="PNG")
            entry.qr_code = base64.b64encode(stream.getvalue())

    def _compute_conversation_count(self):
        counts = self.env["whatsapp.conversation"]._count_per("entry_point_id", self)
        for entry in self:
            entry.conversation_count = counts.get(entry.id, 0)

    def action_open_conversations(self):
        self.ensure_one()
        return self.env["whatsapp.conversation"]._action_where("entry_point_id", self)

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """The first tagged message of a conversation records where the customer came from."""
        for message in messages.filtered("click_to_chat_source"):
            conversation = message.conversation_id
            if conversation.entry_at:
                continue
            conversation._record_entry(message.click_to_chat_source)
