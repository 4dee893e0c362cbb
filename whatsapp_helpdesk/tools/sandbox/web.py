"""One HTTP exchange as the sandbox's routes see it (:class:`Request`, :class:`Response`) and the
route tables they are listed in. No socket here: ``server.py`` turns HTTP into these.
"""

import dataclasses
import json
import re
import typing

from .. import payloads
from .errors import GraphError

_VERSION = r"v\d+(?:\.\d+)?"


@dataclasses.dataclass
class Request:
    """One HTTP request, as the routes see it."""

    method: str
    path: str
    query: dict = dataclasses.field(default_factory=dict)
    headers: typing.Any = dataclasses.field(default_factory=dict)
    body: bytes = b""
    # when Meta takes the request in (time.time(): its arrival plus the latency knob), so that
    # the times recorded do not depend on how late the server's loop runs; None: now
    at: float | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name) or default

    def json(self):
        """The body as JSON; an empty body is ``{}``. Raises ``ValueError`` if garbled."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


@dataclasses.dataclass
class Response:
    """One HTTP answer; ``delay`` holds it back (seconds) to make the client time out."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def json(cls, data, status: int = 200, delay: float = 0.0) -> "Response":
        return cls(status, payloads.encode(data), "application/json", delay)

    @classmethod
    def error(cls, exc: GraphError) -> "Response":
        return cls.json(exc.body(), exc.http_status)


def routes(prefix: str, table) -> list:
    """Compile ``(method, pattern, handler)`` rows; ``{v}`` matches any Graph version."""
    return [
        (method, re.compile(prefix + pattern.replace("{v}", _VERSION)), handler)
        for method, pattern, handler in table
    ]


def route(table, request: Request):
    """(handler, path parameters) of the first route matching ``request``, or (None, {})."""
    for method, pattern, handler in table:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            return handler, match.groupdict()
    return None, {}
