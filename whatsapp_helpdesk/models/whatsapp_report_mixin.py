from odoo import api, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL

PERCENTILE = "percentile"
RATIO = "ratio"


class WhatsappReportMixin(models.AbstractModel):
    """Measures of the WhatsApp reports that PostgreSQL computes over the rows of each group of a
    pivot, graph or grouped list: percentiles (the median and the 90th percentile of a duration)
    and ratios of two sums (read / delivered). A plain average or sum cannot give them: the
    median of a month is not the average of the daily medians.

    A model declares its measure fields (not stored, computed by :meth:`_compute_report_measures`
    for a single row) with ``aggregator="percentile"`` or ``aggregator="ratio"``, and says what
    they measure in ``_report_percentiles`` and ``_report_ratios``; the web client asks for them
    as any other measure (``field:aggregator``).
    """

    _name = "whatsapp.report.mixin"
    _description = "WhatsApp Report Measures"

    # {measure: (source column, fraction)}: the continuous percentile of the source in a group
    _report_percentiles = {}
    # {measure: (numerator column, denominator column)}: 100 * SUM(numerator) / SUM(denominator)
    _report_ratios = {}

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec != "__count":
            fname, property_name, func = parse_read_group_spec(aggregate_spec)
            if not property_name and fname in self._report_percentiles and func == PERCENTILE:
                source, fraction = self._report_percentiles[fname]
                column = self._field_to_sql(self._table, source, query)
                return SQL(
                    "percentile_cont(%s) WITHIN GROUP (ORDER BY %s::float8)", fraction, column
                )
            if not property_name and fname in self._report_ratios and func == RATIO:
                numerator, denominator = self._report_ratios[fname]
                return SQL(
                    "100.0 * SUM(%s) / NULLIF(SUM(%s), 0)",
                    self._field_to_sql(self._table, numerator, query),
                    self._field_to_sql(self._table, denominator, query),
                )
        return super()._read_group_select(aggregate_spec, query)

    @api.depends(lambda self: [*self._report_percentiles_sources(), *self._report_ratio_sources()])
    def _compute_report_measures(self):
        """One row's value of each measure: its own duration, its own ratio."""
        for row in self:
            for fname, (source, _fraction) in self._report_percentiles.items():
                row[fname] = row[source]
            for fname, (numerator, denominator) in self._report_ratios.items():
                row[fname] = 100.0 * row[numerator] / row[denominator] if row[denominator] else 0.0

    @api.model
    def _report_percentiles_sources(self):
        return [source for source, _fraction in self._report_percentiles.values()]

    @api.model
    def _report_ratio_sources(self):
        return [name for pair in self._report_ratios.values() for name in pair]
