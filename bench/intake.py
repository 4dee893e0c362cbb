#!/usr/bin/env python3
"""Webhook intake benchmark: signed Meta webhooks against a running whatsapp_helpdesk.

It sends N inbound text events from P new customer numbers, K events per request, from C
concurrent clients (optionally delivering every request a second time, as Meta does), then reads
the database back and prints:

  * events/s acknowledged (HTTP 200 and stored in the durable inbox),
  * events/s visible in conversations (whatsapp.message rows with their chatter message),
  * events/s reacted to (routing, automatic answers, the assistant: the event is done),
  * acknowledgement latency p50/p95/p99,
  * lost, doubled and misattributed events, and conversations per phone,
  * when it started Odoo itself: CPU milliseconds per event by process (Odoo's HTTP workers, its
    cron worker, the PostgreSQL backends of the database, this load generator) and SQL queries
    per event of the webhook requests and of the processing cron (from Odoo's log lines).

By default it starts its own Odoo (database ``wa_bench`` with demo data, ``--workers``, and
``--cron-threads`` cron workers: 2 by default, Odoo's own default and what scripts/run.sh gives,
so the two processing jobs, one per half of the customers, run in parallel; the "odoo cron
worker" CPU figure is the sum of them all) and stops it afterwards. After installing or updating
the addon it runs ANALYZE on the database, as autovacuum does on any installation within minutes,
so that the first run after a build is planned on statistics like every later one. The job
that sends the replies the reactions queue is paused while the run lasts (unless ``--send``):
nothing answers for Meta here (bench/dispatch.py measures sending against the sandbox), and
failing sends would take a cron worker from the intake measured. ``--url``
and ``--db`` point it at one already running instead. The events are for the demo account,
signed with the app secret its demo data drew at install (read from ``--db``).
"""

import argparse
import http.client
import json
import os
import queue
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit

from common import (
    ADDON,
    REPO,
    Odoo,
    ProcessWatch,
    ensure_database,
    percentile,
    pg_connect,
    read_demo_account,
    start_odoo,
    stop_odoo,
    wait_for_odoo,
)

sys.path.insert(0, str(REPO / ADDON))
from tools import payloads  # noqa: E402  (plain-Python tools, no Odoo import)

