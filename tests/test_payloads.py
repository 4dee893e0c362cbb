"""Builders of Meta-shaped webhook payloads (``tools/payloads.py``), without Odoo."""

import base64
import json
import time

import pytest
from wa_tools import payloads, webhook

WABA = "200000000000001"
PHONE_ID = "100000000000001"
DISPLAY = "15550001111"
CUSTOMER = "15551234567"

needs_parse = pytest.mark.skipif(
    not hasattr(webhook, "parse"), reason="tools.webhook.parse is not written yet"
)


def _inbound(message, name="Alice"):
    return payloads.inbound_payload(
        waba_id=WABA,
        phone_number_id=PHONE_ID,
        display_phone_number=DISPLAY,
        wa_id=CUSTOMER,
        profile_name=name,
        messages=[message],
    )


def _statuses(*statuses):
    return payloads.status_payload(
        waba_id=WABA, phone_number_id=PHONE_ID, display_phone_number=DISPLAY, statuses=statuses
    )


# -- identifiers and envelopes


def test_new_wamid_is_unique_and_meta_like():
    ids = {payloads.new_wamid() for _ in range(500)}
    assert len(ids) == 500
    wamid = ids.pop()
    assert wamid.startswith("wamid.")
    assert len(base64.b64decode(wamid.removeprefix("wamid."))) == 36


def test_envelope_shape():
    change = {"field": "messages", "value": {}}
    assert payloads.envelope(WABA, [change]) == {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [change]}],
    }
    assert payloads.envelope(WABA, [], time=1700000000.5)["entry"][0]["time"] == 1700000000


def test_messages_change_omits_empty_lists():
    change = payloads.messages_change(PHONE_ID, DISPLAY, statuses=[{"id": "x"}])
    assert change == {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PHONE_ID},
            "statuses": [{"id": "x"}],
        },
    }
    full = payloads.messages_change(
        PHONE_ID, DISPLAY, contacts=[payloads.contact(CUSTOMER, "Al")], messages=[{"id": "m"}]
    )
    assert set(full["value"]) == {"messaging_product", "metadata", "contacts", "messages"}
    assert full["value"]["contacts"] == [{"profile": {"name": "Al"}, "wa_id": CUSTOMER}]


# -- inbound messages


def test_text_message():
    before = int(time.time())
    message = payloads.text_message(CUSTOMER, "Hello")
    assert message["from"] == CUSTOMER
    assert message["id"].startswith("wamid.")
    assert message["type"] == "text"
    assert message["text"] == {"body": "Hello"}
    assert isinstance(message["timestamp"], str) and int(message["timestamp"]) >= before
    assert "context" not in message


def test_text_message_explicit_fields_and_context():
    context = payloads.reply_context("wamid.OUT", DISPLAY)
    message = payloads.text_message(
        CUSTOMER, "Re", wamid="wamid.X", timestamp=1700000000, context=context
    )
    assert message["id"] == "wamid.X"
    assert message["timestamp"] == "1700000000"
    assert message["context"] == {"from": DISPLAY, "id": "wamid.OUT"}


@pytest.mark.parametrize("media_type", payloads.MEDIA_TYPES)
def test_media_message(media_type):
    message = payloads.media_message(
        CUSTOMER, media_type, "123", mime_type="x/y", sha256="abc", caption="cap", filename="f.pdf"
    )
    content = message[media_type]
    assert message["type"] == media_type
    assert content["id"] == "123" and content["mime_type"] == "x/y" and content["sha256"] == "abc"
    assert ("caption" in content) == (media_type in ("image", "video", "document"))
    assert ("filename" in content) == (media_type == "document")
    assert ("voice" in content) == (media_type == "audio")
    assert ("animated" in content) == (media_type == "sticker")


def test_voice_note_and_bad_media_type():
    message = payloads.media_message(CUSTOMER, "audio", "1", mime_type="audio/ogg", voice=True)
    assert message["audio"]["voice"] is True
    with pytest.raises(ValueError):
        payloads.media_message(CUSTOMER, "hologram", "1", mime_type="x/y")


def test_location_message():
    message = payloads.location_message(CUSTOMER, "50.5", 4, name="Office", address="Main St 1")
    assert message["type"] == "location"
    assert message["location"] == {
        "latitude": 50.5,
        "longitude": 4.0,
        "name": "Office",
        "address": "Main St 1",
    }
    assert set(payloads.location_message(CUSTOMER, 1, 2)["location"]) == {"latitude", "longitude"}


