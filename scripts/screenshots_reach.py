"""Screenshots of the back office and the website for the addons' descriptions, taken in headless
Chromium against a running Odoo with the demo data (`make run`), with the browser driver of
scripts/browser.py.

    python scripts/screenshots_reach.py --url http://127.0.0.1:8069 --db whatsapp_demo

Saves in whatsapp_helpdesk/static/description: inbox.png, conversation.png, composer.png (the
composer on a quotation: window banner, template, language picker, price estimate, preview),
template.png (a template and Meta's verdict),
notification_rule.png; in whatsapp_helpdesk_website/static/description: website_button.png
(a product page as a visitor sees it) and entry_point.png (a QR code); in
whatsapp_helpdesk_calendar/static/description: reminder_rule.png.
"""

import argparse
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from browser import Browser, chromium_binary, login  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORE = ROOT / "whatsapp_helpdesk" / "static" / "description"
WEBSITE = ROOT / "whatsapp_helpdesk_website" / "static" / "description"
CALENDAR = ROOT / "whatsapp_helpdesk_calendar" / "static" / "description"


def rpc(browser, model, method, *args, **kwargs):
    """Call ``model.method`` with the browser's session; returns the JSON result."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
    )
    answer = browser.evaluate(
        f"""fetch("/web/dataset/call_kw", {{method: "POST",
            headers: {{"Content-Type": "application/json"}}, body: {json.dumps(body)}}})
            .then((r) => r.json())"""
    )
    if not answer or answer.get("error"):
        raise SystemExit(f"{model}.{method}: {answer and answer.get('error')}")
    return answer["result"]


def first_id(browser, model, domain):
    found = rpc(browser, model, "search", domain, limit=1)
    if not found:
        raise SystemExit(f"no {model} matching {domain}: is the demo data installed?")
    return found[0]


def shot(browser, url, ready, path, settle=1.5):
    browser.open(url, ready)
    time.sleep(settle)
    browser.dismiss_notifications()
    time.sleep(0.3)
    browser.screenshot(path)


def back_office(browser, base):
    action = f"{base}/odoo/action-whatsapp_helpdesk"
    shot(
        browser, f"{action}.whatsapp_conversation_action", ".o_view_controller", CORE / "inbox.png"
    )
    conversation = first_id(browser, "whatsapp.conversation", [])
    shot(
        browser,
        f"{action}.whatsapp_conversation_action/{conversation}",
        ".o_form_view .o-mail-Chatter",
        CORE / "conversation.png",
    )
    # the composer on a quotation: its templates (the demo's are all bound to a document), the
    # chosen one's language picker, price estimate and preview
    order = first_id(
        browser,
        "sale.order",
        [("partner_id.whatsapp_e164", "!=", False), ("state", "in", ("draft", "sent"))],
    )
    browser.open(f"{base}/odoo/sale.order/{order}", ".o_form_view .o_form_statusbar button")
    time.sleep(1)
    browser.click(".o_form_statusbar button", "WhatsApp")
    browser.wait_for(".modal .o_form_view .alert")
    browser.evaluate("document.querySelector(\".modal div[name='template_id'] input\").focus()")
    browser.click(".modal div[name='template_id'] input")
    browser.wait_for(".modal .o-autocomplete--dropdown-item")
    browser.press("Enter", 13)  # the first template offered
    browser.wait_for(".modal div[name='template_variant_id'] input")
    browser.wait_for(".modal .o_wa_price_estimate")
    time.sleep(1.5)
    browser.dismiss_notifications()
    time.sleep(0.3)
    browser.screenshot(CORE / "composer.png")
    template = first_id(browser, "whatsapp.template", [("status", "in", ("approved", "pending"))])
    shot(
        browser,
        f"{action}.whatsapp_template_action/{template}",
        ".o_form_view",
        CORE / "template.png",
    )
    rule = first_id(browser, "whatsapp.notification.rule", [])
    shot(
        browser,
        f"{action}.whatsapp_notification_rule_action/{rule}",
        ".o_form_view",
        CORE / "notification_rule.png",
    )
    entry = first_id(browser, "whatsapp.entry.point", [])
    shot(
        browser,
        f"{base}/odoo/action-whatsapp_helpdesk_website.whatsapp_entry_point_action/{entry}",
        ".o_form_view img",
        WEBSITE / "entry_point.png",
    )
    rule = first_id(browser, "whatsapp.reminder.rule", [])
    shot(
        browser,
        f"{base}/odoo/action-whatsapp_helpdesk_calendar.whatsapp_reminder_rule_action/{rule}",
        ".o_form_view",
        CALENDAR / "reminder_rule.png",
    )
    product = rpc(
        browser,
        "product.template",
        "search_read",
        [("is_published", "=", True), ("sale_ok", "=", True)],
        ["website_url"],
        limit=1,
    )
    return product[0]["website_url"] if product else "/shop"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="whatsapp_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--chromium", default=chromium_binary())
    args = parser.parse_args(argv)
    for folder in (CORE, WEBSITE, CALENDAR):
        folder.mkdir(parents=True, exist_ok=True)

    session = login(args.url, args.db, args.login, args.password)
    browser = Browser(args.chromium)
    try:
        browser.use_session(args.url, session)
        browser.viewport(1440, 900)
        browser.open(f"{args.url}/odoo", ".o_main_navbar")
        product_url = back_office(browser, args.url)
    finally:
        browser.close()

    # The website as a visitor sees it: a browser without the session.
    visitor = Browser(args.chromium)
    try:
        visitor.viewport(1440, 900)
        shot(
            visitor,
            f"{args.url}{product_url}?utm_campaign=summer",
            ".o_whatsapp_helpdesk_product",
            WEBSITE / "website_button.png",
            2,
        )
    finally:
        visitor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
