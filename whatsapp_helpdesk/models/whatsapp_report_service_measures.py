from odoo import api, fields, models
from odoo.tools import SQL

# (measure, label, duration it is a percentile of, fraction): one field and one SQL aggregate each
PERCENTILES = [
    ("first_response_median", "First Response (h, median)", "first_response_hours", 0.5),
    ("first_response_p90", "First Response (h, 90th percentile)", "first_response_hours", 0.9),
    ("resolution_median", "Resolution (h, median)", "resolution_hours", 0.5),
    ("resolution_p90", "Resolution (h, 90th percentile)", "resolution_hours", 0.9),
]


class WhatsappReportServiceMeasures(models.AbstractModel):
    """The service figures that the conversation and ticket reports share: first response and
    resolution times in working hours (average, median, 90th percentile), the share met within
    the team's targets, and the targets missed."""

    _name = "whatsapp.report.service.measures"
    _inherit = ["whatsapp.report.mixin"]
    _description = "WhatsApp Service Measures"

    _report_percentiles = {name: (source, part) for name, _label, source, part in PERCENTILES}

    first_response_hours = fields.Float(
        "First Response (h, average)",
        readonly=True,
        aggregator="avg",
        help="In the team's working hours; empty until a person answers.",
    )
    resolution_hours = fields.Float(
        "Resolution (h, average)",
        readonly=True,
        aggregator="avg",
        help="In the team's working hours; empty until resolved.",
    )
    # the percentile measures, computed by PostgreSQL per group (see whatsapp.report.mixin)
    locals().update(
        {
            name: fields.Float(label, compute="_compute_report_measures", aggregator="percentile")
            for name, label, _source, _part in PERCENTILES
        }
    )
    first_response_target = fields.Float(
        "First Response Target (h)", readonly=True, aggregator=None
    )
    resolution_target = fields.Float("Resolution Target (h)", readonly=True, aggregator=None)
    answered_in_target = fields.Float(
        "Answered in Target (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the answered requests whose first answer came within the team's target.",
    )
    resolved_in_target = fields.Float(
        "Resolved in Target (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the resolved requests resolved within the team's target.",
    )
    breached = fields.Integer(
        "Targets Missed", readonly=True, help="1 when a first-response or resolution target passed."
    )

    @api.model
    def _in_target_sql(self, answered, first_hours, first_target, resolved, hours, target):
        """The two SQL columns answered_in_target, resolved_in_target: 100 when met, 0 when
        missed, NULL when not answered (resolved) yet or without a target."""
        columns = (
            ("answered_in_target", answered, first_hours, first_target),
            ("resolved_in_target", resolved, hours, target),
        )
        return SQL(", ").join(
            SQL(
                "CASE WHEN %s AND %s IS NOT NULL THEN (%s <= %s)::int * 100 END AS %s",
                done,
                limit,
                spent,
                limit,
                SQL.identifier(name),
            )
            for name, done, spent, limit in columns
        )
