"""Tests of ``tools.cloud_api`` when a request fails: Graph error codes classified as retryable,
permanent or of unknown outcome, error answers of a stub Graph API server, transport failures."""

import http.client
import logging
import socket
import ssl
from unittest import mock

import pytest
import urllib3
from graph_stub import BINARY, PHONE_ID, SENT, TOKEN, RecordingSession
from urllib3 import exceptions as urllib3_exceptions
from wa_tools import cloud_api
from wa_tools.cloud_api import (
    CloudApiClient,
    CloudApiError,
    OutcomeUnknownError,
    PermanentError,
    RetryableError,
    classify,
)

pytest_plugins = ["graph_fixtures"]


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------

R, P = RetryableError, PermanentError
CODE_TABLE = [
    (130429, R, "throttled"),
    (131056, R, "pair_rate_limit"),
    (4, R, "throttled"),
    (80007, R, "throttled"),
    (80008, R, "throttled"),
    (613, R, "throttled"),
    (133004, R, "server"),
    (131047, P, "window_closed"),
    (131026, P, "undeliverable"),
    (132000, P, "template_params"),
    (132001, P, "template_missing"),
    (132005, P, "template_text_too_long"),
    (132007, P, "template_policy"),
    (132012, P, "template_params_format"),
    (132015, P, "template_paused"),
    (132016, P, "template_disabled"),
    (133010, P, "number_not_registered"),
    (190, P, "auth"),
    (10, P, "permission"),
    (200, P, "permission"),
    (131005, P, "permission"),
    (368, P, "policy"),
    (131031, P, "account_locked"),
    (131042, P, "payment"),
    (131048, P, "spam_limit"),
    (131049, P, "ecosystem_limit"),
    (131050, P, "opted_out"),
    (131051, P, "unsupported_type"),
    (131052, P, "media"),
    (131053, P, "media"),
    (100, P, "invalid_request"),
    (131008, P, "invalid_request"),
    (131009, P, "invalid_request"),
    (131021, P, "invalid_recipient"),
    (131045, P, "number_not_registered"),
]


@pytest.mark.parametrize(("code", "cls", "failure_type"), CODE_TABLE)
@pytest.mark.parametrize("http_status", [400, 500, None])
def test_classify_by_code_whatever_the_status(code, cls, failure_type, http_status):
    assert classify(http_status, code) == (cls, failure_type)


@pytest.mark.parametrize(
    ("http_status", "code", "subcode", "expected"),
    [
        (500, 131000, None, (R, "server")),
        (None, 131000, None, (R, "server")),
        (503, 1, None, (R, "server")),
        (None, 2, None, (R, "server")),
        (400, 131000, None, (P, "unknown_error")),
        (400, 1, None, (P, "unknown_error")),
        (502, None, None, (R, "server")),
        (500, 999999, None, (R, "server")),
        (429, None, None, (R, "throttled")),
        (429, 999999, None, (R, "throttled")),
        (404, None, None, (P, "unknown_error")),
        (400, 999999, None, (P, "unknown_error")),
        (None, None, None, (P, "unknown_error")),
        (None, 999999, None, (P, "unknown_error")),
        (200, None, None, (P, "unknown_error")),
        (400, 100, 33, (P, "permission")),
        (400, 100, 2494010, (P, "invalid_request")),
        (401, 190, 463, (P, "auth")),
    ],
)
def test_classify_fallbacks(http_status, code, subcode, expected):
    assert classify(http_status, code, subcode) == expected


U = OutcomeUnknownError


@pytest.mark.parametrize(
    ("http_status", "code", "expected_send", "expected_get"),
    [
        # errors that do not say the request was refused: a send may have left
        (500, None, (U, "timeout"), (R, "server")),
        (503, None, (U, "timeout"), (R, "server")),
        (599, None, (U, "timeout"), (R, "server")),
        (500, 131000, (U, "timeout"), (R, "server")),
        (400, 131000, (U, "timeout"), (P, "unknown_error")),
        # an answer with another Graph code, or a refusal by status, says how it failed
        (500, 133004, (R, "server"), (R, "server")),
        (503, 2, (R, "server"), (R, "server")),
        (500, 131047, (P, "window_closed"), (P, "window_closed")),
        (429, None, (R, "throttled"), (R, "throttled")),
        (404, None, (P, "unknown_error"), (P, "unknown_error")),
        (None, None, (P, "unknown_error"), (P, "unknown_error")),
    ],
)
def test_classify_a_send_whose_outcome_is_unknown(http_status, code, expected_send, expected_get):
    assert classify(http_status, code, idempotent=False) == expected_send
    assert classify(http_status, code, idempotent=True) == expected_get
    assert classify(http_status, code) == expected_get  # webhooks: a failed status is a refusal


