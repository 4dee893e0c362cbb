"""Appointment reminders: the payload of their quick-reply buttons and when one is due. No Odoo
import.

A reminder template has three quick-reply buttons, in this order: confirm, reschedule, cancel.
Each button of a sent reminder carries ``wa_reminder:<reminder id>:<action>``; the customer's
tap comes back with it (the ``reply_id`` of the answer), which names the reminder answered.
"""

import re
from datetime import timedelta

ACTIONS = ("confirm", "reschedule", "cancel")
PREFIX = "wa_reminder"
MAX_HOURS_BEFORE = 24 * 30
_PAYLOAD = re.compile(rf"^{PREFIX}:(\d{{1,10}}):({'|'.join(ACTIONS)})$")


def button_payloads(reminder_id: int, quick_reply_indexes) -> dict:
    """{button index: payload} for the first three quick-reply buttons of a template (their
    indexes among all its buttons), in the order of :data:`ACTIONS`."""
    return {
        index: f"{PREFIX}:{int(reminder_id)}:{action}"
        for index, action in zip(list(quick_reply_indexes)[: len(ACTIONS)], ACTIONS, strict=False)
    }


def parse_payload(payload):
    """(reminder id, action) of a reminder button's payload, or None for anything else."""
    if not isinstance(payload, str):
        return None
    match = _PAYLOAD.match(payload.strip())
    if not match:
        return None
    return int(match.group(1)), match.group(2)


def due_window(now, hours_before):
    """(start, end): the events starting after ``now`` and at most ``hours_before`` hours later
    get their reminder now."""
    return now, now + timedelta(hours=hours_before)


def valid_hours_before(hours) -> bool:
    return isinstance(hours, int) and 0 < hours <= MAX_HOURS_BEFORE