MARKER = re.compile(r"bench:(\w+):(\d+):\+?(\d+)")
EVENTS_LOGGER = "odoo.addons.whatsapp_helpdesk.models.whatsapp_webhook_event"
REQUEST_LINE = re.compile(r'"POST /whatsapp/webhook HTTP/1\.[01]" \d+ - (?P<queries>\d+) ')
CRON_LINE = re.compile(
    r"WhatsApp intake: events processed: (?P<items>\d+) in [\d.]+ s, (?P<queries>\d+) queries"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", "--events", type=int, default=20000, help="distinct events (20000)")
    parser.add_argument("-k", "--per-request", type=int, default=20, help="events per request (20)")
    parser.add_argument("-c", "--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument(
        "-p", "--phones", type=int, default=500, help="distinct new customers (500)"
    )
    parser.add_argument(
        "--redeliver", action="store_true", help="deliver every request twice, in shuffled order"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="Odoo HTTP workers when started here (4)"
    )
    parser.add_argument(
        "--cron-threads",
        type=int,
        default=2,
        help="Odoo cron workers when started here (2: Odoo's default, as scripts/run.sh runs it)",
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="keep the send job active during the run (default: paused; nothing answers the\n"
        "sends here, and they would share the cron workers with the intake measured)",
    )
    parser.add_argument("--url", help="webhook URL of a running Odoo (then --db is needed)")
    parser.add_argument("--db", default="wa_bench", help="database to read back (wa_bench)")
    parser.add_argument("--visible-timeout", type=float, default=300, help="seconds to wait (300)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="measure the webhook requests alone: Odoo started without its cron worker (the\n"
        "CPU figures are then the requests' own, PostgreSQL included); the run's events are\n"
        "counted stored, not waited for as visible, and deleted from the inbox afterwards",
    )
    parser.add_argument(
        "--sql-profile",
        type=int,
        default=0,
        metavar="N",
        help="log every SQL statement of Odoo (its sql_db logger at DEBUG: slower, and its\n"
        "CPU figures with it) and print the N statements that took the most time, each with\n"
        "its calls and milliseconds per event, literals folded (PostgreSQL's\n"
        "pg_stat_statements needs a server setting; this needs none)",
    )
    return parser.parse_args(argv)


# -- Odoo ----------------------------------------------------------------------------------------


def start_server(args, log_path):
    """Odoo on ``args.db`` (installed, else updated: the database must match the code being
    measured) with ``args.workers`` workers, logging to ``log_path`` the lines that count
    queries; return (process, webhook URL)."""
    odoo = Odoo(args.db)
    ensure_database(odoo)
    analyze(args.db)
    pause_sending(args.db, not args.send)
    process, port, _started = start_odoo(
        odoo,
        args.workers,
        log_path=log_path,
        info_loggers=["werkzeug", EVENTS_LOGGER],
        cron_threads=0 if args.intake_only else args.cron_threads,
        extra=["--log-handler=odoo.sql_db:DEBUG"] if args.sql_profile else (),
    )
    if not wait_for_odoo(port):
        stop_odoo(process)
        pause_sending(args.db, False)
        raise SystemExit("Odoo did not start")
    return process, f"http://127.0.0.1:{port}/whatsapp/webhook"


def analyze(db):
    """Statistics for the planner on every table, as autovacuum gathers them on any installation
    soon after it is built (a freshly built database has none yet)."""
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute("ANALYZE")
    conn.close()


def pause_sending(db, paused):
    """Deactivate (``paused``) or reactivate the job that sends queued messages."""
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute(
            """
            UPDATE ir_cron SET active = %s
             WHERE id = (SELECT res_id FROM ir_model_data
                          WHERE module = 'whatsapp_helpdesk' AND name = 'ir_cron_whatsapp_send')
            """,
            (not paused,),
        )
    conn.close()


class Sampler(threading.Thread):
    """Samples a ProcessWatch every half second until stopped."""

    def __init__(self, watch):
        super().__init__(daemon=True)
        self.watch = watch
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            self.watch.sample()

    def stop(self):
        self.done.set()
        self.join()
        self.watch.sample()


def logged_queries(log_path):
    """SQL queries of the webhook requests and of the processing cron, and the events the cron
    reported, from Odoo's log."""
    http = cron = processed = 0
    with open(log_path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if found := REQUEST_LINE.search(line):
                http += int(found["queries"])
            elif found := CRON_LINE.search(line):
                cron += int(found["queries"])
                processed += int(found["items"])
    return http, cron, processed


SQL_LINE = re.compile(r"^\S+ \S+ (?P<pid>\d+) \S+ \S+ odoo\.sql_db: \[(?P<ms>[\d.]+) ms\] query: ")
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ ")
SQL_FOLDS = [
    (re.compile(r"\s(?:- - -|\d+ [\d.]+ [\d.]+)\s*$"), ""),  # Odoo's perf field ending the record
    (re.compile(r"'(?:[^']|'')*'"), "?"),  # string literals (JSON bodies, names)
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),  # numbers
    (re.compile(r"\s+"), " "),
    (re.compile(r"\?(?:::\w+(?:\[\])?)?(?:, ?\?(?:::\w+(?:\[\])?)?)+"), "?..."),  # lists
    (re.compile(r"\(\?\.\.\.\)(?:, \(\?\.\.\.\))+"), "(?...)..."),  # VALUES rows
    (re.compile(r"ARRAY\[[^\]]*\]"), "ARRAY[...]"),
]


def sql_profile(log_path):
    """{folded statement: [calls, milliseconds]} from Odoo's sql_db DEBUG lines (a statement
    spans lines up to the next log record)."""
    totals = {}

    def add(ms, text):
        for pattern, replacement in SQL_FOLDS:
            text = pattern.sub(replacement, text)
        entry = totals.setdefault(text.strip()[:160], [0, 0.0])
        entry[0] += 1
        entry[1] += ms

    current = None
    with open(log_path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if RECORD_START.match(line):
                if current:
                    add(*current)
                found = SQL_LINE.match(line)
                current = [float(found["ms"]), line[found.end() :]] if found else None
            elif current:
                current[1] += line
    if current:
        add(*current)
    return totals


# -- load ----------------------------------------------------------------------------------------


def make_phones(count, rng):
    """New Brazilian mobile numbers (nine digits) nobody has used before."""
    prefix = rng.randint(10, 99)
    return [f"55{prefix}9{rng.randint(1000, 9999)}{i:04d}" for i in range(count)]


def make_requests(args, run_id, phones, demo):
    """Bodies of K events each, signed for the ``demo`` account, and the truth: {seq: phone}."""
    truth = {}
    bodies = []
    seq = 0
    while seq < args.events:
        changes = []
        for _ in range(min(args.per_request, args.events - seq)):
            phone = phones[seq % len(phones)]
            truth[seq] = phone
            message = payloads.text_message(
                phone, f"bench:{run_id}:{seq}:+{phone}", wamid=f"wamid.bench{run_id}x{seq}"
            )
            changes.append(
                payloads.messages_change(
                    demo["phone_number_id"],
                    demo["display_phone_number"],
                    contacts=[payloads.contact(phone, f"Bench {phone[-4:]}")],
                    messages=[message],
                )
            )
            seq += 1
        bodies.append(
            payloads.signed(payloads.envelope(demo["waba_id"], changes), demo["app_secret"])
        )
    return bodies, truth


class Client:
    """One client's HTTP connection to the webhook, reopened whenever the server closes it (Odoo's
    workers answer one request per connection): ``http.client`` rather than ``requests``, whose
    per-call overhead made the load generator cost more CPU per event than some of Odoo."""

    def __init__(self, url):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.conn = None

    def post(self, body, headers):
        """The HTTP status of one POST of ``body``."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.conn.request("POST", self.path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def send_all(url, bodies, clients):
    """Post every body from ``clients`` threads; returns (latencies, statuses, seconds)."""
    work = queue.Queue()
    for item in bodies:
        work.put(item)
    latencies, statuses = [], []
    lock = threading.Lock()

    def client():
        connection = Client(url)
        while True:
            try:
                body, headers = work.get_nowait()
            except queue.Empty:
                connection.close()
                return
            started = time.perf_counter()
            try:
                status = connection.post(body, headers)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - started


# -- read back -----------------------------------------------------------------------------------


def count_run(cr, run_id):
    like = f"wamid.bench{run_id}x%"
    cr.execute("SELECT count(*) FROM whatsapp_webhook_event WHERE wamid LIKE %s", (like,))
    stored = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM whatsapp_message WHERE wamid LIKE %s", (like,))
    visible = cr.fetchone()[0]
    return stored, visible


def count_reacted(cr, run_id):
    """Events of the run whose processing is over, reactions included (not pending or stored)."""
    cr.execute(
        "SELECT count(*) FROM whatsapp_webhook_event WHERE wamid LIKE %s"
        " AND state NOT IN ('pending', 'stored')",
        (f"wamid.bench{run_id}x%",),
    )
    return cr.fetchone()[0]


def forget_run(cr, run_id):
    """Delete the run's events from the inbox (an intake-only run leaves them unprocessed, and the
    next run's cron would otherwise pay for them)."""
    cr.execute(
        "DELETE FROM whatsapp_webhook_event WHERE wamid LIKE %s", (f"wamid.bench{run_id}x%",)
    )


def audit(cr, run_id, truth, phones):
    like = f"wamid.bench{run_id}x%"
    cr.execute(
        """
        SELECT m.body, c.phone_e164, p.whatsapp_e164, mm.id IS NOT NULL
          FROM whatsapp_message m
          JOIN whatsapp_conversation c ON c.id = m.conversation_id
          LEFT JOIN res_partner p ON p.id = m.partner_id
          LEFT JOIN mail_message mm ON mm.id = m.mail_message_id
         WHERE m.wamid LIKE %s
        """,
        (like,),
    )
    seen, doubled, misattributed, no_thread = set(), 0, 0, 0
    for body, conv_phone, partner_phone, in_thread in cr.fetchall():
        match = MARKER.search(body or "")
        seq = int(match.group(2))
        if seq in seen:
            doubled += 1
        seen.add(seq)
        expected = "+" + truth[seq]
        if conv_phone != expected or partner_phone != expected:
            misattributed += 1
        no_thread += not in_thread
    numbers = ["+" + phone for phone in phones]
    # the customers' own messages in the threads (notes quoting them, like the assistant's
    # hand-over summary, are not copies)
    cr.execute(
        """
        SELECT count(*)
          FROM mail_message mm
          JOIN res_partner p ON p.id = mm.author_id
         WHERE mm.model = 'whatsapp.conversation' AND mm.body LIKE %s
           AND p.whatsapp_e164 = ANY(%s)
        """,
        (f"%bench:{run_id}:%", numbers),
    )
    thread_messages = cr.fetchone()[0]
    cr.execute(
        "SELECT phone_e164, count(*) FROM whatsapp_conversation WHERE phone_e164 = ANY(%s) "
        "GROUP BY phone_e164",
        (numbers,),
    )
    per_phone = dict(cr.fetchall())
    cr.execute(
        "SELECT whatsapp_e164, count(*) FROM res_partner WHERE whatsapp_e164 = ANY(%s) "
        "GROUP BY whatsapp_e164",
        (numbers,),
    )
    partners_per_phone = dict(cr.fetchall())
    return {
        "lost": len(truth) - len(seen),
        "doubled": doubled + max(0, thread_messages - len(seen)),
        "misattributed": misattributed,
        "not_in_thread": no_thread,
        "phones_with_conversation": len(per_phone),
        "max_conversations_per_phone": max(per_phone.values(), default=0),
        "max_partners_per_phone": max(partners_per_phone.values(), default=0),
    }


def main(argv=None):
    args = parse_args(argv)
    rng = random.Random(args.seed)
    run_id = uuid.uuid4().hex[:8]
    process = sampler = None
    url = args.url
    log_dir = tempfile.mkdtemp(prefix="wa-bench-intake-")
    log_path = os.path.join(log_dir, "odoo.log")
    if not url:
        process, url = start_server(args, log_path)
    try:
        phones = make_phones(args.phones, rng)
        # signed with the app secret the demo data drew at install
        bodies, truth = make_requests(args, run_id, phones, read_demo_account(args.db))
        if args.redeliver:
            replays = list(bodies)
            rng.shuffle(replays)
            bodies = [item for pair in zip(bodies, replays, strict=True) for item in pair]
        sent_events = len(truth) * (2 if args.redeliver else 1)
        conn = pg_connect(args.db)
        cr = conn.cursor()
        if process:
            sampler = Sampler(ProcessWatch(args.db, process.pid, {os.getpid(): "bench"}))
            sampler.watch.rebase()
            sampler.start()
        load_started = time.perf_counter()
        latencies, statuses, load_seconds = send_all(url, bodies, args.clients)
        stored, visible = count_run(cr, run_id)
        while (
            not args.intake_only
            and visible < len(truth)
            and time.perf_counter() - load_started < args.visible_timeout
        ):
            time.sleep(0.2)
            stored, visible = count_run(cr, run_id)
        visible_seconds = time.perf_counter() - load_started
        # the reactions (routing, automatic answers, the assistant) follow the visible message:
        # the CPU figures count them too
        reacted = count_reacted(cr, run_id)
        while (
            not args.intake_only
            and reacted < stored
            and time.perf_counter() - load_started < args.visible_timeout
        ):
            time.sleep(0.2)
            reacted = count_reacted(cr, run_id)
        reacted_seconds = time.perf_counter() - load_started
        if not args.intake_only:
            time.sleep(1)  # the cron run logs its queries as it ends
        if sampler:
            sampler.stop()
        if args.intake_only:
            result = {"lost": len(truth) - stored, "doubled": 0, "misattributed": 0}
            forget_run(cr, run_id)
        else:
            result = audit(cr, run_id, truth, phones)
    finally:
        stop_odoo(process)
        if process:
            pause_sending(args.db, False)
    ok = sum(1 for status in statuses if status == 200)
    report = {
        "load": {
            "events": len(truth),
            "events_per_request": args.per_request,
            "clients": args.clients,
            "phones": args.phones,
            "redelivery": args.redeliver,
            "requests": len(bodies),
            "odoo_workers": args.workers if process else "external",
            "odoo_cron_threads": (0 if args.intake_only else args.cron_threads)
            if process
            else "external",
            "send_job": "active" if args.send or not process else "paused",
        },
        "acknowledged_events_per_s": round(sent_events / load_seconds, 1),
        "stored_events": stored,
        "visible_events_per_s": round(visible / visible_seconds, 1),
        "visible_events": visible,
        "reacted_events_per_s": round(reacted / reacted_seconds, 1),
        "reacted_events": reacted,
        "ack_ms": {
            "p50": round(1000 * percentile(latencies, 0.50, 0.0), 1),
            "p95": round(1000 * percentile(latencies, 0.95, 0.0), 1),
            "p99": round(1000 * percentile(latencies, 0.99, 0.0), 1),
            "mean": round(1000 * statistics.fmean(latencies), 1) if latencies else 0,
        },
        "http_200": ok,
        "http_other": len(statuses) - ok,
        **result,
    }
    if sampler:
        http, cron, processed = logged_queries(log_path)
        report["cpu_ms_per_event"] = sampler.watch.cpu_report(sent_events)
        report["sql_queries_per_event"] = {
            "webhook_requests": round(http / sent_events, 2) if sent_events else None,
            "processing_cron": round(cron / processed, 2) if processed else None,
        }
        if args.sql_profile:
            top = sorted(sql_profile(log_path).items(), key=lambda item: -item[1][1])
            report["sql_top_statements"] = [
                {
                    "ms_per_event": round(ms / sent_events, 3),
                    "calls_per_event": round(calls / sent_events, 3),
                    "statement": text,
                }
                for text, (calls, ms) in top[: args.sql_profile]
            ]
    shutil.rmtree(log_dir, ignore_errors=True)
    print(json.dumps(report, indent=2))
    healthy = (
        result["lost"] == 0
        and result["doubled"] == 0
        and result["misattributed"] == 0
        and result.get("max_conversations_per_phone", 1) == 1
        and ok == len(bodies)
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