def test_only_131050_is_a_customer_stopping_marketing():
    """131050 is the customer's choice (an opt-out to record); 131049, Meta's per-customer
    marketing limit, passes and is no opt-out."""
    assert cloud_api.classify(None, 131050) == (PermanentError, "opted_out")
    assert cloud_api.is_marketing_stop(131050)
    assert not cloud_api.is_marketing_stop(131049)
    assert not cloud_api.is_marketing_stop(None)
    assert not cloud_api.is_marketing_stop(0)


def test_retryable_flags():
    assert RetryableError.retryable is True
    assert PermanentError.retryable is False
    assert OutcomeUnknownError.retryable is False
    assert all(issubclass(cls, CloudApiError) for cls in (R, P, OutcomeUnknownError))


# --------------------------------------------------------------------------------------------------
# Error answers
# --------------------------------------------------------------------------------------------------

WINDOW_CLOSED = {
    "error": {
        "message": "(#131047) Re-engagement message",
        "type": "OAuthException",
        "code": 131047,
        "error_subcode": 2494010,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "Message failed to send because more than 24 hours have passed",
        },
        "fbtrace_id": "AbCdEf123",
    }
}


def test_error_answer_is_parsed_into_attributes(stub_graph, client):
    stub_graph.reply(status=400, body=WINDOW_CLOSED)
    with pytest.raises(PermanentError) as info:
        client.send_text("33612345678", "Hi")
    error = info.value
    assert error.code == 131047
    assert error.subcode == 2494010
    assert error.message == "(#131047) Re-engagement message"
    assert error.details == "Message failed to send because more than 24 hours have passed"
    assert error.fbtrace_id == "AbCdEf123"
    assert error.http_status == 400
    assert error.failure_type == "window_closed"
    assert error.error_type == "OAuthException"
    assert error.raw == WINDOW_CLOSED["error"]
    assert error.retryable is False
    assert "window_closed" in str(error) and "AbCdEf123" in str(error)


def test_throttling_answer_is_retryable(stub_graph, client):
    stub_graph.reply(
        status=429, body={"error": {"message": "(#130429) Rate limit hit", "code": 130429}}
    )
    with pytest.raises(RetryableError) as info:
        client.send_text("33612345678", "Hi")
    assert (info.value.code, info.value.failure_type, info.value.retryable) == (
        130429,
        "throttled",
        True,
    )


def test_string_codes_are_read_as_integers(stub_graph, client):
    stub_graph.reply(status=400, body={"error": {"message": "x", "code": "131047"}})
    with pytest.raises(PermanentError) as info:
        client.send_text("33612345678", "Hi")
    assert (info.value.code, info.value.failure_type) == (131047, "window_closed")


@pytest.mark.parametrize(
    ("status", "body", "cls", "failure_type"),
    [
        (503, "<html>Service Unavailable</html>", OutcomeUnknownError, "timeout"),
        (500, b"", OutcomeUnknownError, "timeout"),
        (500, {"error": "garbled"}, OutcomeUnknownError, "timeout"),
        (403, "Forbidden", PermanentError, "unknown_error"),
        (200, "not json", OutcomeUnknownError, "bad_response"),
        (200, [1, 2], OutcomeUnknownError, "bad_response"),
        (200, {"messaging_product": "whatsapp"}, OutcomeUnknownError, "bad_response"),
        (504, "<html>Gateway Timeout</html>", OutcomeUnknownError, "timeout"),
        (502, "<html>Bad Gateway</html>", OutcomeUnknownError, "timeout"),
    ],
)
def test_unusable_answers_to_a_send(stub_graph, client, status, body, cls, failure_type):
    stub_graph.reply(status=status, body=body)
    with pytest.raises(CloudApiError) as info:
        client.send_text("33612345678", "Hi")
    assert type(info.value) is cls
    assert info.value.failure_type == failure_type


