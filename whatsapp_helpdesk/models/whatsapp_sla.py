import logging
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, format_datetime

from ..tools import routing, working_time
from .common import cron_report

_logger = logging.getLogger(__name__)

# Breaches flagged (and escalated) per cron run and kind of target; the rest waits for the next run.
SLA_CRON_BATCH = 500
# A target missed longer ago than this is flagged without telling anyone (the cron was stopped,
# the targets were just set on old conversations): the leader hears of what can still be saved.
ESCALATE_WITHIN = timedelta(days=1)
# Kept by the clock and its cron: a user setting them would move or hide a breach.
SLA_FIELDS = frozenset(
    {
        "whatsapp_sla_first_response_due",
        "whatsapp_sla_resolution_due",
        "whatsapp_sla_deadline",
        "whatsapp_sla_warn_at",
        "whatsapp_sla_first_response_breached",
        "whatsapp_sla_resolution_breached",
    }
)


def _sla_depends(model):
    return (
        *model._whatsapp_sla_start_fields,
        model._whatsapp_sla_response_field,
        model._whatsapp_sla_resolved_field,
        *model._whatsapp_sla_start_depends,
        "team_id",
        "team_id.whatsapp_sla_first_response",
        "team_id.whatsapp_sla_resolution",
        "team_id.whatsapp_calendar_id",
        *model._whatsapp_sla_scope_depends,
    )


