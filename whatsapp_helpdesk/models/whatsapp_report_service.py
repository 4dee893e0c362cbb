from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import reporting
from .common import LOCAL_ZONE, LOCAL_ZONE_JOINS, WEEKDAYS, without_jit

# Rows whose conversation changed this long before the last refresh are written again: a
# transaction that wrote a conversation before the refresh started may commit after it.
REFRESH_OVERLAP_MINUTES = 10


class WhatsappReportService(models.Model):
    """How fast customers were served: one row per request of a conversation (from the customer's
    first message, or first message after a close, to the close).

    A stored reporting table: the refresh cron writes the request of every conversation that
    changed since its last run, and a request is written once more, as it was, just before its
    customer reopens the conversation (the conversation then starts the next one). The pivot and
    graph views read it only; medians and 90th percentiles are computed by PostgreSQL per group.
    """

    _name = "whatsapp.report.service"
    _inherit = ["whatsapp.report.service.measures"]
    _description = "WhatsApp Service Report"
    _order = "started_at desc, id desc"
    _rec_name = "conversation_id"

    conversation_id = fields.Many2one(
        "whatsapp.conversation", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    account_id = fields.Many2one("whatsapp.account", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    user_id = fields.Many2one("res.users", "Agent", readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    source = fields.Char("Entry Point", readonly=True)
    language = fields.Char(readonly=True)
    started_at = fields.Datetime("Started", readonly=True, index=True)
    started_hour = fields.Integer(
        "Hour of Day",
        readonly=True,
        aggregator=None,
        help="In the team's (or company's) time zone.",
    )
    started_weekday = fields.Selection(WEEKDAYS, "Weekday", readonly=True)
    first_response_at = fields.Datetime("First Answer", readonly=True)
    resolved_at = fields.Datetime("Resolved On", readonly=True)
    answered = fields.Integer(readonly=True, help="1 once a person answered.")
    resolved = fields.Integer(
        "Resolved Requests", readonly=True, help="1 once the conversation was closed."
    )
    reopened = fields.Integer(
        readonly=True, help="1 when the customer wrote again within 7 days of the close."
    )
    reopen_rate = fields.Float(
        "Reopened (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the resolved requests whose customer wrote again within 7 days.",
    )

    _sql_constraints = [
        (
            "conversation_start_uniq",
            "unique(conversation_id, started_at)",
            "A request of a conversation is reported once.",
        ),
    ]

    @api.model
    def _record_periods(self, conversations=None, *, reopened=False, since=None):
        """Write the current request of ``conversations`` (else of the conversations written
        since ``since``, else of all) into the report, in one statement.

        ``reopened``: their customers are writing again, after the close; the request counts as
        reopened when that close is recent (:data:`tools.reporting.REOPEN_WITHIN`).
        """
        if conversations is not None:
            if not conversations:
                return
            which = SQL("c.id IN %s", tuple(conversations.ids))
        elif since:
            which = SQL("c.write_date >= %s", since)
        else:
            which = SQL("TRUE")
        now = fields.Datetime.now()
        reopened_sql = (
            SQL("(c.resolved_at >= %s)::int", now - reporting.REOPEN_WITHIN)
            if reopened
            else SQL("0")
        )
        self.env.flush_all()
        without_jit(self.env.cr)
        self.env.cr.execute(
            SQL(
                """
                WITH requests AS (
                    SELECT c.*, COALESCE(c.service_started_at, c.first_inbound_at) AS started,
                           c.state = 'closed' AS closed,
                           %(zone)s AS zone,
                           NULLIF(t.whatsapp_sla_first_response, 0) AS first_target,
                           NULLIF(t.whatsapp_sla_resolution, 0) AS last_target,
                           %(reopened)s AS reopened_now
                      FROM whatsapp_conversation c
                      LEFT JOIN helpdesk_ticket_team t ON t.id = c.team_id
                      LEFT JOIN res_company co ON co.id = c.company_id
                      %(zone_joins)s
                     WHERE %(which)s
                       AND COALESCE(c.service_started_at, c.first_inbound_at) IS NOT NULL
                )
                INSERT INTO whatsapp_report_service (
                    conversation_id, company_id, account_id, team_id, user_id, partner_id, source,
                    language, started_at, started_hour, started_weekday, first_response_at,
                    first_response_hours, resolved_at, resolution_hours, first_response_target,
                    resolution_target, answered, resolved, answered_in_target, resolved_in_target,
                    breached, reopened, reopen_rate,
                    create_uid, create_date, write_uid, write_date)
                SELECT r.id, r.company_id, r.account_id, r.team_id, r.user_id, r.partner_id,
                       r.source, r.language, r.started,
                       EXTRACT(hour FROM r.started AT TIME ZONE 'UTC' AT TIME ZONE r.zone),
                       (EXTRACT(isodow FROM r.started AT TIME ZONE 'UTC' AT TIME ZONE r.zone)
                        - 1)::int::text,
                       r.first_response_at,
                       CASE WHEN r.first_response_at IS NOT NULL THEN r.first_response_hours END,
                       CASE WHEN r.closed THEN r.resolved_at END,
                       CASE WHEN r.closed THEN r.resolution_hours END,
                       r.first_target, r.last_target,
                       (r.first_response_at IS NOT NULL)::int, r.closed::int,
                       %(in_target)s,
                       COALESCE(r.sla_breached, FALSE)::int,
                       r.reopened_now,
                       CASE WHEN r.closed THEN r.reopened_now * 100 END,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM requests r
                ON CONFLICT (conversation_id, started_at) DO UPDATE SET
                    company_id = EXCLUDED.company_id,
                    account_id = EXCLUDED.account_id,
                    team_id = EXCLUDED.team_id,
                    user_id = EXCLUDED.user_id,
                    partner_id = EXCLUDED.partner_id,
                    source = EXCLUDED.source,
                    language = EXCLUDED.language,
                    started_hour = EXCLUDED.started_hour,
                    started_weekday = EXCLUDED.started_weekday,
                    first_response_at = EXCLUDED.first_response_at,
                    first_response_hours = EXCLUDED.first_response_hours,
                    resolved_at = EXCLUDED.resolved_at,
                    resolution_hours = EXCLUDED.resolution_hours,
                    first_response_target = EXCLUDED.first_response_target,
                    resolution_target = EXCLUDED.resolution_target,
                    answered = EXCLUDED.answered,
                    resolved = EXCLUDED.resolved,
                    answered_in_target = EXCLUDED.answered_in_target,
                    resolved_in_target = EXCLUDED.resolved_in_target,
                    breached = EXCLUDED.breached,
                    reopened = GREATEST(whatsapp_report_service.reopened, EXCLUDED.reopened),
                    reopen_rate = CASE WHEN EXCLUDED.resolved = 1 THEN GREATEST(
                        whatsapp_report_service.reopen_rate, EXCLUDED.reopen_rate) END,
                    write_uid = EXCLUDED.write_uid,
                    write_date = EXCLUDED.write_date
                """,
                which=which,
                in_target=self._in_target_sql(
                    SQL("r.first_response_at IS NOT NULL"),
                    SQL("r.first_response_hours"),
                    SQL("r.first_target"),
                    SQL("r.closed"),
                    SQL("r.resolution_hours"),
                    SQL("r.last_target"),
                ),
                zone=SQL(LOCAL_ZONE),
                zone_joins=SQL(LOCAL_ZONE_JOINS),
                reopened=reopened_sql,
                uid=self.env.uid,
                now=now,
            )
        )
        written = self.env.cr.rowcount
        self.invalidate_model()
        return written

    @api.model
    def _refresh(self, full=False):
        """Bring the report up to date with the conversations written since the last refresh
        (all of them the first time, or when ``full``)."""
        param = "whatsapp_helpdesk.report_service_refreshed_at"
        Params = self.env["ir.config_parameter"].sudo()
        last = fields.Datetime.to_datetime(Params.get_param(param) or False)
        started = fields.Datetime.now()
        since = last - timedelta(minutes=REFRESH_OVERLAP_MINUTES) if last and not full else None
        written = self._record_periods(since=since)
        Params.set_param(param, fields.Datetime.to_string(started))
        return written
