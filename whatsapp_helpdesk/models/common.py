"""Small helpers shared by the models (no model of its own)."""

import logging
import os
import re
import resource
import threading
import time
from contextlib import contextmanager

import psycopg2
from odoo import fields, sql_db
from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION
from odoo.tools import SQL, config

from ..tools import cron_pass

_logger = logging.getLogger(__name__)

# Failures that another run may not meet (a concurrent transaction won): tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


def computed_after_insert(records, written=(), unchanged=(), rows=None, shared=None):
    """Give ``records``, inserted by SQL for speed, what the ORM's create gives them: their
    stored computed and related fields computed (in batch, at the next flush) and the fields of
    other records that depend on them marked.

    ``written``: names of stored computed fields the INSERT already filled with the values their
    computes give (not computed again). ``unchanged``: fields of other records that rows like
    these cannot change (a sum of costs when every new row costs nothing): what the insert would
    mark of them is unmarked, what was marked before stays marked. ``rows``: the inserted values
    of each record (complete with ``shared``, the values of every row a row does not set), which
    spares reading back what marking the dependents reads."""
    env = records.env
    for field in records._fields.values():
        if field.store and field.compute and field.name not in written:
            env.add_to_compute(field, records)
        if field.type == "many2one":  # the one2manys pointing to them (a campaign's messages)
            for inverse in records.pool.field_inverses[field]:
                env[inverse.model_name].invalidate_model([inverse.name])
    # (after the one2manys' invalidation, which also drops their many2ones from the cache)
    # marking the dependents reads the records the new rows point to: taken from ``rows``, or
    # fetched by one query of these columns (not of every column, in batches of a thousand)
    references = [
        field
        for field in records._fields.values()
        if field.store and field.type in ("many2one", "many2one_reference")
    ]
    references += [
        records._fields[field.model_field]
        for field in references
        if field.type == "many2one_reference"
    ]
    if rows is None:
        records.fetch([field.name for field in references])
    else:
        shared = shared or {}
        for field in references:
            name = field.name
            if any(name in row for row in rows):
                default = shared.get(name)
                values = [
                    field.convert_to_cache(row.get(name, default), records, validate=False)
                    for row in rows
                ]
            else:
                values = [field.convert_to_cache(shared.get(name), records, validate=False)]
                values *= len(rows)
            env.cache.update(records, field, values)
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


# Planner settings of a segment's count (see :func:`index_friendly_planner`).
COUNT_SETTINGS = {"random_page_cost": "1.1", "jit": "off"}


@contextmanager
def index_friendly_planner(cr):
    """Inside the block, PostgreSQL's planner prices an index page as the cached page it is
    (``random_page_cost`` 1.1, as for SSDs, instead of 4) and does not JIT-compile; the previous
    values come back after it, whatever the block did (only this transaction's settings).

    A segment's count reads a partial index of the partners alone: once that index has grown
    (an upgrade that filled a column, updates), the default cost makes a scan of the whole table
    look cheaper, which is twice as slow; JIT compilation costs more than such a count."""
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(SQL("current_setting(%s)", name) for name in COUNT_SETTINGS),
        )
    )
    before = dict(zip(COUNT_SETTINGS, cr.fetchone(), strict=True))

    def apply(values):
        cr.execute(
            SQL(
                "SELECT %s",
                SQL(", ").join(
                    SQL("set_config(%s, %s, true)", name, value) for name, value in values.items()
                ),
            )
        )

    apply(COUNT_SETTINGS)
    try:
        yield
    finally:
        apply(before)


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


# The pass of the cron worker running this thread (see tools/cron_pass.py), told by ir_cron.py.
CRON_PASS = cron_pass.PassClock()
# Time a run takes to stop after its budget (batches in flight answered and recorded), and the
# least a run gets even when the pass is nearly over (so that each run moves on).
CRON_STOP_MARGIN = 20.0
CRON_RUN_FLOOR = 5.0


def cron_time_left():
    """Seconds the current pass of Odoo's cron worker may still run before Odoo's limits stop
    it (None outside a cron pass, or when no limit applies)."""
    thread = threading.current_thread()
    if config["workers"]:
        real_limit = config["limit_time_real_cron"]
        if real_limit == -1:
            real_limit = config["limit_time_real"]
        elapsed = CRON_PASS.elapsed()
    else:
        real_limit = config["limit_time_real_cron"]
        if not (real_limit and real_limit > 0):
            real_limit = config["limit_time_real"]
        start = getattr(thread, "start_time", None)
        elapsed = None if start is None else time.time() - start  # Odoo stamps the pass
    soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu_left = None
    if elapsed is not None and soft != resource.RLIM_INFINITY:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_left = soft - (usage.ru_utime + usage.ru_stime)
    return cron_pass.time_left(elapsed, real_limit, cpu_left)


def cron_run_budget(own_budget):
    """A cron run's time budget: ``own_budget`` seconds, within what Odoo's limits leave to the
    worker's current pass."""
    return cron_pass.run_budget(own_budget, cron_time_left(), CRON_STOP_MARGIN, CRON_RUN_FLOOR)