def test_contacts_message():
    card = payloads.vcard("Bob Smith", "+32 470 00 00 00", wa_id="32470000000")
    message = payloads.contacts_message(CUSTOMER, [card])
    assert message["type"] == "contacts"
    assert message["contacts"][0]["name"]["formatted_name"] == "Bob Smith"
    assert message["contacts"][0]["phones"] == [
        {"phone": "+32 470 00 00 00", "type": "CELL", "wa_id": "32470000000"}
    ]


def test_interactive_replies():
    context = payloads.reply_context("wamid.Q", DISPLAY)
    button = payloads.interactive_reply(CUSTOMER, "button_reply", "yes", "Yes", context=context)
    assert button["type"] == "interactive"
    assert button["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "yes", "title": "Yes"},
    }
    assert button["context"]["id"] == "wamid.Q"
    row = payloads.interactive_reply(CUSTOMER, "list_reply", "r1", "Row", description="Desc")
    assert row["interactive"]["list_reply"] == {"id": "r1", "title": "Row", "description": "Desc"}
    with pytest.raises(ValueError):
        payloads.interactive_reply(CUSTOMER, "nfm_reply", "x", "X")


def test_button_reaction_unsupported():
    button = payloads.button_message(CUSTOMER, "STOP", "Stop promotions")
    assert button["type"] == "button"
    assert button["button"] == {"payload": "STOP", "text": "Stop promotions"}
    reaction = payloads.reaction_message(CUSTOMER, "wamid.OUT", "\N{THUMBS UP SIGN}")
    assert reaction["reaction"] == {"message_id": "wamid.OUT", "emoji": "\N{THUMBS UP SIGN}"}
    unsupported = payloads.unsupported_message(CUSTOMER)
    assert unsupported["type"] == "unsupported"
    assert "unsupported" not in unsupported
    (error,) = unsupported["errors"]
    assert error["code"] == 131051 and error["error_data"]["details"]


# -- statuses


def test_status_sent_carries_conversation_and_pricing():
    status = payloads.status("wamid.A", "sent", CUSTOMER, timestamp=1700000000)
    assert status["id"] == "wamid.A"
    assert status["status"] == "sent"
    assert status["timestamp"] == "1700000000"
    assert status["recipient_id"] == CUSTOMER
    conversation = status["conversation"]
    assert len(conversation["id"]) == 32
    assert conversation["origin"] == {"type": "service"}
    assert conversation["expiration_timestamp"] == str(1700000000 + 24 * 3600)
    assert status["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }


def test_status_delivered_and_read():
    delivered = payloads.status(
        "wamid.A", "delivered", CUSTOMER, category="marketing", conversation_id="c" * 32
    )
    assert delivered["conversation"] == {"id": "c" * 32, "origin": {"type": "marketing"}}
    assert delivered["pricing"]["billable"] is True
    assert delivered["pricing"]["type"] == "regular"
    read = payloads.status("wamid.A", "read", CUSTOMER)
    assert set(read) == {"id", "status", "timestamp", "recipient_id"}
    echoed = payloads.status("wamid.A", "read", CUSTOMER, biz_opaque_callback_data="uuid-1")
    assert echoed["biz_opaque_callback_data"] == "uuid-1"


def test_status_billable_override_and_origin():
    status = payloads.status(
        "wamid.A", "sent", CUSTOMER, category="utility", billable=False, origin_type="referral"
    )
    assert status["pricing"]["billable"] is False
    assert status["pricing"]["type"] == "free_customer_service"
    assert status["conversation"]["origin"]["type"] == "referral"


def test_status_failed_errors():
    failed = payloads.status("wamid.A", "failed", CUSTOMER)
    assert "pricing" not in failed and "conversation" not in failed
    assert failed["errors"][0]["code"] == 131026
    custom = payloads.error(131049, "Not delivered", "ecosystem engagement")
    assert payloads.status("wamid.A", "failed", CUSTOMER, errors=[custom])["errors"] == [custom]


# -- template changes


def test_template_changes():
    change = payloads.template_status_change(42, "order_update", "en_US", "REJECTED", reason="X")
    assert change == {
        "field": "message_template_status_update",
        "value": {
            "event": "REJECTED",
            "message_template_id": 42,
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "reason": "X",
        },
    }
    approved = payloads.template_status_change(42, "order_update", "en_US", "APPROVED")
    assert approved["value"]["reason"] == "NONE"
    quality = payloads.template_quality_change(42, "order_update", "en_US", "GREEN", "YELLOW")
    assert quality["field"] == "message_template_quality_update"
    assert quality["value"]["previous_quality_score"] == "GREEN"
    assert quality["value"]["new_quality_score"] == "YELLOW"


# -- full payloads, encoding, signing


def test_inbound_and_status_payloads():
    message = payloads.text_message(CUSTOMER, "Hi")
    value = _inbound(message)["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Alice"}, "wa_id": CUSTOMER}]
    assert value["messages"] == [message]
    assert value["metadata"]["phone_number_id"] == PHONE_ID
    status = payloads.status("wamid.A", "read", CUSTOMER)
    value = _statuses(status)["entry"][0]["changes"][0]["value"]
    assert value["statuses"] == [status]
    assert "contacts" not in value and "messages" not in value


