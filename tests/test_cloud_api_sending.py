"""Tests of ``tools.cloud_api`` sending to a stub Graph API server: messages (the client's settings,
the typed senders, read receipts), media upload and download, and message templates."""

import logging

import pytest
from graph_stub import BINARY, PHONE_ID, SENT, TOKEN, WABA_ID
from wa_tools import cloud_api, messages
from wa_tools.cloud_api import CloudApiClient, PermanentError, SendResult

pytest_plugins = ["graph_fixtures"]


# --------------------------------------------------------------------------------------------------
# Sending messages
# --------------------------------------------------------------------------------------------------


def test_send_text_url_auth_payload_and_result(stub_graph, client):
    stub_graph.reply(body=SENT)
    result = client.send_text("+33 6 12 34 56 78", "Hello")
    (request,) = stub_graph.requests
    assert request.method == "POST"
    assert request.path == f"/v23.0/{PHONE_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == messages.envelope({"to": "33612345678", **messages.text("Hello")})
    assert result == SendResult(
        wamid=SENT["messages"][0]["id"],
        wa_id="33612345678",
        input="+33612345678",
        raw=SENT,
        message_status="accepted",
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+33 6 12 34 56 78", "33612345678"),
        ("+1 (555) 010-9999", "15550109999"),
        ("44.20.7946.0958", "442079460958"),
        (33612345678, "33612345678"),
    ],
)
def test_to_is_normalised_to_digits(stub_graph, client, number, expected):
    stub_graph.reply(body=SENT)
    client.send_text(number, "Hi")
    assert stub_graph.requests[0].json["to"] == expected


@pytest.mark.parametrize("number", ["", "+", "abc", "+33 6 12 ab", None, "３３６"])
def test_invalid_to_fails_before_any_request(stub_graph, client, number):
    with pytest.raises(PermanentError) as info:
        client.send_text(number, "Hi")
    assert info.value.failure_type == "invalid_recipient"
    assert stub_graph.requests == []


TO = "33612345678"
COMPONENTS = [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]
BUTTONS = messages.reply_buttons("Was your issue solved?", [("yes", "Yes")])

# Each typed sender and the payload it sends, built by tools.messages (whose shapes
# tests/test_messages.py checks): the client only adds the address, the reply context and the
# envelope.
TYPED_SENDS = {
    "text": (
        lambda c: c.send_text(TO, "See https://x.test", preview_url=True, reply_to="wamid.Q"),
        messages.text("See https://x.test", preview_url=True),
        "wamid.Q",
    ),
    "image": (
        lambda c: c.send_media(TO, "image", media_id="m1", caption="Look", reply_to="wamid.Q"),
        messages.media("image", media_id="m1", caption="Look"),
        "wamid.Q",
    ),
    "document": (
        lambda c: c.send_media(
            TO, "document", link="https://x.test/a.pdf", caption="Invoice", filename="a.pdf"
        ),
        messages.media(
            "document", link="https://x.test/a.pdf", caption="Invoice", filename="a.pdf"
        ),
        None,
    ),
    "template": (
        lambda c: c.send_template(TO, "ticket_update", "en_US", COMPONENTS),
        messages.template("ticket_update", "en_US", COMPONENTS),
        None,
    ),
    "location": (
        lambda c: c.send_location(TO, 48.8584, 2.2945, name="Tour Eiffel", address="Paris"),
        messages.location(48.8584, 2.2945, name="Tour Eiffel", address="Paris"),
        None,
    ),
    "interactive": (
        lambda c: c.send_interactive(TO, BUTTONS, reply_to="wamid.Q"),
        messages.interactive(BUTTONS),
        "wamid.Q",
    ),
    "reaction": (
        lambda c: c.send_reaction(TO, "wamid.Q", "👍"),
        messages.reaction("wamid.Q", "👍"),
        None,
    ),
}


