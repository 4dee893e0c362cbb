"""Screenshots of the agents' WhatsApp workspace, taken in headless Chromium against a running
Odoo (`make run`), for whatsapp_helpdesk/static/description/.

    python scripts/screenshots.py --url http://127.0.0.1:8069 --db whatsapp_demo

It logs in (admin / admin by default), opens the workspace, picks a conversation (Ana's by
default) and saves: workspace.png (desktop), workspace_templates.png (the template picker) and
workspace_mobile.png (a phone-sized screen). Chromium is driven over the DevTools protocol with
websocket-client (in Odoo's venv). Chinese (the zh_CN templates) needs a CJK font, else Chromium
draws empty boxes: on Debian or Ubuntu, `apt-get install fonts-noto-cjk`; the script says so
before it starts when fontconfig finds none.
"""

import argparse
import base64
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "whatsapp_helpdesk" / "static" / "description"


CJK_FONT_PACKAGE = "fonts-noto-cjk"


def cjk_font_problem():
    """Why Chinese would show as empty boxes (no CJK font that fontconfig knows), or None."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return "cannot tell whether a CJK font is installed: fc-list (fontconfig) is missing"
    listed = subprocess.run(  # noqa: S603 - fontconfig's own lister, no shell
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False
    )
    if listed.stdout.strip():
        return None
    return (
        "no CJK font is installed (fc-list :lang=zh finds none): Chinese text will show as "
        f"empty boxes in the screenshots. Install one, e.g. apt-get install {CJK_FONT_PACKAGE}"
    )


def login(url, db, user, password):
    """The session id of ``user`` on ``url``."""
    body = json.dumps(
        {"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}
    ).encode()
    request = urllib.request.Request(
        f"{url}/web/session/authenticate",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
        cookie = response.headers.get("Set-Cookie", "")
    if answer.get("error") or not answer.get("result", {}).get("uid"):
        raise SystemExit(f"cannot log in as {user}: {answer.get('error')}")
    return cookie.split("session_id=", 1)[1].split(";", 1)[0]


class Browser:
    """Headless Chromium and one page, over the DevTools protocol."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="wa-shots-")
        self.process = subprocess.Popen(  # noqa: S603 - a local browser we start
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = pathlib.Path(self.profile) / "DevToolsActivePort"
        for _ in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                return
            time.sleep(0.2)
        self.screenshot(pathlib.Path(tempfile.gettempdir()) / "wa-shots-failure.png")
        raise SystemExit(f"{selector} did not show within {timeout} s")

    def click(self, selector, text=None):
        """Click the first element matching ``selector`` (and containing ``text``)."""
        found = self.evaluate(
            f"""(() => {{
                const el = [...document.querySelectorAll({json.dumps(selector)})]
                    .find((e) => !{json.dumps(text)} || e.textContent.includes({json.dumps(text)}));
                if (el) {{ el.click(); }}
                return !!el;
            }})()"""
        )
        if not found:
            raise SystemExit(f"nothing to click: {selector} {text or ''}")

    def dismiss_notifications(self):
        self.evaluate(
            "document.querySelectorAll('.o_notification_close').forEach((b) => b.click())"
        )

    def viewport(self, width, height, mobile=False):
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"saved {path}")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def open_conversation(browser, workspace, customer, ready):
    """The workspace with ``customer``'s conversation open, once ``ready`` shows."""
    browser.call("Page.navigate", url=workspace)
    browser.wait_for(".o_wa_workspace")
    browser.click(".o_wa_tab[data-tab='all']")
    browser.wait_for(".o_wa_conversation")
    browser.click(".o_wa_conversation", customer)
    browser.wait_for(ready)
    time.sleep(1.5)  # images and the emoji font settle
    browser.dismiss_notifications()
    time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="whatsapp_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--customer", default="Ana", help="whose conversation is shown")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)

    problem = cjk_font_problem()
    if problem:
        print(f"WARNING: {problem}", file=sys.stderr)
    session = login(args.url, args.db, args.login, args.password)
    browser = Browser(args.chromium)
    try:
        host = args.url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        workspace = f"{args.url}/odoo/whatsapp-workspace"

        browser.viewport(1440, 900)
        open_conversation(browser, workspace, args.customer, ".o_wa_customer .o_wa_partner_card")
        browser.screenshot(args.out / "workspace.png")

        browser.click(".o_wa_templates_btn")
        browser.wait_for(".o_wa_templates")
        browser.dismiss_notifications()
        time.sleep(0.5)
        browser.screenshot(args.out / "workspace_templates.png")

        browser.viewport(390, 844, mobile=True)
        open_conversation(browser, workspace, args.customer, ".o_wa_pane_thread .o_wa_bubble")
        browser.screenshot(args.out / "workspace_mobile.png")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