def report_progress(env, done, remaining, own_budget):
    """Odoo's progress API (``_notify_progress``), within the cron worker's limits: with records
    left, Odoo runs the job again in the same pass, so when another run of ``own_budget`` seconds
    no longer fits, the job reports nothing left and triggers itself for the next pass, which
    starts at once after the worker's watchdog ping, instead of being killed mid-run."""
    cron_id = env.context.get("cron_id")
    if remaining and cron_id:
        left = cron_time_left()
        if cron_pass.should_end_pass(left, own_budget, CRON_STOP_MARGIN):
            _logger.info(
                "WhatsApp: %s records left; the cron pass ends (%.0f s left), the job comes back",
                remaining,
                left,
            )
            # always a new trigger: one already due was made before Odoo took this job, and
            # Odoo deletes those when the job ends
            trigger_cron_now(env["ir.cron"].sudo().browse(cron_id))
            remaining = 0
    env["ir.cron"]._notify_progress(done=done, remaining=remaining)


def notification(message, kind="success", sticky=False, close=False):
    """The client action that shows ``message`` in the corner (closing the dialog if ``close``)."""
    params = {"type": kind, "message": message, "sticky": sticky}
    if close:
        params["next"] = {"type": "ir.actions.act_window_close"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}


class _Notifier:
    """The NOTIFYs that wake Odoo's cron workers and its bus (they listen on the ``postgres``
    database), sent over one connection this process keeps: Odoo opens a new connection (a new
    PostgreSQL backend: its pool closes those to ``postgres``) for every trigger and every
    transaction that notifies the bus, which under load costs more than the work notified."""

    _lock = threading.Lock()
    _conn = None
    _pid = None

    @classmethod
    def notify(cls, channel, payloads):
        """``pg_notify``-like: each of ``payloads`` on ``channel``, through Odoo's function."""
        with cls._lock:
            for attempt in (1, 2):
                try:
                    if cls._conn is None or cls._conn.closed or cls._pid != os.getpid():
                        _dsn_name, info = sql_db.connection_info_for("postgres")
                        cls._conn = psycopg2.connect(**info)
                        cls._conn.autocommit = True
                        cls._pid = os.getpid()
                    with cls._conn.cursor() as cr:
                        for payload in payloads:
                            cr.execute(
                                f"SELECT {ODOO_NOTIFY_FUNCTION}(%s, %s)",  # noqa: S608
                                (channel, payload),
                            )
                    return
                except psycopg2.Error as error:
                    cls._conn = None
                    if attempt == 2:
                        _logger.warning("could not notify %s: %s", channel, error)


def notify_postgres(channel, payloads):
    """Send ``payloads`` on the NOTIFY ``channel`` of the ``postgres`` database (see
    :class:`_Notifier`), now: call it after the commit of what it announces."""
    _Notifier.notify(channel, payloads)


def trigger_cron_now(cron, unless_pending=False):
    """``cron._trigger()`` (run it as soon as possible) at a lower cost: the trigger row in one
    statement, and the cron workers woken once per transaction, however many triggers it makes,
    over a connection this process keeps (see :class:`_Notifier`).

    ``unless_pending``: make no trigger while one is already due for this cron (its run will see
    what this transaction commits; the run counts what remains at its end and Odoo runs it again
    at once when something does). Returns whether a trigger was made.
    """
    cron.env.cr.execute(cron_trigger_sql(cron, unless_pending))
    if not cron.env.cr.fetchone():
        return False  # already pending, or an inactive cron (which ignores triggers due now)
    wake_crons_after_commit(cron.env.cr)
    return True


def trigger_cron_at_commit(cron):
    """:func:`trigger_cron_now` (unless a trigger is pending) once per transaction for ``cron``,
    however many times it is asked, when the transaction flushes its hooks (at its commit, or
    when a savepoint of it opens or closes): code that queues work row by row (the reactions to
    a batch of customer messages, a campaign's chunks) makes one trigger statement, not one per
    row. The run it wakes sees nothing before the commit anyway."""
    precommit = cron.env.cr.precommit
    key = ("whatsapp.cron_trigger", cron.id)
    if not precommit.data.get(key):
        precommit.data[key] = True
        precommit.add(lambda: trigger_cron_now(cron, unless_pending=True))


