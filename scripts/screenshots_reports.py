#!/usr/bin/env python3
"""Screenshots of the managers' reports for whatsapp_helpdesk/static/description/: the dashboard,
one pivot (service times: median and 90th percentile of the first response per team and week)
and the inbox with its service-level clocks.

Steps: make sure the database has the addon with demo data (bench/common.py), fill it with a
month of --conversations customer requests (bench/report_data.py, bulk SQL) and refresh the
reports, start Odoo on 127.0.0.1 (no cron thread), log in as admin, then drive headless
Chromium over its DevTools protocol: open each screen, wait until its data shows, capture it.

    python scripts/screenshots_reports.py [--db wa_screenshots] [--port 8071] [--conversations 3000]

Look at the pictures before committing them.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from common import (  # noqa: E402
    BenchError,
    Odoo,
    ensure_database,
    free_port,
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


class Browser:
    """Headless Chromium driven over the DevTools protocol: one page, one command at a time."""

    def __init__(self, width, height):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        binary = binary or shutil.which("google-chrome")
        if not binary:
            raise BenchError("no Chromium found")
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="wa_screenshots_")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.socket = websocket.create_connection(self._page_socket(), timeout=60)
        self.next_id = 0
        self.send("Emulation.setDeviceMetricsOverride",
                  width=width, height=height, deviceScaleFactor=1, mobile=False)  # fmt: skip

    def _page_socket(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                targets = requests.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise BenchError("Chromium did not open its DevTools port")

    def send(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise BenchError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url, selector, seconds=60):
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                return
            time.sleep(0.3)
        where = self.evaluate("location.href + ': ' + document.body.innerText.slice(0, 300)")
        raise BenchError(f"{selector} never showed on {where}")

    def capture(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            shutil.rmtree(self.profile, ignore_errors=True)


def login(browser, base, db):
    """Log in as admin through the login form, as a person would."""
    browser.open(f"{base}/web/login?db={db}", "input[name=login]")
    browser.evaluate(
        "document.querySelector('input[name=login]').value = 'admin';"
        "document.querySelector('input[name=password]').value = 'admin';"
        "document.querySelector('form.oe_login_form').submit();"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if browser.evaluate("location.pathname.startsWith('/odoo')"):
            return
        time.sleep(0.3)
    raise BenchError("could not log in as admin")


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
        browser = Browser(args.width, args.height)
        login(browser, base, args.db)
        args.out.mkdir(parents=True, exist_ok=True)
        for _name, path, selector, _settle in SHOTS:
            # once first: the server builds the screens' assets on their first load
            browser.open(base + path, selector, seconds=180)
        for name, path, selector, settle in SHOTS:
            browser.open(base + path, selector)
            time.sleep(settle)
            browser.evaluate(
                "document.querySelectorAll('.o_notification_close').forEach(b => b.click())"
            )
            time.sleep(0.3)
            browser.capture(args.out / name)
            log(f"wrote {args.out / name}")
    except BenchError as error:
        log(f"could not take the screenshots: {error}")
        return 2
    finally:
        if browser:
            browser.close()
        stop_odoo(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
