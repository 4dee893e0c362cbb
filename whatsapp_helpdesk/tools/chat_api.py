"""A client of OpenAI-compatible chat-completions endpoints (a local Ollama or vLLM, or a hosted
provider), built on ``urllib3`` like ``cloud_api.py``. No Odoo import.

As ``cloud_api.py`` for Meta: every HTTP request goes through one method,
:meth:`ChatClient._request`, which adds the key, always passes a timeout, reads at most
:data:`MAX_ANSWER_BYTES` of the answer and turns every failure into a :class:`ChatError` whose
``kind`` says what happened (``timeout``, ``network``, ``http``, ``bad_response``, ``config``).
It talks to a ``urllib3.PoolManager`` (the "session", by default one pool shared by the clients
of the process, built by :func:`cloud_api.http_pool`: certificates checked against ``certifi``,
no environment proxy). The client never retries nor follows a redirect: the assistant falls back
to its local understanding instead.
"""

import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3
from urllib3 import exceptions as urllib3_exceptions

from .cloud_api import http_pool

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 8.0  # seconds, to connect and between two bytes of the answer
MAX_TIMEOUT = 60.0  # seconds: the inbound batch waits; past this the local answer is better
MAX_ANSWER_BYTES = 256 * 1024
MAX_TOKENS = 400
_TOKEN_LIMIT = 10**9  # a token count beyond this is garbage, not usage
_CHUNK_BYTES = 16 * 1024
_SHARED_POOL = []  # the PoolManager of the clients built without a session (made on first use)


def shared_pool():
    """The connection pool the clients share when given no ``session``."""
    if not _SHARED_POOL:
        _SHARED_POOL.append(http_pool())
    return _SHARED_POOL[0]


class ChatError(Exception):
    """A failed chat-completions call; ``kind``: timeout, network, http, bad_response or
    config; ``http_status`` when the endpoint answered."""

    def __init__(self, message, *, kind, http_status=None):
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status

    def __str__(self):
        status = f" (HTTP {self.http_status})" if self.http_status else ""
        return f"{self.kind}{status}: {self.args[0]}"


@dataclass(frozen=True)
class ChatResult:
    """The model's answer (``content``), the model that gave it, the tokens it counted and how
    long the call took."""

    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: int
    raw: dict = field(repr=False, default_factory=dict)


def _count(usage, key) -> int:
    value = usage.get(key) if isinstance(usage, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _TOKEN_LIMIT:
        return 0
    return value


def valid_timeout(value) -> bool:
    """Whether ``value`` is a usable timeout: seconds, 0 < s <= :data:`MAX_TIMEOUT`."""
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= MAX_TIMEOUT
    )


def valid_base_url(url) -> bool:
    """Whether ``url`` can be an endpoint's base URL: http(s) with a host."""
    scheme, host = _scheme_and_host(url)
    return scheme in ("http", "https") and bool(host)


def _timeout(value):
    """Seconds to connect and between two bytes of the answer: :func:`valid_timeout` seconds,
    else the default."""
    return float(value) if valid_timeout(value) else DEFAULT_TIMEOUT


class ChatClient:
    """Chat completions of ``model`` at ``base_url`` (``https://host/v1``: requests go to
    ``{base_url}/chat/completions``), authenticated by ``api_key`` when there is one."""

    def __init__(self, base_url, model, api_key=None, *, timeout=None, session=None):
        if not valid_base_url(base_url):
            raise ChatError(f"not an http(s) URL: {base_url!r}", kind="config")
        if not isinstance(model, str) or not model.strip():
            raise ChatError("no model name", kind="config")
        self.base_url = str(base_url).strip().rstrip("/")
        self.model = model.strip()
        self.api_key = api_key or None
        self.timeout = _timeout(timeout)
        self.session = session or shared_pool()

    def complete(self, messages, *, max_tokens=MAX_TOKENS, temperature=0.0) -> ChatResult:
        """One completion of ``messages`` (``[{"role", "content"}]``): the first choice's text."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stream": False,
        }
        started = time.monotonic()
        data = self._request("/chat/completions", payload)
        duration_ms = int((time.monotonic() - started) * 1000)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ChatError("the answer has no choices[0].message.content", kind="bad_response")
        if not isinstance(content, str):
            raise ChatError("the answer's content is not text", kind="bad_response")
        usage = data.get("usage")
        model = data.get("model")
        return ChatResult(
            content=content,
            model=model if isinstance(model, str) and model else self.model,
            prompt_tokens=_count(usage, "prompt_tokens"),
            completion_tokens=_count(usage, "completion_tokens"),
            duration_ms=duration_ms,
            raw=data,
        )

    def _request(self, path, payload) -> dict:
        """POST ``payload`` as JSON to ``{base_url}{path}``: the one place a request leaves."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            response = self.session.request(
                "POST",
                self.base_url + path,
                body=json.dumps(payload).encode(),
                headers=headers,
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except (urllib3_exceptions.HTTPError, ValueError) as exc:
            raise _transport_error(exc, "could not reach the endpoint") from exc
        try:
            body = self._read(response)
        finally:
            response.release_conn()
        if response.status != 200:
            raise ChatError(
                _error_message(body) or f"HTTP {response.status}",
                kind="http",
                http_status=response.status,
            )
        try:
            data = json.loads(body)
        except ValueError:
            raise ChatError("the answer is not JSON", kind="bad_response") from None
        if not isinstance(data, dict):
            raise ChatError("the answer is not a JSON object", kind="bad_response")
        return data

    @staticmethod
    def _read(response) -> bytes:
        chunks, total = [], 0
        try:
            for chunk in response.stream(_CHUNK_BYTES):
                total += len(chunk)
                if total > MAX_ANSWER_BYTES:
                    response.close()  # the rest stays unread: the connection is not reused
                    raise ChatError("the answer is too large", kind="bad_response")
                chunks.append(chunk)
        except (urllib3_exceptions.HTTPError, OSError) as exc:
            raise _transport_error(exc, "the answer broke off") from exc
        return b"".join(chunks)


def _transport_error(exc, what):
    """The :class:`ChatError` of a request that got no (whole) answer: ``timeout`` when a
    timeout ran out, else ``network`` (refused, unknown host, TLS, connection reset...)."""
    timed_out = isinstance(exc, urllib3_exceptions.TimeoutError | TimeoutError) and not isinstance(
        exc, urllib3_exceptions.NewConnectionError
    )
    if timed_out:
        return ChatError(f"no answer in time: {exc}", kind="timeout")
    return ChatError(f"{what}: {exc}", kind="network")


def _scheme_and_host(url) -> tuple[str, str]:
    """(scheme, host) of ``url``; empty strings for something that is not a URL."""
    try:
        parts = urlsplit(str(url or "").strip())
        return parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        return "", ""


def _error_message(body) -> str:
    """The ``error.message`` of an OpenAI-style error answer, cut short; "" if none."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:300] if message else ""
