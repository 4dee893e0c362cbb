"""The webhook's fast path: a plain signed delivery from Meta stored below Odoo's request dispatch.

At one event per request, Odoo's dispatch of ``POST /whatsapp/webhook`` (werkzeug request, session,
routing, ``ir.http`` hooks, two cursors, each reset on borrow) costs several times what storing the
event costs. :func:`install` wraps :meth:`odoo.http.Application.__call__` once per process (when
this addon is imported); the wrapper answers one kind of request itself and hands every other one,
untouched, to Odoo:

* ``POST /whatsapp/webhook``, no query string, no session cookie, a Content-Length within
  ``MAX_BODY_BYTES`` (no chunked body);
* one database, chosen as Odoo chooses it for a cookie-less request (``db_list`` with the
  ``--database`` / ``--db-filter`` rules and the Host, behind a proxy the forwarded one), whose
  registry is loaded and holds this addon;
* a body signed by the secret of every account it names, readable, naming only known accounts.

It stores the events as the controller does (``verify_webhook``, ``store_verified``: the same code)
with one statement in an Odoo cursor on a connection of :class:`KeptPool`, which only this path
uses (Odoo's pool resets each connection it lends with ``DISCARD ALL``: a round trip and an
eighth of such a request's cost; this path sets nothing on a session). That statement writes
only while the database's signaling sequences are those this process's registry holds (what
``Registry.check_signaling`` compares), so a module upgrade or an account change in another
worker sends the request through Odoo's dispatch, which reloads, as it would have. Everything
else (the GET handshake, forged, unreadable or foreign bodies, unknown accounts, several databases,
any error) falls through to Odoo and the controller, which answer it as always. Set
``whatsapp_webhook_fast_path = False`` in Odoo's configuration file to turn it off.
"""

import io
import logging
import threading
import time

import odoo
import psycopg2.extensions
from odoo import api, sql_db
from odoo.modules.registry import Registry
from odoo.tools import config
from werkzeug.middleware.proxy_fix import ProxyFix

from ..tools import webhook
from .main import store_verified, verify_webhook

_logger = logging.getLogger(__name__)

PATH = "/whatsapp/webhook"
MODEL = "whatsapp.webhook.event"


class _FallThrough(Exception):
    """The request is not one the fast path answers: Odoo's dispatch serves it."""


class KeptPool(sql_db.ConnectionPool):
    """Odoo's connection pool, lending a free connection as it was given back when it holds no
    transaction (Odoo's cursor rolls back before giving it back), without ``DISCARD ALL``: for
    the fast path's cursors only, which set nothing on a session (no ``SET``, no ``LISTEN``, no
    temporary table) but the statements it prepares (``whatsapp_prepared``: see
    ``models/common.execute_reusing_plan``). A connection in any other state, or none free, is
    Odoo's borrow (reset, idle and dead ones dropped, a new one opened)."""

    def borrow(self, connection_info):
        with self._lock:
            for entry in self._connections:
                cnx, used, _last_used = entry
                if (
                    not used
                    and not cnx.closed
                    and cnx.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
                    and self._dsn_equals(cnx.dsn, connection_info)
                ):
                    entry[1] = True
                    return cnx
        cnx = super().borrow(connection_info)
        # new, or reset (DISCARD ALL): none of the statements prepared on it is left
        cnx.whatsapp_prepared = {}
        return cnx


POOL = KeptPool(int(config["db_maxconn"]))


def _cursor(registry):
    """A cursor on ``registry``'s database from :data:`POOL` (under tests, the test cursor)."""
    if registry.test_cr is not None:
        return registry.cursor()
    dbname, info = sql_db.connection_info_for(registry.db_name)
    return sql_db.Cursor(POOL, dbname, info)


