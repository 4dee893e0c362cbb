import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import reporting
from .common import cron_report

_logger = logging.getLogger(__name__)

SERVICE_ACTION = "whatsapp_helpdesk.whatsapp_report_service_action"
MESSAGE_ACTION = "whatsapp_helpdesk.whatsapp_report_message_action"
TICKET_ACTION = "whatsapp_helpdesk.whatsapp_report_ticket_action"
INBOX_ACTION = "whatsapp_helpdesk.whatsapp_conversation_action"


def _period(field, start, end=None):
    """The domain of ``field`` since ``start``, until ``end`` excluded if given."""
    return [(field, ">=", start)] + ([(field, "<", end)] if end else [])


def _figure(value):
    """An average or percentile of _read_group: None when there was nothing to measure."""
    return None if value is False or value is None else value


class WhatsappDashboard(models.AbstractModel):
    """The headline figures of the last 7 or 30 days: every figure of the companies a WhatsApp
    manager works in, or an agent's own. All of them are read from the stored reporting tables
    (and the live counts from the conversations' indexed fields), group by group, by PostgreSQL;
    the dashboard screen and the weekly summary e-mail show the same data."""

    _name = "whatsapp.dashboard"
    _description = "WhatsApp Dashboard"

    @api.model
    def get_data(self, period=7):
        """The dashboard of the current user for the last ``period`` days (7 or 30)."""
        if not self.env.user.has_group("whatsapp_helpdesk.group_whatsapp_user"):
            raise AccessError(self.env._("The WhatsApp dashboard is for WhatsApp users."))
        try:
            days = reporting.dashboard_period(period)
        except ValueError:
            raise UserError(self.env._("The dashboard shows the last 7 or 30 days.")) from None
        manager = self.env.user.has_group("whatsapp_helpdesk.group_whatsapp_manager")
        scope = [] if manager else [("user_id", "=", self.env.uid)]
        start = fields.Datetime.now() - timedelta(days=days)
        current = self._figures(scope, start)
        previous = self._figures(scope, start - timedelta(days=days), start)
        params = self.env["ir.config_parameter"].sudo()
        return {
            "period": days,
            "scope": "all" if manager else "mine",
            "refreshed_at": params.get_param("whatsapp_helpdesk.report_service_refreshed_at"),
            "tiles": self._tiles(current, previous, start),
            "live": self._live(manager),
            "daily": self._daily(scope, start),
            "heatmap": self._heatmap(scope, start),
            "agents": self._agents(start) if manager else [],
        }

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------

    @api.model
    def _figures(self, scope, start, end=None):
        """{figure: value} since ``start`` (until ``end``, excluded, if given) in ``scope`` (a
        domain on user_id)."""
        service = self.env["whatsapp.report.service"]._read_group(
            [*scope, *_period("started_at", start, end)],
            [],
            [
                "__count",
                "first_response_median:percentile",
                "first_response_p90:percentile",
                "resolution_median:percentile",
                "answered_in_target:avg",
                "resolved_in_target:avg",
                "reopen_rate:avg",
            ],
        )[0]
        hours = _period("date", start, end)
        Messages = self.env["whatsapp.report.message"]
        by_direction = dict(
            Messages._read_group([*scope, *hours], ["direction"], ["message_count:sum"])
        )
        templates = Messages._read_group(
            [*scope, *hours, ("template_id", "!=", False)],
            [],
            ["delivered_count:sum", "read_count:sum", "failed_count:sum"],
        )[0]
        csat, rated = self.env["whatsapp.report.ticket"]._read_group(
            [*scope, *_period("closed_at", start, end)],
            [],
            ["csat_satisfied:avg", "rated:sum"],
        )[0]
        delivered, read, failed = (count or 0 for count in templates)
        median, p90, resolution, answered, resolved, reopened = map(_figure, service[1:])
        return {
            "conversations": service[0],
            "first_response_median": median,
            "first_response_p90": p90,
            "resolution_median": resolution,
            "answered_in_target": answered,
            "resolved_in_target": resolved,
            "reopen_rate": reopened,
            "messages_in": by_direction.get("in") or 0,
            "messages_out": by_direction.get("out") or 0,
            "template_read_rate": reporting.ratio(read, delivered),
            "templates_failed": failed,
            "csat": _figure(csat) if rated else None,
        }

    @api.model
    def _tile_specs(self):
        """(figure, label, kind, whether a rise is good, action, context of the action)."""
        HOURS, PERCENT, COUNT = reporting.HOURS, reporting.PERCENT, reporting.COUNT
        service = {"pivot_measures": ["__count", "first_response_median", "first_response_p90"]}
        return [
            ("conversations", self.env._("Requests"), COUNT, True, SERVICE_ACTION, {}),
            ("messages_in", self.env._("Messages received"), COUNT, True, MESSAGE_ACTION, {}),
            ("messages_out", self.env._("Messages sent"), COUNT, True, MESSAGE_ACTION, {}),
            (
                "first_response_median",
                self.env._("First response (median)"),
                HOURS,
                False,
                SERVICE_ACTION,
                service,
            ),
            (
                "first_response_p90",
                self.env._("First response (90 %)"),
                HOURS,
                False,
                SERVICE_ACTION,
                service,
            ),
            (
                "resolution_median",
                self.env._("Resolution (median)"),
                HOURS,
                False,
                SERVICE_ACTION,
                {"pivot_measures": ["__count", "resolution_median", "resolution_p90"]},
            ),
            (
                "answered_in_target",
                self.env._("Answered in target"),
                PERCENT,
                True,
                SERVICE_ACTION,
                {},
            ),
            (
                "resolved_in_target",
                self.env._("Resolved in target"),
                PERCENT,
                True,
                SERVICE_ACTION,
                {},
            ),
            ("reopen_rate", self.env._("Reopened"), PERCENT, False, SERVICE_ACTION, {}),
            ("csat", self.env._("Satisfied customers"), PERCENT, True, TICKET_ACTION, {}),
            ("template_read_rate", self.env._("Templates read"), PERCENT, True, MESSAGE_ACTION, {}),
            ("templates_failed", self.env._("Templates failed"), COUNT, False, MESSAGE_ACTION, {}),
        ]

    @api.model
    def _tiles(self, current, previous, start):
        tiles = []
        for key, label, kind, rise_is_good, action, context in self._tile_specs():
            value = current[key]
            change = reporting.trend(value, previous[key])
            tiles.append(
                {
                    "key": key,
                    "label": label,
                    "value": value,
                    "display": reporting.format_figure(value, kind),
                    "previous": reporting.format_figure(previous[key], kind),
                    "trend": change,
                    "good": None if not change else (change > 0) == rise_is_good,
                    "action": action,
                    "context": context,
                }
            )
        return tiles

    @api.model
    def _live(self, manager):
        """The open conversations now: all, unassigned, late and close to their deadline."""
        Conversation = self.env["whatsapp.conversation"]
        now = fields.Datetime.now()
        mine = [] if manager else [("user_id", "=", self.env.uid)]
        open_ = [("state", "=", "open")]
        # the customer wrote: what only we started (a campaign, a notification) is no work
        unassigned = [*open_, ("user_id", "=", False), ("first_inbound_at", "!=", False)]
        if not manager:
            unassigned.append(("team_id.user_ids", "in", self.env.uid))
        counts = [
            ("open", self.env._("Open now"), [*open_, *mine], "search_default_open"),
            ("unassigned", self.env._("Unassigned"), unassigned, "search_default_unassigned"),
            (
                "late",
                self.env._("Late"),
                [*open_, *mine, ("whatsapp_sla_deadline", "<", now)],
                "search_default_sla_late",
            ),
            (
                "at_risk",
                self.env._("Close to the deadline"),
                [
                    *open_,
                    *mine,
                    ("whatsapp_sla_deadline", ">=", now),
                    ("whatsapp_sla_warn_at", "<=", now),
                ],
                "search_default_sla_at_risk",
            ),
        ]
        return [
            {
                "key": key,
                "label": label,
                "value": Conversation.search_count(domain),
                "action": INBOX_ACTION,
                "context": {filter_name: 1, **({} if manager else {"search_default_mine": 1})},
            }
            for key, label, domain, filter_name in counts
        ]

    @api.model
    def _daily(self, scope, start):
        """Per day: requests started, their median first response, messages in and out."""
        service = self.env["whatsapp.report.service"]._read_group(
            [*scope, ("started_at", ">=", start)],
            ["started_at:day"],
            ["__count", "first_response_median:percentile"],
        )
        messages = self.env["whatsapp.report.message"]._read_group(
            [*scope, ("date", ">=", start)],
            ["date:day", "direction"],
            ["message_count:sum"],
        )
        days = {}
        for day, count, median in service:
            days.setdefault(day, {}).update(conversations=count, first_response_median=median)
        for day, direction, count in messages:
            days.setdefault(day, {})[f"messages_{direction}"] = count
        return [
            {
                "day": fields.Date.to_string(day),
                "conversations": values.get("conversations", 0),
                "first_response_median": _figure(values.get("first_response_median")),
                "messages_in": values.get("messages_in", 0),
                "messages_out": values.get("messages_out", 0),
            }
            for day, values in sorted(days.items())
        ]

    @api.model
    def _heatmap(self, scope, start):
        """Customer messages per weekday (0: Monday) and hour of day: when customers write."""
        groups = self.env["whatsapp.report.message"]._read_group(
            [*scope, ("date", ">=", start), ("direction", "=", "in")],
            ["weekday", "hour"],
            ["message_count:sum"],
        )
        return [[int(weekday), hour, count] for weekday, hour, count in groups if weekday]

    @api.model
    def _agents(self, start):
        """Per agent: requests, median first response, share resolved in target, satisfaction."""
        service = self.env["whatsapp.report.service"]._read_group(
            [("started_at", ">=", start), ("user_id", "!=", False)],
            ["user_id"],
            ["__count", "first_response_median:percentile", "resolved_in_target:avg"],
        )
        csat = {
            user: value
            for user, value, rated in self.env["whatsapp.report.ticket"]._read_group(
                [("closed_at", ">=", start), ("user_id", "!=", False)],
                ["user_id"],
                ["csat_satisfied:avg", "rated:sum"],
            )
            if rated
        }
        rows = [
            {
                "user_id": user.id,
                "name": user.name,
                "conversations": count,
                "first_response_median": reporting.format_hours(_figure(median)),
                "resolved_in_target": reporting.format_figure(
                    _figure(in_target), reporting.PERCENT
                ),
                "csat": reporting.format_figure(csat.get(user), reporting.PERCENT),
            }
            for user, count, median, in_target in service
        ]
        return sorted(rows, key=lambda row: -row["conversations"])

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------

    @api.model
    def _cron_refresh_reports(self):
        """Bring the stored reporting tables up to date."""
        with cron_report(_logger, "WhatsApp reports: service rows written") as report:
            report["items"] = self.env["whatsapp.report.service"]._refresh()
        with cron_report(_logger, "WhatsApp reports: message rows written") as report:
            report["items"] = self.env["whatsapp.report.message"]._refresh()

    @api.model
    def _cron_weekly_summary(self):
        """E-mail every WhatsApp manager the figures of the last 7 days of their companies."""
        template = self.env.ref(
            "whatsapp_helpdesk.mail_template_whatsapp_weekly_summary", raise_if_not_found=False
        )
        if not template:
            return 0
        managers = (
            self.env.ref("whatsapp_helpdesk.group_whatsapp_manager")
            .users.filtered(lambda user: user.active and not user.share and user.email)
            .sorted("id")
        )
        for manager in managers:
            as_manager = self.with_user(manager).with_context(
                allowed_company_ids=manager.company_ids.ids, lang=manager.lang
            )
            summary = as_manager.get_data(7)
            template.with_context(whatsapp_summary=summary, lang=manager.lang).send_mail(
                manager.id, email_layout_xmlid="mail.mail_notification_light"
            )
        _logger.info("WhatsApp weekly summary sent to %s manager(s)", len(managers))
        return len(managers)
