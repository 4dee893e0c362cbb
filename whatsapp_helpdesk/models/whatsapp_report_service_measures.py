from odoo import api, fields, models
from odoo.tools import SQL


class WhatsappReportServiceMeasures(models.AbstractModel):
    """The service figures that the conversation and ticket reports share: first response and
    resolution times in working hours (average, median, 90th percentile), the share met within
    the team's targets, and the targets missed."""

    _name = "whatsapp.report.service.measures"
    _inherit = ["whatsapp.report.mixin"]
    _description = "WhatsApp Service Measures"

    _report_percentiles = {
        "first_response_median": ("first_response_hours", 0.5),
        "first_response_p90": ("first_response_hours", 0.9),
        "resolution_median": ("resolution_hours", 0.5),
        "resolution_p90": ("resolution_hours", 0.9),
    }

    first_response_hours = fields.Float(
        "First Response (h, average)",
        readonly=True,
        aggregator="avg",
        help="In the team's working hours; empty until a person answers.",
    )
    first_response_median = fields.Float(
        "First Response (h, median)", compute="_compute_report_measures", aggregator="percentile"
    )
    first_response_p90 = fields.Float(
        "First Response (h, 90th percentile)",
        compute="_compute_report_measures",
        aggregator="percentile",
    )
    resolution_hours = fields.Float(
        "Resolution (h, average)",
        readonly=True,
        aggregator="avg",
        help="In the team's working hours; empty until resolved.",
    )
    resolution_median = fields.Float(
        "Resolution (h, median)", compute="_compute_report_measures", aggregator="percentile"
    )
    resolution_p90 = fields.Float(
        "Resolution (h, 90th percentile)",
        compute="_compute_report_measures",
        aggregator="percentile",
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
        return SQL(
            """
            CASE WHEN %(answered)s AND %(first_target)s IS NOT NULL
                 THEN (%(first_hours)s <= %(first_target)s)::int * 100 END AS answered_in_target,
            CASE WHEN %(resolved)s AND %(target)s IS NOT NULL
                 THEN (%(hours)s <= %(target)s)::int * 100 END AS resolved_in_target
            """,
            answered=answered,
            first_hours=first_hours,
            first_target=first_target,
            resolved=resolved,
            hours=hours,
            target=target,
        )
