"""Small helpers shared by the models (no model of its own)."""

import threading

import psycopg2

# Failures that another run may not meet (a concurrent transaction won): tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


def is_testing():
    """Whether the current thread runs Odoo's tests: crons must not commit then."""
    return getattr(threading.current_thread(), "testing", False)


def notification(message, kind="success", sticky=False, close=False):
    """The client action that shows ``message`` in the corner (closing the dialog if ``close``)."""
    params = {"type": kind, "message": message, "sticky": sticky}
    if close:
        params["next"] = {"type": "ir.actions.act_window_close"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