@pytest.mark.parametrize("kind", sorted(TYPED_SENDS))
def test_typed_senders_send_what_messages_builds(stub_graph, client, kind):
    send, content, reply_to = TYPED_SENDS[kind]
    stub_graph.reply(body=SENT)
    send(client)
    (request,) = stub_graph.requests
    assert request.path == f"/v23.0/{PHONE_ID}/messages"
    expected = messages.message(messages.address(TO), content, reply_to=reply_to)
    assert request.json == messages.envelope(expected)


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.send_media(TO, "audio", media_id="m1", caption="no"),
        lambda c: c.send_media(TO, "image"),
        lambda c: c.send_location(TO, 91, 0),
        lambda c: c.send_interactive(TO, {"body": {"text": "no type"}}),
    ],
)
def test_a_refused_payload_sends_nothing(stub_graph, client, send):
    with pytest.raises(ValueError):
        send(client)
    assert stub_graph.requests == []


def test_send_message_adds_envelope_and_normalises_to(stub_graph, client):
    stub_graph.reply(body=SENT)
    result = client.send_message({"to": "+33 612", **messages.text("x")})
    assert stub_graph.requests[0].json == messages.envelope({"to": "33612", **messages.text("x")})
    assert result.wamid == SENT["messages"][0]["id"]


def test_send_message_to_a_customer_known_by_username(stub_graph, client):
    stub_graph.reply(body=SENT)
    client.send_message(messages.message(messages.address(None, "BR.1A2B"), messages.text("x")))
    assert stub_graph.requests[0].json == messages.envelope(
        {"recipient": "BR.1A2B", **messages.text("x")}
    )
    with pytest.raises(PermanentError) as info:
        client.send_message({"recipient": " ", **messages.text("x")})
    assert info.value.failure_type == "invalid_recipient"
    assert len(stub_graph.requests) == 1


def test_mark_as_read(stub_graph, client):
    stub_graph.reply(body={"success": True})
    stub_graph.reply(body={"success": True})
    assert client.mark_as_read("wamid.IN") is True
    assert client.mark_as_read("wamid.IN2", typing_indicator=True) is True
    first, second = stub_graph.requests
    assert first.method == "POST"
    assert first.path == f"/v23.0/{PHONE_ID}/messages"
    assert first.json == messages.read_receipt("wamid.IN")
    assert second.json == messages.read_receipt("wamid.IN2", typing_indicator=True)


def test_base_url_and_api_version_overrides(stub_graph, session):
    stub_graph.reply(body=SENT)
    stub_graph.reply(body=SENT)
    for version in ("v21.0", "21.0"):
        client = CloudApiClient(
            token=TOKEN,
            phone_number_id=PHONE_ID,
            base_url=stub_graph.url + "/",
            api_version=version,
            session=session,
        )
        client.send_text("33612345678", "Hi")
    assert [request.path for request in stub_graph.requests] == [f"/v21.0/{PHONE_ID}/messages"] * 2


def test_defaults():
    client = CloudApiClient(token=TOKEN)
    assert client.base_url == cloud_api.DEFAULT_BASE_URL == "https://graph.facebook.com"
    assert client.api_version == cloud_api.DEFAULT_API_VERSION == "v23.0"
    assert client.timeout == cloud_api.DEFAULT_TIMEOUT == (3.05, 20)
    assert cloud_api.MAX_MEDIA_BYTES == 100 * 1024 * 1024
    assert TOKEN not in repr(client)
    client.close()


@pytest.mark.parametrize("timeout", [None, 0, -1, (1, None), (1, 2, 3), "5", True])
def test_client_refuses_a_missing_or_invalid_timeout(timeout):
    with pytest.raises(ValueError):
        CloudApiClient(token=TOKEN, timeout=timeout)


def test_client_requires_a_token():
    with pytest.raises(ValueError):
        CloudApiClient(token="")


def test_missing_ids_are_configuration_errors(stub_graph, session):
    client = CloudApiClient(token=TOKEN, base_url=stub_graph.url, session=session)
    calls = [
        lambda: client.send_text("33612345678", "Hi"),
        lambda: client.mark_as_read("wamid.X"),
        lambda: client.upload_media(b"x", "image/png", "x.png"),
        lambda: client.list_templates(),
        lambda: client.create_template({"name": "t"}),
        lambda: client.delete_template("t"),
    ]
    for call in calls:
        with pytest.raises(PermanentError) as info:
            call()
        assert info.value.failure_type == "config"
    assert stub_graph.requests == []


