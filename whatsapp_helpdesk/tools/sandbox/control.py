"""The control routes of the sandbox (``/_sandbox/...``): the page a developer drives it from, and
the JSON API behind that page and the command line (make a customer write, read what was sent and
posted, change the knobs, reset).

``/_sandbox/media/<id>`` is a Graph download guarded by the access token, as Meta's media URLs are.
"""

import pathlib

from . import graph
from .errors import ControlError
from .web import Request, Response, route, routes

PAGE = pathlib.Path(__file__).with_name("control.html")


def handle(sandbox, request: Request) -> Response:
    handler, params = route(_ROUTES, request)
    if handler is None:
        return Response.json({"error": f"no route {request.method} {request.path}"}, 404)
    return handler(sandbox, request, **params)


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
    """``GET /_sandbox/``: the control page."""
    return Response(200, PAGE.read_bytes(), "text/html; charset=utf-8")


def health(sandbox, request: Request) -> Response:
    return Response.json({"ok": True})


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


def messages(sandbox, request: Request) -> Response:
    return Response.json({"messages": sandbox.recent("sent", _limit(request))})


def deliveries(sandbox, request: Request) -> Response:
    return Response.json({"deliveries": sandbox.recent("deliveries", _limit(request))})


def get_config(sandbox, request: Request) -> Response:
    return Response.json(sandbox.knobs())


def set_config(sandbox, request: Request) -> Response:
    try:
        return Response.json(sandbox.configure(**_json_body(request)))
    except ValueError as exc:
        raise ControlError(str(exc))


def reset(sandbox, request: Request) -> Response:
    sandbox.reset()
    return Response.json({"ok": True})


_ROUTES = routes(
    "/_sandbox",
    [
        ("GET", r"/?", page),
        ("GET", r"/health", health),
        ("POST", r"/inbound", inbound),
        ("GET", r"/messages", messages),
        ("GET", r"/deliveries", deliveries),
        ("GET", r"/config", get_config),
        ("POST", r"/config", set_config),
        ("POST", r"/reset", reset),
        ("GET", r"/media/(?P<media_id>[^/]+)", graph.download_media),
    ],
)
