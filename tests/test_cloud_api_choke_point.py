"""Tests of ``tools.cloud_api``'s choke point: every public method of the client talks to the Graph
API through ``_request`` only, with a timeout and the token, never retrying nor following a
redirect, and the client makes its own pool when given none and closes only that one."""

import asyncio
import inspect
from unittest import mock

import certifi
import pytest
import urllib3
from graph_stub import PHONE_ID, SENT, TOKEN, WABA_ID
from wa_tools import cloud_api, messages
from wa_tools.cloud_api import CloudApiClient

pytest_plugins = ["graph_fixtures"]


# Every public method of the client that talks to the API, with a call and the answers it needs.
PUBLIC_CALLS = {
    "send_message": (
        lambda c, g: c.send_message({"to": "336", "type": "text", "text": {"body": "x"}}),
        [SENT],
    ),
    "send_text": (lambda c, g: c.send_text("336", "x"), [SENT]),
    "send_media": (lambda c, g: c.send_media("336", "image", media_id="m"), [SENT]),
    "send_template": (lambda c, g: c.send_template("336", "t", "en"), [SENT]),
    "send_location": (lambda c, g: c.send_location("336", 1, 2), [SENT]),
    "send_interactive": (lambda c, g: c.send_interactive("336", {"type": "button"}), [SENT]),
    "send_reaction": (lambda c, g: c.send_reaction("336", "wamid.Q", "👍"), [SENT]),
    "mark_as_read": (lambda c, g: c.mark_as_read("wamid.Q"), [{"success": True}]),
    "upload_media": (lambda c, g: c.upload_media(b"x", "image/png", "x.png"), [{"id": "m"}]),
    "get_media": (lambda c, g: c.get_media("m"), [{"id": "m"}]),
    "download_media": (lambda c, g: c.download_media(f"{g.url}/m"), [b"bytes"]),
    "list_templates": (
        lambda c, g: c.list_templates(),
        [{"data": [], "paging": {"cursors": {"after": "A"}, "next": "https://x.test/n"}}, {}],
    ),
    "create_template": (lambda c, g: c.create_template({"name": "t"}), [{"id": "1"}]),
    "delete_template": (lambda c, g: c.delete_template("t"), [{"success": True}]),
    "edit_template": (
        lambda c, g: c.edit_template("7", {"category": "UTILITY"}),
        [{"success": True}],
    ),
    "get_template": (lambda c, g: c.get_template("7"), [{"id": "7", "name": "t"}]),
}
NO_HTTP_METHODS = {"close"}
# Public methods going through the asynchronous twin of the choke point, _request_async.
ASYNC_CALLS = {"send_message_async"}


def test_edit_and_get_template(stub_graph):
    stub_graph.reply(body={"success": True})
    stub_graph.reply(body={"id": "7", "status": "PENDING"})
    client = CloudApiClient(token=TOKEN, waba_id=WABA_ID, base_url=stub_graph.url)
    assert client.edit_template("7", {"components": []}) is True
    assert client.get_template("7")["status"] == "PENDING"
    methods = [(r.method, r.path) for r in stub_graph.requests]
    assert methods == [("POST", "/v23.0/7"), ("GET", "/v23.0/7")]


