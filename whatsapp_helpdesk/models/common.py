"""Small helpers shared by the models (no model of its own)."""

import logging
import os
import threading
import time
from contextlib import contextmanager

import psycopg2
from odoo import fields, sql_db
from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Failures that another run may not meet (a concurrent transaction won): tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


def computed_after_insert(records, written=(), unchanged=()):
    """Give ``records``, inserted by SQL for speed, what the ORM's create gives them: their
    stored computed and related fields computed (in batch, at the next flush) and the fields of
    other records that depend on them marked.

    ``written``: names of stored computed fields the INSERT already filled with the values their
    computes give (not computed again). ``unchanged``: fields of other records that rows like
    these cannot change (a sum of costs when every new row costs nothing): what the insert would
    mark of them is unmarked, what was marked before stays marked."""
    env = records.env
    for field in records._fields.values():
        if field.store and field.compute and field.name not in written:
            env.add_to_compute(field, records)
        if field.type == "many2one":  # the one2manys pointing to them (a campaign's messages)
            for inverse in records.pool.field_inverses[field]:
                env[inverse.model_name].invalidate_model([inverse.name])
    marked_before = {field: set(env.transaction.tocompute.get(field, ())) for field in unchanged}
    records.modified(records._fields, create=True)
    for name in written:
        env.remove_to_compute(records._fields[name], records)
    for field, before in marked_before.items():
        added = set(env.transaction.tocompute.get(field, ())) - before
        env.remove_to_compute(field, env[field.model_name].browse(added))


def is_testing():
    """Whether the current thread runs Odoo's tests: crons must not commit then."""
    return getattr(threading.current_thread(), "testing", False)


# Days of the week of the reports, numbered as PostgreSQL's ISO day of week minus one.
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]

# The local time zone of a team, for the hours and weekdays of the reports: its calendar's, else
# its company's calendar's, else UTC; only names PostgreSQL knows. Needs the aliases t (team)
# and co (company) in the query.
LOCAL_ZONE_JOINS = """
    LEFT JOIN resource_calendar tcal ON tcal.id = t.whatsapp_calendar_id
    LEFT JOIN resource_calendar ccal ON ccal.id = co.resource_calendar_id
    LEFT JOIN pg_timezone_names tz1 ON tz1.name = tcal.tz
    LEFT JOIN pg_timezone_names tz2 ON tz2.name = ccal.tz
"""
LOCAL_ZONE = "COALESCE(tz1.name, tz2.name, 'UTC')"


def without_jit(cr):
    """PostgreSQL's JIT compiler, for the rest of the transaction, off: it misjudges the bulk
    statements of the reports (the time zone names are a function) and spends more time
    compiling them than running them."""
    cr.execute("SET LOCAL jit = off")


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


def notification(message, kind="success", sticky=False, close=False):
    """The client action that shows ``message`` in the corner (closing the dialog if ``close``)."""
    params = {"type": kind, "message": message, "sticky": sticky}
    if close:
        params["next"] = {"type": "ir.actions.act_window_close"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}


class _CronNotifier:
    """The NOTIFY that wakes Odoo's cron workers (they listen on the ``postgres`` database),
    sent over one connection this process keeps: ``ir.cron._notifydb`` opens a new connection
    (a new PostgreSQL backend) for every trigger, which under load costs more than the work
    triggered."""

    _lock = threading.Lock()
    _conn = None
    _pid = None

    @classmethod
    def notify(cls, dbname):
        with cls._lock:
            for attempt in (1, 2):
                try:
                    if cls._conn is None or cls._conn.closed or cls._pid != os.getpid():
                        _dsn_name, info = sql_db.connection_info_for("postgres")
                        cls._conn = psycopg2.connect(**info)
                        cls._conn.autocommit = True
                        cls._pid = os.getpid()
                    with cls._conn.cursor() as cr:
                        cr.execute(
                            f"SELECT {ODOO_NOTIFY_FUNCTION}('cron_trigger', %s)",  # noqa: S608
                            (dbname,),
                        )
                    return
                except psycopg2.Error as error:
                    cls._conn = None
                    if attempt == 2:
                        _logger.warning("could not wake the cron workers: %s", error)


def trigger_cron_now(cron, unless_pending=False):
    """``cron._trigger()`` (run it as soon as possible) at a lower cost: the trigger row in one
    statement, and the cron workers woken once per transaction, however many triggers it makes,
    over a connection this process keeps (see :class:`_CronNotifier`).

    ``unless_pending``: make no trigger while one is already pending for this cron (its run will
    see what this transaction commits). Returns whether a trigger was made.
    """
    cron.env.cr.execute(cron_trigger_sql(cron, unless_pending))
    if not cron.env.cr.fetchone():
        return False  # already pending, or an inactive cron (which ignores triggers due now)
    wake_crons_after_commit(cron.env.cr)
    return True


def cron_trigger_sql(cron, unless_pending=False, only_if=None):
    """The statement of :func:`trigger_cron_now` (``INSERT ... RETURNING id``: a row when a
    trigger was made), to run alone or inside a larger one; ``only_if``: an SQL condition more.
    Call :func:`wake_crons_after_commit` when it made a trigger."""
    cron.env["ir.cron"].flush_model(["active"])
    now = fields.Datetime.now()
    pending = SQL("AND NOT EXISTS (SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s)", cron.id)
    return SQL(
        """
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date,
                                     write_uid, write_date)
        SELECT id, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
          FROM ir_cron
         WHERE id = %(cron)s AND active %(pending)s %(only_if)s
        RETURNING id
        """,
        now=now,
        uid=cron.env.uid,
        cron=cron.id,
        pending=pending if unless_pending else SQL(),
        only_if=SQL("AND (%s)", only_if) if only_if else SQL(),
    )


def wake_crons_after_commit(cr):
    """Wake the cron workers once ``cr`` commits (once per transaction)."""
    if not cr.postcommit.data.get("whatsapp.cron_notify"):
        cr.postcommit.data["whatsapp.cron_notify"] = True
        dbname = cr.dbname
        cr.postcommit.add(lambda: _CronNotifier.notify(dbname))


def refresh_consent(cr):
    """Every partner's stored consent (see tools/audience) from the opt-ins, set-wise, by SQL:
    after an import by SQL, and when the column is created; returns how many partners changed."""
    cr.execute(
        """
        UPDATE res_partner p SET whatsapp_consent = c.consent
          FROM (SELECT phone_e164,
                       ',' || string_agg(DISTINCT mark, ',' ORDER BY mark) || ',' AS consent
                  FROM (SELECT phone_e164,
                               (company_id || ':' || category || ':'
                                || CASE state WHEN 'opted_in' THEN 'in' ELSE 'out' END)
                               COLLATE "C" AS mark
                          FROM whatsapp_optin) marks
                 GROUP BY phone_e164) c
         WHERE p.whatsapp_e164 = c.phone_e164 AND p.whatsapp_consent IS DISTINCT FROM c.consent
        """
    )
    changed = cr.rowcount
    cr.execute(
        """
        UPDATE res_partner p SET whatsapp_consent = NULL
         WHERE p.whatsapp_consent IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM whatsapp_optin o WHERE o.phone_e164 = p.whatsapp_e164)
        """
    )
    changed += cr.rowcount
    return changed
