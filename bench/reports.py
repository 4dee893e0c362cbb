#!/usr/bin/env python3
"""Reports benchmark: how fast the managers' reports and dashboard open on a month of 100,000
WhatsApp conversations.

Steps:

  1. make sure the database has the addon (installed with demo data when missing, else updated
     once with -u so that code and database agree);
  2. in ``odoo-bin shell``: fill a month (bench/report_data.py: N conversations over 30 days,
     six messages each, a ticket for one in ten; bulk SQL), then refresh the stored reports the
     way their cron does, both timed (skipped with --reuse when the month is there already);
  3. start Odoo (no cron thread: nothing else runs meanwhile), log in as admin (a WhatsApp
     manager: he sees every figure) and open each report the way the web client does: the
     dashboard's get_data (7 and 30 days); a pivot sends one read_group per combination of its
     row and column group-bys (lazy=False), a graph one web_read_group; each is timed --repeat
     times over HTTP (JSON-RPC, as the browser calls it);
  4. print one line per report (rows read, first, median and slowest time) and a JSON report.

Goal: every report opens in under a second (median). Exit code: 0 when met, 1 when not, 2 when
the benchmark could not run.
"""

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time

import requests
from common import (
    REPO,
    BenchError,
    Odoo,
    ensure_database,
    log,
    start_odoo,
    stop_odoo,
    wait_for_odoo,
)

MARKER = "REPORTS_BENCH_JSON "
GOAL_SECONDS = 1.0
LAST_30 = [["started_at", ">=", "{since}"]]
MESSAGES_30 = [["date", ">=", "{since}"]]

# (name, model, kind, domain, row group-bys, column group-bys, measures)
OPENINGS = [
    (
        "service pivot: team x week, median / p90 first response, % in target",
        "whatsapp.report.service",
        "pivot",
        LAST_30,
        ["team_id"],
        ["started_at:week"],
        [
            "first_response_median:percentile",
            "first_response_p90:percentile",
            "answered_in_target:avg",
        ],
    ),
    (
        "service pivot: agent x month, median resolution, reopened",
        "whatsapp.report.service",
        "pivot",
        LAST_30,
        ["user_id"],
        ["started_at:month"],
        ["__count", "resolution_median:percentile", "reopen_rate:avg"],
    ),
    (
        "service graph: median first response per day",
        "whatsapp.report.service",
        "graph",
        LAST_30,
        ["started_at:day"],
        [],
        ["first_response_median:percentile"],
    ),
    (
        "requests by hour: weekday x hour of day",
        "whatsapp.report.service",
        "pivot",
        LAST_30,
        ["started_weekday"],
        ["started_hour"],
        ["__count"],
    ),
    (
        "message graph: received / sent per day",
        "whatsapp.report.message",
        "graph",
        MESSAGES_30,
        ["date:day", "direction"],
        [],
        ["message_count:sum"],
    ),
    (
        "template results: template x language",
        "whatsapp.report.message",
        "pivot",
        [*MESSAGES_30, ["template_id", "!=", False]],
        ["template_id", "language"],
        [],
        [
            "sent_count:sum",
            "delivered_count:sum",
            "read_count:sum",
            "replied_count:sum",
            "failed_count:sum",
            "read_rate:ratio",
        ],
    ),
    (
        "busiest hours: weekday x hour, customer messages",
        "whatsapp.report.message",
        "pivot",
        [*MESSAGES_30, ["direction", "=", "in"]],
        ["weekday"],
        ["hour"],
        ["message_count:sum"],
    ),
    (
        "failures by reason x template",
        "whatsapp.report.message",
        "pivot",
        [*MESSAGES_30, ["failed_count", ">", 0]],
        ["failure_type"],
        ["template_id"],
        ["failed_count:sum"],
    ),
    (
        "tickets: agent x satisfaction",
        "whatsapp.report.ticket",
        "pivot",
        [["opened_at", ">=", "{since}"]],
        ["user_id"],
        ["csat"],
        ["__count", "csat_satisfied:avg"],
    ),
    (
        "backlog: team x age",
        "whatsapp.report.backlog",
        "pivot",
        [],
        ["team_id"],
        ["age_bucket"],
        ["__count", "unassigned_hours:avg"],
    ),
]

FILL = """
import json, sys
sys.path.insert(0, {bench!r})
import report_data
counts = report_data.fill_and_refresh(env, conversations={conversations}, days={days})
print({marker!r} + json.dumps(counts))
"""

