"""Tests of ``tools.reminders``: reminder button payloads and when a reminder is due."""

from datetime import datetime

import pytest
from wa_tools import reminders


def test_the_first_three_quick_replies_confirm_reschedule_cancel():
    assert reminders.button_payloads(7, [0, 2, 3, 5]) == {
        0: "wa_reminder:7:confirm",
        2: "wa_reminder:7:reschedule",
        3: "wa_reminder:7:cancel",
    }
    assert reminders.button_payloads(7, [1]) == {1: "wa_reminder:7:confirm"}
    assert reminders.button_payloads(7, []) == {}


def test_payloads_round_trip():
    for index, payload in reminders.button_payloads(42, [0, 1, 2]).items():
        assert reminders.parse_payload(payload) == (42, reminders.ACTIONS[index])


@pytest.mark.parametrize(
    "payload",
    [
        None,
        12,
        "",
        "wa_reminder:x:confirm",
        "wa_reminder:1:delete",
        "wa_reminder:12345678901:confirm",
        "other:1:confirm",
        "wa_reminder:1:confirm:extra",
        "Confirm",
    ],
)
def test_other_answers_are_not_reminder_answers(payload):
    assert reminders.parse_payload(payload) is None


def test_due_window_and_limits():
    now = datetime(2026, 12, 1, 10, 0)
    assert reminders.due_window(now, 24) == (now, datetime(2026, 12, 2, 10, 0))
    assert reminders.valid_hours_before(24)
    for bad in (0, -1, 24 * 31, 1.5, "24", None):
        assert not reminders.valid_hours_before(bad)
