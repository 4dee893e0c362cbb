"""scripts/demo_greet.py: the demo customers greet once per database, not at every `make run`
(its query runs against a real database in whatsapp_helpdesk/tests/test_demo.py)."""

import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "demo_greet.py"
spec = importlib.util.spec_from_file_location("demo_greet", SCRIPT)
demo_greet = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_greet)


class Cursor:
    """A DB-API cursor answering ``rows`` and recording the query."""

    def __init__(self, rows):
        self.rows = rows
        self.executed = []

    def execute(self, query, params):
        self.executed.append((query, params))

    def fetchall(self):
        return self.rows


def test_a_new_database_hears_every_greeting_in_order():
    due = demo_greet.greetings_due(set())
    assert [name for _number, name, _text in due] == ["Ana Souza", "Rahul Mehta", "Lucía Hernández"]


def test_a_customer_already_heard_does_not_greet_again():
    ana, rahul, lucia = demo_greet.GREETINGS
    assert demo_greet.greetings_due({ana[0], lucia[0]}) == [rahul]
    assert demo_greet.greetings_due({g[0] for g in demo_greet.GREETINGS}) == []


def test_the_query_asks_for_the_demo_number_and_the_demo_customers_only():
    cursor = Cursor([("5511987654321",)])
    assert demo_greet.numbers_heard(cursor) == {"5511987654321"}
    ((_query, (phone_number_id, numbers)),) = cursor.executed
    assert phone_number_id == demo_greet.DEMO_PHONE_NUMBER_ID
    assert numbers == [number for number, _name, _text in demo_greet.GREETINGS]


def test_the_lines_run_sh_reads_hold_no_separator_inside_a_field():
    for greeting in demo_greet.GREETINGS:
        assert all("|" not in field and "\n" not in field for field in greeting)


def test_a_wrong_command_line_prints_the_usage(capsys):
    assert demo_greet.main([]) == 2
    assert "demo_greet.py DB" in capsys.readouterr().err
