#!/usr/bin/env python3
"""Campaign benchmark: a large WhatsApp campaign materialised, released to the outbox and sent.

Steps (timed inside the shells, or by the drain):

  1. copy the addon to a temporary folder and make sure the database has it (as
     ``bench/dispatch.py`` does: installed with demo data once, else updated with -u);
  2. setup in ``odoo-bin shell``: --partners bench contacts (+55 11 96xxx-xxxx) bulk-inserted by
     SQL when missing (a tag and a marketing opt-in each, the partners' stored consent and tags
     refreshed set-wise; reused across runs), then VACUUM ANALYZE (as autovacuum would), the
     approved template ``hello_world`` (the one the sandbox knows) as a MARKETING one, a segment
     "tag + marketing opt-in", the demo account pointed at the sandbox with the tier and the
     messaging limit asked; what earlier runs left queued is canceled;
  3. the segment's count over every contact, timed (--count-repeat runs, the median printed);
  4. with --new-customers, the conversations earlier runs made with those contacts are deleted
     (the release then creates every one, the worst case; "conversations_created" tells);
     a campaign of --recipients of those contacts: launch (recipients fixed once, skip reasons)
     and its plan (``materialised_and_planned_seconds``: the campaign is enqueued, its recipient
     rows being its queue), then, unless the crons release them (--release-in-cron), every
     recipient released to the outbox by the shell in steps (the messaging limit's headroom),
     timed (wall, the shell's own CPU time and its queries; ``enqueue_*`` counts from the
     launch; ``first_step_seconds``: until the first step is in the outbox, what the dispatcher
     waits for; in production the crons release the next steps a few tier-seconds ahead of the
     sends; the shell's steps are the largest, RELEASE_CHUNK, the crons' ``release_step``), with
     the shell's peak RSS before and after (flat memory: the release works in steps);
  5. with --send: the sandbox (latency --latency-ms, no status webhooks) and Odoo with one cron
     worker (--cron-threads) drain the queue (with --release-in-cron, the shell only launches:
     the crons release the recipients while they send, sharing the cron workers) as in
     ``bench/dispatch.py``; the report tells the rate against the tier, lost and duplicated
     sends, and the different customers reached (never more than the messaging limit).

A JSON report is printed. Exit code: 0 when nothing was lost or duplicated and the messaging limit
held, 1 otherwise, 2 when the benchmark could not run.
"""

import argparse
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
from common import BenchError, Odoo, ensure_database, log, read_demo_account
from dispatch import (
    SandboxProcess,
    clean_up,
    drain,
    odoo_shell,
    other_odoo_connections,
    script,
    snapshot_addon,
)

LIMITS = ("250", "1000", "2000", "10000", "100000", "unlimited")

