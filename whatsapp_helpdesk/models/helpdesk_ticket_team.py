from collections import defaultdict
from datetime import timedelta

import pytz
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import autoreply, routing, working_time

# Deadlines are planned over 14 days of open hours, doubled until they fit (up to 10 years).
MAX_PLANNING_SPANS = 9
# A service-level target longer than this (working hours) is a typo, and would not fit a datetime.
MAX_SLA_HOURS = 1000


def _split(value):
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


class HelpdeskTicketTeam(models.Model):
    """Helpdesk teams also serve WhatsApp: which conversations they take and how they share them."""

    _inherit = "helpdesk.ticket.team"

    whatsapp_enabled = fields.Boolean("WhatsApp", help="This team answers WhatsApp conversations.")
    whatsapp_languages = fields.Char(
        "Languages", help="Comma-separated codes (pt_BR, es, zh_CN); empty: any language."
    )
    whatsapp_skill_ids = fields.Many2many(
        "helpdesk.ticket.tag", string="Skills", help="Topics this team handles."
    )
    whatsapp_sources = fields.Char(
        "Entry Points",
        help="Comma-separated: website, ad_referral, qr, keyword:<word>; empty: any.",
    )
    whatsapp_policy = fields.Selection(
        [("round_robin", "Round Robin"), ("least_loaded", "Least Loaded")],
        "Assignment",
        default="round_robin",
        required=True,
    )
    whatsapp_capacity = fields.Integer(
        "Capacity per Agent", help="Open conversations an agent can hold; 0: no limit."
    )
    whatsapp_only_assignee = fields.Boolean(
        "Only the Assignee Replies", help="Other agents can read but not write in the thread."
    )
    whatsapp_calendar_id = fields.Many2one("resource.calendar", "Working Hours")
    whatsapp_last_user_id = fields.Many2one("res.users", readonly=True, copy=False)
    whatsapp_ticket_on_first_message = fields.Boolean(
        "Ticket for Every New Conversation",
        help="Open a ticket when a new customer writes for the first time.",
    )
    whatsapp_csat_template_id = fields.Many2one(
        "whatsapp.template",
        "Satisfaction Template",
        check_company=True,
        help="Asks for a rating when a ticket closes after the 24-hour window; its quick-reply "
        "buttons should carry csat answers.",
    )
    whatsapp_sla_first_response = fields.Float(
        "First Response Target (h)", help="In working hours; 0: no target."
    )
    whatsapp_sla_resolution = fields.Float(
        "Resolution Target (h)", help="In working hours; 0: none."
    )
    whatsapp_sla_reassign = fields.Boolean(
        "Hand Over Late First Answers",
        help="When a conversation's first answer is late, hand it to another online agent of "
        "the team (the team leader is told in any case).",
    )
    whatsapp_stage_template_id = fields.Many2one(
        "whatsapp.template",
        "Stage Change Template",
        check_company=True,
        help="Sent when a WhatsApp ticket of this team changes stage (closing asks for a rating).",
    )
    whatsapp_handoff_ticket = fields.Boolean(
        "Ticket When Away",
        help="When the assistant hands a customer over outside working hours, open a ticket "
        "(the customer gets its number).",
    )
    whatsapp_ticket_keywords = fields.Char(
        "Ticket Keywords",
        help="Comma-separated words (complaint, broken, reclamação...) that open a ticket.",
    )

    @api.constrains(
        "whatsapp_enabled", "company_id", "whatsapp_csat_template_id", "whatsapp_stage_template_id"
    )
    def _check_whatsapp_company(self):
        """A team answering WhatsApp serves one company's numbers: conversations are routed to
        the teams of their company, and the team's templates are that company's."""
        for team in self.filtered("whatsapp_enabled"):
            if not team.company_id:
                raise ValidationError(
                    self.env._("The WhatsApp team %(team)s needs a company.", team=team.name)
                )
        self._check_company(["whatsapp_csat_template_id", "whatsapp_stage_template_id"])

    @api.constrains("whatsapp_sla_first_response", "whatsapp_sla_resolution")
    def _check_whatsapp_sla_targets(self):
        for team in self:
            for hours in (team.whatsapp_sla_first_response, team.whatsapp_sla_resolution):
                if not 0 <= hours <= MAX_SLA_HOURS:
                    raise ValidationError(
                        self.env._(
                            "A service-level target of %(team)s is between 0 and %(max)s working "
                            "hours.",
                            team=team.name,
                            max=MAX_SLA_HOURS,
                        )
                    )

    def _whatsapp_agents(self):
        """The team's members who may work in its company (and so see its conversations)."""
        self.ensure_one()
        return self.user_ids.filtered(lambda user: self.company_id in user.company_ids)

    def _whatsapp_routing_team(self):
        self.ensure_one()
        return routing.Team(
            id=self.id,
            languages=_split(self.whatsapp_languages),
            skills=frozenset(self.whatsapp_skill_ids.mapped("name")),
            sources=_split(self.whatsapp_sources),
            policy=self.whatsapp_policy,
            capacity=self.whatsapp_capacity,
            sequence=self.sequence,
            only_assignee_replies=self.whatsapp_only_assignee,
        )

    def _whatsapp_intervals(self):
        """(intervals, time zone) of the team's working hours, as ``tools.autoreply`` reads them;
        ([], None) without a calendar (the team answers at any time)."""
        self.ensure_one()
        calendar = self.whatsapp_calendar_id
        if not calendar:
            return [], None
        intervals = [
            (int(a.dayofweek), a.hour_from, a.hour_to)
            for a in calendar.attendance_ids
            if a.day_period != "lunch"
        ]
        return intervals, calendar.tz or "UTC"

    def _whatsapp_in_hours(self, moment):
        """Whether ``moment`` (naive UTC) falls in the team's working hours (no calendar: open)."""
        intervals, tz = self._whatsapp_intervals()
        if tz is None:
            return True
        return autoreply.in_working_hours(intervals, moment, tz)

    def _whatsapp_next_opening(self, moment):
        """When the team next opens after ``moment`` (naive UTC), as an aware datetime in the
        calendar's time zone; None without a calendar (always open) or without hours."""
        intervals, tz = self._whatsapp_intervals()
        if tz is None:
            return None
        return autoreply.next_working_time(intervals, moment, tz)

    def _whatsapp_assign_backlog(self):
        """Hand the team's unassigned conversations, oldest first, to its online agents."""
        self.ensure_one()
        Conversation = self.env["whatsapp.conversation"].sudo()
        members = self._whatsapp_agents()
        if not members.filtered(lambda user: user.im_status == "online"):
            return {}  # nobody online: routing assigns nobody, their loads are not counted
        agents = self._whatsapp_routing_agents(members, Conversation, [("state", "=", "open")])
        team = self._whatsapp_routing_team()
        if not routing.available_agents(team, agents):
            return {}  # nobody online with room: the backlog waits, not read for nothing
        waiting = Conversation.search(
            [("team_id", "=", self.id), ("user_id", "=", False), ("state", "=", "open")],
            order="create_date, id",
        )
        waiting -= self.env["whatsapp.assistant"]._holding(waiting)  # agents after its hand-off
        if not waiting:
            return {}
        pairs, cursor = routing.assign_backlog(
            [self._whatsapp_routing_conversation(conversation) for conversation in waiting],
            team,
            agents,
            cursor=self.whatsapp_last_user_id.id or None,
        )
        for conversation_id, user_id in pairs:
            Conversation.browse(conversation_id).user_id = user_id
        if cursor and cursor != self.whatsapp_last_user_id.id:
            self.sudo().whatsapp_last_user_id = cursor
        return dict(pairs)

    def _whatsapp_routing_agents(self, members, records, open_domain):
        """``members`` of the team as tools.routing sees them: presence, and how many open
        ``records`` (conversations or tickets: ``open_domain``) each one holds."""
        self.ensure_one()
        groups = records._read_group(
            [*open_domain, ("user_id", "in", members.ids)], ["user_id"], ["__count"]
        )
        load = {user.id: count for user, count in groups}
        return [
            routing.Agent(
                id=user.id,
                team_ids=frozenset({self.id}),
                online=user.im_status == "online",
                open_count=load.get(user.id, 0),
            )
            for user in members
        ]

    def _whatsapp_work_hours(self, start, end):
        """Hours between two naive-UTC datetimes counted in the team's working hours."""
        if not start or not end or end <= start:
            return 0.0
        return working_time.hours_between(self._whatsapp_open_hours(start, end), start, end)

    def _whatsapp_open_hours(self, start, end):
        """The team's open hours between two naive-UTC datetimes: sorted naive-UTC (from, to)
        pairs, without the holidays of its calendar, of the company's calendar and the public
        holidays of every calendar; None for a team without calendar (open round the clock)."""
        calendar = self.whatsapp_calendar_id if self else False
        if not calendar:
            return None
        start, end = start.replace(tzinfo=pytz.utc), end.replace(tzinfo=pytz.utc)
        company = self.company_id or calendar.company_id
        calendars = [False, calendar.id, *company.resource_calendar_id.ids]
        leaves = calendar._leave_intervals_batch(
            start,
            end,
            domain=[
                ("time_type", "=", "leave"),
                ("calendar_id", "in", calendars),
                ("company_id", "in", [False, *company.ids]),
            ],
            any_calendar=True,
        )[False]
        attendances = calendar._attendance_intervals_batch(start, end)[False]
        return [
            (
                begin.astimezone(pytz.utc).replace(tzinfo=None),
                stop.astimezone(pytz.utc).replace(tzinfo=None),
            )
            for begin, stop, _meta in attendances - leaves
        ]

    def _whatsapp_deadlines(self, clocks):
        """[(due, warn)] for ``clocks``, [(start, hours)] of this team (or of no team): when
        ``hours`` working hours from ``start`` pass, and when that clock turns amber. One
        calendar read for all the clocks; (False, False) for a clock without hours."""
        starts = [start for start, hours in clocks if start and hours]
        if not starts:
            return [(False, False)] * len(clocks)
        span = timedelta(days=14)
        low, high = min(starts), max(starts)
        for _attempt in range(MAX_PLANNING_SPANS):
            intervals = self._whatsapp_open_hours(low, high + span)
            plans = [
                (
                    working_time.add_hours(intervals, start, hours),
                    working_time.warn_at(intervals, start, hours),
                )
                if start and hours
                else (False, False)
                for start, hours in clocks
            ]
            if all(due is not None for due, _warn in plans):
                return plans
            span *= 2
        return [(due or False, warn or False) for due, warn in plans]

    # Routing WhatsApp conversations to teams and agents

    @api.model
    def _whatsapp_route(self, conversations):
        """Give unassigned ``conversations`` a team of their company, then an online agent by
        the team's policy (this runs as superuser from the processing cron)."""
        Team = self.sudo()
        teams = Team.search([("whatsapp_enabled", "=", True)])
        if not teams:
            return
        now = fields.Datetime.now()
        in_hours = {team.id: team._whatsapp_in_hours(now) for team in teams}
        plain_teams = defaultdict(list)
        for team in teams:
            plain_teams[team.company_id.id].append(team._whatsapp_routing_team())
        waiting = conversations.filtered(lambda c: not c.user_id and c.state == "open")
        for conversation in waiting.filtered(lambda c: not c.team_id):
            match = routing.match_team(
                self._whatsapp_routing_conversation(conversation),
                plain_teams[conversation.company_id.id],
                in_hours=in_hours,
            )
            if match:
                conversation.team_id = Team.browse(match.id)
        for team in waiting.team_id:
            team._whatsapp_assign_backlog()

    @api.model
    def _whatsapp_tag_skills(self, messages):
        """Tag conversations with the skills (helpdesk tags) their customers mention."""
        tags = self.env["helpdesk.ticket.tag"].sudo().search([("name", "!=", False)])
        if not tags:
            return
        for message in messages:
            text = (message.body or "").lower()
            company = message.conversation_id.company_id
            found = tags.filtered(
                lambda t, text=text, company=company: (
                    t.company_id in (company, company.browse()) and t.name.lower() in text
                )
            )
            if found - message.conversation_id.tag_ids:
                message.conversation_id.sudo().tag_ids = [fields.Command.link(t.id) for t in found]

    @api.model
    def _whatsapp_serve_backlog(self):
        """Agents come online, finish conversations, teams open: assign what waits."""
        Conversation = self.env["whatsapp.conversation"].sudo()
        self._whatsapp_route(Conversation.search([("user_id", "=", False), ("state", "=", "open")]))

    @api.model
    def _whatsapp_routing_conversation(self, conversation):
        """``conversation`` as tools.routing sees it."""
        return routing.Conversation(
            id=conversation.id,
            language=conversation.language or None,
            skills=frozenset(conversation.tag_ids.mapped("name")),
            source=conversation.source or None,
            created_at=conversation.create_date.timestamp() if conversation.create_date else 0.0,
        )
