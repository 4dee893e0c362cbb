"""The demo account of a whatsapp_helpdesk database: its ids, and the credentials its demo data drew
at random at install (none is written in the repository), with the key of the demo assistant's
language model. scripts/run.sh hands them to the sandbox it starts; the benchmarks import
:func:`read` to sign webhooks and answer sends with them.

    python scripts/demo_account.py DB    # WA_SANDBOX_<FIELD>=value lines, for tools.sandbox serve

PostgreSQL is reached as the scripts do: $PGHOST (127.0.0.1), $PGUSER and $PGPASSWORD (odoo).
"""

import os
import sys

import psycopg2

FIELDS = ("phone_number_id", "waba_id", "display_phone_number", "token", "app_secret")
QUERY = """
    SELECT a.phone_number_id, a.waba_id, a.display_phone_number, a.token, a.app_secret
      FROM whatsapp_account a
      JOIN ir_model_data d ON d.model = 'whatsapp.account' AND d.res_id = a.id
     WHERE d.module = 'whatsapp_helpdesk' AND d.name = 'whatsapp_account_demo'
"""
CHAT_KEY_QUERY = """
    SELECT p.api_key
      FROM whatsapp_assistant_provider p
      JOIN ir_model_data d ON d.model = 'whatsapp.assistant.provider' AND d.res_id = p.id
     WHERE d.module = 'whatsapp_helpdesk' AND d.name = 'assistant_provider_demo'
"""


def connect(db):
    return psycopg2.connect(
        dbname=db,
        host=os.environ.get("PGHOST", "127.0.0.1"),
        user=os.environ.get("PGUSER", "odoo"),
        password=os.environ.get("PGPASSWORD", "odoo"),
        connect_timeout=10,
    )


def fetch_one(db, query):
    """The first row ``query`` finds in ``db``, or None."""
    conn = connect(db)
    try:
        with conn.cursor() as cr:
            cr.execute(query)
            return cr.fetchone()
    finally:
        conn.close()


def read(db):
    """``{field: value}`` of the demo account of ``db``; ``LookupError`` without a complete one."""
    row = fetch_one(db, QUERY)
    account = dict(zip(FIELDS, row or (), strict=False))
    missing = [name for name in FIELDS if not account.get(name)]
    if missing:
        raise LookupError(f"the demo account of {db} lacks {', '.join(missing)}")
    return account


def read_chat_key(db):
    """The key the demo assistant's language model (the sandbox's) expects, or None."""
    try:
        row = fetch_one(db, CHAT_KEY_QUERY)
    except psycopg2.Error:
        return None  # a database of a version without the assistant
    return row[0] if row and row[0] else None


def main(argv):
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    try:
        account = read(argv[0])
    except (LookupError, psycopg2.Error) as error:
        sys.stderr.write(f"demo_account: {error}\n")
        return 1
    chat_key = read_chat_key(argv[0])
    if chat_key:
        account["chat_api_key"] = chat_key
    for name, value in account.items():
        if "\n" in value:
            sys.stderr.write(f"demo_account: {name} holds a line break\n")
            return 1
        sys.stdout.write(f"WA_SANDBOX_{name.upper()}={value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
