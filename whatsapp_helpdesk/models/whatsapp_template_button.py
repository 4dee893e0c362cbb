from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import click_tracking


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
    click_target_url = fields.Char(
        "Track Clicks To",
        help="Count who clicks: the button then opens Odoo's redirect with a token per message "
        "(its URL is set for you), which records the click and forwards here.",
    )
    phone_number = fields.Char(help="In international format, e.g. +5511987654321.")
    example = fields.Char(help="The offer code of a copy-code button.")

    @api.model_create_multi
    def create(self, vals_list):
        buttons = super().create(vals_list)
        buttons._point_to_tracker()
        return buttons

    def write(self, vals):
        res = super().write(vals)
        if {"click_target_url", "button_type", "url"} & set(vals):
            self._point_to_tracker()
        return res

    def _point_to_tracker(self):
        """A tracked button's URL is the redirect (its variable: the message's token)."""
        for button in self.filtered("click_target_url"):
            tracker = click_tracking.tracker_url(button.get_base_url())
            if button.url != tracker:
                button.url = tracker

    @api.constrains("click_target_url", "button_type")
    def _check_click_target_url(self):
        for button in self.filtered("click_target_url"):
            if button.button_type != "URL":
                raise ValidationError(self.env._("Only a URL button tracks clicks."))
            try:
                click_tracking.check_target(button.click_target_url)
            except ValueError as error:
                raise ValidationError(
                    self.env._("The click target is not valid: %(error)s", error=error)
                ) from None

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
