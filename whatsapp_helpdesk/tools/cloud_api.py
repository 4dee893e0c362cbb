"""WhatsApp Business Cloud API (Meta Graph API) client built on ``urllib3``. No Odoo import.

Design:

* every HTTP request goes through one method, :meth:`CloudApiClient._request`, which adds the bearer
  token, always passes a timeout, and turns every failure into a :class:`CloudApiError`; the
  outbox's sends go through its asynchronous twin :meth:`CloudApiClient._request_async` (the
  same preparation and error typing over :mod:`.http_async`, hundreds of sends in flight from one
  thread);
* it talks to a ``urllib3.PoolManager`` directly (the "session"): ``requests`` would cost about
  twice the CPU per send, and a sender at 1,000 messages/s spends most of a core on it;
* errors are typed by what a caller may do about them: :class:`RetryableError` (the request did not
  take effect, try again later), :class:`PermanentError` (it will fail again the same way) and
  :class:`OutcomeUnknownError` (a non-idempotent request was sent but its answer was lost, or is an
  error that does not prove it was refused, so it may or may not have taken effect; Meta has no
  idempotency key, so it is never retried automatically);
* the client itself never retries (``retries=False``) nor follows a redirect: callers decide,
  e.g. from a queue job;
* the mapping from Graph error codes and HTTP statuses to error classes is a set of module tables
  read in one place, :func:`classify`.
"""

import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import certifi
import urllib3
from urllib3 import exceptions as urllib3_exceptions

from . import http_async, messages

_logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"
DEFAULT_TIMEOUT = (3.05, 20)  # (connect, read) seconds
MAX_MEDIA_BYTES = 100 * 1024 * 1024

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})

DEFAULT_POOL_SIZE = 10  # connections kept per host by a client's own pool (as requests did)

