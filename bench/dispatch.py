#!/usr/bin/env python3
"""Outbox dispatch benchmark: how fast whatsapp_helpdesk's cron empties a queue of template sends.

Steps (only step 4 and the drain are timed):

  1. copy the addon to a temporary folder (the shared checkout may change during the run: every
     Odoo command and the sandbox of this run use that copy, reported by its hash) and make sure
     the database has it (installed with demo data when missing, else updated once with -u so
     that code and database agree);
  2. start the Cloud API sandbox of the copy in its own process (``python -m tools.sandbox
     serve``), on a free port of 127.0.0.1, as the demo account's Meta (its ids, and the token
     its demo data drew at install, read from the database), with the latency asked, the 24-hour
     window off, NO status webhooks and no log line per send: the drain is measured without
     webhook load on Odoo, and the sandbox's own CPU is reported apart from Odoo's;
  3. set up through ``odoo-bin shell``: point the demo account at the sandbox with the tier asked,
     get or create the approved template ``hello_world`` (en_US), get or create the conversations
     of --recipients customers (+55 11 97xxx-xxxx, reused across runs), cancel what earlier runs
     left queued or sending;
  4. enqueue N template messages in another ``odoo-bin shell`` (create() in batches of 5,000, one
     commit each), timed inside the script;
  5. start Odoo (--workers HTTP workers, one cron worker): the triggers of the creates are due
     and the cron drains the queue. The creates notified the cron workers while no Odoo was
     listening, and a fresh cron worker first sleeps 60-69 s, so once Odoo answers the bench
     sends the notification ir.cron._trigger sends (pg_notify('cron_trigger', db)) every 2 s until
     the cron claims rows (--no-wake: leave Odoo alone). Meanwhile the RSS of every process of
     Odoo's process group is sampled every 0.5 s and the run's rows are counted by state;
  6. stop when no row of the run is queued or sending (or on --timeout), stop Odoo;
  7. print a JSON report: rate (from the sandbox's accepted sends), states, duplicated sends
     (same biz_opaque_callback_data accepted twice), lost messages, CPU milliseconds per message
     by process and SQL queries per message of the cron worker (from its log lines), peak RSS.

The pacing ("max_sends_in_any_1s", against "pacing"."limit_in_any_1s", the rate plus the burst)
is counted on the instants the sends left the cron worker's socket, which Odoo's cron worker
notes for this run (WA_BENCH_DEPARTURE_LOG, see tools/http_async.py): that is what Meta would
see, give or take the network. "pacing" also gives the busiest second as the sandbox stamped the
arrivals and how late its stamps came (departure_to_sandbox_stamp_ms): the sandbox shares the
two cores with Odoo and PostgreSQL, and a sandbox starved of CPU stamps late and in bunches
(--sandbox-nice lets it run first). "longest_pauses" lists the longest gaps between two
departures ([seconds after the first departure, ms]): a batch's, a run's or a cron pass's boundary
that leaves the wire idle shows there (--keep-logs keeps the departures for a closer look).

"cron_sql_queries_per_message" is every query of the cron worker's process, in any thread,
during its runs of the sending cron (its own log line), over the messages claimed: a batch of
5 s of the tier (5,000 at tier 1,000) costs a few dozen queries, one claim and one UPDATE of
the outcomes among them. --log-sql cross-checks it against Odoo's SQL debug log.

Exit code: 0 when nothing was lost or duplicated, 1 otherwise, 2 when the benchmark itself could
not run (setup failure, Odoo did not start...).
"""

import argparse
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
import psycopg2
import requests
from common import (
    ADDON,
    REPO,
    BenchError,
    Odoo,
    ProcessWatch,
    ensure_database,
    free_port,
    log,
    percentile,
    pg_connect,
    read_demo_account,
    start_odoo,
    stop_odoo,
)

