from odoo import fields, models, tools
from odoo.tools import SQL

CSAT = [("good", "Satisfied"), ("ok", "Neutral"), ("bad", "Dissatisfied")]


class WhatsappReportTicket(models.Model):
    """The helpdesk tickets of WhatsApp conversations: service times, targets and customer
    satisfaction (a SQL view over the tickets: one row per ticket)."""

    _name = "whatsapp.report.ticket"
    _inherit = ["whatsapp.report.service.measures"]
    _description = "WhatsApp Ticket Report"
    _auto = False
    _order = "opened_at desc, id desc"
    _rec_name = "ticket_id"
    _depends = {
        "helpdesk.ticket": [
            "company_id",
            "team_id",
            "user_id",
            "partner_id",
            "stage_id",
            "closed_date",
            "active",
            "whatsapp_conversation_id",
            "whatsapp_first_response_at",
            "whatsapp_first_response_hours",
            "whatsapp_resolution_hours",
            "whatsapp_sla_first_response_breached",
            "whatsapp_sla_resolution_breached",
            "whatsapp_csat",
        ],
        "helpdesk.ticket.stage": ["closed"],
        "helpdesk.ticket.team": ["whatsapp_sla_first_response", "whatsapp_sla_resolution"],
    }

    ticket_id = fields.Many2one("helpdesk.ticket", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    user_id = fields.Many2one("res.users", "Agent", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    stage_id = fields.Many2one("helpdesk.ticket.stage", readonly=True)
    opened_at = fields.Datetime("Opened", readonly=True)
    closed_at = fields.Datetime("Closed On", readonly=True)
    closed = fields.Integer(
        "Closed Tickets", readonly=True, help="1 once the ticket reached a closing stage."
    )
    csat = fields.Selection(CSAT, "Satisfaction", readonly=True)
    rated = fields.Integer(readonly=True, help="1 when the customer answered the question.")
    csat_score = fields.Float(
        "Satisfaction Score",
        readonly=True,
        aggregator="avg",
        help="Average of the answers: satisfied 100, neutral 50, dissatisfied 0.",
    )
    csat_satisfied = fields.Float(
        "Satisfied (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the answers that were 'satisfied' (CSAT).",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT tk.id, tk.id AS ticket_id, tk.company_id, tk.team_id, tk.user_id,
                           tk.partner_id, tk.stage_id, tk.create_date AS opened_at,
                           tk.closed_date AS closed_at, COALESCE(st.closed, FALSE)::int AS closed,
                           CASE WHEN tk.whatsapp_first_response_at IS NOT NULL
                                THEN tk.whatsapp_first_response_hours END AS first_response_hours,
                           CASE WHEN tk.closed_date IS NOT NULL
                                THEN tk.whatsapp_resolution_hours END AS resolution_hours,
                           NULLIF(t.whatsapp_sla_first_response, 0) AS first_response_target,
                           NULLIF(t.whatsapp_sla_resolution, 0) AS resolution_target,
                           %(in_target)s,
                           (COALESCE(tk.whatsapp_sla_first_response_breached, FALSE)
                            OR COALESCE(tk.whatsapp_sla_resolution_breached, FALSE))::int
                               AS breached,
                           tk.whatsapp_csat AS csat,
                           (tk.whatsapp_csat IS NOT NULL)::int AS rated,
                           CASE tk.whatsapp_csat WHEN 'good' THEN 100 WHEN 'ok' THEN 50
                                WHEN 'bad' THEN 0 END AS csat_score,
                           CASE WHEN tk.whatsapp_csat IS NOT NULL
                                THEN (tk.whatsapp_csat = 'good')::int * 100 END AS csat_satisfied
                      FROM helpdesk_ticket tk
                      LEFT JOIN helpdesk_ticket_stage st ON st.id = tk.stage_id
                      LEFT JOIN helpdesk_ticket_team t ON t.id = tk.team_id
                     WHERE tk.whatsapp_conversation_id IS NOT NULL AND tk.active
                )
                """,
                table=SQL.identifier(self._table),
                in_target=self._in_target_sql(
                    SQL("tk.whatsapp_first_response_at IS NOT NULL"),
                    SQL("tk.whatsapp_first_response_hours"),
                    SQL("NULLIF(t.whatsapp_sla_first_response, 0)"),
                    SQL("tk.closed_date IS NOT NULL"),
                    SQL("tk.whatsapp_resolution_hours"),
                    SQL("NULLIF(t.whatsapp_sla_resolution, 0)"),
                ),
            )
        )