SOMETHING_WENT_WRONG = {
    "error": {
        "message": "(#131000) Something went wrong",
        "type": "OAuthException",
        "code": 131000,
        "error_data": {"messaging_product": "whatsapp", "details": "Something went wrong."},
        "fbtrace_id": "AzX",
    }
}


def test_something_went_wrong_on_a_send_has_unknown_outcome_and_is_sent_once(stub_graph, client):
    stub_graph.reply(status=500, body=SOMETHING_WENT_WRONG)
    with pytest.raises(OutcomeUnknownError) as info:
        client.send_text("33612345678", "Hi")
    error = info.value
    assert (error.code, error.http_status, error.failure_type) == (131000, 500, "timeout")
    assert error.retryable is False and error.fbtrace_id == "AzX"
    assert len(stub_graph.requests) == 1


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda c: c.send_text("33612345678", "Hi"), OutcomeUnknownError),
        (lambda c: c.upload_media(BINARY, "image/png", "p.png"), OutcomeUnknownError),
        (lambda c: c.create_template({"name": "t"}), OutcomeUnknownError),
        (lambda c: c.get_media("42"), RetryableError),
        (lambda c: c.delete_template("t"), RetryableError),
        (lambda c: c.mark_as_read("wamid.IN"), RetryableError),  # repeating it is harmless
    ],
)
@pytest.mark.parametrize(
    "answer", [(500, SOMETHING_WENT_WRONG), (502, "<html>Bad Gateway</html>"), (500, b"")]
)
def test_server_errors_leave_only_non_idempotent_requests_unknown(
    stub_graph, client, call, cls, answer
):
    stub_graph.reply(status=answer[0], body=answer[1])
    with pytest.raises(CloudApiError) as info:
        call(client)
    assert type(info.value) is cls
    assert info.value.failure_type == ("timeout" if cls is OutcomeUnknownError else "server")


@pytest.mark.parametrize(
    ("status", "body", "cls", "failure_type"),
    [
        (200, "not json", PermanentError, "bad_response"),
        (504, "<html>Gateway Timeout</html>", RetryableError, "server"),
        (500, b"", RetryableError, "server"),
        (500, SOMETHING_WENT_WRONG, RetryableError, "server"),
    ],
)
def test_unusable_answers_to_a_get(stub_graph, client, status, body, cls, failure_type):
    stub_graph.reply(status=status, body=body)
    with pytest.raises(CloudApiError) as info:
        client.get_media("42")
    assert type(info.value) is cls
    assert info.value.failure_type == failure_type


def test_upload_without_id_has_unknown_outcome(stub_graph, client):
    stub_graph.reply(body={})
    with pytest.raises(OutcomeUnknownError):
        client.upload_media(BINARY, "image/png", "photo.png")


# --------------------------------------------------------------------------------------------------
# Transport failures
# --------------------------------------------------------------------------------------------------


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("call", ["send", "get"])
def test_connection_refused_is_retryable_network(call):
    client = CloudApiClient(
        token=TOKEN, phone_number_id=PHONE_ID, base_url=f"http://127.0.0.1:{_closed_port()}"
    )
    with pytest.raises(RetryableError) as info:
        client.send_text("33612345678", "Hi") if call == "send" else client.get_media("42")
    assert info.value.failure_type == "network"
    assert info.value.http_status is None


def test_read_timeout_on_send_has_unknown_outcome_and_is_sent_once(stub_graph, client):
    client.timeout = (1, 0.3)
    stub_graph.reply(body=SENT, sleep=1.5)
    with pytest.raises(OutcomeUnknownError) as info:
        client.send_text("33612345678", "Hi")
    assert info.value.failure_type == "timeout"
    assert info.value.retryable is False
    assert len(stub_graph.requests) == 1


def test_read_timeout_on_get_is_retryable(stub_graph, client):
    client.timeout = (1, 0.3)
    stub_graph.reply(body={"id": "42"}, sleep=1.5)
    with pytest.raises(RetryableError) as info:
        client.get_media("42")
    assert info.value.failure_type == "timeout"
    assert len(stub_graph.requests) == 1


