"""Simulated customers (``SandboxState.inject``, ``tools/sandbox/inbound.py``): the inbound
webhooks of each kind of message.
"""

import hashlib

import pytest
from sandbox_support import CUSTOMER, PHONE_ID, WABA
from wa_tools import webhook


def test_inject_text_payload(sandbox, receiver):
    result = sandbox.inject("+1 555 123 4567", profile_name="Alice", text="Where is my order?")
    assert receiver.wait(1)
    payload = receiver.payloads()[0]
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == WABA
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID}
    assert value["contacts"] == [{"profile": {"name": "Alice"}, "wa_id": CUSTOMER}]
    (message,) = value["messages"]
    assert message["id"] == result["wamid"]
    assert message["text"] == {"body": "Where is my order?"}


def test_inject_image_is_downloadable(sandbox, receiver, graph):
    sandbox.inject(CUSTOMER, type="image", text="The broken part")
    image = receiver.values()[0]["messages"][0]["image"]
    assert image["caption"] == "The broken part"
    info = graph.call("GET", f"/v23.0/{image['id']}").json()
    assert info["mime_type"] == image["mime_type"] == "image/png"
    data = graph.call("GET", info["url"].removeprefix(sandbox.base_url)).content
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert hashlib.sha256(data).hexdigest() == image["sha256"] == info["sha256"]


def test_inject_document_with_own_data(sandbox, receiver):
    sandbox.inject(
        CUSTOMER, type="document", text="Invoice", data=b"%PDF-1.7 x", filename="invoice.pdf"
    )
    document = receiver.values()[0]["messages"][0]["document"]
    assert document["filename"] == "invoice.pdf" and document["caption"] == "Invoice"
    assert sandbox.media[document["id"]].data == b"%PDF-1.7 x"


@pytest.mark.parametrize(
    ("kwargs", "check"),
    [
        (
            {"type": "location", "latitude": 50.85, "longitude": 4.35, "name": "Shop"},
            lambda m: m["location"]["name"] == "Shop" and m["location"]["latitude"] == 50.85,
        ),
        (
            {"type": "contacts", "text": "Bob", "phone": "+15550003333"},
            lambda m: m["contacts"][0]["name"]["formatted_name"] == "Bob",
        ),
        (
            {"type": "button_reply", "text": "Yes please", "reply_id": "yes"},
            lambda m: m["interactive"]["button_reply"] == {"id": "yes", "title": "Yes please"},
        ),
        (
            {"type": "list_reply", "text": "Billing"},
            lambda m: m["interactive"]["list_reply"]["id"] == "billing",
        ),
        (
            {"type": "interactive", "kind": "list_reply", "text": "Other"},
            lambda m: m["interactive"]["type"] == "list_reply",
        ),
        (
            {"type": "button", "text": "Stop promotions", "payload": "STOP"},
            lambda m: m["button"] == {"payload": "STOP", "text": "Stop promotions"},
        ),
        (
            {"type": "audio", "voice": True},
            lambda m: m["audio"]["voice"] is True,
        ),
        (
            {"type": "unsupported"},
            lambda m: m["errors"][0]["code"] == 131051,
        ),
    ],
    ids=lambda value: value.get("type") if isinstance(value, dict) else "",
)
def test_inject_kinds(sandbox, receiver, kwargs, check):
    sandbox.inject(CUSTOMER, **kwargs)
    message = receiver.values()[0]["messages"][0]
    expected_type = {"button_reply": "interactive", "list_reply": "interactive"}
    assert message["type"] == expected_type.get(kwargs["type"], kwargs["type"])
    assert check(message)
    if hasattr(webhook, "parse"):
        assert webhook.parse(receiver.posts[0]["body"]).messages[0].wamid == message["id"]


def test_replies_default_to_the_last_outbound_message(sandbox, receiver, graph):
    wamid = graph.template().json()["messages"][0]["id"]
    sandbox.inject(CUSTOMER, type="button_reply", text="Yes")
    sandbox.inject(CUSTOMER, type="reaction", emoji="\N{THUMBS UP SIGN}")
    sandbox.inject(CUSTOMER, text="Answering", reply_to=wamid)
    inbound = [v["messages"][0] for v in receiver.values() if "messages" in v]
    assert inbound[0]["context"] == {"from": "15550001111", "id": wamid}
    assert inbound[1]["reaction"] == {"message_id": wamid, "emoji": "\N{THUMBS UP SIGN}"}
    assert inbound[2]["context"]["id"] == wamid


def test_inject_rejects_bad_input(sandbox):
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="hologram", text="x")
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, text="")
    with pytest.raises(ValueError):
        sandbox.inject("no digits", text="x")
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="reaction")  # nothing was sent to react to
    with pytest.raises(ValueError):
        sandbox.inject(CUSTOMER, type="location", latitude="north")