_DOWNLOAD_CHUNK_BYTES = 64 * 1024
_ERROR_BODY_LIMIT = 64 * 1024  # bytes of an error answer read when the response is streamed
_PHONE_SEPARATORS = str.maketrans("", "", "+-.() \t")


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class CloudApiError(Exception):
    """A failed Cloud API call.

    Attributes: ``code`` and ``subcode`` (Graph error code and ``error_subcode``, ``None`` when
    the failure has no Graph error), ``message``, ``http_status`` (``None`` without an answer),
    ``details`` (``error_data.details``), ``fbtrace_id`` (quote it to Meta support),
    ``failure_type`` (a short stable label such as ``"window_closed"`` or ``"throttled"``),
    ``error_type`` (Graph ``type``, e.g. ``"OAuthException"``) and ``raw`` (the Graph error dict).
    """

    retryable = False

    def __init__(
        self,
        message,
        *,
        code=None,
        subcode=None,
        http_status=None,
        details=None,
        fbtrace_id=None,
        failure_type="unknown_error",
        error_type=None,
        raw=None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.failure_type = failure_type
        self.error_type = error_type
        self.raw = raw if raw is not None else {}

    def __str__(self):
        text = f"{self.failure_type}: {self.message}"
        if self.details and self.details != self.message:
            text += f" ({self.details})"
        context = [
            f"code {self.code}" if self.code is not None else None,
            f"subcode {self.subcode}" if self.subcode is not None else None,
            f"HTTP {self.http_status}" if self.http_status is not None else None,
            f"fbtrace_id {self.fbtrace_id}" if self.fbtrace_id else None,
        ]
        context = [item for item in context if item]
        return f"{text} [{', '.join(context)}]" if context else text


class RetryableError(CloudApiError):
    """Safe to try again later: the request did not take effect."""

    retryable = True


class PermanentError(CloudApiError):
    """Will fail again the same way: fix the data, the configuration or the account first."""


class OutcomeUnknownError(CloudApiError):
    """A non-idempotent request was sent but its answer was lost, or is an error that does not say
    it was refused (a 5xx without a Graph error, code 131000): it may have taken effect, or not.

    Never retried automatically, since Meta offers no idempotency key and a retry could deliver the
    same message twice.
    """


# --------------------------------------------------------------------------------------------------
# Classification tables, read only by classify()
# --------------------------------------------------------------------------------------------------

_RETRY, _PERM, _UNKNOWN = RetryableError, PermanentError, OutcomeUnknownError

# (Graph code, error_subcode) pairs that mean something more specific than their code alone.
_SUBCODE_RULES = {
    # "Object with ID ... does not exist, cannot be loaded due to missing permissions": wrong phone
    # number / WABA id or a token without access to it, a configuration problem.
    (100, 33): (_PERM, "permission"),
}

# Graph error codes whose meaning does not depend on the HTTP status.
_CODE_RULES = {
    # Throughput and rate limits.
    130429: (_RETRY, "throttled"),
    131056: (_RETRY, "pair_rate_limit"),
    4: (_RETRY, "throttled"),
    80007: (_RETRY, "throttled"),
    80008: (_RETRY, "throttled"),
    613: (_RETRY, "throttled"),
    # Meta side.
    133004: (_RETRY, "server"),
    # Conversation and recipient.
    131047: (_PERM, "window_closed"),
    131026: (_PERM, "undeliverable"),
    131021: (_PERM, "invalid_recipient"),
    131045: (_PERM, "number_not_registered"),
    133010: (_PERM, "number_not_registered"),
    131050: (_PERM, "opted_out"),
    # Templates.
    132000: (_PERM, "template_params"),
    132001: (_PERM, "template_missing"),
    132005: (_PERM, "template_text_too_long"),
    132007: (_PERM, "template_policy"),
    132012: (_PERM, "template_params_format"),
    132015: (_PERM, "template_paused"),
    132016: (_PERM, "template_disabled"),
    # Authentication, permissions, account.
    190: (_PERM, "auth"),
    10: (_PERM, "permission"),
    200: (_PERM, "permission"),
    131005: (_PERM, "permission"),
    368: (_PERM, "policy"),
    131031: (_PERM, "account_locked"),
    131042: (_PERM, "payment"),
    131048: (_PERM, "spam_limit"),
    131049: (_PERM, "ecosystem_limit"),
    # Request content.
    131051: (_PERM, "unsupported_type"),
    131052: (_PERM, "media"),
    131053: (_PERM, "media"),
    100: (_PERM, "invalid_request"),
    131008: (_PERM, "invalid_request"),
    131009: (_PERM, "invalid_request"),
}

# Meta's "this customer stopped marketing messages from your business" (131050): not a failure of
# the sender but the customer's choice, kept as a marketing opt-out so that later campaigns skip
# the number (see is_marketing_stop).
_MARKETING_STOP_CODES = frozenset({131050})

# Generic "something went wrong" codes: retryable when Meta answered 5xx or the status is unknown
# (e.g. a failed status in a webhook); with a 4xx they fall through to the HTTP status rules. (To a
# send, 131000 leaves the outcome unknown: see below.)
_SERVER_ERROR_CODES = frozenset({131000, 1, 2})

_STATUS_RULES = {429: (_RETRY, "throttled")}
_STATUS_CLASS_RULES = {5: (_RETRY, "server"), 4: (_PERM, "unknown_error")}  # by status // 100
_FALLBACK_RULE = (_PERM, "unknown_error")

# Errors that do not prove a non-idempotent request (a send) was refused, so that it may have taken
# effect: Meta's "Something went wrong", and any 5xx without a Graph error in the body (a gateway or
# Meta's front end may have passed the request on before failing). "timeout": as a lost answer.
_OUTCOME_UNKNOWN_CODES = frozenset({131000})
_OUTCOME_UNKNOWN_STATUS_CLASSES = frozenset({5})  # by status // 100, when there is no Graph code
_OUTCOME_UNKNOWN_RULE = (_UNKNOWN, "timeout")

# Transport failures that prove the request never left this machine (anywhere in the chain of
# the exception: a ProxyError or SSLError wraps what happened).
_CONNECT_PHASE_ERRORS = (
    urllib3_exceptions.ConnectTimeoutError,  # includes NewConnectionError (refused, DNS failure)
    urllib3_exceptions.ClosedPoolError,
    urllib3_exceptions.EmptyPoolError,  # no free connection in a full pool within the timeout
    ConnectionRefusedError,
    socket.gaierror,
    ssl.SSLCertVerificationError,
)

# urllib3 errors raised while preparing the request, before anything is sent: an unusable URL
# (LocationParseError, URLSchemeUnknown...). (So is a ValueError that is not urllib3's: see
# _transport_error.)
_PREPARATION_ERRORS = (urllib3_exceptions.LocationValueError,)


def classify(
    http_status: int | None,
    code: int | None,
    subcode: int | None = None,
    *,
    idempotent: bool = True,
) -> tuple[type[CloudApiError], str]:
    """Error class and ``failure_type`` for a Graph error; a pure function of its arguments.

    The Graph error code decides first (refined by a few ``(code, subcode)`` pairs), then the HTTP
    status: 429 is throttling, any other 5xx a server error, any other 4xx a permanent
    ``"unknown_error"``. ``http_status`` is ``None`` for failures reported by webhooks.
    With ``idempotent=False`` (the answer to a send), an error that does not prove the request was
    refused, code 131000 or a 5xx without a Graph code, is :class:`OutcomeUnknownError` instead.
    """
    if not idempotent and (
        code in _OUTCOME_UNKNOWN_CODES
        or (code is None and (http_status or 0) // 100 in _OUTCOME_UNKNOWN_STATUS_CLASSES)
    ):
        return _OUTCOME_UNKNOWN_RULE
    rule = _SUBCODE_RULES.get((code, subcode)) or _CODE_RULES.get(code)
    if rule:
        return rule
    if code in _SERVER_ERROR_CODES and (http_status is None or http_status >= 500):
        return _RETRY, "server"
    if http_status in _STATUS_RULES:
        return _STATUS_RULES[http_status]
    if http_status is None:
        return _FALLBACK_RULE
    return _STATUS_CLASS_RULES.get(http_status // 100, _FALLBACK_RULE)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """Meta's acknowledgement of a sent message.

    ``wamid`` identifies the message in later status webhooks; ``wa_id`` is the recipient's WhatsApp
    id and ``input`` the number as sent; ``message_status`` is e.g. ``"accepted"`` or ``"paused"``
    when Meta gives one.
    """

    wamid: str
    wa_id: str | None
    input: str | None
    raw: dict = field(repr=False)
    message_status: str | None = None


def is_marketing_stop(code: int | None) -> bool:
    """Whether Graph error ``code`` tells that the customer stopped marketing messages from the
    business (an opt-out to record, not a failure to retry or fix)."""
    return code in _MARKETING_STOP_CODES


def normalize_phone(number) -> str:
    """``number`` as digits only ("+33 6-12.34" -> "3361234"); ``invalid_recipient`` otherwise."""
    digits = str(number if number is not None else "").translate(_PHONE_SEPARATORS)
    if not digits.isdigit() or not digits.isascii():
        raise PermanentError(
            f"Invalid WhatsApp recipient number {number!r}", failure_type="invalid_recipient"
        )
    return digits


def _as_int(value):
    """Graph codes are integers, sometimes sent as strings; anything else becomes ``None``."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _exception_chain(exc):
    """``exc`` and the exceptions it wraps (``args``, urllib3's ``reason``, ``__cause__``)."""
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(current.args)
        stack.extend((getattr(current, "reason", None), current.__cause__))


def _never_sent(exc):
    """True when the transport failure happened before the request could leave (connect phase)."""
    return any(isinstance(item, _CONNECT_PHASE_ERRORS) for item in _exception_chain(exc))


def _transport_error(exc, *, idempotent):
    """The :class:`CloudApiError` for a ``urllib3`` failure (no HTTP answer), or for a plain
    ``ValueError`` raised while preparing the request."""
    if not isinstance(exc, urllib3_exceptions.HTTPError):
        # http.client refusing a header value (a line break, a character beyond Latin-1) before
        # any byte leaves; its message would quote the value, i.e. the token
        return PermanentError(
            f"Invalid request: a header value was refused ({type(exc).__name__})",
            failure_type="invalid_request",
        )
    if isinstance(exc, _PREPARATION_ERRORS):
        return PermanentError(f"Invalid request: {exc}", failure_type="invalid_request")
    return _no_answer_error(exc, never_sent=_never_sent(exc), idempotent=idempotent)


def _no_answer_error(exc, *, never_sent, idempotent):
    """No HTTP answer: retryable when the request never left or may be repeated, else of
    unknown outcome (a send that may have taken effect is never repeated blindly)."""
    if never_sent:
        return RetryableError(f"Could not reach the Graph API: {exc}", failure_type="network")
    if idempotent:
        return RetryableError(f"No answer from the Graph API: {exc}", failure_type="timeout")
    return OutcomeUnknownError(
        f"No answer from the Graph API after sending; the request may have taken effect: {exc}",
        failure_type="timeout",
    )


def _async_transport_error(exc, *, idempotent):
    """The :class:`CloudApiError` for a failure of the asynchronous transport (no HTTP answer),
    or for a ``ValueError`` raised while preparing the request (nothing left)."""
    if not isinstance(exc, http_async.TransportError):
        return PermanentError(
            f"Invalid request: {type(exc).__name__} while preparing it",
            failure_type="invalid_request",
        )
    never_sent = isinstance(exc, http_async.ConnectError)
    return _no_answer_error(exc, never_sent=never_sent, idempotent=idempotent)


def _json_object(status, body, *, idempotent):
    """The JSON object of a success answer; ``bad_response`` when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _bad_response(
            "The Graph API answered with a body that is not a JSON object",
            status=status,
            idempotent=idempotent,
        )
    return data


def _error_from_answer(status, body, *, idempotent):
    """The :class:`CloudApiError` for an HTTP error answer (``body`` as raw bytes)."""
    error = _graph_error(body)
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    cls, failure_type = classify(status, code, subcode, idempotent=idempotent)
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    return cls(
        error.get("message") or f"HTTP {status} from the Graph API",
        code=code,
        subcode=subcode,
        http_status=status,
        details=details,
        fbtrace_id=error.get("fbtrace_id"),
        failure_type=failure_type,
        error_type=error.get("type"),
        raw=error,
    )


def _graph_error(body):
    """The ``error`` object of a Graph error answer, ``{}`` when the body is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _bad_response(message, *, status, idempotent):
    """A success status with an unusable body: permanent, unless a send may have taken effect."""
    cls = PermanentError if idempotent else OutcomeUnknownError
    return cls(message, http_status=status, failure_type="bad_response")


def _media_too_large(size, limit):
    return PermanentError(
        f"Media of {size} bytes exceeds the {limit} bytes limit", failure_type="media_too_large"
    )


def _content_length(response):
    """The declared ``Content-Length`` of ``response``, ``None`` when absent or garbled."""
    return _as_int(response.headers.get("Content-Length"))


def _origin(url):
    """``(scheme, host, port)`` of ``url``; empty for something that is not a usable URL."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except (TypeError, ValueError, AttributeError):
        return "", "", None


def _read_limited(response, limit, *, on_overflow):
    """Up to ``limit`` bytes of a streamed body; ``on_overflow(total)`` builds the error raised
    beyond it, or ``None`` to truncate silently. Transport failures while reading are mapped."""
    chunks, total = [], 0
    try:
        for chunk in response.stream(_DOWNLOAD_CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                if on_overflow is None:
                    chunks.append(chunk[: limit - (total - len(chunk))])
                    break
                raise on_overflow(total)
            chunks.append(chunk)
    except urllib3_exceptions.HTTPError as exc:
        raise _transport_error(exc, idempotent=True) from exc
    return b"".join(chunks)


def _release(response):
    """Give the connection of a streamed ``response`` back to its pool, whatever was read.

    Read to its end, urllib3 has already put it back, open for the next request; otherwise it is
    closed (unread bytes would spoil the next answer on it) and its place handed back, so that a
    pool that blocks when full (``block=True``) never runs out of connections.
    """
    response.close()
    response.release_conn()


def _with_query(url, params):
    """``url`` with ``params`` added to its query string; ``None`` values are left out."""
    query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _encoded_body(json_body, data, files):
    """``(body, content type)`` of a request: ``json_body`` as compact JSON, or ``data`` and
    ``files`` (name: ``(filename, bytes, mime type)``) as multipart form data, or ``data`` alone
    as a URL-encoded form; ``(None, None)`` without any."""
    if json_body is not None:
        try:
            text = json.dumps(json_body, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PermanentError(f"Invalid request: {exc}", failure_type="invalid_request") from exc
        return text.encode(), "application/json"
    if files:
        return urllib3.encode_multipart_formdata({**(data or {}), **files})
    if data:
        return urlencode(data, doseq=True), "application/x-www-form-urlencoded"
    return None, None


def http_pool(maxsize=DEFAULT_POOL_SIZE, *, block=False):
    """A ``urllib3.PoolManager`` for :class:`CloudApiClient` (``session=``): up to ``maxsize``
    connections kept alive per host; with ``block``, a request finding them all busy waits for
    one (at most the connect timeout) instead of opening a connection it would then discard.

    It never retries (the client decides), and verifies certificates against ``certifi``'s
    bundle, as ``requests`` did. Environment proxies (``HTTPS_PROXY``) are not read: pass a
    ``urllib3.ProxyManager`` built alike to go through one.
    """
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=max(1, int(maxsize)),
        block=block,
        retries=False,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
    )


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------


class CloudApiClient:
    """WhatsApp Cloud API client for one business phone number and/or one WhatsApp Business Account.

    ``phone_number_id`` is needed to send messages and upload media, ``waba_id`` to manage message
    templates. ``base_url`` and ``api_version`` may point at a sandbox or a newer Graph version.
    ``timeout`` is a ``(connect, read)`` pair or a single number of seconds, used on every call.
    ``session`` is the ``urllib3.PoolManager`` (or compatible object) the requests go through,
    e.g. :func:`http_pool` or ``tools.sender.pooled_session``; when none is given the client
    creates one and :meth:`close` clears it. ``async_pool`` (an :class:`.http_async.AsyncPool`)
    carries :meth:`send_message_async`, the outbox's sends, through :meth:`_request_async`.
    """

    def __init__(
        self,
        *,
        token,
        phone_number_id=None,
        waba_id=None,
        base_url=DEFAULT_BASE_URL,
        api_version=DEFAULT_API_VERSION,
        timeout=DEFAULT_TIMEOUT,
        session=None,
        async_pool=None,
    ):
        if not token:
            raise ValueError("A Cloud API access token is required")
        if not base_url:
            raise ValueError("A Graph API base URL is required")
        self._authorization = f"Bearer {token}"
        self.phone_number_id = str(phone_number_id) if phone_number_id else None
        self.waba_id = str(waba_id) if waba_id else None
        self.base_url = base_url.rstrip("/")
        version = str(api_version or DEFAULT_API_VERSION).strip("/")
        self.api_version = version if version.startswith("v") else f"v{version}"
        self.timeout = timeout
        self._owns_session = session is None
        self.session = session if session is not None else http_pool()
        self.async_pool = async_pool

    def __repr__(self):
        return (
            f"<{type(self).__name__} {self.base_url}/{self.api_version} "
            f"phone_number_id={self.phone_number_id} waba_id={self.waba_id}>"
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close the connections of the pool if this client created it."""
        if self._owns_session:
            self.session.clear()

    @property
    def timeout(self):
        """The ``(connect, read)`` pair or single number of seconds given; never missing."""
        return self._timeout

    @timeout.setter
    def timeout(self, timeout):
        values = timeout if isinstance(timeout, tuple) else (timeout,)
        valid = len(values) in (1, 2) and all(
            isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            for value in values
        )
        if not valid:
            raise ValueError(f"Invalid timeout {timeout!r}: a number or a (connect, read) pair")
        self._timeout = timeout
        self._http_timeout = urllib3.Timeout(connect=values[0], read=values[-1])

    # ---------------------------------------------------------------------------------- choke point

    def _request(
        self,
        method,
        path,
        *,
        params=None,
        json=None,
        data=None,
        files=None,
        idempotent=None,
        expect_json=True,
        stream=False,
        absolute_url=False,
    ):
        """Perform one HTTP request; every call of this client goes through here.

        ``path`` is relative to ``{base_url}/{api_version}/`` unless ``absolute_url``;
        ``params`` goes to the query string, ``json`` (an object) or ``data`` and ``files`` (a
        multipart form) to the body. ``idempotent`` (default: true for GET, HEAD, DELETE,
        OPTIONS) decides whether a lost answer is retryable or of unknown outcome. Returns the
        JSON object of the answer, or with ``expect_json=False`` the ``urllib3.HTTPResponse``
        itself (its body still unread when ``stream``: the caller hands it to :func:`_release`).
        Raises :class:`CloudApiError` subclasses only.
        """
        method, url, log_target, body, headers, idempotent = self._prepare(
            method, path, params, json, data, files, idempotent, absolute_url
        )
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=self._http_timeout,
                # waiting for a free connection of a full pool is part of connecting
                pool_timeout=self._http_timeout.connect_timeout,
                retries=False,
                redirect=False,  # a redirect is an error answer: the token goes nowhere else
                preload_content=not stream,
            )
        except (urllib3_exceptions.HTTPError, ValueError) as exc:
            error = _transport_error(exc, idempotent=idempotent)
            _logger.info("Graph API %s failed: %s", log_target, error)
            raise error from exc
        _logger.debug(
            "Graph API %s -> HTTP %s in %.3fs",
            log_target,
            response.status,
            time.monotonic() - started,
        )
        if response.status >= 300:
            error = _error_from_answer(
                response.status, self._error_body(response, stream), idempotent=idempotent
            )
            _logger.info("Graph API %s failed: %s", log_target, error)
            raise error
        if not expect_json:
            return response
        return _json_object(response.status, response.data, idempotent=idempotent)

    @staticmethod
    def _error_body(response, stream):
        """The body of an error answer; a streamed one is read up to a limit, then released."""
        if not stream:
            return response.data
        try:
            return _read_limited(response, _ERROR_BODY_LIMIT, on_overflow=None)
        except CloudApiError:
            return b""
        finally:
            _release(response)

    def _prepare(self, method, path, params, json, data, files, idempotent, absolute_url):
        """``(method, url, log target, body, headers, idempotent)`` of a request of either
        choke point (see :meth:`_request`)."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = path if absolute_url else f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"
        log_target = f"{method} {urlsplit(url).path}"  # no query string: it may carry signatures
        if params:
            url = _with_query(url, params)
        body, content_type = _encoded_body(json, data, files)
        headers = {"Authorization": self._authorization}
        if content_type:
            headers["Content-Type"] = content_type
        return method, url, log_target, body, headers, idempotent

    async def _request_async(self, method, path, *, json=None, idempotent=None, before_write=None):
        """The asynchronous choke point: one JSON request over ``self.async_pool`` (an
        :class:`.http_async.AsyncPool`), from the thread of its event loop. Same URL, token,
        timeout and error typing as :meth:`_request`; returns the JSON object of the answer.
        ``before_write``: see :meth:`.http_async.AsyncPool.request`."""
        if self.async_pool is None:
            raise ValueError("This client has no asynchronous pool (async_pool=)")
        method, url, log_target, body, headers, idempotent = self._prepare(
            method, path, None, json, None, None, idempotent, False
        )
        try:
            answer = await self.async_pool.request(
                method,
                url,
                body,
                headers,
                connect_timeout=self._http_timeout.connect_timeout,
                read_timeout=self._http_timeout.read_timeout,
                before_write=before_write,
            )
        except (http_async.TransportError, ValueError) as exc:
            error = _async_transport_error(exc, idempotent=idempotent)
            _logger.info("Graph API %s failed: %s", log_target, error)
            raise error from exc
        if answer.status >= 300:
            error = _error_from_answer(answer.status, answer.body, idempotent=idempotent)
            _logger.info("Graph API %s failed: %s", log_target, error)
            raise error
        return _json_object(answer.status, answer.body, idempotent=idempotent)

    # ---------------------------------------------------------------------------------------- paths

    def _path(self, *segments):
        """A path relative to the API version, each segment percent-encoded (ids cannot escape)."""
        return "/".join(quote(str(segment), safe="") for segment in segments)

    def _phone_path(self, *segments):
        if not self.phone_number_id:
            raise PermanentError("No WhatsApp phone number id set", failure_type="config")
        return self._path(self.phone_number_id, *segments)

    def _waba_path(self, *segments):
        if not self.waba_id:
            raise PermanentError("No WhatsApp Business Account id set", failure_type="config")
        return self._path(self.waba_id, *segments)

    # ------------------------------------------------------------------------------------- messages

    def send_message(self, payload: dict) -> SendResult:
        """Send a message ``payload`` (see :mod:`.messages`: an address, ``type`` and the type's
        object).

        Adds the :func:`~.messages.envelope` and normalises ``to``. A customer known only by a
        username is addressed by ``recipient`` (the business-scoped user id) instead.
        """
        body = self._message_body(payload)
        data = self._request("POST", self._phone_path("messages"), json=body)
        return self._send_result(data)

    async def send_message_async(self, payload: dict, before_write=None) -> SendResult:
        """:meth:`send_message` through :meth:`_request_async` (the outbox's many sends);
        ``before_write`` is awaited right before the request leaves (the sender's pacing)."""
        body = self._message_body(payload)
        data = await self._request_async(
            "POST", self._phone_path("messages"), json=body, before_write=before_write
        )
        return self._send_result(data)

    @staticmethod
    def _message_body(payload):
        """The JSON body of a send of ``payload``; ``ValueError`` or ``PermanentError`` when it
        cannot be one."""
        if not isinstance(payload, dict) or not ("to" in payload or "recipient" in payload):
            raise ValueError("A message payload is a dict with a 'to' or 'recipient' key")
        body = messages.envelope(payload)
        if "to" in payload:
            body["to"] = normalize_phone(payload["to"])
        elif not isinstance(payload["recipient"], str) or not payload["recipient"].strip():
            raise PermanentError(
                f"Invalid WhatsApp recipient {payload['recipient']!r}",
                failure_type="invalid_recipient",
            )
        return body

    @staticmethod
    def _send_result(data):
        """:class:`SendResult` of a send answer; without a message id the outcome is unknown."""
        sent = data.get("messages")
        message = sent[0] if isinstance(sent, list) and sent else None
        if not isinstance(message, dict) or not message.get("id"):
            raise _bad_response(
                "The Graph API accepted the message but returned no message id",
                status=None,
                idempotent=False,
            )
        contacts = data.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts else {}
        contact = contact if isinstance(contact, dict) else {}
        return SendResult(
            wamid=message["id"],
            wa_id=contact.get("wa_id"),
            input=contact.get("input"),
            raw=data,
            message_status=message.get("message_status"),
        )

    def _send(self, to, content, reply_to=None) -> SendResult:
        """Send ``content`` (a :mod:`.messages` content) to the number ``to``."""
        return self.send_message(messages.message(messages.address(to), content, reply_to=reply_to))

    def send_text(self, to, body: str, *, preview_url=False, reply_to=None) -> SendResult:
        """Send a text message; ``preview_url`` renders a preview of the first URL in ``body``."""
        return self._send(to, messages.text(body, preview_url=preview_url), reply_to)

    def send_media(
        self,
        to,
        media_type,
        *,
        media_id=None,
        link=None,
        caption=None,
        filename=None,
        reply_to=None,
    ) -> SendResult:
        """Send an uploaded (``media_id``) or hosted (``link``) image, document, audio, video or
        sticker. ``caption`` is refused on audio and stickers, ``filename`` on anything but
        documents."""
        content = messages.media(
            media_type, media_id=media_id, link=link, caption=caption, filename=filename
        )
        return self._send(to, content, reply_to)

    def send_template(self, to, name: str, language: str, components=None) -> SendResult:
        """Send the approved template ``name`` in ``language`` (e.g. ``"en_US"``)."""
        return self._send(to, messages.template(name, language, components))

    def send_location(self, to, latitude, longitude, *, name=None, address=None) -> SendResult:
        """Send a location pin."""
        content = messages.location(latitude, longitude, name=name, address=address)
        return self._send(to, content)

    def send_interactive(self, to, interactive: dict, *, reply_to=None) -> SendResult:
        """Send an interactive message (buttons, list, ...); ``interactive`` is Meta's object."""
        return self._send(to, messages.interactive(interactive), reply_to)

    def send_reaction(self, to, message_id: str, emoji: str) -> SendResult:
        """React to the message ``message_id`` with ``emoji`` (``""`` removes the reaction)."""
        return self._send(to, messages.reaction(message_id, emoji))

    def mark_as_read(self, wamid: str, *, typing_indicator=False) -> bool:
        """Mark the received message ``wamid`` (and earlier ones) as read, optionally showing a
        typing indicator. Marking twice is harmless, so a lost answer is retryable."""
        body = messages.read_receipt(wamid, typing_indicator=typing_indicator)
        data = self._request("POST", self._phone_path("messages"), json=body, idempotent=True)
        return bool(data.get("success"))

    # ---------------------------------------------------------------------------------------- media

    def upload_media(self, content: bytes, mime_type: str, filename: str) -> str:
        """Upload ``content`` for later sending; returns the media id."""
        if len(content) > MAX_MEDIA_BYTES:
            raise _media_too_large(len(content), MAX_MEDIA_BYTES)
        data = self._request(
            "POST",
            self._phone_path("media"),
            data={"messaging_product": messages.MESSAGING_PRODUCT, "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        if not data.get("id"):
            raise _bad_response("The Graph API returned no media id", status=None, idempotent=False)
        return data["id"]

    def get_media(self, media_id: str) -> dict:
        """Metadata of a media: ``url`` (short-lived), ``mime_type``, ``sha256``, ``file_size``,
        ``id``."""
        return self._request("GET", self._path(media_id))

    def download_media(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """The bytes at ``url`` (from :meth:`get_media`), fetched with the access token.

        Refuses more than ``max_bytes`` (default :data:`MAX_MEDIA_BYTES`) with a ``PermanentError``
        ``media_too_large``, and refuses to send the token in clear text to another host than the
        configured API.
        """
        limit = MAX_MEDIA_BYTES if max_bytes is None else max_bytes
        self._check_download_url(url)
        response = self._request("GET", url, absolute_url=True, stream=True, expect_json=False)
        try:
            declared = _content_length(response)
            if declared is not None and declared > limit:
                raise _media_too_large(declared, limit)
            return _read_limited(
                response, limit, on_overflow=lambda total: _media_too_large(total, limit)
            )
        finally:
            _release(response)

    def _check_download_url(self, url):
        """Only HTTPS URLs, or URLs on the configured API origin, may receive the token."""
        origin = _origin(url)
        if origin[0] == "https" or (origin[0] and origin == _origin(self.base_url)):
            return
        raise PermanentError(
            f"Refusing to download media from {url!r}: not an HTTPS URL",
            failure_type="invalid_request",
        )

    # ------------------------------------------------------------------------------------ templates

    def list_templates(self, *, limit=100, fields=None, max_pages=None) -> list[dict]:
        """The message templates of the WhatsApp Business Account, ``limit`` per page, following
        the pages (all of them, or at most ``max_pages``)."""
        path = self._waba_path("message_templates")
        params = {"limit": limit}
        if fields:
            params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        templates, seen = [], set()
        page, pages = self._request("GET", path, params=params), 1
        while True:
            templates.extend(page.get("data") or [])
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            next_url = paging.get("next")
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not next_url or (after or next_url) in seen or pages == max_pages:
                return templates  # last page, a loop, or enough pages
            seen.add(after or next_url)
            page, pages = self._next_page(path, params, next_url, after), pages + 1

    def _next_page(self, path, params, next_url, after):
        """Follow ``paging.next`` when it is on the API origin, else the ``after`` cursor."""
        if isinstance(next_url, str) and _origin(next_url) == _origin(self.base_url):
            return self._request("GET", next_url, absolute_url=True)
        if after:
            return self._request("GET", path, params={**params, "after": after})
        raise PermanentError(
            "The Graph API returned a next page on another host and no cursor",
            failure_type="bad_response",
        )

    def create_template(self, template: dict) -> dict:
        """Submit a message template for review; returns ``{id, status, category}``."""
        return self._request("POST", self._waba_path("message_templates"), json=template)

    def edit_template(self, template_id, changes: dict) -> bool:
        """Change a template (``components`` and/or ``category``); Meta reviews it again."""
        data = self._request("POST", self._path(str(template_id)), json=changes)
        return bool(data.get("success"))

    def get_template(self, template_id) -> dict:
        """One template: id, name, language, status, category, components."""
        return self._request("GET", self._path(str(template_id)))

    def delete_template(self, name: str, *, hsm_id=None) -> bool:
        """Delete the template ``name`` in every language, or only the one with id ``hsm_id``."""
        params = {"name": name}
        if hsm_id:
            params["hsm_id"] = hsm_id
        data = self._request("DELETE", self._waba_path("message_templates"), params=params)
        return bool(data.get("success"))