def test_read_timeout_on_mark_as_read_is_retryable(stub_graph, client):
    client.timeout = (1, 0.3)
    stub_graph.reply(body={"success": True}, sleep=1.5)
    with pytest.raises(RetryableError):
        client.mark_as_read("wamid.IN")


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda c: c.send_text("33612345678", "Hi"), OutcomeUnknownError),
        (lambda c: c.upload_media(BINARY, "image/png", "p.png"), OutcomeUnknownError),
        (lambda c: c.create_template({"name": "t"}), OutcomeUnknownError),
        (lambda c: c.get_media("42"), RetryableError),
        (lambda c: c.delete_template("t"), RetryableError),
    ],
)
def test_connection_dropped_after_sending(stub_graph, client, call, cls):
    stub_graph.reply(drop=True)
    with pytest.raises(CloudApiError) as info:
        call(client)
    assert type(info.value) is cls
    assert info.value.failure_type == "timeout"
    assert len(stub_graph.requests) == 1


def _refused():
    return urllib3_exceptions.NewConnectionError(None, "[Errno 111] Connection refused")


def _dns_failure():
    error = urllib3_exceptions.NewConnectionError(None, "Failed to resolve")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return error


def _certificate_refused():
    reason = ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get issuer")
    return urllib3_exceptions.SSLError(reason)


# What urllib3 raises with retries=False (the error itself, not a MaxRetryError), and what it
# means: the connect phase proves nothing left (retryable "network"); after it, a send may have
# been received ("unknown" outcome, "timeout"), a read is retryable; an unusable request is
# refused before anything is sent ("invalid_request").
NETWORK = (RetryableError, RetryableError, "network")
LOST = (OutcomeUnknownError, RetryableError, "timeout")
INVALID = (PermanentError, PermanentError, "invalid_request")
TRANSPORT_FAILURES = {
    "refused": (_refused(), NETWORK),
    "dns": (_dns_failure(), NETWORK),
    "connect timeout": (urllib3_exceptions.ConnectTimeoutError(None, "connect"), NETWORK),
    "pool full": (urllib3_exceptions.EmptyPoolError(None, "no free connection"), NETWORK),
    "pool closed": (urllib3_exceptions.ClosedPoolError(None, "closed"), NETWORK),
    "certificate": (_certificate_refused(), NETWORK),
    "proxy unreachable": (
        urllib3_exceptions.ProxyError("Cannot connect to proxy.", _refused()),
        NETWORK,
    ),
    "retried, refused": (urllib3_exceptions.MaxRetryError(None, "/", _refused()), NETWORK),
    "read timeout": (urllib3_exceptions.ReadTimeoutError(None, "/", "Read timed out."), LOST),
    "reset": (
        urllib3_exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104)),
        LOST,
    ),
    "no answer": (
        urllib3_exceptions.ProtocolError("Connection aborted.", http.client.RemoteDisconnected()),
        LOST,
    ),
    "incomplete": (urllib3_exceptions.IncompleteRead(10, 20), LOST),
    "tls broken": (urllib3_exceptions.SSLError(ssl.SSLError(1, "bad record mac")), LOST),
    "proxy tunnel": (
        urllib3_exceptions.ProxyError("Unable to connect to proxy", OSError("Tunnel failed")),
        LOST,
    ),
    "decode": (urllib3_exceptions.DecodeError("Received response with content-encoding"), LOST),
    "other": (urllib3_exceptions.HTTPError("something else"), LOST),
    "retried, read timeout": (
        urllib3_exceptions.MaxRetryError(
            None, "/", urllib3_exceptions.ReadTimeoutError(None, "/", "Read timed out.")
        ),
        LOST,
    ),
    "bad url": (urllib3_exceptions.LocationParseError("http://[::1"), INVALID),
    "bad scheme": (urllib3_exceptions.URLSchemeUnknown("ftp"), INVALID),
    "bad header": (ValueError("Invalid header value b'Bearer x\\n'"), INVALID),
}


