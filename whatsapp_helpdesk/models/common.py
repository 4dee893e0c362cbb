"""Small helpers shared by the models (no model of its own)."""

import logging
import threading
import time
from contextlib import contextmanager

import psycopg2
from odoo import sql_db

# Failures that another run may not meet (a concurrent transaction won): tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


def is_testing():
    """Whether the current thread runs Odoo's tests: crons must not commit then."""
    return getattr(threading.current_thread(), "testing", False)


@contextmanager
def cron_report(logger, what):
    """Log what a cron run did: ``report["items"]`` items, its seconds and SQL queries (the
    benchmarks read these lines to tell the cost per message)."""
    report = {"items": 0}
    started, queries = time.monotonic(), sql_db.sql_counter
    yield report
    if report["items"] and logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s: %d in %.2f s, %d queries",
            what,
            report["items"],
            time.monotonic() - started,
            sql_db.sql_counter - queries,
        )
