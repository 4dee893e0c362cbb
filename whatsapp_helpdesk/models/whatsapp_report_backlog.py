from odoo import fields, models, tools
from odoo.tools import SQL

from ..tools import reporting


class WhatsappReportBacklog(models.Model):
    """The open conversations now: how long their customers have been waiting, by team, agent
    and age bucket (a SQL view: always current)."""

    _name = "whatsapp.report.backlog"
    _description = "WhatsApp Backlog Report"
    _auto = False
    _order = "waiting_since, id"
    _rec_name = "conversation_id"
    _depends = {
        "whatsapp.conversation": [
            "company_id",
            "account_id",
            "team_id",
            "user_id",
            "inbox_state",
            "state",
            "service_started_at",
            "first_inbound_at",
            "whatsapp_sla_deadline",
        ],
    }

    conversation_id = fields.Many2one("whatsapp.conversation", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    account_id = fields.Many2one("whatsapp.account", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    user_id = fields.Many2one("res.users", "Agent", readonly=True)
    inbox_state = fields.Selection(
        [("new", "New"), ("open", "Open"), ("waiting", "Waiting for Customer")],
        "Status",
        readonly=True,
    )
    assignment = fields.Selection(
        [("assigned", "Assigned"), ("unassigned", "Unassigned")], readonly=True
    )
    waiting_since = fields.Datetime(readonly=True)
    age_bucket = fields.Selection(
        [(key, label) for key, label, _upper in reporting.AGE_BUCKETS], "Age", readonly=True
    )
    age_hours = fields.Float("Age (h, average)", readonly=True, aggregator="avg")
    oldest_hours = fields.Float("Age (h, oldest)", readonly=True, aggregator="max")
    unassigned_hours = fields.Float(
        "Unassigned Waiting (h, average)",
        readonly=True,
        aggregator="avg",
        help="How long the conversations nobody holds have been waiting.",
    )
    late = fields.Integer(readonly=True, help="1 when its next service-level deadline passed.")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        buckets = SQL(" ").join(
            SQL("WHEN b.age < %s THEN %s", upper, key)
            for key, _label, upper in reporting.AGE_BUCKETS
            if upper is not None
        )
        last_bucket = reporting.AGE_BUCKETS[-1][0]
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT b.id, b.id AS conversation_id, b.company_id, b.account_id, b.team_id,
                           b.user_id, b.inbox_state,
                           CASE WHEN b.user_id IS NULL THEN 'unassigned' ELSE 'assigned' END
                               AS assignment,
                           b.waiting_since,
                           CASE %(buckets)s ELSE %(last_bucket)s END AS age_bucket,
                           b.age AS age_hours, b.age AS oldest_hours,
                           CASE WHEN b.user_id IS NULL THEN b.age END AS unassigned_hours,
                           COALESCE(b.whatsapp_sla_deadline < b.now, FALSE)::int AS late
                      FROM (
                        SELECT c.*, n.now,
                               COALESCE(c.service_started_at, c.first_inbound_at, c.create_date)
                                   AS waiting_since,
                               GREATEST(EXTRACT(epoch FROM n.now - COALESCE(
                                   c.service_started_at, c.first_inbound_at, c.create_date)), 0)
                                   / 3600.0 AS age
                          FROM whatsapp_conversation c,
                               (SELECT now() AT TIME ZONE 'UTC' AS now) n
                         -- the open ones, by the indexed column that says so; one only we
                         -- started (a campaign, a notification) is work once the customer
                         -- writes or an agent takes it
                         WHERE c.inbox_state IN ('new', 'open', 'waiting')
                           AND (c.first_inbound_at IS NOT NULL OR c.user_id IS NOT NULL)
                      ) b
                )
                """,
                table=SQL.identifier(self._table),
                buckets=buckets,
                last_bucket=last_bucket,
            )
        )
