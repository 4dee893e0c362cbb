from odoo import api, fields, models


class WhatsappCostRollup(models.AbstractModel):
    """The stored WhatsApp cost of a business record: what Meta charged for the messages sent
    about it (``whatsapp.message.res_model`` / ``res_id``), in the company's currency."""

    _name = "whatsapp.cost.rollup"
    _description = "WhatsApp cost of a record"

    whatsapp_cost_message_ids = fields.One2many(
        "whatsapp.message",
        "res_id",
        domain=lambda self: [("res_model", "=", self._name)],
        string="WhatsApp Messages About It",
    )
    whatsapp_cost = fields.Float(
        "WhatsApp Cost",
        compute="_compute_whatsapp_cost",
        store=True,
        digits=(16, 4),
        help="What Meta charged for the WhatsApp messages sent about it (company currency).",
    )

    @api.depends("whatsapp_cost_message_ids.cost")
    def _compute_whatsapp_cost(self):
        costs = self.env["whatsapp.message"]._cost_by(
            "res_id", self.ids, [("res_model", "=", self._name)]
        )
        for record in self:
            record.whatsapp_cost = costs.get(record.id, 0.0)