BATCH = 5000
SAMPLE_PERIOD = 0.5
# Counting the run's rows by state reads every one of them (a 100,000-row run: about a tenth of a
# second of PostgreSQL each time, counted as PostgreSQL's CPU per message): every COUNT_PERIOD
# seconds, and at each sample only once the sandbox accepted NEAR_END of the run (the end
# is then told as soon as before), so that the bench's own load weighs little on the figures.
COUNT_PERIOD = 5.0
NEAR_END = 0.98
MARKER = "DISPATCH_BENCH_JSON "
OUTBOX_LOGGER = "odoo.addons.whatsapp_helpdesk.models.whatsapp_message_outbox"
CRON_LINE = re.compile(
    r"WhatsApp outbox: messages sent: (?P<items>\d+) in [\d.]+ s, (?P<queries>\d+) queries"
)
# Odoo's cron worker, run with this variable, notes the instant each send leaves its socket
# (whatsapp_helpdesk/tools/http_async.py, DEPARTURE_LOG_ENV): what Meta would see, unlike the
# sandbox's stamps, taken by a process that shares the machine's two cores.
DEPARTURE_LOG_ENV = "WA_BENCH_DEPARTURE_LOG"
SQL_LINE = re.compile(r"^\S+ \S+ (?P<pid>\d+) DEBUG \S+ odoo\.sql_db: \[")
CRON_JOB_LINE = re.compile(
    r"^\S+ \S+ (?P<pid>\d+) INFO \S+ odoo\.addons\.base\.models\.ir_cron: Job "
    r"'WhatsApp: send queued messages' \(\d+\) (?P<what>starting|done)"
)
NOT_FINAL = ("queued", "sending")
SENT_STATES = ("sent", "delivered", "read")
REPORTED_STATES = (
    "sent",
    "delivered",
    "read",
    "failed",
    "unknown",
    "queued",
    "sending",
    "skipped",
    "canceled",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", "--messages", type=int, default=10000, help="messages to enqueue (10000)"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=100, help="sandbox latency of every Graph call (100)"
    )
    parser.add_argument(
        "--tier",
        type=int,
        choices=(80, 1000),
        default=80,
        help="throughput tier of the account, messages/s (80)",
    )
    parser.add_argument(
        "--recipients", type=int, default=2000, help="distinct customers, round-robin (2000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="Odoo HTTP workers (2)")
    parser.add_argument("--db", default="wa_bench_dispatch", help="database (wa_bench_dispatch)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the queue to drain after Odoo starts (N / tier * 3 + 120)",
    )
    parser.add_argument(
        "--sandbox-nice",
        type=int,
        default=None,
        help="run the sandbox at this niceness (e.g. -5, as root): a sandbox starved of CPU "
        "stamps its arrivals late and in bunches (default: the bench's own)",
    )
    parser.add_argument(
        "--log-sql",
        action="store_true",
        help="also count the cron worker's queries from Odoo's SQL debug log (a cross-check of "
        "the count its own log line gives; slower)",
    )
    parser.add_argument(
        "--no-wake",
        action="store_true",
        help="do not notify the cron worker once Odoo is up (it then first runs 60-69 s later)",
    )
    parser.add_argument(
        "--keep-logs",
        metavar="DIR",
        help="copy the run's Odoo log and departures log (one line per send that left: wall "
        "time, monotonic time, callback data) to DIR",
    )
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if not 1 <= args.recipients <= 10_000_000:
        parser.error("--recipients must be between 1 and 10,000,000")
    if args.workers < 1:
        parser.error("--workers must be at least 1 (the cron worker needs prefork mode)")
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    if args.sandbox_nice is not None and not -20 <= args.sandbox_nice <= 19:
        parser.error("--sandbox-nice must be between -20 and 19")
    if args.timeout is None:
        args.timeout = args.messages / args.tier * 3 + 120
    return args


# -- sandbox -------------------------------------------------------------------------------------


def snapshot_addon(target):
    """Copy the addon as it is now into ``target``: the whole run (update, shells, server and the
    sandbox) uses that code, even if the shared checkout changes meanwhile."""
    copy = target / ADDON
    shutil.copytree(
        REPO / ADDON, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    )
    digest = hashlib.sha256()
    for path in sorted(item for item in copy.rglob("*") if item.is_file()):
        digest.update(str(path.relative_to(copy)).encode())
        digest.update(path.read_bytes())

    def git(*command):
        done = subprocess.run(["git", "-C", str(REPO), *command], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    head = git("rev-parse", "--short=12", "HEAD")
    changes = git("status", "--porcelain", "--", ADDON)
    return {
        "git_head": head,
        "addon_uncommitted_changes": None if changes is None else bool(changes),
        "addon_sha256": digest.hexdigest()[:16],
    }


class SandboxProcess:
    """The sandbox of the snapshot in its own process, as the demo account's Meta, with the
    latency asked, the 24-hour window off, no status webhooks and a quiet log."""

    def __init__(self, addons_dir, latency_ms, identity, nice=None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(24)
        env = dict(os.environ, WA_SANDBOX_CONTROL_TOKEN=self.token)
        env.update({f"WA_SANDBOX_{name.upper()}": value for name, value in identity.items()})
        command = [
            sys.executable,
            "-m",
            "tools.sandbox",
            "serve",
            f"--port={self.port}",
            f"--latency-ms={latency_ms}",
            "--no-enforce-window",
            "--no-statuses",
            "--log-level=WARNING",
        ]
        self.nice = None
        if nice is not None:
            command = ["nice", "-n", str(nice), *command]  # every thread of it, from its start
        self.process = subprocess.Popen(
            command, cwd=addons_dir / ADDON, env=env, start_new_session=True
        )
        self.pid = self.process.pid
        self.session = requests.Session()
        self.session.headers["X-Sandbox-Token"] = self.token
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.session.get(f"{self.base_url}/_sandbox/health", timeout=1).ok:
                    self.nice = psutil.Process(self.pid).nice()
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise BenchError("the sandbox did not start")

    def sent_count(self):
        answer = self.session.get(f"{self.base_url}/_sandbox/stats", timeout=10)
        return answer.json()["sent"]

    def accepted(self):
        """Every send the sandbox accepted (``to``, ``wamid``, ``time``, ``payload``...)."""
        answer = self.session.get(f"{self.base_url}/_sandbox/messages", timeout=300)
        return answer.json()["messages"]

    def stop(self):
        self.session.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# -- database ------------------------------------------------------------------------------------


def other_odoo_connections(db):
    """Odoo processes connected to ``db`` right now (their cron would drain our queue too)."""
    conn = pg_connect(db)
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = %s"
                " AND application_name LIKE 'odoo-%%' AND pid <> pg_backend_pid()",
                (db,),
            )
            return sorted(row[0] for row in cr.fetchall())
    finally:
        conn.close()


def id_ranges(ids):
    """Sorted ``ids`` as [(first, last)] runs of consecutive integers."""
    ranges = []
    for value in sorted(ids):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return [tuple(item) for item in ranges]


def run_filter(ranges):
    """SQL condition and parameters selecting exactly the ids of ``ranges``."""
    if len(ranges) <= 64:
        sql = " OR ".join("id BETWEEN %s AND %s" for _ in ranges)
        return f"({sql})", [bound for pair in ranges for bound in pair]
    ids = [value for first, last in ranges for value in range(first, last + 1)]
    return "id = ANY(%s)", [ids]


def count_states(cr, where):
    sql, params = where
    cr.execute(f"SELECT state, count(*) FROM whatsapp_message WHERE {sql} GROUP BY state", params)
    return dict(cr.fetchall())


# -- Odoo ----------------------------------------------------------------------------------------


def odoo_shell(odoo, script, timeout):
    """Run ``script`` in ``odoo-bin shell``; return the JSON of its marked output line."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            odoo.shell(), input=script, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"odoo-bin shell did not finish within {timeout:.0f} s") from error
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-25:])
        raise BenchError(f"odoo-bin shell failed (exit {done.returncode}):\n{tail}")
    return json.loads(lines[-1][len(MARKER) :]), wall


# -- shell scripts -------------------------------------------------------------------------------

SETUP_SCRIPT = """
import json
import os
import re
import secrets
P = json.loads(PARAMS)
account = env.ref("whatsapp_helpdesk.whatsapp_account_demo").sudo()
account.write({"active": True, "api_base_url": P["api_base_url"], "throughput_tier": P["tier"]})

Template = env["whatsapp.template"].with_context(active_test=False, whatsapp_no_resubmit=True)
template = Template.search([
    ("account_id", "=", account.id), ("name", "=", "hello_world"), ("language", "=", "en_US"),
], limit=1)
values = {
    "active": True, "body": "Hello World", "status": "approved", "header_type": "none",
    "category": "UTILITY",
}
if template:
    template.write(values)
else:
    template = Template.create(dict(values, name="hello_world", language="en_US",
                                    account_id=account.id))

def number(index):
    digits = f"{index:07d}"
    return f"+55 11 97{digits[:3]}-{digits[3:]}", f"+55119{7000_0000 + index}"

wanted = [number(index) for index in range(P["recipients"])]
Partner = env["res.partner"].with_context(active_test=False)
partners = {}
for start in range(0, len(wanted), 1000):
    chunk = [e164 for _pretty, e164 in wanted[start:start + 1000]]
    for partner in Partner.search([("whatsapp_e164", "in", chunk)], order="id"):
        partners.setdefault(partner.whatsapp_e164, partner)
brazil = env.ref("base.br")
missing = [(index, pretty, e164) for index, (pretty, e164) in enumerate(wanted)
           if e164 not in partners]
for start in range(0, len(missing), 500):
    chunk = missing[start:start + 500]
    created = Partner.create([
        {"name": f"Dispatch bench {index:06d}", "mobile": pretty, "country_id": brazil.id,
         "lang": "en_US"}
        for index, pretty, _e164 in chunk
    ])
    for (index, _pretty, e164), partner in zip(chunk, created):
        if partner.whatsapp_e164 != e164:
            raise ValueError(f"{partner.mobile} became {partner.whatsapp_e164!r}, not {e164}")
        partners[e164] = partner
    env.cr.commit()

Conversation = env["whatsapp.conversation"].with_context(active_test=False)
conversations = {}
for start in range(0, len(wanted), 1000):
    chunk = [e164 for _pretty, e164 in wanted[start:start + 1000]]
    found = Conversation.search([("account_id", "=", account.id), ("phone_e164", "in", chunk)])
    conversations.update({c.phone_e164: c for c in found})
conversations_created = 0
for _pretty, e164 in wanted:
    if e164 not in conversations:
        conversations[e164] = account._get_conversation(partners[e164])
        conversations_created += 1
        if conversations_created % 200 == 0:
            env.cr.commit()

leftovers = env["whatsapp.message"].search([
    ("direction", "=", "out"), ("state", "in", ("queued", "sending")),
])
leftovers.write({"state": "canceled"})
env.cr.commit()
print(MARKER + json.dumps({
    "account_id": account.id,
    "template_id": template.id,
    "conversation_ids": [conversations[e164].id for _pretty, e164 in wanted],
    "partners_created": len(missing),
    "conversations_created": conversations_created,
    "leftovers_canceled": len(leftovers),
    "account": {
        name: account[name]
        for name in ("throughput_tier", "recipient_gap", "send_workers", "api_timeout")
        if name in account._fields
    },
}))
"""

ENQUEUE_SCRIPT = """
import json
import os
import re
import secrets
import time
P = json.loads(PARAMS)
Message = env["whatsapp.message"]
conversation_ids = P["conversation_ids"]
count = P["messages"]
ids = []
started = time.perf_counter()
for start in range(0, count, P["batch"]):
    vals_list = [
        {
            "conversation_id": conversation_ids[index % len(conversation_ids)],
            "direction": "out",
            "message_type": "template",
            "template_id": P["template_id"],
            "template_values": {},
            "body": "Hello World",
        }
        for index in range(start, min(count, start + P["batch"]))
    ]
    ids.extend(Message.create(vals_list).ids)
    env.cr.commit()
seconds = time.perf_counter() - started
print(MARKER + json.dumps({"seconds": seconds, "ids": ids}))
"""


def script(template, params):
    return f"PARAMS = {json.dumps(json.dumps(params))}\nMARKER = {MARKER!r}\n{template}"


# -- monitoring ----------------------------------------------------------------------------------


class CronWaker:
    """Sends ``pg_notify('cron_trigger', db)`` on the postgres database, as ``ir.cron._trigger``
    does when a row is queued while Odoo runs. The notifications of the enqueueing went out
    while no Odoo listened, and a fresh cron worker first sleeps 60-69 s unless notified."""

    PERIOD = 2.0

    def __init__(self, db, enabled):
        self.db = db
        self.enabled = enabled
        self.sent = 0
        self.first_at = None
        self.last = -float("inf")

    def maybe_notify(self, started):
        if not self.enabled or time.monotonic() - self.last < self.PERIOD:
            return
        self.last = time.monotonic()
        try:
            conn = pg_connect("postgres")
            try:
                with conn.cursor() as cr:
                    cr.execute("SELECT pg_notify('cron_trigger', %s)", (self.db,))
            finally:
                conn.close()
        except psycopg2.Error as error:
            log(f"could not notify the cron worker ({error}); it wakes within 70 s anyway")
            self.enabled = False
            return
        self.sent += 1
        self.first_at = self.first_at or time.time() - started

    def report(self):
        if not self.enabled and not self.sent:
            return "off"
        return {
            "notifications": self.sent,
            "first_after_odoo_start_s": round(self.first_at, 2) if self.first_at else None,
        }


def watch_drain(process, started, port, where, cr, args, sandbox, total):
    """Sample until the run has nothing queued or sending, Odoo dies, or the timeout."""
    watch = ProcessWatch(args.db, process.pid, {sandbox.pid: "sandbox", os.getpid(): "bench"})
    waker = CronWaker(args.db, not args.no_wake)
    ready_at = None
    counting = False
    states = {}
    drained = False
    last_log = 0.0
    deadline = time.monotonic() - (time.time() - started) + args.timeout
    session = requests.Session()
    next_count = 0.0
    while time.monotonic() < deadline:
        tick = time.monotonic()
        if process.poll() is not None:
            log(f"Odoo exited with code {process.returncode} before the queue drained")
            break
        watch.sample()
        if tick >= next_count or sandbox.sent_count() >= total * NEAR_END:
            states = count_states(cr, where)
            next_count = tick + COUNT_PERIOD
        if ready_at is None:
            try:
                if session.get(f"http://127.0.0.1:{port}/web/health", timeout=0.2).ok:
                    ready_at = time.time()
            except requests.RequestException:
                pass
        # (rows queued while it runs, by a campaign's release, count once they exist)
        if sum(states.values()) >= total and not any(states.get(state) for state in NOT_FINAL):
            drained = True
            break
        if not counting and sandbox.sent_count():
            watch.rebase()  # the CPU of the drain, not of Odoo's start-up
            counting = True
        if ready_at is not None and states.get("queued", 0) in (0, total) and not counting:
            waker.maybe_notify(started)
        if tick - last_log >= 10:
            last_log = tick
            waiting = sum(states.get(state, 0) for state in NOT_FINAL)
            log(
                f"t={time.time() - started:6.1f}s accepted={sandbox.sent_count()}"
                f" waiting={waiting}/{total} states={dict(sorted(states.items()))}"
            )
        time.sleep(max(0.0, SAMPLE_PERIOD - (time.monotonic() - tick)))
    watch.sample()
    session.close()
    return {
        "drained": drained,
        "drain_seconds": round(time.time() - started, 2),
        "odoo_ready_seconds": round(ready_at - started, 2) if ready_at else None,
        "cron_wake": waker.report(),
        "watch": watch,
    }


def cron_queries(log_path):
    """What Odoo's log says of the sending cron's SQL: ``{"messages", "queries"}`` from its own
    lines (see cron_report: every query the cron worker's process ran, in any thread, between
    the start and the end of a run of the sending cron), plus, when the log holds the SQL debug
    lines (--log-sql), ``"queries_in_sql_log"``: the ``odoo.sql_db`` lines of the cron worker
    between the ``starting`` and ``done`` lines of the sending cron's jobs."""
    messages = queries = logged = 0
    inside = set()  # pids of cron workers running the sending cron
    sql_logged = False
    with open(log_path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if found := SQL_LINE.match(line):
                sql_logged = True
                logged += found["pid"] in inside
            elif found := CRON_JOB_LINE.match(line):
                (inside.add if found["what"] == "starting" else inside.discard)(found["pid"])
            elif found := CRON_LINE.search(line):
                messages += int(found["items"])
                queries += int(found["queries"])
    report = {"messages": messages, "queries": queries}
    if sql_logged:
        report["queries_in_sql_log"] = logged
    return report


def read_departures(path):
    """``{callback data: (time.time(), time.monotonic())}`` of the sends that left the cron
    worker's socket, from the file it wrote (see DEPARTURE_LOG_ENV); empty without one."""
    departures = {}
    try:
        with open(path, encoding="ascii", errors="replace") as lines:
            for line in lines:
                parts = line.split()
                if len(parts) == 3:
                    departures[parts[2]] = (float(parts[0]), float(parts[1]))
    except FileNotFoundError:
        pass
    return departures


# -- analysis ------------------------------------------------------------------------------------


def busiest_second(instants):
    """The most of ``instants`` (seconds) that any window shorter than one second holds."""
    instants = sorted(instants)
    busiest = low = 0
    for high, moment in enumerate(instants):
        while moment - instants[low] >= 1.0:
            low += 1
        busiest = max(busiest, high - low + 1)
    return busiest


def least_gaps(sends, gap_floor):
    """(least gap between two sends to one customer, how many gaps are below ``gap_floor``) of
    ``sends``: (customer, instant) pairs."""
    last_to = {}
    least = None
    below = 0
    for customer, moment in sorted(sends, key=lambda item: item[1]):
        previous = last_to.get(customer)
        if previous is not None:
            gap = moment - previous
            least = gap if least is None else min(least, gap)
            below += bool(gap_floor) and gap < gap_floor
        last_to[customer] = moment
    return least, below


def longest_pauses(instants, count=8):
    """The ``count`` longest pauses between two consecutive departures (``instants``, seconds),
    as ``[seconds after the first departure, pause in ms]`` in time order: where a run loses
    its rate (a batch's or a run's boundary shows as a pause of a round trip or more)."""
    instants = sorted(instants)
    pauses = sorted(
        ((later - earlier, earlier) for earlier, later in itertools.pairwise(instants)),
        reverse=True,
    )[:count]
    return sorted([round(at - instants[0], 2), round(pause * 1000)] for pause, at in pauses)


def pacing_report(accepted, departures, tier, latency_s, gap_floor):
    """The pacing as it left the cron worker (``departures``, see read_departures) and as the
    sandbox stamped it; ``accepted``: the sandbox's entries of the run."""
    arrivals = [entry["time"] - latency_s for entry in accepted]
    left = [
        (entry["to"], departures[key][1], departures[key][0], arrival)
        for entry, arrival in zip(accepted, arrivals, strict=True)
        if (key := entry["payload"].get("biz_opaque_callback_data")) in departures
    ]
    lags = sorted(1000 * (arrival - wall) for _to, _mono, wall, arrival in left)
    first = min((mono for _to, mono, _w, _a in left), default=0.0)
    per_second = Counter(int(mono - first) for _to, mono, _w, _a in left)
    least, below = least_gaps([(to, mono) for to, mono, _wall, _arrival in left], gap_floor)
    return {
        "limit_in_any_1s": int(tier + max(1.0, tier / 10)),  # rate + burst (tools/pacing.py)
        "busiest_1s_at_departure": busiest_second(mono for _to, mono, _w, _a in left),
        "busiest_1s_at_sandbox_arrival": busiest_second(arrivals),
        "departures_recorded": len(left),
        "departures_per_second": [per_second[second] for second in range(max(per_second) + 1)]
        if per_second
        else [],
        "longest_pauses": longest_pauses([mono for _to, mono, _w, _a in left]),
        "departure_to_sandbox_stamp_ms": {
            "p50": round(percentile(lags, 0.5), 1) if lags else None,
            "p99": round(percentile(lags, 0.99), 1) if lags else None,
            "max": round(lags[-1], 1) if lags else None,
        },
        "min_gap_same_recipient_at_departure_s": round(least, 3) if least is not None else None,
        "same_recipient_gaps_at_departure_below_account_gap": below if gap_floor else None,
    }


def analyse(
    rows, accepted_all, n, tier, odoo_started_at, gap_floor=None, departures=None, latency_s=0.0
):
    """The figures of the report from the run's rows and the sandbox's accepted sends.

    ``gap_floor``: the account's least gap between two sends to one customer, if it has one;
    the gaps seen below it are counted (sandbox times: arrival + latency, jitter included).
    ``departures`` (see read_departures): the busiest second is counted as the sends left the
    cron worker, what Meta would see, when the run recorded them.
    """
    by_uuid = {row[1]: row for row in rows}
    accepted = [
        entry
        for entry in accepted_all
        if entry["payload"].get("biz_opaque_callback_data") in by_uuid
    ]
    per_uuid = Counter(entry["payload"]["biz_opaque_callback_data"] for entry in accepted)
    duplicated = sum(count - 1 for count in per_uuid.values() if count > 1)
    wamids = {entry["wamid"] for entry in accepted}
    states = Counter(row[2] for row in rows)
    not_final = sum(states[state] for state in NOT_FINAL)
    sent_unseen = sum(1 for row in rows if row[2] in SENT_STATES and row[3] not in wamids)
    accepted_not_sent = sum(1 for row in rows if row[1] in per_uuid and row[2] not in SENT_STATES)
    times = sorted(entry["time"] for entry in accepted)
    dispatch = times[-1] - times[0] if len(times) > 1 else None
    rate = len(times) / dispatch if dispatch else None
    min_gap, below_floor = least_gaps([(e["to"], e["time"]) for e in accepted], gap_floor)
    pacing = pacing_report(accepted, departures or {}, tier, latency_s, gap_floor)
    if pacing["departures_recorded"] == len(accepted):
        max_1s, measured_at = pacing["busiest_1s_at_departure"], "departure from the cron worker"
    else:
        max_1s, measured_at = busiest_second(times), "sandbox arrival"
    failures = Counter(
        f"{row[2]}:{row[4] or '-'}" for row in rows if row[2] in ("failed", "unknown", "skipped")
    )
    return {
        "enqueued_rows": len(rows),
        "dispatch_seconds": round(dispatch, 3) if dispatch is not None else None,
        "messages_per_s": round(rate, 1) if rate else None,
        "fraction_of_tier": round(rate / tier, 3) if rate else None,
        "first_send_after_odoo_start_seconds": (
            round(times[0] - odoo_started_at, 2) if times else None
        ),
        "max_sends_in_any_1s": max_1s,
        "max_sends_in_any_1s_measured_at": measured_at,
        "pacing": pacing,
        "min_gap_same_recipient_s": round(min_gap, 3) if min_gap is not None else None,
        "same_recipient_gaps_below_account_gap": below_floor if gap_floor else None,
        "states": {
            **{state: states.get(state, 0) for state in REPORTED_STATES},
            **{state: count for state, count in states.items() if state not in REPORTED_STATES},
        },
        "failure_types": dict(sorted(failures.items())),
        "sandbox_accepted": len(accepted),
        "sandbox_accepted_other": len(accepted_all) - len(accepted),
        "duplicated": duplicated,
        "lost": not_final + sent_unseen + (n - len(rows)),
        "lost_detail": {
            "not_final": not_final,
            "sent_in_db_but_wamid_unseen": sent_unseen,
            "rows_missing": n - len(rows),
        },
        "accepted_but_not_sent_in_db": accepted_not_sent,
    }


def fetch_rows(cr, where):
    sql, params = where
    cr.execute(
        f"SELECT id, uuid, state, wamid, failure_type FROM whatsapp_message WHERE {sql}", params
    )
    return cr.fetchall()


# -- main ----------------------------------------------------------------------------------------


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def run(args):
    sandbox = None
    addons_dir = Path(tempfile.mkdtemp(prefix="wa-bench-dispatch-"))
    report = {
        "load": {
            "messages": args.messages,
            "latency_ms": args.latency_ms,
            "tier": args.tier,
            "recipients": args.recipients,
            "workers": args.workers,
            "max_cron_threads": 1,
            "webhooks": "off",
            "db": args.db,
            "timeout_s": round(args.timeout, 1),
        },
    }
    try:
        report["code"] = snapshot_addon(addons_dir)
        odoo = Odoo(args.db, addons_dir)
        action, seconds = ensure_database(odoo)
        report["database"] = {"addon": action, "seconds": seconds}
        others = other_odoo_connections(args.db)
        if others:
            raise BenchError(f"other Odoo processes use {args.db}: {', '.join(others)}")

        identity = read_demo_account(args.db)
        sandbox = SandboxProcess(addons_dir, args.latency_ms, identity, args.sandbox_nice)
        report["sandbox"] = {
            "url": sandbox.base_url,
            "in_process": False,
            "nice": sandbox.nice,
            "status_webhooks": "off (--no-statuses)",
            "enforce_window": False,
        }
        log(f"sandbox on {sandbox.base_url} (latency {args.latency_ms} ms, no webhooks)")

        log(f"setup: account -> sandbox, tier {args.tier}, {args.recipients} conversations...")
        params = {
            "api_base_url": sandbox.base_url,
            "tier": str(args.tier),
            "recipients": args.recipients,
        }
        setup, setup_wall = odoo_shell(odoo, script(SETUP_SCRIPT, params), 900 + args.recipients)
        report["setup"] = {
            "seconds": round(setup_wall, 1),
            "partners_created": setup["partners_created"],
            "conversations_created": setup["conversations_created"],
            "leftovers_canceled": setup["leftovers_canceled"],
            "template_id": setup["template_id"],
        }
        report["load"]["account"] = setup["account"]

        log(f"enqueueing {args.messages} messages in batches of {BATCH}...")
        params = {
            "messages": args.messages,
            "batch": BATCH,
            "template_id": setup["template_id"],
            "conversation_ids": setup["conversation_ids"],
        }
        enqueue, enqueue_wall = odoo_shell(
            odoo, script(ENQUEUE_SCRIPT, params), 600 + args.messages / 20
        )
        ids = enqueue["ids"]
        report["enqueue_seconds"] = round(enqueue["seconds"], 2)
        report["enqueue_rows_per_s"] = round(len(ids) / enqueue["seconds"], 1)
        report["enqueue_shell_wall_seconds"] = round(enqueue_wall, 2)
        ranges = id_ranges(ids)
        report["run_ids"] = {"count": len(ids), "ranges": len(ranges)}
        report["sandbox_accepted_before_odoo_start"] = sandbox.sent_count()

        gap_floor = setup["account"].get("recipient_gap")
        report.update(drain(odoo, args, sandbox, ids, args.messages, gap_floor, addons_dir))
    finally:
        clean_up(sandbox, addons_dir)
    return report


def drain(odoo, args, sandbox, ids, expected, gap_floor, addons_dir, where=None):
    """Start Odoo (one cron worker, or ``args.cron_threads``), let it empty the queue of ``ids``
    (or of the rows ``where`` selects, (SQL, params), until ``expected`` of them are final)
    against ``sandbox``, stop it, and report what was sent: rate, states, losses, duplicates,
    CPU, queries, memory."""
    conn = process = None
    where = where or run_filter(id_ranges(ids))  # ids None: the rows of ``where``
    try:
        conn = pg_connect(args.db)
        cr = conn.cursor()
        log(f"starting Odoo ({args.workers} workers, 1 cron worker), timeout {args.timeout:.0f} s")
        odoo_log = addons_dir / "odoo.log"
        departures_log = addons_dir / "departures.log"
        loggers = [OUTBOX_LOGGER]
        if getattr(args, "log_sql", False):
            loggers.append("odoo.addons.base.models.ir_cron")  # the cron job's start and end
        process, port, started = start_odoo(
            odoo,
            args.workers,
            log_path=odoo_log,
            info_loggers=loggers,
            env={DEPARTURE_LOG_ENV: str(departures_log)},
            cron_threads=getattr(args, "cron_threads", 1),
            extra=["--log-handler=odoo.sql_db:DEBUG"] if getattr(args, "log_sql", False) else (),
        )
        total = expected if ids is None else len(ids)
        watched = watch_drain(process, started, port, where, cr, args, sandbox, total)
        report = {"odoo_exit_code_during_run": process.poll()}
        stop_odoo(process)
        rows = fetch_rows(cr, where)
        accepted_all = sandbox.accepted()
        report.update(
            drained=watched["drained"],
            drain_seconds=watched["drain_seconds"],
            odoo_ready_seconds=watched["odoo_ready_seconds"],
            cron_wake=watched["cron_wake"],
        )
        report.update(
            analyse(
                rows,
                accepted_all,
                expected,
                args.tier,
                started,
                gap_floor,
                read_departures(departures_log),
                args.latency_ms / 1000,
            )
        )
        report["customers_reached"] = len({m.get("to") for m in accepted_all})
        report["cpu_ms_per_message"] = watched["watch"].cpu_report(report["sandbox_accepted"])
        queries = cron_queries(odoo_log)
        if getattr(args, "keep_logs", None):
            Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
            for kept in (odoo_log, departures_log):
                if kept.exists():
                    shutil.copy(kept, Path(args.keep_logs) / kept.name)
        report["cron_sql"] = queries
        report["cron_sql_queries_per_message"] = (
            round(queries["queries"] / queries["messages"], 4) if queries["messages"] else None
        )
        report["peak_rss_mb"] = watched["watch"].memory_report()
        return report
    finally:
        stop_odoo(process)
        if conn is not None:
            conn.close()


def clean_up(sandbox, addons_dir):
    """Stop the run's sandbox (when it started one) and remove its snapshot."""
    try:
        if sandbox is not None:
            sandbox.stop()
    finally:
        shutil.rmtree(addons_dir, ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        report = run(args)
    except (BenchError, LookupError, subprocess.CalledProcessError, psycopg2.Error) as error:
        log(f"benchmark failed: {error}")
        return 2
    print(json.dumps(report, indent=2))
    healthy = report["lost"] == 0 and report["duplicated"] == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