def test_token_never_logged(stub_graph, client, caplog):
    stub_graph.reply(body=SENT)
    stub_graph.reply(status=400, body={"error": {"message": "bad", "code": 100}})
    with caplog.at_level(logging.DEBUG, logger=cloud_api.__name__):
        client.send_text("33612345678", "Hi")
        with pytest.raises(PermanentError):
            client.send_text("33612345678", "Hi")
    assert caplog.records
    assert TOKEN not in caplog.text


# --------------------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------------------


def test_upload_media_multipart(stub_graph, client):
    stub_graph.reply(body={"id": "4490709327384033"})
    media_id = client.upload_media(BINARY, "image/png", "photo.png")
    (request,) = stub_graph.requests
    assert media_id == "4490709327384033"
    assert request.method == "POST"
    assert request.path == f"/v23.0/{PHONE_ID}/media"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.form == {"messaging_product": "whatsapp", "type": "image/png"}
    assert request.files == {"file": ("photo.png", "image/png", BINARY)}


def test_upload_media_too_large_is_refused_locally(stub_graph, client, monkeypatch):
    monkeypatch.setattr(cloud_api, "MAX_MEDIA_BYTES", 4)
    with pytest.raises(PermanentError) as info:
        client.upload_media(b"12345", "image/png", "photo.png")
    assert info.value.failure_type == "media_too_large"
    assert stub_graph.requests == []


def test_get_media_then_download(stub_graph, client):
    media_url = f"{stub_graph.url}/whatsapp_business/attachments/?mid=42&hash=abc"
    metadata = {
        "url": media_url,
        "mime_type": "image/png",
        "sha256": "deadbeef",
        "file_size": len(BINARY),
        "id": "42",
        "messaging_product": "whatsapp",
    }
    stub_graph.reply(body=metadata)
    stub_graph.reply(body=BINARY, headers={"X-Kind": "media"})
    media = client.get_media("42")
    assert media == metadata
    assert client.download_media(media["url"]) == BINARY
    meta_request, download_request = stub_graph.requests
    assert (meta_request.method, meta_request.path) == ("GET", "/v23.0/42")
    assert download_request.method == "GET"
    assert download_request.path == "/whatsapp_business/attachments/"
    assert download_request.query == {"mid": ["42"], "hash": ["abc"]}
    assert download_request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_get_media_quotes_the_id(stub_graph, client):
    stub_graph.reply(body={"id": "x"})
    client.get_media("../me")
    assert stub_graph.requests[0].path == "/v23.0/..%2Fme"


@pytest.mark.parametrize("send_length", [True, False])
def test_download_media_size_cap(stub_graph, client, send_length):
    stub_graph.reply(body=b"x" * 200_000, send_length=send_length)
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{stub_graph.url}/media/1", max_bytes=100_000)
    assert info.value.failure_type == "media_too_large"


def test_download_media_default_cap_is_the_module_limit(stub_graph, client, monkeypatch):
    monkeypatch.setattr(cloud_api, "MAX_MEDIA_BYTES", 10)
    stub_graph.reply(body=b"x" * 11, send_length=False)
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{stub_graph.url}/media/1")
    assert info.value.failure_type == "media_too_large"


def test_download_media_error_answer(stub_graph, client):
    stub_graph.reply(status=404, body={"error": {"message": "not found", "code": 100}})
    with pytest.raises(PermanentError) as info:
        client.download_media(f"{stub_graph.url}/media/1")
    assert info.value.http_status == 404


# Ways a request ends badly: (scripted reply, call, max_bytes of a download, error expected).
BAD_ENDINGS = {
    "streamed error answer": ({"status": 404, "body": {"error": {"code": 100}}}, "download"),
    "streamed error answer, truncated": ({"status": 404, "body": b"x" * 200_000}, "download"),
    "declared too large": ({"body": b"x" * 200_000}, "download"),
    "too large, no length": ({"body": b"x" * 200_000, "send_length": False}, "download"),
    "error answer": ({"status": 400, "body": {"error": {"code": 100}}}, "send"),
    "dropped": ({"drop": True}, "send"),
    "read timeout": ({"body": SENT, "sleep": 1.0}, "send"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENDINGS))