def cron_trigger_sql(cron, unless_pending=False, only_if=None):
    """The statement of :func:`trigger_cron_now` (``INSERT ... RETURNING id``: a row when a
    trigger was made), to run alone or inside a larger one; ``only_if``: an SQL condition more.
    Call :func:`wake_crons_after_commit` when it made a trigger."""
    cron.env["ir.cron"].flush_model(["active"])
    now = fields.Datetime.now()
    # a trigger already due makes the cron run soon enough; one set for later (a retry) does not
    pending = SQL(
        "AND NOT EXISTS (SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s)",
        cron.id,
        now,
    )
    return SQL(
        """
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date,
                                     write_uid, write_date)
        SELECT id, %(now)s::timestamp, %(uid)s::int4, %(now)s::timestamp, %(uid)s::int4,
               %(now)s::timestamp
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


# A connection keeps at most this many prepared statements (see execute_reusing_plan).
PREPARED_MAX = 16
_PLACEHOLDER = re.compile("%([s%])")


def execute_reusing_plan(cr, query):
    """``cr.execute(query)`` (an ``SQL``), as a statement prepared once per connection when the
    connection keeps its prepared statements (those of the webhook's fast path: see
    ``controllers/fast_path.KeptPool``, which gives them ``whatsapp_prepared``): planning a
    statement of several CTEs costs PostgreSQL more than running it, at every request. Every
    value must be a parameter of ``query`` (its code the same for every call), typed by a cast
    where PostgreSQL cannot tell its type from the statement."""
    prepared = getattr(getattr(cr, "_cnx", None), "whatsapp_prepared", None)
    if prepared is None:
        cr.execute(query)
        return
    code, params = query.code, query.params
    name = prepared.get(code)
    if name is None:
        if len(prepared) >= PREPARED_MAX:
            cr.execute("DEALLOCATE ALL")
            prepared.clear()
        # each %s its $n; a literal %% stays escaped for SQL()
        numbers = iter(range(1, len(params) + 1))
        text = _PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m[1] == "s" else "%%", code)
        name = f"whatsapp_{len(prepared)}"
        cr.execute(SQL("PREPARE %s AS %s", SQL.identifier(name), SQL(text)))
        prepared[code] = name
    if params:
        arguments = SQL(", ").join(SQL("%s", param) for param in params)
        cr.execute(SQL("EXECUTE %s (%s)", SQL.identifier(name), arguments))
    else:
        cr.execute(SQL("EXECUTE %s", SQL.identifier(name)))


def wake_crons_after_commit(cr):
    """Wake the cron workers once ``cr`` commits (once per transaction)."""
    if not cr.postcommit.data.get("whatsapp.cron_notify"):
        cr.postcommit.data["whatsapp.cron_notify"] = True
        dbname = cr.dbname
        cr.postcommit.add(lambda: notify_postgres("cron_trigger", [dbname]))


def _refresh_partner_text(cr, column, texts, matches, sources, scope):
    """Set-wise, by SQL: each partner's ``column`` := the ``text`` of its row of ``texts`` (a
    subquery, alias t, joined by ``matches``), and NULL for the partners without a row of
    ``sources`` (a subquery on alias p); only the partners ``scope`` (a condition on alias p)
    holds for. Returns how many partners changed."""
    column = SQL.identifier(column)
    cr.execute(
        SQL(
            "UPDATE res_partner p SET %(column)s = t.text FROM (%(texts)s) t"
            " WHERE %(matches)s AND %(scope)s AND p.%(column)s IS DISTINCT FROM t.text",
            column=column,
            texts=texts,
            matches=matches,
            scope=scope,
        )
    )
    changed = cr.rowcount
    cr.execute(
        SQL(
            "UPDATE res_partner p SET %(column)s = NULL"
            " WHERE p.%(column)s IS NOT NULL AND %(scope)s AND NOT EXISTS (%(sources)s)",
            column=column,
            sources=sources,
            scope=scope,
        )
    )
    return changed + cr.rowcount


def refresh_consent(cr):
    """Every partner's stored consent (see tools/audience) from the opt-ins, set-wise, by SQL:
    after an import by SQL, and when the column is created; returns how many partners changed."""
    return _refresh_partner_text(
        cr,
        "whatsapp_consent",
        SQL(
            """SELECT phone_e164,
                      ',' || string_agg(DISTINCT mark, ',' ORDER BY mark) || ',' AS text
                 FROM (SELECT phone_e164,
                              (company_id || ':' || category || ':'
                               || CASE state WHEN 'opted_in' THEN 'in' ELSE 'out' END)
                              COLLATE "C" AS mark
                         FROM whatsapp_optin) marks
                GROUP BY phone_e164"""
        ),
        SQL("p.whatsapp_e164 = t.phone_e164"),
        SQL("SELECT 1 FROM whatsapp_optin o WHERE o.phone_e164 = p.whatsapp_e164"),
        SQL("TRUE"),
    )


def refresh_tags(cr, partner_ids=None):
    """The stored tags (see tools/audience) of every partner, or of ``partner_ids`` only, from
    the tags' rel table, set-wise, by SQL: after a change of tags by SQL (an import, a tag
    deleted, a merge), and when the column is created; returns how many partners changed."""
    if partner_ids is not None and not partner_ids:
        return 0
    which = SQL("TRUE") if partner_ids is None else SQL("partner_id = ANY(%s)", list(partner_ids))
    return _refresh_partner_text(
        cr,
        "whatsapp_tags",
        SQL(
            """SELECT partner_id,
                      ',' || string_agg(category_id::text, ',' ORDER BY category_id) || ',' AS text
                 FROM res_partner_res_partner_category_rel
                WHERE %s
                GROUP BY partner_id""",
            which,
        ),
        SQL("p.id = t.partner_id"),
        SQL("SELECT 1 FROM res_partner_res_partner_category_rel r WHERE r.partner_id = p.id"),
        SQL("TRUE") if partner_ids is None else SQL("p.id = ANY(%s)", list(partner_ids)),
    )