def test_encode_is_compact_utf8():
    body = payloads.encode({"text": "Olá \N{GRINNING FACE}", "n": [1, 2]})
    assert body == '{"text":"Olá \N{GRINNING FACE}","n":[1,2]}'.encode()


def test_signed_body_verifies():
    payload = _inbound(payloads.text_message(CUSTOMER, "Çà va ?"))
    body, headers = payloads.signed(payload, "s3cret")
    assert json.loads(body) == payload
    assert headers["Content-Type"] == "application/json"
    assert webhook.verify_signature(body, headers["X-Hub-Signature-256"], "s3cret")
    assert not webhook.verify_signature(body, headers["X-Hub-Signature-256"], "other")


# -- round trip through the webhook parser


@needs_parse
@pytest.mark.parametrize(
    ("message", "type_", "text"),
    [
        (payloads.text_message(CUSTOMER, "Hello"), "text", "Hello"),
        (
            payloads.media_message(CUSTOMER, "image", "9", mime_type="image/png", caption="Look"),
            "image",
            "Look",
        ),
        (payloads.location_message(CUSTOMER, 1.5, 2.5, name="Home"), "location", "Home"),
        (payloads.contacts_message(CUSTOMER, [payloads.vcard("Bob", "+1")]), "contacts", "Bob"),
        (payloads.interactive_reply(CUSTOMER, "list_reply", "r", "Row"), "interactive", "Row"),
        (payloads.button_message(CUSTOMER, "P", "Yes"), "button", "Yes"),
        (payloads.reaction_message(CUSTOMER, "wamid.O", "\N{HEAVY BLACK HEART}"), "reaction", None),
        (payloads.unsupported_message(CUSTOMER), "unsupported", None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_inbound_round_trip(message, type_, text):
    batch = webhook.parse(payloads.encode(_inbound(message, name="Alice")))
    (parsed,) = batch.messages
    assert parsed.wamid == message["id"]
    assert parsed.wa_id == CUSTOMER
    assert parsed.profile_name == "Alice"
    assert parsed.phone_number_id == PHONE_ID
    assert parsed.type == type_
    assert parsed.timestamp == int(message["timestamp"])
    if text is not None:
        assert parsed.text == text


@needs_parse
def test_status_round_trip():
    sent = payloads.status(
        "wamid.A", "sent", CUSTOMER, category="utility", biz_opaque_callback_data="uuid-1"
    )
    failed = payloads.status("wamid.B", "failed", CUSTOMER)
    batch = webhook.parse(payloads.encode(_statuses(sent, failed)))
    first, second = batch.statuses
    assert (first.wamid, first.status, first.recipient_id) == ("wamid.A", "sent", CUSTOMER)
    assert (first.biz_opaque_callback_data, second.biz_opaque_callback_data) == ("uuid-1", "")
    assert first.conversation_id == sent["conversation"]["id"]
    assert first.conversation_expiration == int(sent["conversation"]["expiration_timestamp"])
    assert first.pricing.billable is True and first.pricing.category == "utility"
    assert first.pricing.pricing_model == "PMP" and first.pricing.type == "regular"
    assert second.status == "failed" and second.errors[0].code == 131026


@needs_parse
def test_template_round_trip():
    change = payloads.template_status_change(42, "order_update", "en_US", "APPROVED")
    batch = webhook.parse(payloads.envelope(WABA, [change], time=1700000000))
    (update,) = batch.template_updates
    assert (update.template_id, update.name, update.event) == ("42", "order_update", "APPROVED")
    assert update.timestamp == 1700000000
