"""Outbound message state machine, shared by the outbox and the status webhook. No Odoo import.

Meta delivers status webhooks at least once and not always in order (``read`` can overtake
``delivered``); a status only ever moves a message forward.
"""

# How far an outbound message has gone; a status webhook may only raise it.
OUTBOUND_RANK = {
    "queued": 0,
    "sending": 1,
    "unknown": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
}
# Webhook statuses that change the message state; "deleted" and "warning" are informational.
WEBHOOK_TO_STATE = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}


def next_state(current: str, webhook_status: str):
    """The state an outbound message in ``current`` takes on ``webhook_status``, or None to keep it.

    ``failed`` is terminal and may only replace a state before ``delivered``: a late ``failed`` for
    a message the customer already received is noise. ``unknown`` (a send whose answer was lost)
    resolves to whatever Meta later reports.
    """
    incoming = WEBHOOK_TO_STATE.get((webhook_status or "").lower())
    if incoming is None or current == "failed" or current not in OUTBOUND_RANK:
        return None
    if incoming == "failed":
        return "failed" if OUTBOUND_RANK[current] < OUTBOUND_RANK["delivered"] else None
    return incoming if OUTBOUND_RANK[incoming] > OUTBOUND_RANK[current] else None
