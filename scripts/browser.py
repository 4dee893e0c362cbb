"""Headless Chromium driven over its DevTools protocol, for the screenshot scripts
(scripts/screenshots.py, screenshots_reports.py, screenshots_reach.py): one page, one command at a
time, with websocket-client (in Odoo's venv). Also the login to Odoo and the check that Chinese
will not show as empty boxes.
"""

import base64
import json
import pathlib
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CJK_FONT_PACKAGE = "fonts-noto-cjk"


class BrowserError(RuntimeError):
    """The browser could not do what a script asked (a screen never showed, a call failed)."""


def chromium_binary():
    """The Chromium (or Chrome) found on the PATH, else ``"chromium"``."""
    names = ("chromium", "chromium-browser", "google-chrome")
    return next(filter(None, map(shutil.which, names)), "chromium")


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
    """The session id of ``user`` on the Odoo at ``url``."""
    body = json.dumps(
        {"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}
    ).encode()
    request = urllib.request.Request(
        f"{url}/web/session/authenticate",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own Odoo
        answer = json.load(response)
        cookie = response.headers.get("Set-Cookie", "")
    if answer.get("error") or not answer.get("result", {}).get("uid"):
        raise BrowserError(f"cannot log in as {user}: {answer.get('error')}")
    return cookie.split("session_id=", 1)[1].split(";", 1)[0]


class Browser:
    """Headless Chromium and one page, over the DevTools protocol."""

    def __init__(self, chromium=None):
        self.profile = tempfile.mkdtemp(prefix="wa-shots-")
        self.process = subprocess.Popen(  # noqa: S603 - a local browser we start
            [
                chromium or chromium_binary(),
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
        try:
            self.ws = websocket.create_connection(self._page_socket(), timeout=60)
        except BaseException:
            self._stop()
            raise
        self.next_id = 0

    def _page_socket(self):
        port_file = pathlib.Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise BrowserError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:  # noqa: S310
            page = next(t for t in json.load(answer) if t["type"] == "page")
        return page["webSocketDebuggerUrl"]

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def use_session(self, url, session):
        """Browse the Odoo at ``url`` logged in with ``session`` (see :func:`login`)."""
        host = url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
        self.call("Network.enable")
        self.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")

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
        failure = pathlib.Path(tempfile.gettempdir()) / "wa-shots-failure.png"
        self.screenshot(failure)
        where = self.evaluate("location.href")
        raise BrowserError(f"{selector} did not show within {timeout} s on {where} (see {failure})")

    def open(self, url, selector, timeout=30):
        """Go to ``url`` and wait until ``selector`` shows."""
        self.call("Page.navigate", url=url)
        self.wait_for(selector, timeout)

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
            raise BrowserError(f"nothing to click: {selector} {text or ''}")

    def press(self, key, key_code=0):
        """Press and release ``key`` (``"Enter"``, ``"ArrowDown"``) in the focused element."""
        for kind in ("rawKeyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=key_code,
            )

    def dismiss_notifications(self):
        """Close every notification, including the sticky ones ("the page is out of date")."""
        self.evaluate(
            "document.querySelectorAll('.o_notification_close, .o_notification .btn-close, "
            ".o_notification button.o_close').forEach((b) => b.click())"
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
        pathlib.Path(path).write_bytes(base64.b64decode(data))
        print(f"saved {path}")

    def close(self):
        try:
            self.ws.close()
        finally:
            self._stop()

    def _stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)
