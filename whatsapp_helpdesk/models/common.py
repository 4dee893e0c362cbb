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
