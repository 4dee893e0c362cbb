"""A realistic month of WhatsApp service for the reports, written in bulk by SQL (never the ORM one
record at a time): run inside ``odoo-bin shell`` by ``bench/reports.py`` and
``scripts/screenshots_reports.py``, on a database with the addon's demo data.

What it makes, on the demo account and the demo teams (WhatsApp Brasil, WhatsApp Global, given a
1-hour first-response and an 8-hour resolution target and ten agents each):

* ``conversations`` customer requests started over the last ``days`` days, mostly in office
  hours and on weekdays, from numbers +5599...; 92 % answered (exponential, about 40 min
  median), 80 % of those closed (about 5 h later), entry points and languages mixed;
* six messages each (three in, three out; a third of the conversations get one of the demo
  templates in their language instead of a text; outbound states and Meta's failure reasons as
  a real account sees them);
* a helpdesk ticket for one conversation in ten, most of the closed ones rated.

Everything it wrote before (numbers +5599..., tickets numbered WAB...) is removed first.
"""

import time

from odoo import Command
from odoo.tools import SQL

PREFIX = "+5599"
TICKET_PREFIX = "WAB"
AGENTS_PER_TEAM = 10
LANGUAGES = ("pt_BR", "es_MX", "en_US", "hi_IN")


def clear(env):
    """Remove what an earlier fill wrote (messages and report rows go with the conversations;
    the message report is rebuilt by the next refresh)."""
    cr = env.cr
    cr.execute("DELETE FROM helpdesk_ticket WHERE number LIKE %s", [f"{TICKET_PREFIX}%"])
    cr.execute("DELETE FROM whatsapp_conversation WHERE phone_e164 LIKE %s", [f"{PREFIX}%"])
    cr.execute("DELETE FROM whatsapp_report_message")


def teams_and_agents(env):
    """The two demo teams with their targets, and ten agents each: [(team, [user ids])]."""
    Users = env["res.users"].with_context(no_reset_password=True)
    groups = [
        env.ref("base.group_user").id,
        env.ref("whatsapp_helpdesk.group_whatsapp_user").id,
        env.ref("helpdesk_mgmt.group_helpdesk_user").id,
    ]
    names = {
        "whatsapp_helpdesk.team_demo_brasil": ["Ana", "Bruno", "Carla", "Davi", "Elisa",
                                               "Fábio", "Gabriela", "Heitor", "Isabela", "João"],
        "whatsapp_helpdesk.team_demo_global": ["Aarav", "Bella", "Carlos", "Diya", "Emma",
                                               "Felipe", "Grace", "Hugo", "Ines", "Jamal"],
    }  # fmt: skip
    result = []
    for xmlid, first_names in names.items():
        team = env.ref(xmlid)
        users = env["res.users"]
        for first in first_names:
            login = f"bench.{first.lower()}"
            user = Users.search([("login", "=", login)])
            if not user:
                user = Users.create(
                    {
                        "name": f"{first} (bench)",
                        "login": login,
                        "groups_id": [Command.set(groups)],
                    }
                )
            users |= user
        team.write(
            {
                "whatsapp_sla_first_response": 1.0,
                "whatsapp_sla_resolution": 8.0,
                "user_ids": [Command.link(user.id) for user in users],
            }
        )
        result.append((team, users.ids))
    return result