@pytest.mark.parametrize("case", sorted(TRANSPORT_FAILURES))
def test_transport_failure_mapping(case):
    exc, (send_cls, get_cls, failure_type) = TRANSPORT_FAILURES[case]
    failing = mock.Mock(spec=urllib3.PoolManager)
    failing.request.side_effect = exc
    client = CloudApiClient(token=TOKEN, phone_number_id=PHONE_ID, session=failing)
    calls = [
        (lambda: client.send_text("336", "Hi"), send_cls),
        (lambda: client.get_media("1"), get_cls),
    ]
    for call, cls in calls:
        with pytest.raises(CloudApiError) as info:
            call()
        assert type(info.value) is cls
        assert info.value.failure_type == failure_type
        assert info.value.http_status is None
        assert info.value.__cause__ is exc


@pytest.mark.parametrize(
    "exc",
    [
        urllib3_exceptions.ReadTimeoutError(None, "/", "Read timed out."),
        urllib3_exceptions.ProtocolError("Connection broken: IncompleteRead", None),
        urllib3_exceptions.SSLError(ssl.SSLError(1, "bad record mac")),
        urllib3_exceptions.DecodeError("Received response with content-encoding: gzip"),
    ],
)
def test_failure_while_reading_a_download_is_retryable(exc):
    response = mock.Mock(spec=urllib3.HTTPResponse)
    response.status, response.headers = 200, {}
    response.stream.side_effect = exc
    pool = mock.Mock(spec=urllib3.PoolManager)
    pool.request.return_value = response
    client = CloudApiClient(token=TOKEN, base_url="https://graph.test", session=pool)
    with pytest.raises(RetryableError) as info:
        client.download_media("https://graph.test/media/1")
    assert info.value.failure_type == "timeout" and info.value.__cause__ is exc
    response.close.assert_called_once()  # the connection is never reused half read
    response.release_conn.assert_called_once()


@pytest.mark.parametrize("token", ["EAAG\r\nX-Injected: 1", "EAAG€"])
def test_a_header_value_http_refuses_is_an_invalid_request(stub_graph, session, caplog, token):
    client = CloudApiClient(
        token=token, phone_number_id=PHONE_ID, base_url=stub_graph.url, session=session
    )
    with caplog.at_level(logging.DEBUG, logger=cloud_api.__name__):
        with pytest.raises(PermanentError) as info:
            client.send_text("33612345678", "Hi")
    assert info.value.failure_type == "invalid_request"
    assert "EAAG" not in str(info.value) and caplog.records and "EAAG" not in caplog.text
    assert stub_graph.requests == []
    assert session.pool(stub_graph.url).pool.qsize() == 1  # its connection was given back


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_a_body_json_cannot_hold_is_refused_before_sending(stub_graph, client, session, value):
    with pytest.raises(PermanentError) as info:
        client.create_template({"name": "t", "value": value})
    assert info.value.failure_type == "invalid_request"
    assert stub_graph.requests == [] and session.calls == []


def test_a_full_pool_is_retryable_and_sends_nothing(stub_graph):
    pool = RecordingSession(maxsize=1, block=True)
    taken = pool.pool(stub_graph.url)._get_conn()  # another thread's request in flight
    client = CloudApiClient(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        base_url=stub_graph.url,
        timeout=(0.2, 2),
        session=pool,
    )
    try:
        with pytest.raises(RetryableError) as info:
            client.send_text("33612345678", "Hi")
        assert info.value.failure_type == "network"
        assert isinstance(info.value.__cause__, urllib3_exceptions.EmptyPoolError)
        assert stub_graph.requests == []
    finally:
        pool.pool(stub_graph.url)._put_conn(taken)
        pool.clear()


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c, url: c.send_text("33612345678", "Hi"), f"/v23.0/{PHONE_ID}/messages"),
        (lambda c, url: c.get_media("42"), "/v23.0/42"),
        (lambda c, url: c.download_media(f"{url}/media/1"), "/media/1"),
    ],
)
def test_a_redirect_is_an_error_and_is_not_followed(stub_graph, client, call, path):
    elsewhere = f"{stub_graph.url}/elsewhere"
    stub_graph.reply(status=302, body=b"", headers={"Location": elsewhere})
    with pytest.raises(PermanentError) as info:
        call(client, stub_graph.url)
    assert (info.value.http_status, info.value.failure_type) == (302, "unknown_error")
    assert [request.path for request in stub_graph.requests] == [path]  # the token stayed