def test_every_public_method_is_covered_here():
    public = {
        name
        for name, member in inspect.getmembers(CloudApiClient, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public - NO_HTTP_METHODS - ASYNC_CALLS == set(PUBLIC_CALLS)


def test_async_sends_only_use_the_async_choke_point():
    pool = mock.Mock()
    pool.request.side_effect = AssertionError("pool used outside _request_async")
    client = CloudApiClient(
        token=TOKEN, phone_number_id=PHONE_ID, base_url="http://127.0.0.1:9", async_pool=pool
    )
    calls = []

    async def canned(method, path, **kwargs):
        calls.append((method, path, kwargs))
        return SENT

    payload = {"to": "+336 12", "type": "text", "text": {"body": "x"}}
    with mock.patch.object(client, "_request_async", side_effect=canned):
        result = asyncio.run(client.send_message_async(payload))
    assert result.wamid == SENT["messages"][0]["id"]
    assert calls == [
        (
            "POST",
            f"{PHONE_ID}/messages",
            {"json": {**messages.envelope(payload), "to": "33612"}, "before_write": None},
        )
    ]
    pool.request.assert_not_called()


def _canned_request(method, path, *, expect_json=True, **kwargs):
    """A stand-in for ``_request`` answering what every public method expects."""
    if not expect_json:
        response = mock.MagicMock()
        response.headers = {}
        response.stream.return_value = [b"bytes"]
        return response
    return {**SENT, "id": "1", "success": True, "data": []}


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_public_methods_only_use_the_choke_point(stub_graph, name):
    untouchable = mock.Mock(spec=urllib3.PoolManager)
    untouchable.request.side_effect = AssertionError("session used outside _request")
    client = CloudApiClient(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        waba_id=WABA_ID,
        base_url=stub_graph.url,
        session=untouchable,
    )
    with mock.patch.object(client, "_request", side_effect=_canned_request) as request:
        PUBLIC_CALLS[name][0](client, stub_graph)
    assert request.call_count >= 1
    untouchable.request.assert_not_called()


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_every_request_goes_through_request_with_a_timeout(stub_graph, client, session, name):
    call, answers = PUBLIC_CALLS[name]
    for answer in answers:
        stub_graph.reply(body=answer)
    with mock.patch.object(client, "_request", wraps=client._request) as spy:
        call(client, stub_graph)
    assert len(stub_graph.requests) == len(answers)
    assert spy.call_count == len(session.calls) == len(answers)
    for _method, _url, kwargs in session.calls:
        timeout = kwargs["timeout"]
        assert isinstance(timeout, urllib3.Timeout)
        assert (timeout.connect_timeout, timeout.read_timeout) == (1, 2)
        assert kwargs["pool_timeout"] == 1  # waiting for a pooled connection is connecting
        assert kwargs["retries"] is False and kwargs["redirect"] is False
        assert kwargs["headers"]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("timeout", "expected"), [((3, 7), (3, 7)), (5, (5, 5)), (0.5, (0.5, 0.5))]
)
def test_timeout_is_a_connect_and_a_read_timeout(timeout, expected):
    client = CloudApiClient(token=TOKEN, timeout=(1, 1), session=mock.Mock())
    client.timeout = timeout
    assert client.timeout == timeout
    assert (client._http_timeout.connect_timeout, client._http_timeout.read_timeout) == expected
    with pytest.raises(ValueError):
        client.timeout = None  # checked when changed too: there is always a timeout


def test_client_closes_only_its_own_session():
    provided = mock.Mock(spec=urllib3.PoolManager)
    with CloudApiClient(token=TOKEN, session=provided):
        pass
    provided.clear.assert_not_called()
    with mock.patch.object(urllib3.PoolManager, "clear") as clear:
        with CloudApiClient(token=TOKEN):
            pass
    clear.assert_called_once()


def test_default_pool(stub_graph):
    stub_graph.reply(body=SENT)
    with CloudApiClient(token=TOKEN, phone_number_id=PHONE_ID, base_url=stub_graph.url) as client:
        pool_manager = client.session
        assert type(pool_manager) is urllib3.PoolManager
        assert client.send_text("33612345678", "Hi").wamid == SENT["messages"][0]["id"]
        pool = pool_manager.connection_from_url(stub_graph.url)
        assert pool.retries is False  # even a caller not passing retries=False never retries
        assert (pool.pool.maxsize, pool.block) == (cloud_api.DEFAULT_POOL_SIZE, False)
        assert pool.pool.qsize() == cloud_api.DEFAULT_POOL_SIZE  # the connection came back
        tls = pool_manager.connection_from_url("https://graph.facebook.com")
        assert (tls.cert_reqs, tls.ca_certs) == ("CERT_REQUIRED", certifi.where())
    assert len(pool_manager.pools) == 0  # closed with the client