COUNT = """
print({marker!r} + str(env["whatsapp.conversation"].search_count(
    [("phone_e164", "=like", "+5599%")])))
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", "--conversations", type=int, default=100_000, help="requests in the month (100000)"
    )
    parser.add_argument("--days", type=int, default=30, help="days they spread over (30)")
    parser.add_argument("--repeat", type=int, default=5, help="times each report is opened (5)")
    parser.add_argument("--db", default="wa_bench_reports", help="database (wa_bench_reports)")
    parser.add_argument("--port", type=int, default=None, help="Odoo's HTTP port (a free one)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the month already in the database when it has the same size (no fill)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.conversations <= 5_000_000:
        parser.error("--conversations must be between 1 and 5,000,000")
    if not 1 <= args.days <= 366:
        parser.error("--days must be between 1 and 366")
    if not 1 <= args.repeat <= 100:
        parser.error("--repeat must be between 1 and 100")
    return args


def run_shell(odoo, script):
    """Run ``script`` in ``odoo-bin shell``; the JSON after MARKER in its output."""
    done = subprocess.run(odoo.shell(), input=script, capture_output=True, text=True, timeout=7200)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    raise BenchError("the Odoo shell did not finish its work")


class Client:
    """The web client's JSON-RPC calls, with the session of a logged-in user."""

    def __init__(self, port, db, login="admin", password="admin"):
        self.url = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        answer = self.session.post(
            f"{self.url}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}},
            timeout=60,
        ).json()
        if "error" in answer:
            raise BenchError(f"could not log in as {login}: {answer['error']}")
        self.context = answer["result"]["user_context"]

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        answer = self.session.post(
            f"{self.url}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
            },
            timeout=300,
        ).json()
        if "error" in answer:
            raise BenchError(f"{model}.{method}: {answer['error']['data']['message']}")
        return answer["result"]


def open_report(client, model, kind, domain, rows, cols, measures):
    """Open a pivot or a graph as the web client does; the number of groups read."""
    if kind == "graph":
        result = client.call(
            model, "web_read_group", domain, measures, rows + cols, lazy=False, orderby=False
        )
        return len(result["groups"])
    groups = 0
    for i, j in itertools.product(range(len(rows) + 1), range(len(cols) + 1)):
        found = client.call(
            model, "read_group", domain=domain, fields=measures, groupby=rows[:i] + cols[:j],
            lazy=False,
        )  # fmt: skip
        groups += len(found)
    return groups


def timed(function, repeat):
    """(result, [seconds of each call])."""
    seconds, result = [], None
    for _attempt in range(repeat):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return result, seconds


def measure(client, repeat):
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 30 * 86400))
    lines = []
    for period in (7, 30):
        data, seconds = timed(
            lambda period=period: client.call("whatsapp.dashboard", "get_data", period=period),
            repeat,
        )
        lines.append((f"dashboard, last {period} days", len(data["tiles"]), seconds))
    for name, model, kind, domain, rows, cols, measures in OPENINGS:
        domain = [
            [part.format(since=since) if isinstance(part, str) else part for part in term]
            for term in domain
        ]
        groups, seconds = timed(
            lambda model=model, kind=kind, domain=domain, rows=rows, cols=cols, m=measures: (
                open_report(client, model, kind, domain, rows, cols, m)
            ),
            repeat,
        )
        lines.append((name, groups, seconds))
    return lines


def main(argv=None):
    args = parse_args(argv)
    odoo = None
    process = None
    try:
        odoo = Odoo(args.db)
        action, seconds = ensure_database(odoo)
        log(f"whatsapp_helpdesk {action} in {args.db} ({seconds} s)")
        bench = str(REPO / "bench")
        present = run_shell(odoo, COUNT.format(marker=MARKER)) if args.reuse else None
        if present == args.conversations:
            log(f"reusing the {present} bench conversations of {args.db}")
            filled = {"conversations": present, "reused": True}
        else:
            log(f"filling {args.conversations} conversations over {args.days} days...")
            filled = run_shell(
                odoo,
                FILL.format(
                    bench=bench, conversations=args.conversations, days=args.days, marker=MARKER
                ),
            )
        process, port, _started = start_odoo(odoo, 0, cron_threads=0, port=args.port)
        if not wait_for_odoo(port):
            raise BenchError("Odoo did not answer")
        client = Client(port, args.db)
        lines = measure(client, args.repeat)
    except BenchError as error:
        log(f"could not run: {error}")
        return 2
    finally:
        stop_odoo(process)
    report = {"data": filled, "goal_s": GOAL_SECONDS, "reports": []}
    print(f"\n{'report':<70} {'groups':>7} {'first':>8} {'median':>8} {'max':>8}")
    met = True
    for name, groups, seconds in lines:
        median = statistics.median(seconds)
        met = met and median < GOAL_SECONDS
        print(
            f"{name:<70} {groups:>7} {seconds[0] * 1000:>6.0f}ms {median * 1000:>6.0f}ms "
            f"{max(seconds) * 1000:>6.0f}ms"
        )
        report["reports"].append(
            {"name": name, "groups": groups, "seconds": [round(s, 4) for s in seconds]}
        )
    for key in ("fill_s", "refresh_service_s", "refresh_messages_s", "refresh_again_s"):
        if key in filled:
            print(f"{key}: {filled[key]:.1f}")
    print(
        f"data: {filled.get('conversations')} conversations, {filled.get('messages', '?')} "
        f"messages, {filled.get('tickets', '?')} tickets; report rows: "
        f"{filled.get('report_requests', '?')} requests, "
        f"{filled.get('report_message_rows', '?')} message groups"
    )
    print(f"goal: every report under {GOAL_SECONDS:.0f} s (median): {'met' if met else 'MISSED'}")
    print(MARKER + json.dumps(report))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
