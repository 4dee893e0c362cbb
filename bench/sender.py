#!/usr/bin/env python3
"""Sender benchmark: what one send costs in CPU in ``tools.sender.send_all`` with a
``CloudApiClient``, the transport of the outbox, without Odoo nor a database.

Steps (only step 3 is timed):

  1. start the Cloud API sandbox of the addon measured (``--addon-dir``) in its own process
     (``python -m tools.sandbox serve``) on a free port of 127.0.0.1, with the latency asked, the
     24-hour window off, no status webhooks and no log line per send;
  2. build a client of that addon's ``tools`` on ``sender.pooled_session(--workers)``, as the
     outbox does, and send --warmup messages (not measured) so that the pool's connections are
     open, as they are in an outbox that has been running;
  3. send -n template (or text) messages to --recipients customers, round-robin, in one
     ``send_all`` call with ``--workers`` threads and the pacer of the tier
     (``tools.pacing.get_pacer``, gap per customer --gap);
  4. print messages/s (from the sandbox's arrival times), CPU milliseconds per message of this
     process (``time.process_time``: the sender, its threads and the pacer) and of the sandbox
     process (psutil), the outcomes, and the sends lost or duplicated (each message carries its
     own ``biz_opaque_callback_data``; lost: a message that is not ``sent`` or that the sandbox
     did not accept). The last line is a one-line summary; --json prints the report as JSON.

Measure the code of another checkout (e.g. an older commit) with --addon-dir pointing at its
``whatsapp_helpdesk`` folder. Exit code: 0 when nothing was lost or duplicated, 1 otherwise, 2 when
the benchmark could not run.
"""

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
from common import ADDON, REPO, BenchError, log
from dispatch import SandboxProcess

