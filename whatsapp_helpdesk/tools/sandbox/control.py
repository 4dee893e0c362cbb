"""The control routes of the sandbox (``/_sandbox/...``): the page a developer drives it from, and
the JSON API behind that page and the command line (make a customer write, read what was sent and
posted, change the knobs, reset).

Why a token, and why this way. The sandbox listens on 127.0.0.1, which every web page the
developer opens can reach: without a guard, any page could re-point ``webhook_url`` with a plain
HTML form, or read the knobs. So every route that changes state or reveals what the sandbox holds
requires the control token (``SandboxConfig.control_token``, drawn at start unless given) in the
``X-Sandbox-Token`` header, and a POST must say ``Content-Type: application/json``. A cross-site
HTML form can set neither; a cross-site script setting either must first pass a CORS preflight,
which the sandbox never grants (it answers no OPTIONS); and another page cannot read the token
out of the control page because the same-origin policy hides that answer from it. The page itself
can only be opened by a link, so it takes the token from its URL (``/_sandbox/?token=...``, printed
by ``serve`` and ``make run``) and is served with the token embedded only when the request
carries it; its script then sends the header like any other client. A cookie would have needed
SameSite rules and a login step for the same result; a header keeps the command line, the tests
and the page on one mechanism.

``/_sandbox/health`` stays open (it tells nothing), and ``/_sandbox/media/<id>`` is a Graph
download guarded by the access token, as Meta's media URLs are.
"""

import functools
import hmac
import html
import pathlib

from . import graph
from .errors import ControlError
from .inbound import DEMO_CUSTOMERS
from .web import Request, Response, route, routes

TOKEN_HEADER = "X-Sandbox-Token"
PAGE = pathlib.Path(__file__).with_name("control.html")
_PAGE_TOKEN = "{{control_token}}"
_LOCKED_PAGE = (
    b"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
    b"<title>WhatsApp Cloud API sandbox</title></head><body><h1>Control token needed</h1>"
    b"<p>Open the control page with the URL the sandbox printed when it started "
    b"(<code>/_sandbox/?token=...</code>; <code>make run</code> prints it too).</p></body></html>"
)
# The control page holds the token: never cached, never sent on as a referrer, never framed.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def handle(sandbox, request: Request) -> Response:
    handler, params = route(_ROUTES, request)
    if handler is None:
        return Response.json({"error": f"no route {request.method} {request.path}"}, 404)
    return handler(sandbox, request, **params)


def token_matches(sandbox, given: str) -> bool:
    """Whether ``given`` is the control token of ``sandbox`` (never true without one)."""
    expected = sandbox.config.control_token
    if not (expected and given):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def guarded(handler):
    """The route ``handler`` behind the control token (HTTP 401) and, for a POST, a JSON content
    type (HTTP 415): nothing happens unless both hold."""

    @functools.wraps(handler)
    def checked(sandbox, request: Request, **params) -> Response:
        if not token_matches(sandbox, request.header(TOKEN_HEADER)):
            error = f"this control route needs the sandbox's control token in {TOKEN_HEADER}"
            return Response.json({"error": error}, 401)
        content_type = request.header("Content-Type").partition(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            error = "control requests are sent as Content-Type: application/json"
            return Response.json({"error": error}, 415)
        return handler(sandbox, request, **params)

    return checked


def _json_body(request: Request) -> dict:
    """The control request body as a JSON object, else ``ControlError``."""
    try:
        data = request.json()
    except ValueError:
        raise ControlError("the body is not valid JSON")
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _limit(request: Request) -> int:
    """``?limit=N`` (0: everything)."""
    try:
        return int(request.query.get("limit") or 0)
    except ValueError:
        raise ControlError("limit must be an integer")


# -- routes ---------------------------------------------------------------------------------------


def page(sandbox, request: Request) -> Response:
    """``GET /_sandbox/?token=...``: the control page, holding the token its script sends."""
    token = request.query.get("token") or request.header(TOKEN_HEADER)
    if not token_matches(sandbox, token):
        return Response(401, _LOCKED_PAGE, "text/html; charset=utf-8", headers=_PAGE_HEADERS)
    text = PAGE.read_text(encoding="utf-8").replace(_PAGE_TOKEN, html.escape(token, quote=True))
    return Response(200, text.encode(), "text/html; charset=utf-8", headers=_PAGE_HEADERS)


def health(sandbox, request: Request) -> Response:
    return Response.json({"ok": True})


@guarded
def inbound(sandbox, request: Request) -> Response:
    """``POST /_sandbox/inbound``: a customer writes (``from``, ``name``, ``type``, ``text``...)."""
    data = _json_body(request)
    sender = data.pop("from", None)
    if not sender:
        raise ControlError("'from' (the customer number) is required")
    try:
        result = sandbox.inject(
            sender,
            profile_name=data.pop("name", None) or "Customer",
            type=data.pop("type", None) or "text",
            text=data.pop("text", None),
            **data,
        )
    except (ValueError, TypeError) as exc:
        raise ControlError(str(exc))
    return Response.json(result)


@guarded
def customers(sandbox, request: Request) -> Response:
    """``GET /_sandbox/customers``: the demo customers the page offers as senders."""
    return Response.json({"customers": list(DEMO_CUSTOMERS)})


@guarded
def messages(sandbox, request: Request) -> Response:
    return Response.json({"messages": sandbox.recent("sent", _limit(request))})


@guarded
def stats(sandbox, request: Request) -> Response:
    """``GET /_sandbox/stats``: how many sends were accepted and webhooks posted (cheap: a
    benchmark polls it while the outbox drains)."""
    return Response.json({"sent": len(sandbox.sent), "deliveries": len(sandbox.deliveries)})


@guarded
def deliveries(sandbox, request: Request) -> Response:
    return Response.json({"deliveries": sandbox.recent("deliveries", _limit(request))})


@guarded
def chat_calls(sandbox, request: Request) -> Response:
    """``GET /_sandbox/chat``: the requests the language model got, and what it answered."""
    return Response.json({"calls": sandbox.recent("chat_calls", _limit(request))})


@guarded
def get_config(sandbox, request: Request) -> Response:
    """``GET /_sandbox/config``: the knobs, never the secrets (access token, app secret, control
    token)."""
    return Response.json(sandbox.knobs())


@guarded
def set_config(sandbox, request: Request) -> Response:
    try:
        return Response.json(sandbox.configure(**_json_body(request)))
    except ValueError as exc:
        raise ControlError(str(exc))


@guarded
def reset(sandbox, request: Request) -> Response:
    sandbox.reset()
    return Response.json({"ok": True})


_ROUTES = routes(
    "/_sandbox",
    [
        ("GET", r"/?", page),
        ("GET", r"/health", health),
        ("POST", r"/inbound", inbound),
        ("GET", r"/customers", customers),
        ("GET", r"/messages", messages),
        ("GET", r"/stats", stats),
        ("GET", r"/deliveries", deliveries),
        ("GET", r"/chat", chat_calls),
        ("GET", r"/config", get_config),
        ("POST", r"/config", set_config),
        ("POST", r"/reset", reset),
        ("GET", r"/media/(?P<media_id>[^/]+)", graph.download_media),
    ],
)
