"""Who of the demo customers still has to greet the shop in a demo database: once per database,
not at every `make run` (the workspace would fill with the same greetings). A customer greets
while their conversation with the demo number holds no message yet.

    python scripts/demo_greet.py DB    # number|name|text lines, for scripts/run.sh

PostgreSQL is reached as scripts/demo_account.py does. The decision (:func:`numbers_heard` on any
DB-API cursor, :func:`greetings_due`) imports nothing, so that the tests load this file by path.
"""

import sys

DEMO_PHONE_NUMBER_ID = "100000000000001"

# (number, profile name, greeting): Ana (Brazil), Rahul (India), Lucía (Mexico) of the demo data.
GREETINGS = (
    ("5511987654321", "Ana Souza", "Olá! Vocês entregam em São Paulo?"),
    ("919820012345", "Rahul Mehta", "Hi, is my order shipped?"),
    ("525512345678", "Lucía Hernández", "Hola, ¿tienen stock del modelo X?"),
)

HEARD = """
    SELECT DISTINCT c.wa_id
      FROM whatsapp_conversation c
      JOIN whatsapp_account a ON a.id = c.account_id
     WHERE a.phone_number_id = %s
       AND c.wa_id = ANY(%s)
       AND EXISTS (SELECT 1 FROM whatsapp_message m WHERE m.conversation_id = c.id)
"""


def numbers_heard(cr, phone_number_id=DEMO_PHONE_NUMBER_ID, greetings=GREETINGS):
    """The numbers of ``greetings`` whose conversation with ``phone_number_id`` holds a message."""
    cr.execute(HEARD, (phone_number_id, [number for number, _name, _text in greetings]))
    return {number for (number,) in cr.fetchall()}


def greetings_due(heard, greetings=GREETINGS):
    """The greetings of the customers not heard yet, in order."""
    return [greeting for greeting in greetings if greeting[0] not in heard]


def main(argv):
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    import psycopg2
    from demo_account import connect

    try:
        conn = connect(argv[0])
    except psycopg2.Error as error:
        sys.stderr.write(f"demo_greet: {error}\n")
        return 1
    try:
        with conn.cursor() as cr:
            heard = numbers_heard(cr)
    finally:
        conn.close()
    for greeting in greetings_due(heard):
        sys.stdout.write("|".join(greeting) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