PHONE_NUMBER_ID = "100000000000001"
TEMPLATE = ("hello_world", "en_US")  # the sample template every sandbox has


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--messages", type=int, default=3000, help="messages (3000)")
    parser.add_argument(
        "--tier", type=int, choices=(80, 1000), default=1000, help="messages/s of the pacer (1000)"
    )
    parser.add_argument(
        "--workers", type=int, default=100, help="send_all threads and pool size (100)"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=100, help="sandbox latency of every Graph call (100)"
    )
    parser.add_argument(
        "--recipients", type=int, default=2000, help="distinct customers, round-robin (2000)"
    )
    parser.add_argument(
        "--gap", type=float, default=1.0, help="least seconds between two sends to one customer"
    )
    parser.add_argument(
        "--kind", choices=("template", "text"), default="template", help="what to send (template)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="unmeasured sends first (default: --workers)"
    )
    parser.add_argument(
        "--addon-dir",
        type=Path,
        default=REPO / ADDON,
        help=f"the whatsapp_helpdesk folder whose tools are measured ({REPO / ADDON})",
    )
    parser.add_argument(
        "--transport",
        choices=("async", "threads"),
        default="async",
        help="the sends' transport: the event loop's pool (sender.async_pool, as the outbox "
        "sends) or send_message in threads over the pooled session (async)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.workers < 1 or not 1 <= args.recipients <= 10_000_000:
        parser.error("--messages, --workers and --recipients must be at least 1")
    if args.latency_ms < 0 or args.gap < 0:
        parser.error("--latency-ms and --gap must be >= 0")
    if args.warmup is None:
        args.warmup = args.workers
    args.addon_dir = args.addon_dir.resolve()
    if not (args.addon_dir / "tools" / "sender.py").is_file():
        parser.error(f"{args.addon_dir} is not a whatsapp_helpdesk folder with tools/sender.py")
    return args


def import_tools(addon_dir):
    """``tools.cloud_api``, ``tools.messages``, ``tools.pacing`` and ``tools.sender`` of the addon
    in ``addon_dir`` (a plain package: ``tools`` imports no Odoo)."""
    sys.path.insert(0, str(addon_dir))
    from tools import cloud_api, messages, pacing, sender  # noqa: PLC0415

    return cloud_api, messages, pacing, sender


def build_jobs(tools, args, run_id, count, first=0):
    """``count`` jobs to round-robin customers, each with its own callback data."""
    _cloud_api, messages, _pacing, sender = tools
    jobs = []
    for index in range(first, first + count):
        number = f"55119{70000000 + index % args.recipients}"
        if args.kind == "template":
            content = messages.template(*TEMPLATE)
        else:
            content = messages.text(f"Sender bench message {index}")
        payload = messages.message(
            messages.address(number), content, callback_data=f"{run_id}:{index}"
        )
        jobs.append(sender.Job(index, number, payload))
    return jobs


def close_session(session):
    """Close a pooled session, whichever transport made it (``requests`` or ``urllib3``)."""
    closer = getattr(session, "clear", None) or session.close
    closer()


def sandbox_cpu(pid):
    process = psutil.Process(pid)
    return sum(process.cpu_times()[:2])


def analyse(jobs, outcomes, accepted_all, run_id, elapsed):
    """The report's figures from the jobs, their outcomes and the sandbox's accepted sends."""
    ours = [
        entry
        for entry in accepted_all
        if str(entry["payload"].get("biz_opaque_callback_data", "")).startswith(f"{run_id}:")
    ]
    per_key = Counter(entry["payload"]["biz_opaque_callback_data"] for entry in ours)
    measured = {f"{run_id}:{job.key}" for job in jobs}
    accepted_keys = set(per_key) & measured
    times = sorted(
        entry["time"] for entry in ours if entry["payload"]["biz_opaque_callback_data"] in measured
    )
    span = times[-1] - times[0] if len(times) > 1 else None
    low, busiest = 0, 0
    for high, moment in enumerate(times):
        while moment - times[low] >= 1.0:
            low += 1
        busiest = max(busiest, high - low + 1)
    statuses = Counter(outcome.status for outcome in outcomes)
    not_sent = sum(1 for outcome in outcomes if outcome.status != "sent")
    sent_unseen = sum(
        1
        for job, outcome in zip(jobs, outcomes, strict=True)
        if outcome.status == "sent" and f"{run_id}:{job.key}" not in accepted_keys
    )
    return {
        "messages_per_s": round(len(times) / span, 1) if span else None,
        "wall_seconds": round(elapsed, 3),
        "max_sends_in_any_1s": busiest,
        "outcomes": dict(sorted(statuses.items())),
        "failure_types": dict(
            Counter(
                getattr(outcome.error, "failure_type", type(outcome.error).__name__)
                for outcome in outcomes
                if outcome.error is not None
            )
        ),
        "sandbox_accepted": len(times),
        "duplicated": sum(count - 1 for key, count in per_key.items() if key in measured),
        "lost": not_sent + sent_unseen,
    }


def run(args):
    tools = import_tools(args.addon_dir)
    cloud_api, _messages, pacing, sender = tools
    token = uuid.uuid4().hex
    identity = {"token": token, "phone_number_id": PHONE_NUMBER_ID}
    log(f"starting the sandbox of {args.addon_dir} (latency {args.latency_ms} ms)...")
    sandbox = SandboxProcess(args.addon_dir.parent, args.latency_ms, identity)
    session = sender.pooled_session(args.workers)
    pool = sender.async_pool(args.workers) if args.transport == "async" else None
    try:
        client = cloud_api.CloudApiClient(
            token=token,
            phone_number_id=PHONE_NUMBER_ID,
            base_url=sandbox.base_url,
            session=session,
            **({"async_pool": pool} if pool is not None else {}),
        )
        pacer = pacing.get_pacer(("bench", args.tier), args.tier, args.gap)
        run_id = uuid.uuid4().hex[:12]
        if args.warmup:
            warm = build_jobs(tools, args, f"warm-{run_id}", args.warmup, first=args.messages)
            sender.send_all(client, warm, pacer, max_workers=args.workers)
            time.sleep(args.gap)  # the warm-up's customers may be sent to again
        jobs = build_jobs(tools, args, run_id, args.messages)
        log(f"sending {len(jobs)} {args.kind} messages, tier {args.tier}, {args.workers} workers")
        cpu_sandbox, cpu_sender = sandbox_cpu(sandbox.pid), time.process_time()
        started = time.monotonic()
        outcomes = sender.send_all(client, jobs, pacer, max_workers=args.workers)
        elapsed = time.monotonic() - started
        cpu_sender = time.process_time() - cpu_sender
        cpu_sandbox = sandbox_cpu(sandbox.pid) - cpu_sandbox
        report = analyse(jobs, outcomes, sandbox.accepted(), run_id, elapsed)
    finally:
        close_session(session)
        if pool is not None:
            if hasattr(pool, "aclose"):
                sender.run(pool.aclose())
            else:  # the hand-written pool of an older checkout
                pool.close()
        sandbox.stop()
    n = args.messages
    report.update(
        {
            "messages": n,
            "kind": args.kind,
            "tier": args.tier,
            "workers": args.workers,
            "transport": args.transport,
            "latency_ms": args.latency_ms,
            "warmup": args.warmup,
            "addon_dir": str(args.addon_dir),
            "cpu_ms_per_message": {
                "sender": round(1000 * cpu_sender / n, 3),
                "sandbox": round(1000 * cpu_sandbox / n, 3),
            },
            "cpu_seconds": {"sender": round(cpu_sender, 2), "sandbox": round(cpu_sandbox, 2)},
        }
    )
    return report


def summary(report):
    cpu = report["cpu_ms_per_message"]
    return (
        f"{report['messages']} {report['kind']} messages, tier {report['tier']}, "
        f"{report['workers']} workers, {report['transport']}: {report['messages_per_s']} msg/s, "
        f"CPU {cpu['sender']} ms/msg sender, {cpu['sandbox']} ms/msg sandbox, "
        f"outcomes {report['outcomes']}, lost {report['lost']}, "
        f"duplicated {report['duplicated']}"
    )


def main(argv=None):
    args = parse_args(argv)
    try:
        report = run(args)
    except BenchError as error:
        log(f"could not run: {error}")
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    print(summary(report))
    return 0 if report["lost"] == 0 and report["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