def fill(env, conversations=100_000, days=30, seed=0.42):
    """Replace the bench month: ``conversations`` requests over ``days`` days. Returns counts."""
    clear(env)
    (team_a, agents_a), (team_b, agents_b) = teams_and_agents(env)
    account = env.ref("whatsapp_helpdesk.whatsapp_account_demo")
    templates = env["whatsapp.template"].search(
        ["|", ("account_id", "=", account.id), ("account_id", "=", False)]
    )
    if not templates:
        raise ValueError("no template to send: the demo data has some")
    by_language = {}
    for template in templates:
        by_language.setdefault(template.language[:2], []).append(template.id)
    template_ids = [by_language.get(language[:2], templates.ids[:1]) for language in LANGUAGES]
    width = max(len(ids) for ids in template_ids)
    # one row per language, padded: PostgreSQL arrays are rectangular
    template_matrix = [(ids * width)[:width] for ids in template_ids]
    env.flush_all()
    cr = env.cr
    cr.execute(SQL("SELECT setseed(%s)", seed))
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE wa_bench_request ON COMMIT DROP AS
            SELECT n, started, team, agent, language, source, answered,
                   CASE WHEN answered THEN -ln(1 - random()) * 0.6 END AS first_hours,
                   answered AND random() < 0.8
                       AND started < now_utc - interval '2 hours' AS resolved,
                   -ln(1 - random()) * 5 AS extra_hours, now_utc
              FROM (
                SELECT n, now_utc,
                       -- a moment still to come today is taken from the day before
                       CASE WHEN moment > now_utc THEN moment - interval '1 day'
                            ELSE moment END AS started,
                       CASE WHEN mod(n, 2) = 0 THEN %(team_a)s ELSE %(team_b)s END AS team,
                       CASE WHEN mod(n, 2) = 0
                            THEN (%(agents_a)s::int[])[1 + mod(n / 2, %(size_a)s)]
                            ELSE (%(agents_b)s::int[])[1 + mod(n / 2, %(size_b)s)] END AS agent,
                       (%(languages)s::text[])[1 + mod(n * 7, 4)] AS language,
                       CASE WHEN r < 0.55 THEN NULL WHEN r < 0.75 THEN 'website'
                            WHEN r < 0.92 THEN 'ad_referral' ELSE 'qr' END AS source,
                       random() < 0.92 AS answered
                  FROM (
                    SELECT n, r, now_utc,
                           day + (8 + 12 * power(random(), 1.15)) * interval '1 hour'
                               + random() * interval '1 hour' AS moment,
                           -- half of the weekend's customers write on Thursday or Friday instead
                           CASE WHEN EXTRACT(isodow FROM day) >= 6 AND random() < 0.5
                                THEN day - interval '2 days' ELSE day END AS day
                      FROM (
                        SELECT n, random() AS r, now() AT TIME ZONE 'UTC' AS now_utc,
                               date_trunc('day', now() AT TIME ZONE 'UTC')
                               - floor(random() * %(days)s) * interval '1 day' AS day
                          FROM generate_series(1, %(count)s) n
                      ) days
                  ) draws
              ) shaped
            """,
            team_a=team_a.id,
            team_b=team_b.id,
            agents_a=agents_a,
            agents_b=agents_b,
            size_a=len(agents_a),
            size_b=len(agents_b),
            languages=list(LANGUAGES),
            days=days,
            count=conversations,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO whatsapp_conversation (
                account_id, company_id, phone_e164, wa_id, name, state, team_id, user_id,
                source, language, inbox_state, last_direction, unread_count, first_inbound_at,
                service_started_at, last_inbound_at, last_message_at, window_end,
                first_response_at, first_response_hours, resolved_at, resolution_hours,
                sla_breached, whatsapp_sla_first_response_due, whatsapp_sla_resolution_due,
                whatsapp_sla_deadline, whatsapp_sla_warn_at,
                whatsapp_sla_first_response_breached, whatsapp_sla_resolution_breached,
                create_uid, create_date, write_uid, write_date)
            SELECT %(account)s, %(company)s, %(prefix)s || lpad(r.n::text, 9, '0'),
                   substr(%(prefix)s, 2) || lpad(r.n::text, 9, '0'),
                   %(prefix)s || lpad(r.n::text, 9, '0'),
                   CASE WHEN r.resolved THEN 'closed' ELSE 'open' END, r.team, r.agent,
                   r.source, r.language,
                   CASE WHEN r.resolved THEN 'resolved' WHEN r.answered THEN 'waiting'
                        ELSE 'open' END,
                   CASE WHEN r.answered THEN 'out' ELSE 'in' END, 0, r.started, r.started,
                   r.started, r.started + interval '1 minute',
                   r.started + interval '24 hours',
                   r.started + r.first_hours * interval '1 hour', r.first_hours,
                   CASE WHEN r.resolved THEN r.started
                        + (r.first_hours + r.extra_hours) * interval '1 hour' END,
                   CASE WHEN r.resolved THEN r.first_hours + r.extra_hours ELSE 0 END,
                   COALESCE(r.first_hours > 1, TRUE) OR (r.resolved AND r.first_hours
                                                         + r.extra_hours > 8),
                   r.started + interval '1 hour', r.started + interval '8 hours',
                   CASE WHEN r.resolved THEN NULL
                        WHEN r.answered THEN r.started + interval '8 hours'
                        ELSE r.started + interval '1 hour' END,
                   CASE WHEN r.resolved THEN NULL
                        WHEN r.answered THEN r.started + interval '6 hours'
                        ELSE r.started + interval '45 minutes' END,
                   COALESCE(r.first_hours > 1, r.now_utc > r.started + interval '1 hour'),
                   CASE WHEN r.resolved THEN r.first_hours + r.extra_hours > 8
                        ELSE r.now_utc > r.started + interval '8 hours' END,
                   1, r.started, 1, r.started
              FROM wa_bench_request r
            """,
            account=account.id,
            company=account.company_id.id,
            prefix=PREFIX,
        )
    )
    # three in, three out; the first answer of a third of them is a template in their language
    cr.execute(
        SQL(
            """
            INSERT INTO whatsapp_message (
                conversation_id, account_id, company_id, direction, message_type, state,
                template_id, failure_type, body, received_at, sent_at, delivered_at, read_at,
                pricing_category, billable, create_uid, create_date, write_uid, write_date)
            SELECT c.id, c.account_id, c.company_id, m.direction,
                   CASE WHEN m.template IS NOT NULL THEN 'template' ELSE 'text' END,
                   m.state, m.template, CASE WHEN m.state = 'failed' THEN m.reason END,
                   'bench', CASE WHEN m.direction = 'in' THEN m.at END,
                   CASE WHEN m.state IN ('sent', 'delivered', 'read') THEN m.at END,
                   CASE WHEN m.state IN ('delivered', 'read') THEN m.at END,
                   CASE WHEN m.state = 'read' THEN m.at + interval '3 minutes' END,
                   CASE WHEN m.template IS NOT NULL THEN 'utility' END,
                   m.template IS NOT NULL AND m.state != 'failed',
                   1, m.at, 1, m.at
              FROM whatsapp_conversation c
              JOIN wa_bench_request r ON c.phone_e164 = %(prefix)s || lpad(r.n::text, 9, '0')
              CROSS JOIN LATERAL (
                SELECT k, x,
                       CASE WHEN mod(k, 2) = 1 THEN 'in' ELSE 'out' END AS direction,
                       LEAST(r.started + (k - 1) * COALESCE(r.first_hours, 0.3)
                             * interval '1 hour' + k * interval '2 minutes',
                             r.now_utc) AS at,
                       CASE WHEN mod(k, 2) = 1 THEN 'received'
                            WHEN x < 0.07 THEN 'failed' WHEN x < 0.15 THEN 'sent'
                            WHEN x < 0.40 THEN 'delivered' ELSE 'read' END AS state,
                       CASE WHEN k = 2 AND mod(r.n, 3) = 0 THEN (%(templates)s::int[][])
                           [1 + mod(r.n * 7, 4)][1 + mod(r.n, %(width)s)] END AS template,
                       (ARRAY['undeliverable', 'opted_out', 'template_paused',
                              'number_not_registered', 'throttled'])[1 + mod(r.n, 5)] AS reason
                  FROM (
                    -- a draw per message from its numbers (random() here would be drawn once)
                    SELECT k, mod(r.n * 7919 + k * 104729, 1000) / 1000.0 AS x
                      FROM generate_series(1, 6) k
                     WHERE mod(k, 2) = 1 OR r.answered
                  ) draws
              ) m
            """,
            prefix=PREFIX,
            templates=template_matrix,
            width=width,
        )
    )
    messages = cr.rowcount
    stages = env["helpdesk.ticket.stage"].search([], order="sequence, id")
    open_stage, closed_stage = (
        stages.filtered(lambda s: not s.closed)[:1],
        stages.filtered("closed")[:1],
    )
    cr.execute(
        SQL(
            """
            INSERT INTO helpdesk_ticket (
                number, name, description, company_id, team_id, user_id, stage_id, active,
                priority, kanban_state, whatsapp_conversation_id, whatsapp_first_response_at,
                whatsapp_first_response_hours, whatsapp_resolution_hours, closed_date,
                whatsapp_csat, whatsapp_csat_requested, whatsapp_csat_at,
                create_uid, create_date, write_uid, write_date)
            SELECT %(prefix)s || c.id, 'Bench request ' || c.id, '<p>bench</p>', c.company_id,
                   c.team_id, c.user_id,
                   CASE WHEN c.state = 'closed' THEN %(closed_stage)s ELSE %(open_stage)s END,
                   TRUE, '1', 'normal', c.id, c.first_response_at, c.first_response_hours,
                   CASE WHEN c.state = 'closed' THEN c.resolution_hours ELSE 0 END,
                   c.resolved_at,
                   CASE WHEN c.state = 'closed' THEN (ARRAY['good', 'good', 'good', 'good',
                        'good', 'good', 'ok', 'ok', 'bad', NULL])[1 + mod(c.id, 10)] END,
                   c.state = 'closed', c.resolved_at, 1, c.first_inbound_at, 1, c.first_inbound_at
              FROM whatsapp_conversation c
             WHERE c.phone_e164 LIKE %(like)s AND mod(c.id / 7, 10) = 0
            """,
            prefix=TICKET_PREFIX,
            closed_stage=closed_stage.id,
            open_stage=open_stage.id,
            like=f"{PREFIX}%",
        )
    )
    tickets = cr.rowcount
    env.invalidate_all()
    return {"conversations": conversations, "messages": messages, "tickets": tickets}


def fill_and_refresh(env, conversations=100_000, days=30):
    """Fill the month, then refresh the stored reports from scratch as their cron does, and once
    more with nothing new; each step committed and timed. Returns counts and seconds."""
    started = time.perf_counter()
    counts = fill(env, conversations=conversations, days=days)
    env.cr.commit()
    counts["fill_s"] = time.perf_counter() - started
    started = time.perf_counter()
    counts["report_requests"] = env["whatsapp.report.service"]._refresh(full=True)
    counts["refresh_service_s"] = time.perf_counter() - started
    started = time.perf_counter()
    counts["report_message_rows"] = env["whatsapp.report.message"]._refresh(full=True)
    counts["refresh_messages_s"] = time.perf_counter() - started
    env.cr.commit()
    started = time.perf_counter()
    env["whatsapp.dashboard"]._cron_refresh_reports()
    counts["refresh_again_s"] = time.perf_counter() - started
    env.cr.commit()
    return counts
