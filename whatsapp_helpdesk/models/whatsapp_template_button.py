from odoo import api, fields, models


class WhatsappTemplateButton(models.Model):
    """A template button: quick reply, URL (optional dynamic suffix), phone, copy code."""

    _name = "whatsapp.template.button"
    _description = "WhatsApp Template Button"
    _order = "sequence, id"

    template_id = fields.Many2one("whatsapp.template", required=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    button_type = fields.Selection(
        [
            ("QUICK_REPLY", "Quick Reply"),
            ("URL", "Visit Website"),
            ("PHONE_NUMBER", "Call Phone Number"),
            ("COPY_CODE", "Copy Offer Code"),
        ],
        "Type",
        required=True,
        default="QUICK_REPLY",
    )
    text = fields.Char(help="At most 25 characters.")
    url = fields.Char(
        "URL", help="May end with one variable, e.g. https://shop.example/track/{{1}}"
    )
    phone_number = fields.Char(help="In international format, e.g. +5511987654321.")
    example = fields.Char(help="The offer code of a copy-code button.")

    def _to_spec(self):
        self.ensure_one()
        spec = {"type": self.button_type, "text": self.text or ""}
        if self.button_type == "URL":
            spec["url"] = self.url or ""
        elif self.button_type == "PHONE_NUMBER":
            spec["phone_number"] = self.phone_number or ""
        elif self.button_type == "COPY_CODE":
            spec["example"] = self.example or ""
        return spec

    @api.depends("button_type", "text")
    def _compute_display_name(self):
        labels = dict(self._fields["button_type"].selection)
        for button in self:
            button.display_name = button.text or labels.get(button.button_type)
