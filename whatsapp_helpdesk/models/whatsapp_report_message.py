import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .common import LOCAL_ZONE, LOCAL_ZONE_JOINS, WEEKDAYS, without_jit

_logger = logging.getLogger(__name__)

# A customer message within this time after a template, before any other template reached them,
# counts as a reply to it.
REPLY_WITHIN = timedelta(hours=24)
REACHED = ("sent", "delivered", "read")
# Messages written this long before the last refresh are counted again (late commits).
REFRESH_OVERLAP = timedelta(minutes=10)


def _failure_types(model):
    return model.env["whatsapp.message"]._fields["failure_type"].selection


class WhatsappReportMessage(models.Model):
    """Message volumes and template results, counted per hour, team, agent, template, language,
    entry point, pricing category and failure reason: a stored reporting table that the refresh
    cron rebuilds from the first hour whose messages changed (replies reach back a day).

    Room for what comes next: the dimensions and measures are listed by
    :meth:`_report_dimensions` and :meth:`_report_measures` (column, SQL over the message ``m``);
    a new dimension or measure is one more entry there and one more field.
    """

    _name = "whatsapp.report.message"
    _inherit = ["whatsapp.report.mixin"]
    _description = "WhatsApp Message Report"
    _order = "date desc, id desc"
    _rec_name = "date"

    _report_ratios = {
        "delivery_rate": ("delivered_count", "sent_count"),
        "read_rate": ("read_count", "delivered_count"),
        "reply_rate": ("replied_count", "delivered_count"),
        "failure_rate": ("failed_count", "outbound_count"),
    }

    date = fields.Datetime(
        "Hour", readonly=True, index=True, help="The hour (UTC) of the messages."
    )
    hour = fields.Integer(
        "Hour of Day",
        readonly=True,
        aggregator=None,
        help="In the team's (or company's) time zone.",
    )
    weekday = fields.Selection(WEEKDAYS, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    account_id = fields.Many2one("whatsapp.account", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    user_id = fields.Many2one("res.users", "Agent", readonly=True, index=True)
    direction = fields.Selection([("in", "Received"), ("out", "Sent")], readonly=True)
    template_id = fields.Many2one("whatsapp.template", readonly=True, index=True)
    language = fields.Char(readonly=True, help="The template's language, else the customer's.")
    source = fields.Char("Entry Point", readonly=True)
    pricing_category = fields.Char(readonly=True)
    failure_type = fields.Selection(_failure_types, "Failure Reason", readonly=True)
    campaign_id = fields.Many2one("whatsapp.campaign", readonly=True, index="btree_not_null")
    message_count = fields.Integer("Messages", readonly=True)
    outbound_count = fields.Integer("Outbound", readonly=True)
    sent_count = fields.Integer("Sent", readonly=True, help="Accepted by Meta (or further).")
    delivered_count = fields.Integer("Delivered", readonly=True)
    read_count = fields.Integer("Read", readonly=True)
    replied_count = fields.Integer(
        "Replied", readonly=True, help="Templates the customer answered within 24 hours."
    )
    failed_count = fields.Integer("Failed", readonly=True)
    billable_count = fields.Integer("Billable", readonly=True)
    cost = fields.Float(readonly=True, help="From the cost ledger, in the company's currency.")
    delivery_rate = fields.Float(
        "Delivered (%)", compute="_compute_report_measures", aggregator="ratio"
    )
    read_rate = fields.Float(
        "Read (% of delivered)", compute="_compute_report_measures", aggregator="ratio"
    )
    reply_rate = fields.Float(
        "Replied (% of delivered)", compute="_compute_report_measures", aggregator="ratio"
    )
    failure_rate = fields.Float(
        "Failed (% of outbound)", compute="_compute_report_measures", aggregator="ratio"
    )

    def init(self):
        # the refresh looks for the messages written since its last run, and their hours
        for column in ("write_date", "create_date"):
            self.env.cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON whatsapp_message (%s)",
                    SQL.identifier(f"whatsapp_message_{column}_idx"),
                    SQL.identifier(column),
                )
            )

    @api.model
    def _report_dimensions(self):
        """(column, SQL over the message ``m``) that a row of the report is grouped by."""
        return [
            ("date", SQL("date_trunc('hour', m.at)")),
            ("hour", SQL("EXTRACT(hour FROM m.at AT TIME ZONE 'UTC' AT TIME ZONE m.zone)::int")),
            (
                "weekday",
                SQL("(EXTRACT(isodow FROM m.at AT TIME ZONE 'UTC' AT TIME ZONE m.zone) - 1)::text"),
            ),
            ("company_id", SQL("m.company_id")),
            ("account_id", SQL("m.account_id")),
            ("team_id", SQL("m.team_id")),
            ("user_id", SQL("m.user_id")),
            ("direction", SQL("m.direction")),
            ("template_id", SQL("m.template_id")),
            ("language", SQL("m.language")),
            ("source", SQL("m.source")),
            ("pricing_category", SQL("m.pricing_category")),
            ("failure_type", SQL("m.failure_type")),
            ("campaign_id", SQL("m.campaign_id")),
        ]

    @api.model
    def _report_measures(self):
        """(column, SQL aggregate over the messages ``m`` of a row)."""
        return [
            ("message_count", SQL("COUNT(*)")),
            ("outbound_count", SQL("COUNT(*) FILTER (WHERE m.direction = 'out')")),
            (
                "sent_count",
                SQL(
                    "COUNT(*) FILTER (WHERE m.direction = 'out' "
                    "AND m.state IN ('sent', 'delivered', 'read'))"
                ),
            ),
            (
                "delivered_count",
                SQL(
                    "COUNT(*) FILTER (WHERE m.direction = 'out' "
                    "AND m.state IN ('delivered', 'read'))"
                ),
            ),
            ("read_count", SQL("COUNT(*) FILTER (WHERE m.direction = 'out' AND m.state = 'read')")),
            ("replied_count", SQL("COUNT(*) FILTER (WHERE m.replied)")),
            ("failed_count", SQL("COUNT(*) FILTER (WHERE m.state = 'failed')")),
            ("billable_count", SQL("COUNT(*) FILTER (WHERE m.billable)")),
            ("cost", SQL("SUM(%s)", self._report_cost())),
        ]

    @api.model
    def _report_cost(self):
        """The cost of the message ``m`` (SQL), from the cost ledger (company currency)."""
        return SQL("COALESCE(m.cost, 0.0)")

    @api.model
    def _refresh(self, full=False):
        """Count again every hour from the first one whose messages changed since the last
        refresh (a day earlier, for the replies to templates); everything when ``full`` or the
        first time. Returns the number of rows written."""
        param = "whatsapp_helpdesk.report_message_refreshed_at"
        Params = self.env["ir.config_parameter"].sudo()
        last = fields.Datetime.to_datetime(Params.get_param(param) or False)
        started = fields.Datetime.now()
        self.env.flush_all()
        since = None
        if last and not full:
            self.env.cr.execute(
                SQL(
                    """
                    SELECT MIN(COALESCE(received_at, create_date)) FROM whatsapp_message
                     WHERE write_date >= %s
                    """,
                    last - REFRESH_OVERLAP,
                )
            )
            oldest = self.env.cr.fetchone()[0]
            if oldest is None:
                Params.set_param(param, fields.Datetime.to_string(started))
                return 0
            since = oldest.replace(minute=0, second=0, microsecond=0) - REPLY_WITHIN
        written = self._rebuild(since)
        Params.set_param(param, fields.Datetime.to_string(started))
        _logger.debug("WhatsApp message report: rebuilt since %s", since)
        return written

    @api.model
    def _rebuild(self, since=None):
        """Rebuild the rows from the hour ``since`` on (all of them without it)."""
        self.env.flush_all()
        without_jit(self.env.cr)
        dimensions, measures = self._report_dimensions(), self._report_measures()
        period = SQL("TRUE")
        if since:
            # inbound messages are stored after Meta received them: look a day before
            period = SQL(
                "msg.create_date >= %s AND COALESCE(msg.received_at, msg.create_date) >= %s",
                since - timedelta(days=1),
                since,
            )
            self.env.cr.execute(SQL("DELETE FROM whatsapp_report_message WHERE date >= %s", since))
        else:
            self.env.cr.execute(SQL("DELETE FROM whatsapp_report_message"))
        columns = [name for name, _expr in dimensions + measures]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO whatsapp_report_message (%(columns)s, create_uid, create_date,
                                                     write_uid, write_date)
                SELECT %(values)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (
                    SELECT msg.*, COALESCE(msg.received_at, msg.create_date) AS at,
                           c.team_id, c.user_id, c.source,
                           COALESCE(tpl.language, c.language) AS language,
                           %(zone)s AS zone,
                           msg.direction = 'out' AND msg.template_id IS NOT NULL
                           AND msg.state IN %(reached)s AND EXISTS (
                               SELECT 1 FROM whatsapp_message r
                                WHERE r.conversation_id = msg.conversation_id
                                  AND r.direction = 'in' AND r.id > msg.id
                                  AND r.received_at <= COALESCE(msg.sent_at, msg.create_date)
                                                       + %(reply_within)s
                                  AND NOT EXISTS (
                                      SELECT 1 FROM whatsapp_message n
                                       WHERE n.conversation_id = msg.conversation_id
                                         AND n.direction = 'out' AND n.template_id IS NOT NULL
                                         AND n.state IN %(reached)s
                                         AND n.id > msg.id AND n.id < r.id)
                           ) AS replied
                      FROM whatsapp_message msg
                      JOIN whatsapp_conversation c ON c.id = msg.conversation_id
                      LEFT JOIN whatsapp_template tpl ON tpl.id = msg.template_id
                      LEFT JOIN helpdesk_ticket_team t ON t.id = c.team_id
                      LEFT JOIN res_company co ON co.id = c.company_id
                      %(zone_joins)s
                     WHERE %(period)s
                  ) m
                 GROUP BY %(groups)s
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in columns),
                values=SQL(", ").join(expr for _name, expr in dimensions + measures),
                groups=SQL(", ").join(SQL(str(index + 1)) for index in range(len(dimensions))),
                uid=self.env.uid,
                now=fields.Datetime.now(),
                zone=SQL(LOCAL_ZONE),
                zone_joins=SQL(LOCAL_ZONE_JOINS),
                reply_within=REPLY_WITHIN,
                reached=REACHED,
                period=period,
            )
        )
        written = self.env.cr.rowcount
        self.invalidate_model()
        return written