def install():
    """Wrap ``Application.__call__`` once in this process (idempotent), and Odoo's
    ``close_db`` (see :func:`_close_db`)."""
    application = odoo.http.Application
    if getattr(application.__call__, "_whatsapp_fast_path", False):
        return
    _close_db.__wrapped__ = sql_db.close_db
    sql_db.close_db = _close_db
    dispatch = application.__call__

    def __call__(self, environ, start_response):
        response = fast_response(environ)
        if response is None:
            return dispatch(self, environ, start_response)
        return response(environ, start_response)

    __call__._whatsapp_fast_path = True
    __call__.__wrapped__ = dispatch
    application.__call__ = __call__


def _close_db(db_name):
    """Odoo's ``close_db`` (before a database is dropped, renamed or copied), which then also
    closes the connections :data:`POOL` keeps to it."""
    POOL.close_all(sql_db.connection_info_for(db_name)[1])
    return _close_db.__wrapped__(db_name)


def fast_response(environ):
    """The response of the fast path to ``environ``, or None for Odoo to serve it (with the body
    put back where Odoo reads it)."""
    if not _candidate(environ):
        return None
    size = int(environ["CONTENT_LENGTH"])
    raw = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(raw)  # whatever happens, Odoo can read it again
    if len(raw) != size:
        return None
    dbname = _database(environ)
    if dbname is None:
        return None
    try:
        registry = Registry.registries[dbname]
    except KeyError:
        return None  # not loaded in this process yet: Odoo loads it
    if not registry.ready or MODEL not in registry:
        return None
    _start_request_accounting(dbname)
    try:
        with _cursor(registry) as cr:
            # as the controller's ``auth="none"`` environment, in superuser mode
            env = api.Environment(cr, None, {}, su=True)
            verdict = verify_webhook(env, raw, environ.get("HTTP_X_HUB_SIGNATURE_256"))
            if not verdict.plain:
                raise _FallThrough("not a plain signed delivery")
            # stored only if no other process changed the registry or its caches (the secrets
            # read above included) since this one last checked: else Odoo's dispatch reloads
            response = store_verified(env, verdict, registry=registry)
            if response is None:
                raise _FallThrough("the registry or its caches changed")
    except _FallThrough:
        return None
    except Exception:  # pylint: disable=broad-except
        # a serialization conflict, a lost connection...: Odoo's dispatch retries or answers
        _logger.info("WhatsApp webhook fast path: left to Odoo's dispatch", exc_info=True)
        return None
    response.headers["X-Content-Type-Options"] = "nosniff"  # as Odoo's dispatch answers
    return response


def _candidate(environ):
    """Whether the request is, by its line and headers alone, one the fast path may answer."""
    if (
        environ.get("PATH_INFO") != PATH
        or environ.get("REQUEST_METHOD") != "POST"
        or environ.get("QUERY_STRING")
        or environ.get("HTTP_TRANSFER_ENCODING")
        or "session_id" in environ.get("HTTP_COOKIE", "")
        or not _enabled()
    ):
        return False
    length = environ.get("CONTENT_LENGTH") or ""
    return length.isdigit() and 0 < int(length) <= webhook.MAX_BODY_BYTES


def _enabled():
    """``whatsapp_webhook_fast_path`` of Odoo's configuration file (on unless set false)."""
    return str(config.get("whatsapp_webhook_fast_path", True)).strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def _database(environ):
    """The database Odoo would serve this cookie-less request from, or None when ambiguous."""
    host = environ.get("HTTP_HOST", "")
    if config["proxy_mode"] and environ.get("HTTP_X_FORWARDED_HOST"):
        forwarded = dict(environ)  # as Odoo does, without touching the request's own environ
        ProxyFix(lambda env, start: [])(forwarded, lambda status, headers: None)
        host = forwarded.get("HTTP_HOST", "")
    dbs = odoo.http.db_list(force=True, host=host)
    return dbs[0] if len(dbs) == 1 else None


def _start_request_accounting(dbname):
    """What Odoo's dispatch sets on the thread for its access log line (queries, time, db)."""
    thread = threading.current_thread()
    thread.query_count = 0
    thread.query_time = 0
    thread.perf_t0 = time.time()
    thread.dbname = dbname
