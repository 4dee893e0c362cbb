"""Small helpers shared by the models (no model of its own)."""

import threading


def is_testing():
    """Whether the current thread runs Odoo's tests: crons must not commit then."""
    return getattr(threading.current_thread(), "testing", False)