def test_the_connection_is_given_back_whatever_happens(stub_graph, client, session, case):
    reply, call = BAD_ENDINGS[case]
    client.timeout = (1, 0.3)
    stub_graph.reply(**reply)
    stub_graph.reply(body=BINARY)
    with pytest.raises(cloud_api.CloudApiError):
        if call == "download":
            client.download_media(f"{stub_graph.url}/media/1", max_bytes=100_000)
        else:
            client.send_text("33612345678", "Hi")
    # the session is a pool of one connection: one kept would make the next request wait for it
    # (at most the connect timeout, then a "network" error)
    assert session.pool(stub_graph.url).pool.qsize() == 1
    assert client.download_media(f"{stub_graph.url}/media/2") == BINARY


@pytest.mark.parametrize("url", ["http://media.example.test/x", "ftp://x.test/a", "", None])
def test_download_media_never_sends_the_token_in_clear_to_another_host(stub_graph, client, url):
    with pytest.raises(PermanentError) as info:
        client.download_media(url)
    assert info.value.failure_type == "invalid_request"
    assert stub_graph.requests == []


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------


def test_list_templates_follows_next_pages(stub_graph, client):
    path = f"/v23.0/{WABA_ID}/message_templates"
    stub_graph.reply(
        body={
            "data": [{"name": "a"}, {"name": "b"}],
            "paging": {
                "cursors": {"before": "B1", "after": "A1"},
                "next": f"{stub_graph.url}{path}?limit=2&fields=name,status&after=A1",
            },
        }
    )
    stub_graph.reply(
        body={
            "data": [{"name": "c"}],
            "paging": {
                "cursors": {"before": "B2", "after": "A2"},
                "next": f"{stub_graph.url}{path}?limit=2&fields=name,status&after=A2",
            },
        }
    )
    stub_graph.reply(body={"data": [{"name": "d"}], "paging": {"cursors": {"after": "A3"}}})
    templates = client.list_templates(limit=2, fields=["name", "status"])
    assert [template["name"] for template in templates] == ["a", "b", "c", "d"]
    assert [request.path for request in stub_graph.requests] == [path] * 3
    assert stub_graph.requests[0].query == {"limit": ["2"], "fields": ["name,status"]}
    assert stub_graph.requests[1].query["after"] == ["A1"]
    assert stub_graph.requests[2].query["after"] == ["A2"]


def test_list_templates_uses_the_cursor_when_next_is_on_another_host(stub_graph, client):
    stub_graph.reply(
        body={
            "data": [{"name": "a"}],
            "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
        }
    )
    stub_graph.reply(body={"data": [{"name": "b"}]})
    assert [template["name"] for template in client.list_templates()] == ["a", "b"]
    assert stub_graph.requests[1].path == f"/v23.0/{WABA_ID}/message_templates"
    assert stub_graph.requests[1].query == {"limit": ["100"], "after": ["A1"]}


def test_list_templates_stops_on_a_repeated_cursor(stub_graph, client):
    page = {
        "data": [{"name": "a"}],
        "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
    }
    stub_graph.reply(body=page)
    stub_graph.reply(body=page)
    assert len(client.list_templates()) == 2
    assert len(stub_graph.requests) == 2


def test_list_templates_max_pages(stub_graph, client):
    stub_graph.reply(
        body={
            "data": [{"name": "a"}],
            "paging": {"cursors": {"after": "A1"}, "next": "https://elsewhere.test/next"},
        }
    )
    assert [template["name"] for template in client.list_templates(max_pages=1)] == ["a"]
    assert len(stub_graph.requests) == 1


def test_create_template(stub_graph, client):
    template = {
        "name": "ticket_closed",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Ticket {{1}} is closed."}],
    }
    answer = {"id": "572279198452421", "status": "PENDING", "category": "UTILITY"}
    stub_graph.reply(body=answer)
    assert client.create_template(template) == answer
    (request,) = stub_graph.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{WABA_ID}/message_templates")
    assert request.json == template


def test_delete_template(stub_graph, client):
    stub_graph.reply(body={"success": True})
    stub_graph.reply(body={"success": True})
    assert client.delete_template("ticket_closed") is True
    assert client.delete_template("ticket_closed", hsm_id="5722") is True
    first, second = stub_graph.requests
    assert (first.method, first.path) == ("DELETE", f"/v23.0/{WABA_ID}/message_templates")
    assert first.query == {"name": ["ticket_closed"]}
    assert second.query == {"name": ["ticket_closed"], "hsm_id": ["5722"]}