class WhatsappSlaMixin(models.AbstractModel):
    """The service-level clock of a WhatsApp conversation or ticket.

    Its team's targets (first response, resolution, in working hours) give two deadlines counted
    in the team's open hours, without holidays. The clock runs whether or not anyone acts: a cron
    flags a target as breached once its deadline passes unmet, tells the team leader (the helpdesk
    team's leader) and, when the team asks for it, hands a conversation nobody answered to another
    online agent. The inbox shows the next deadline green, then amber (a quarter of the target
    left), then red.

    The model using it names its own facts (class attributes below), all naive-UTC datetimes, and
    has ``team_id`` (helpdesk team) and ``user_id`` (assigned agent) fields.
    """

    _name = "whatsapp.sla.mixin"
    _description = "WhatsApp Service-Level Clock"

    # when the customer started waiting (the first of these fields set), when a person first
    # answered, when it was resolved
    _whatsapp_sla_start_fields = ()
    # further fields that _whatsapp_sla_starts reads (a model that starts the clock otherwise)
    _whatsapp_sla_start_depends = ()
    _whatsapp_sla_response_field = None
    _whatsapp_sla_resolved_field = None
    # what is still open (escalations, load of the agents), and the fields _whatsapp_sla_scope reads
    _whatsapp_sla_open_domain = ()
    _whatsapp_sla_scope_depends = ()

    whatsapp_sla_first_response_due = fields.Datetime(
        "First Response Due", compute="_compute_whatsapp_sla", store=True, copy=False
    )
    whatsapp_sla_resolution_due = fields.Datetime(
        "Resolution Due", compute="_compute_whatsapp_sla", store=True, copy=False
    )
    whatsapp_sla_deadline = fields.Datetime(
        "Next Deadline",
        compute="_compute_whatsapp_sla",
        store=True,
        index="btree_not_null",
        copy=False,
        help="The first-response deadline until a person answers, then the resolution deadline; "
        "empty once resolved or without targets.",
    )
    whatsapp_sla_warn_at = fields.Datetime(
        "Deadline Close From",
        compute="_compute_whatsapp_sla",
        store=True,
        copy=False,
        help="From then on less than a quarter of the target remains before the next deadline.",
    )
    whatsapp_sla_state = fields.Selection(
        [("green", "On Time"), ("amber", "Close to the Deadline"), ("red", "Late")],
        "Service Level",
        compute="_compute_whatsapp_sla_state",
        search="_search_whatsapp_sla_state",
        help="Where the next deadline stands now (empty: no deadline running).",
    )
    whatsapp_sla_first_response_breached = fields.Boolean(
        "First Response Late", readonly=True, copy=False
    )
    whatsapp_sla_resolution_breached = fields.Boolean("Resolution Late", readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_whatsapp_sla_writer(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_whatsapp_sla_writer(vals)
        return super().write(vals)

    @api.model
    def _check_whatsapp_sla_writer(self, vals):
        if not self.env.su and SLA_FIELDS.intersection(vals):
            raise AccessError(
                self.env._("Service-level deadlines and breaches are kept by the system.")
            )

    def _whatsapp_sla_scope(self):
        """The records the clock applies to (all of them, unless the model says otherwise)."""
        return self

    def _whatsapp_sla_starts(self):
        """{record id: when its clock starts (False: no clock yet)}: the first start field set."""
        return {
            record.id: next(
                (record[name] for name in self._whatsapp_sla_start_fields if record[name]), False
            )
            for record in self
        }

    @api.depends(_sla_depends)
    def _compute_whatsapp_sla(self):
        scope = self._whatsapp_sla_scope()
        for record in self - scope:
            record.update(
                {
                    "whatsapp_sla_first_response_due": False,
                    "whatsapp_sla_resolution_due": False,
                    "whatsapp_sla_deadline": False,
                    "whatsapp_sla_warn_at": False,
                }
            )
        by_team = defaultdict(lambda: self.browse())
        for record in scope:
            by_team[record.team_id] |= record
        for team, records in by_team.items():
            clocks = []
            starts = records._whatsapp_sla_starts()
            for record in records:
                start = starts[record.id]
                clocks += [
                    (start, team.whatsapp_sla_first_response),
                    (start, team.whatsapp_sla_resolution),
                ]
            plans = team._whatsapp_deadlines(clocks)
            for index, record in enumerate(records):
                (first_due, first_warn), (last_due, last_warn) = plans[2 * index : 2 * index + 2]
                running = []
                if first_due and not record[self._whatsapp_sla_response_field]:
                    running.append((first_due, first_warn))
                if last_due and not record[self._whatsapp_sla_resolved_field]:
                    running.append((last_due, last_warn))
                deadline, warn = min(running) if running else (False, False)
                record.update(
                    {
                        "whatsapp_sla_first_response_due": first_due,
                        "whatsapp_sla_resolution_due": last_due,
                        "whatsapp_sla_deadline": deadline,
                        "whatsapp_sla_warn_at": warn,
                    }
                )

    @api.depends("whatsapp_sla_deadline", "whatsapp_sla_warn_at")
    def _compute_whatsapp_sla_state(self):
        now = fields.Datetime.now()
        for record in self:
            record.whatsapp_sla_state = working_time.light(
                now, record.whatsapp_sla_warn_at, record.whatsapp_sla_deadline
            )

    def _search_whatsapp_sla_state(self, operator, value):
        states = {"green", "amber", "red"}
        values = [value] if isinstance(value, str) else value
        if (
            operator not in ("=", "!=", "in", "not in")
            or not isinstance(values, list | tuple)
            or not set(values) <= states
        ):
            raise UserError(self.env._("Unsupported search on the service level."))
        now = fields.Datetime.now()
        running = [("whatsapp_sla_deadline", "!=", False)]
        domains = {
            "red": [("whatsapp_sla_deadline", "<", now)],
            "amber": [
                ("whatsapp_sla_deadline", ">=", now),
                ("whatsapp_sla_warn_at", "<=", now),
            ],
            "green": [
                ("whatsapp_sla_deadline", ">=", now),
                "|",
                ("whatsapp_sla_warn_at", "=", False),
                ("whatsapp_sla_warn_at", ">", now),
            ],
        }
        wanted = set(values) if operator in ("=", "in") else states - set(values)
        if not wanted:
            return expression.FALSE_DOMAIN
        return expression.AND([running, expression.OR([domains[state] for state in wanted])])

    # ------------------------------------------------------------------
    # The cron: breaches without anyone acting
    # ------------------------------------------------------------------

    def _whatsapp_sla_targets(self):
        """(kind, due field, field that meets it, breach flag) of the two targets."""
        return (
            (
                "first_response",
                "whatsapp_sla_first_response_due",
                self._whatsapp_sla_response_field,
                "whatsapp_sla_first_response_breached",
            ),
            (
                "resolution",
                "whatsapp_sla_resolution_due",
                self._whatsapp_sla_resolved_field,
                "whatsapp_sla_resolution_breached",
            ),
        )

    @api.model
    def _whatsapp_sla_cron(self, limit=SLA_CRON_BATCH):
        """Flag the targets whose deadline passed unmet (met late, or not met yet: a resolution
        also ends the wait for a first answer), and escalate those still waiting."""
        with cron_report(_logger, f"WhatsApp SLA: {self._name} targets flagged late") as report:
            flagged = self._whatsapp_sla_flag_late(limit)
            report["items"] = sum(len(late) for late in flagged.values())
        return flagged

    @api.model
    def _whatsapp_sla_flag_late(self, limit):
        """The work of _whatsapp_sla_cron: the records flagged, by kind of target."""
        self.env.flush_all()
        now = fields.Datetime.now()
        flagged = {}
        for kind, due, done, flag in self._whatsapp_sla_targets():
            ends = [SQL.identifier(done)]
            if kind == "first_response":
                ends.append(SQL.identifier(self._whatsapp_sla_resolved_field))
            self.env.cr.execute(
                SQL(
                    """
                    SELECT id FROM %(table)s
                     WHERE %(due)s < %(now)s AND %(flag)s IS NOT TRUE
                       AND COALESCE(%(ends)s, %(now)s) > %(due)s
                     ORDER BY %(due)s LIMIT %(limit)s
                    """,
                    table=SQL.identifier(self._table),
                    due=SQL.identifier(due),
                    flag=SQL.identifier(flag),
                    ends=SQL(", ").join(ends),
                    now=now,
                    limit=limit,
                )
            )
            late = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
            late.write({flag: True})
            waiting = late.filtered_domain(
                [
                    (done, "=", False),
                    (self._whatsapp_sla_resolved_field, "=", False),
                    (due, ">=", now - ESCALATE_WITHIN),
                    *self._whatsapp_sla_open_domain,
                ]
            )
            waiting._whatsapp_sla_escalate(kind)
            flagged[kind] = late
        return flagged

    def _whatsapp_sla_escalate(self, kind):
        """Tell the team leader that ``kind`` (first_response or resolution) is late: a note on
        the record that notifies the leader, and a notice on screen. On a late first answer, a
        team that asks for it hands the record to another online agent."""
        labels = {
            "first_response": self.env._("first response"),
            "resolution": self.env._("resolution"),
        }
        for record in self:
            team = record.team_id
            leader = team.user_id
            if kind == "first_response" and team.whatsapp_sla_reassign:
                previous = record.user_id
                agent = record._whatsapp_sla_reassign()
                if agent:
                    record.message_post(
                        body=self.env._(
                            "Nobody answered in time: handed from %(old)s to %(new)s.",
                            old=previous.name or self.env._("nobody"),
                            new=agent.name,
                        ),
                        subtype_xmlid="mail.mt_note",
                        partner_ids=agent.partner_id.ids,
                    )
            body = self.env._(
                "The %(target)s target of %(team)s was missed: it was due %(due)s.",
                target=labels[kind],
                team=team.display_name or self.env._("no team"),
                due=format_datetime(
                    self.env, record[f"whatsapp_sla_{kind}_due"], tz=leader.tz, dt_format="short"
                ),
            )
            record.message_post(
                body=Markup("<p>%s</p>") % body,
                subtype_xmlid="mail.mt_note",
                partner_ids=leader.partner_id.ids,
            )
            if leader:
                leader._bus_send(
                    "simple_notification",
                    {
                        "type": "warning",
                        "sticky": True,
                        "title": self.env._("Service level missed"),
                        "message": f"{record.display_name}: {body}",
                    },
                )
            else:
                _logger.info(
                    "WhatsApp SLA: %s of %s missed; team %s has no leader to tell",
                    kind,
                    record,
                    team.id,
                )

    def _whatsapp_sla_reassign(self):
        """Hand this record to the least loaded other online agent of its team: that agent, or
        None when nobody is free."""
        self.ensure_one()
        team = self.team_id
        members = team._whatsapp_agents() - self.user_id
        if not members:
            return None
        agents = team._whatsapp_routing_agents(
            members, self.browse(), list(self._whatsapp_sla_open_domain)
        )
        plain_team = replace(team._whatsapp_routing_team(), policy=routing.LEAST_LOADED)
        agent, _cursor = routing.pick_agent(plain_team, agents)
        if agent is None:
            return None
        self.user_id = agent.id
        return self.env["res.users"].browse(agent.id)
