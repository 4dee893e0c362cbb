"""Screenshots of the agents' WhatsApp workspace, taken in headless Chromium against a running
Odoo (`make run`), for whatsapp_helpdesk/static/description/.

    python scripts/screenshots.py --url http://127.0.0.1:8069 --db whatsapp_demo

It logs in (admin / admin by default), opens the workspace, picks a conversation (Ana's by
default) and saves: workspace.png (desktop), workspace_templates.png (the template picker) and
workspace_mobile.png (a phone-sized screen). Chromium is driven over the DevTools protocol by
scripts/browser.py. Chinese (the zh_CN templates) needs a CJK font, else Chromium
draws empty boxes: on Debian or Ubuntu, `apt-get install fonts-noto-cjk`; the script says so
before it starts when fontconfig finds none.
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from browser import Browser, chromium_binary, cjk_font_problem, login  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "whatsapp_helpdesk" / "static" / "description"


def open_conversation(browser, workspace, customer, ready):
    """The workspace with ``customer``'s conversation open, once ``ready`` shows."""
    browser.open(workspace, ".o_wa_workspace")
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
    parser.add_argument("--chromium", default=chromium_binary())
    args = parser.parse_args(argv)

    problem = cjk_font_problem()
    if problem:
        print(f"WARNING: {problem}", file=sys.stderr)
    session = login(args.url, args.db, args.login, args.password)
    browser = Browser(args.chromium)
    try:
        browser.use_session(args.url, session)
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
