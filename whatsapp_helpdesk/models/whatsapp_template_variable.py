from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import formatting


class WhatsappTemplateVariable(models.Model):
    """What fills one placeholder of a template at send time, and the sample Meta reviews."""

    _name = "whatsapp.template.variable"
    _description = "WhatsApp Template Variable"
    _order = "location_order, button_index, id"

    template_id = fields.Many2one("whatsapp.template", required=True, ondelete="cascade")
    location = fields.Selection(
        [("header", "Header"), ("body", "Body"), ("button", "Button")], required=True
    )
    button_id = fields.Many2one("whatsapp.template.button", ondelete="cascade")
    name = fields.Char("Placeholder", required=True, help="1, 2... or the parameter's name.")
    source = fields.Selection(
        [
            ("field", "Field of the Record"),
            ("free_text", "Fixed Text"),
            ("user", "Sending User"),
            ("portal_url", "Portal Link of the Record"),
        ],
        required=True,
        default="field",
    )
    field_path = fields.Char(help="e.g. partner_id.name, amount_total, commitment_date")
    free_text = fields.Char()
    sample = fields.Char(help="An example value; Meta needs one to review the template.")
    location_key = fields.Char(compute="_compute_position", store=True)
    location_order = fields.Integer(compute="_compute_position", store=True)
    button_index = fields.Integer(compute="_compute_position", store=True)

    @api.depends("location", "button_id", "button_id.sequence", "template_id.button_ids")
    def _compute_position(self):
        for variable in self:
            variable.location_order = {"header": 0, "body": 1, "button": 2}.get(
                variable.location, 3
            )
            index = 0
            if variable.location == "button" and variable.button_id:
                buttons = variable.template_id.button_ids.sorted("sequence")
                index = (
                    list(buttons).index(variable.button_id) if variable.button_id in buttons else 0
                )
            variable.button_index = index
            variable.location_key = (
                f"button_{index}" if variable.location == "button" else variable.location
            )

    @api.depends("location", "name")
    def _compute_display_name(self):
        for variable in self:
            variable.display_name = f"{variable.location} {{{{{variable.name}}}}}"

    # ------------------------------------------------------------------
    # Values
    # ------------------------------------------------------------------

    def _value_for(self, record, partner, lang=None, click_token=None):
        """The text of this variable for ``record``, formatted in ``lang`` (default: the
        partner's language); the suffix of a tracked URL button is the message's
        ``click_token`` (its sample in a preview)."""
        self.ensure_one()
        if self.location == "button" and self.button_id.click_target_url:
            return click_token or self.sample or ""
        lang = lang or partner.lang or self.env.lang or "en_US"
        if self.source == "free_text":
            return self.free_text or ""
        if self.source == "user":
            return self.env.user.name or ""
        if self.source == "portal_url":
            if record and hasattr(record, "get_portal_url"):
                return record.get_base_url() + record.get_portal_url()
            return record.get_base_url() if record else ""
        return self._field_value(record, partner, lang)

    def _field_value(self, record, partner, lang):
        """Follow ``field_path`` on ``record`` with the sender's rights, then format the value.

        Every step is checked against the sender's access rights, so a template never reveals a
        field its sender could not read.
        """
        if not record or not self.field_path:
            return ""
        current = record
        field = None
        parts = self.field_path.split(".")
        for position, part in enumerate(parts):
            field = current._fields.get(part)
            if field is None:
                raise UserError(
                    self.env._(
                        "The template variable {{%(name)s}} uses %(path)s, which %(model)s does "
                        "not have.",
                        name=self.name,
                        path=self.field_path,
                        model=current._description,
                    )
                )
            try:
                current.check_access("read")
                current.check_field_access_rights("read", [part])
            except AccessError as error:
                raise UserError(
                    self.env._(
                        "You may not read %(path)s, used by the template variable {{%(name)s}}.",
                        path=self.field_path,
                        name=self.name,
                    )
                ) from error
            if position < len(parts) - 1:
                if field.type not in ("many2one", "one2many", "many2many"):
                    raise UserError(
                        self.env._("%(path)s does not lead anywhere.", path=self.field_path)
                    )
                current = current[part][:1]
                if not current:
                    return ""
        value = current[parts[-1]]
        return self._format(current, field, value, partner, lang)

    @api.model
    def _format(self, record, field, value, partner, lang):
        if field.type == "monetary":
            currency = record[field.get_currency_field(record)] if record else None
            code = currency.name if currency else self.env.company.currency_id.name
            digits = currency.decimal_places if currency else None
            return formatting.format_money(value or 0.0, code, lang, digits=digits)
        if field.type in ("many2one", "one2many", "many2many"):
            return ", ".join(value.mapped("display_name"))
        if field.type == "selection":
            selection = dict(field._description_selection(record.with_context(lang=lang).env))
            return selection.get(value, "") if value else ""
        tz = partner.tz or self.env.user.tz or "UTC"
        return formatting.format_value(value, field.type, lang, tz=tz)
