#!/usr/bin/env python3
"""Screenshots of the managers' reports for whatsapp_helpdesk/static/description/: the dashboard,
one pivot (service times: median and 90th percentile of the first response per team and week)
and the inbox with its service-level clocks.

Steps: make sure the database has the addon with demo data (bench/common.py), fill it with a
month of --conversations customer requests (bench/report_data.py, bulk SQL) and refresh the
reports, start Odoo on 127.0.0.1 (no cron thread), log in as admin, then drive headless
Chromium (scripts/browser.py): open each screen, wait until its data shows, capture it.

    python scripts/screenshots_reports.py [--db wa_screenshots] [--port 8071] [--conversations 3000]

Look at the pictures before committing them.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "bench")]
from browser import Browser, BrowserError, login  # noqa: E402
from common import (  # noqa: E402
    BenchError,
    Odoo,
    ensure_database,
    log,
    start_odoo,
    stop_odoo,
    wait_for_odoo,
)

OUT = REPO / "whatsapp_helpdesk" / "static" / "description"
MARKER = "SCREENSHOTS_JSON "
FILL = """
import json, sys
sys.path.insert(0, {bench!r})
import report_data
print({marker!r} + json.dumps(report_data.fill_and_refresh(env, conversations={count})))
"""
# (file, path, selector that shows once the screen has its data, seconds to let charts settle)
SHOTS = [
    (
        "dashboard.png",
        "/odoo/action-whatsapp_helpdesk.whatsapp_dashboard_action",
        ".o_whatsapp_dashboard_agents td",
        2.0,
    ),
    (
        "report_pivot.png",
        "/odoo/action-whatsapp_helpdesk.whatsapp_report_service_action",
        ".o_pivot .o_pivot_cell_value",
        1.0,
    ),
    (
        "inbox_sla.png",
        "/odoo/action-whatsapp_helpdesk.whatsapp_conversation_action",
        ".o_kanban_record .o_whatsapp_sla_clock",
        1.0,
    ),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="wa_screenshots", help="database (wa_screenshots)")
    parser.add_argument("--port", type=int, default=None, help="Odoo's HTTP port (a free one)")
    parser.add_argument(
        "--conversations", type=int, default=3000, help="customer requests in the month (3000)"
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder ({OUT})")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args(argv)
    if not 1 <= args.conversations <= 1_000_000:
        parser.error("--conversations must be between 1 and 1,000,000")
    return args


def main(argv=None):
    args = parse_args(argv)
    process = browser = None
    try:
        odoo = Odoo(args.db)
        action, seconds = ensure_database(odoo)
        log(f"whatsapp_helpdesk {action} in {args.db} ({seconds} s)")
        script = FILL.format(bench=str(REPO / "bench"), marker=MARKER, count=args.conversations)
        done = subprocess.run(odoo.shell(), input=script, capture_output=True, text=True)
        filled = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
        if not filled:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise BenchError("could not fill the month")
        log(f"filled: {filled[0][len(MARKER) :]}")
        process, port, _started = start_odoo(odoo, 0, cron_threads=0, port=args.port)
        if not wait_for_odoo(port):
            raise BenchError("Odoo did not answer")
        base = f"http://127.0.0.1:{port}"
        browser = Browser()
        browser.viewport(args.width, args.height)
        browser.use_session(base, login(base, args.db, "admin", "admin"))
        args.out.mkdir(parents=True, exist_ok=True)
        for _name, path, selector, _settle in SHOTS:
            # once first: the server builds the screens' assets on their first load
            browser.open(base + path, selector, timeout=180)
        for name, path, selector, settle in SHOTS:
            browser.open(base + path, selector, timeout=60)
            time.sleep(settle)
            browser.dismiss_notifications()
            time.sleep(0.3)
            browser.screenshot(args.out / name)
    except (BenchError, BrowserError) as error:
        log(f"could not take the screenshots: {error}")
        return 2
    finally:
        if browser:
            browser.close()
        stop_odoo(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
