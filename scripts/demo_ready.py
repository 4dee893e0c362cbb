"""Make the demo database ready to show notifications: submit the draft templates that notification
rules send to the sandbox (which approves them by webhook); the other drafts stay drafts for the
README's "Submit to Meta". Called by scripts/run.sh once Odoo answers; safe to repeat."""

import sys
import xmlrpc.client


def main(url, db, login="admin", password="admin"):
    uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, login, password, {})
    if not uid:
        print("demo_ready: cannot log in as admin; templates left as they are")
        return 0
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
    rules = models.execute_kw(
        db,
        uid,
        password,
        "whatsapp.notification.rule",
        "search_read",
        [[]],
        {"fields": ["template_id"]},
    )
    rule_templates = [rule["template_id"][0] for rule in rules if rule["template_id"]]
    names = [
        template["name"]
        for template in models.execute_kw(
            db, uid, password, "whatsapp.template", "read", [rule_templates], {"fields": ["name"]}
        )
    ]
    drafts = models.execute_kw(
        db,
        uid,
        password,
        "whatsapp.template",
        "search",
        [[("status", "=", "draft"), ("name", "in", names)]],
    )
    for template_id in drafts:
        try:
            models.execute_kw(
                db, uid, password, "whatsapp.template", "action_submit", [[template_id]]
            )
        except xmlrpc.client.Fault as fault:
            print(f"demo_ready: template {template_id} not submitted: {fault.faultString[:200]}")
    print(f"demo_ready: {len(drafts)} draft template(s) submitted to the sandbox")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