SETUP_SCRIPT = """
import json, statistics, time, resource
P = json.loads(PARAMS)
cr = env.cr
account = env.ref("whatsapp_helpdesk.whatsapp_account_demo").sudo()
account.write({"active": True, "api_base_url": P["api_base_url"] or account.api_base_url,
               "throughput_tier": P["tier"], "messaging_limit": P["limit"]})
company = account.company_id
Template = env["whatsapp.template"].with_context(active_test=False, whatsapp_no_resubmit=True)
# hello_world: the template the sandbox knows (as bench/dispatch.py), here as a marketing one
template = Template.search([("account_id", "=", account.id), ("name", "=", "hello_world"),
                            ("language", "=", "en_US")], limit=1)
values = {"active": True, "body": "Hello World", "status": "approved", "header_type": "none",
          "category": "MARKETING"}
if template:
    template.write(values)
else:
    template = Template.create(dict(values, name="hello_world", language="en_US",
                                    account_id=account.id))
tag = env["res.partner.category"].search([("name", "=", "Bench campaign")], limit=1)
if not tag:
    tag = env["res.partner.category"].create({"name": "Bench campaign"})
# the contacts, by SQL: the ORM would take minutes for a million
cr.execute("SELECT count(*) FROM res_partner WHERE name LIKE 'Campaign bench %%'")
have = cr.fetchone()[0]
created = 0
brazil = env.ref("base.br").id
while have < P["partners"]:
    size = min(50000, P["partners"] - have)
    cr.execute('''
        WITH ids AS (
            SELECT nextval('res_partner_id_seq') AS id, i FROM generate_series(%s, %s) AS i)
        , new AS (
            INSERT INTO res_partner (id, name, complete_name, mobile, whatsapp_e164, country_id,
                                     lang, active, type, commercial_partner_id, company_id,
                                     autopost_bills, create_date, write_date, create_uid,
                                     write_uid)
            SELECT id, 'Campaign bench ' || i, 'Campaign bench ' || i, '+55119' || (60000000 + i),
                   '+55119' || (60000000 + i), %s, 'en_US', true, 'contact', id, NULL,
                   'ask', now(), now(), 1, 1
              FROM ids
            RETURNING id, whatsapp_e164)
        , tagged AS (INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
                     SELECT id, %s FROM new)
        INSERT INTO whatsapp_optin (phone_e164, partner_id, category, state, source, date,
                                    company_id, create_date, write_date, create_uid, write_uid)
        SELECT whatsapp_e164, id, 'marketing', 'opted_in', 'import', now(), %s,
               now(), now(), 1, 1 FROM new
        ON CONFLICT DO NOTHING
    ''', [have, have + size - 1, brazil, tag.id, company.id])
    have += size
    created += size
    env.cr.commit()
# the partners' stored consent and tags, which the SQL import above did not keep in step
refreshed = env["whatsapp.optin"]._refresh_consent()
refreshed += env["res.partner"]._whatsapp_refresh_tags()
env.cr.commit()
# fresh statistics and visibility map, as autovacuum gives a real database after an import or
# an upgrade that filled a new column (the segment count reads the partners' index alone then);
# quick when nothing changed (all-visible pages are skipped)
from odoo.sql_db import db_connect
vacuum = db_connect(env.cr.dbname).cursor()
vacuum._cnx.autocommit = True
vacuum.execute("VACUUM ANALYZE res_partner, res_partner_res_partner_category_rel, whatsapp_optin")
vacuum.close()
# what earlier runs left in the outbox or running
cr.execute("UPDATE whatsapp_message SET state = 'canceled' WHERE state IN ('queued', 'sending')"
           " AND campaign_id IS NOT NULL")
cr.execute("UPDATE whatsapp_campaign SET state = 'canceled' WHERE state IN ('running', 'paused')")
# one cron worker drains the queue: the crons that never ran (a fresh database runs them all at
# its first start, some reaching for the network) wait a day, except the outbox and the release
cr.execute(
    "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' + interval '1 day'"
    " WHERE active AND lastcall IS NULL AND id NOT IN %s",
    [tuple(env.ref(f"whatsapp_helpdesk.{xmlid}").id for xmlid in (
        "ir_cron_whatsapp_send", "ir_cron_whatsapp_campaign_release"))],
)
# frequency cap and messaging limit count the last 24 hours: earlier runs are moved out of them
cr.execute("UPDATE whatsapp_message SET create_date = create_date - interval '2 days'"
           " WHERE campaign_id IS NOT NULL AND create_date > now() - interval '2 days'")
# --new-customers: the bench contacts' conversations of earlier runs go, so that the release
# creates every one of them again (the worst case: a campaign to customers never written to)
if P["new_customers"]:
    cr.execute('''
        WITH gone AS (
            DELETE FROM whatsapp_conversation c USING res_partner p
             WHERE p.id = c.partner_id AND p.name LIKE 'Campaign bench %%' RETURNING c.id)
        DELETE FROM mail_message
         WHERE model = 'whatsapp.conversation' AND res_id IN (SELECT id FROM gone)
    ''')
    env.cr.commit()
env.invalidate_all()
segment = env["whatsapp.segment"].create({
    "name": "Bench segment", "company_id": company.id, "only_company_contacts": False,
    "tag_any_ids": [(6, 0, tag.ids)], "marketing_optin": "opted_in",
})
env.flush_all()
cr.execute("SELECT count(*) FROM res_partner")
partners_total = cr.fetchone()[0]
counts = []
for _ in range(P["count_repeat"]):
    segment.invalidate_recordset(["partner_count"])
    started = time.perf_counter()
    count = segment.partner_count
    counts.append(time.perf_counter() - started)
# the campaign's audience: --recipients of the segment's contacts
cr.execute("SELECT id FROM res_partner WHERE name LIKE 'Campaign bench %%' ORDER BY id LIMIT %s",
           [P["recipients"]])
ids = [row[0] for row in cr.fetchall()]
audience = env["whatsapp.segment"].create({
    "name": "Bench audience", "company_id": company.id, "only_company_contacts": False,
    "tag_any_ids": [(6, 0, tag.ids)], "marketing_optin": "opted_in",
    "extra_domain": "[('id', '<=', %s)]" % max(ids),
})
campaign = env["whatsapp.campaign"].create({
    "name": "Bench campaign", "account_id": account.id, "company_id": company.id,
    "template_id": template.id, "audience": "segment", "segment_id": audience.id,
    "frequency_cap_hours": 0,
})
env.cr.commit()
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started, cpu_started = time.perf_counter(), time.process_time()
queries_started = cr.sql_log_count
campaign.action_launch()
env.cr.commit()
launched, launch_cpu = time.perf_counter() - started, time.process_time() - cpu_started
# the plan shown to the manager (the messaging limit's days), read as the form reads it: with the
# launch, what "enqueued" means for a campaign (its recipients are its queue, released to the
# outbox a few tier-seconds ahead of the dispatcher)
campaign.invalidate_recordset(["plan_summary"])
plan = campaign.plan_summary
planned = time.perf_counter() - started
launch_queries = cr.sql_log_count - queries_started
cr.execute("SELECT count(*) FROM whatsapp_conversation")
conversations_before = cr.fetchone()[0]
steps = 0
rss_first_step = first_step = None
# the shell releases in the largest steps (the crons' steps are a few seconds of the tier)
from odoo.addons.whatsapp_helpdesk.models.whatsapp_campaign import RELEASE_CHUNK
while not P["release_in_cron"] and campaign._release_step(RELEASE_CHUNK):
    steps += 1
    env.cr.commit()
    if steps == 1:  # flat memory: the peak after one step is the peak after all
        rss_first_step = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # what the dispatcher waits for: the launch and the first step's worth in the outbox
        # (the crons release the next steps while it sends)
        first_step = time.perf_counter() - started
enqueued, enqueue_cpu = time.perf_counter() - started, time.process_time() - cpu_started
enqueue_queries = cr.sql_log_count - queries_started
cr.execute("SELECT count(*) FROM whatsapp_conversation")
conversations_created = cr.fetchone()[0] - conversations_before
cr.execute("SELECT id FROM whatsapp_message WHERE campaign_id = %s", [campaign.id])
message_ids = [row[0] for row in cr.fetchall()]
cr.execute("SELECT state, count(*) FROM whatsapp_campaign_recipient WHERE campaign_id = %s"
           " GROUP BY state", [campaign.id])
recipient_states = dict(cr.fetchall())
env.cr.commit()
print(MARKER + json.dumps({
    "partners_created": created, "partners_total": partners_total,
    "segment_count": count, "segment_count_seconds": statistics.median(counts),
    "segment_count_runs": [round(c, 4) for c in counts],
    "recipients": recipient_states, "launch_seconds": launched,
    "materialised_and_planned_seconds": planned, "plan": plan.splitlines(),
    "release_step": campaign._release_chunk(),
    "enqueue_seconds": enqueued, "first_step_seconds": first_step, "release_steps": steps,
    "ids": message_ids,
    "launch_python_cpu_seconds": launch_cpu, "enqueue_python_cpu_seconds": enqueue_cpu,
    "launch_queries": launch_queries, "enqueue_queries": enqueue_queries,
    "conversations_created": conversations_created, "campaign_id": campaign.id,
    "peak_rss_before_launch_mb": rss_before / 1024,
    "peak_rss_after_first_step_mb": rss_first_step,
    "peak_rss_after_release_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "account": {"id": account.id, "recipient_gap": account.recipient_gap,
                "messaging_limit": account.messaging_limit},
}))
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=100_000, help="bench contacts (100000)")
    parser.add_argument(
        "-n", "--recipients", type=int, default=100_000, help="campaign recipients (100000)"
    )
    parser.add_argument("--count-repeat", type=int, default=5, help="segment counts timed (5)")
    parser.add_argument(
        "--messaging-limit", choices=LIMITS, default="unlimited", help="account's (unlimited)"
    )
    parser.add_argument("--tier", type=int, choices=(80, 1000), default=80, help="msg/s (80)")
    parser.add_argument("--send", action="store_true", help="then drain the queue (sandbox)")
    parser.add_argument(
        "--release-in-cron",
        action="store_true",
        help="launch only: Odoo's crons release the recipients while they send (with --send)",
    )
    parser.add_argument(
        "--cron-threads", type=int, default=1, help="Odoo cron workers while sending (1)"
    )
    parser.add_argument(
        "--new-customers",
        action="store_true",
        help="delete the conversations earlier runs made: the release creates them all",
    )
    parser.add_argument("--latency-ms", type=int, default=100, help="sandbox latency (100)")
    parser.add_argument("--workers", type=int, default=2, help="Odoo HTTP workers (2)")
    parser.add_argument("--db", default="wa_bench_campaign", help="database (wa_bench_campaign)")
    parser.add_argument("--timeout", type=float, default=None, help="drain seconds (N/tier*3+120)")
    parser.add_argument("--no-wake", action="store_true", help="do not wake the cron worker")
    args = parser.parse_args(argv)
    if not 1 <= args.recipients <= args.partners <= 10_000_000:
        parser.error("1 <= --recipients <= --partners <= 10,000,000")
    if args.count_repeat < 1:
        parser.error("--count-repeat must be at least 1")
    if args.timeout is None:
        args.timeout = args.recipients / args.tier * 3 + 120
    return args


def run(args):
    sandbox = None
    addons_dir = Path(tempfile.mkdtemp(prefix="wa-bench-campaign-"))
    report = {"load": {k: v for k, v in vars(args).items() if k != "no_wake"}}
    try:
        report["code"] = snapshot_addon(addons_dir)
        odoo = Odoo(args.db, addons_dir)
        action, seconds = ensure_database(odoo)
        report["database"] = {"addon": action, "seconds": seconds}
        others = other_odoo_connections(args.db)
        if others:
            raise BenchError(f"other Odoo processes use {args.db}: {', '.join(others)}")
        if args.send:
            sandbox = SandboxProcess(addons_dir, args.latency_ms, read_demo_account(args.db))
            log(f"sandbox on {sandbox.base_url} (latency {args.latency_ms} ms, no webhooks)")
        params = {
            "api_base_url": sandbox.base_url if sandbox else "",
            "tier": str(args.tier),
            "limit": args.messaging_limit,
            "partners": args.partners,
            "recipients": args.recipients,
            "count_repeat": args.count_repeat,
            "new_customers": args.new_customers,
            "release_in_cron": args.release_in_cron and args.send,
        }
        log(f"setup ({args.partners} contacts), segment count, launch of {args.recipients}...")
        setup, wall = odoo_shell(odoo, script(SETUP_SCRIPT, params), 3600 + args.partners / 100)
        ids = setup.pop("ids")
        report["campaign"] = {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in setup.items()
        }
        report["campaign"]["queued"] = len(ids)
        report["campaign"]["enqueue_rows_per_s"] = (
            round(len(ids) / setup["enqueue_seconds"], 1) if setup["enqueue_seconds"] else None
        )
        report["shell_wall_seconds"] = round(wall, 1)
        limit = None if args.messaging_limit == "unlimited" else int(args.messaging_limit)
        report["messaging_limit_held"] = limit is None or len(ids) <= limit
        gap_floor = setup["account"]["recipient_gap"]
        if args.send and args.release_in_cron:
            # the recipients the crons release and send, as they come
            where = ("campaign_id = %s", [setup["campaign_id"]])
            pending = setup["recipients"].get("pending", 0)
            report.update(drain(odoo, args, sandbox, None, pending, gap_floor, addons_dir, where))
        elif args.send and ids:
            report.update(drain(odoo, args, sandbox, ids, len(ids), gap_floor, addons_dir))
        else:
            return report
        report["messaging_limit_held"] = limit is None or report["customers_reached"] <= limit
    finally:
        clean_up(sandbox, addons_dir)
    return report


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    try:
        report = run(args)
    except (BenchError, LookupError, subprocess.CalledProcessError, psycopg2.Error) as error:
        log(f"benchmark failed: {error}")
        return 2
    print(json.dumps(report, indent=2))
    healthy = report.get("lost", 0) == 0 and report.get("duplicated", 0) == 0
    return 0 if healthy and report["messaging_limit_held"] else 1


if __name__ == "__main__":
    sys.exit(main())
