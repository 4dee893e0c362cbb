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
with one statement in a cursor from Odoo's pool; that statement writes only while the database's
signaling sequences are those this process's registry holds (what ``Registry.check_signaling``
compares), so a module upgrade or an account change in another worker sends the request through
Odoo's dispatch, which reloads, as it would have. Everything
else (the GET handshake, forged, unreadable or foreign bodies, unknown accounts, several databases,
any error) falls through to Odoo and the controller, which answer it as always. Set
``whatsapp_webhook_fast_path = False`` in Odoo's configuration file to turn it off.
"""

import io
import logging
import threading
import time

import odoo
from odoo import api
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


def install():
    """Wrap ``Application.__call__`` once in this process (idempotent)."""
    application = odoo.http.Application
    if getattr(application.__call__, "_whatsapp_fast_path", False):
        return
    dispatch = application.__call__

    def __call__(self, environ, start_response):
        response = fast_response(environ)
        if response is None:
            return dispatch(self, environ, start_response)
        return response(environ, start_response)

    __call__._whatsapp_fast_path = True
    __call__.__wrapped__ = dispatch
    application.__call__ = __call__


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
        with registry.cursor() as cr:
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
