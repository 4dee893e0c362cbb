"""Tests of ``tools.webhook``: signature, GET handshake and parsing of Meta's webhook bodies.

The samples follow the payloads documented by Meta for the WhatsApp Cloud API webhooks.
"""

import copy
import hashlib
import hmac
import json

import pytest
from wa_tools import webhook

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
CUSTOMER = "16505551234"
WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFFNUQ3QjJCRjkzNEVBMTRDRQA="


def notification(*changes, waba_id=WABA_ID, time=None) -> dict:
    """A full notification with one entry holding ``changes`` (``(field, value)`` pairs)."""
    entry = {"id": waba_id, "changes": [{"value": v, "field": f} for f, v in changes]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_value(messages=(), statuses=(), contacts=None) -> dict:
    """The ``value`` of a ``messages`` change as Meta sends it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
    }
    if messages:
        value["contacts"] = contacts or [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return value


def parse_message(message: dict) -> webhook.InboundMessage:
    batch = webhook.parse(notification(("messages", messages_value([message]))))
    assert len(batch.messages) == 1 and not batch.statuses
    return batch.messages[0]


def parse_status(status: dict) -> webhook.StatusUpdate:
    batch = webhook.parse(notification(("messages", messages_value(statuses=[status]))))
    assert len(batch.statuses) == 1 and not batch.messages
    return batch.statuses[0]


# --------------------------------------------------------------------------------------------
# Signature
# --------------------------------------------------------------------------------------------

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
SECRET = "8f3c1a2b9d4e"


def test_sign_matches_hashlib():
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert webhook.sign(BODY, SECRET) == "sha256=" + expected


def test_sign_fixed_vectors():
    # RFC 4231, test case 2.
    assert webhook.sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert webhook.sign(BODY, SECRET) == (
        "sha256=494e3c76cf4d6892549db3989abc65d0293650853d058bea62239e0e95cd31b5"
    )


def test_verify_signature_valid():
    assert webhook.verify_signature(BODY, webhook.sign(BODY, SECRET), SECRET)
    assert webhook.verify_signature(BODY, webhook.sign(BODY, SECRET) + "\r\n", SECRET)


def test_verify_signature_wrong_secret():
    assert not webhook.verify_signature(BODY, webhook.sign(BODY, "other-secret"), SECRET)


def test_verify_signature_tampered_body():
    header = webhook.sign(BODY, SECRET)
    assert not webhook.verify_signature(BODY.replace(b"[]", b"[{}]"), header, SECRET)
    assert not webhook.verify_signature(BODY + b" ", header, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=zz",
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
        hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()[:-1],
        b"sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest().encode(),
    ],
)
def test_verify_signature_missing_or_garbled_header(header):
    assert not webhook.verify_signature(BODY, header, SECRET)


def test_verify_signature_several_secrets():
    header = webhook.sign(BODY, SECRET)
    assert webhook.verify_signature(BODY, header, ["old-secret", SECRET])
    assert webhook.verify_signature(BODY, header, (SECRET, "next-secret"))
    assert not webhook.verify_signature(BODY, header, ["old-secret", "next-secret"])
    assert not webhook.verify_signature(BODY, header, [])
    assert not webhook.verify_signature(BODY, webhook.sign(BODY, ""), ["", None])


# --------------------------------------------------------------------------------------------
# GET handshake
# --------------------------------------------------------------------------------------------

HUB = {"hub.mode": "subscribe", "hub.verify_token": "s3cr3t-t0ken", "hub.challenge": "1158201444"}


def test_handshake_ok():
    assert webhook.handshake(HUB, "s3cr3t-t0ken") == "1158201444"


@pytest.mark.parametrize(
    "tokens",
    [["other", "s3cr3t-t0ken"], ("s3cr3t-t0ken",), {"", "s3cr3t-t0ken"}, iter(["s3cr3t-t0ken"])],
)
def test_handshake_ok_with_one_of_several_tokens(tokens):
    assert webhook.handshake(HUB, tokens) == "1158201444"


@pytest.mark.parametrize("tokens", ["wrong", ["a", "b"], [], None, "", "s3cr3t-t0ken "])
def test_handshake_wrong_token(tokens):
    with pytest.raises(webhook.HandshakeError, match="verify_token"):
        webhook.handshake(HUB, tokens)


def test_handshake_empty_tokens_never_match():
    params = {**HUB, "hub.verify_token": ""}
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake(params, "")
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake({"hub.mode": "subscribe", "hub.challenge": "1"}, ["", None])


@pytest.mark.parametrize("mode", ["unsubscribe", "", "SUBSCRIBE", None])
def test_handshake_wrong_mode(mode):
    params = {**HUB, "hub.mode": mode}
    with pytest.raises(webhook.HandshakeError, match="hub.mode"):
        webhook.handshake(params, "s3cr3t-t0ken")


def test_handshake_missing_mode():
    params = {k: v for k, v in HUB.items() if k != "hub.mode"}
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake(params, "s3cr3t-t0ken")


@pytest.mark.parametrize("challenge", [None, ""])
def test_handshake_missing_challenge(challenge):
    params = {**HUB, "hub.challenge": challenge}
    with pytest.raises(webhook.HandshakeError, match="challenge"):
        webhook.handshake(params, "s3cr3t-t0ken")


def test_handshake_error_is_a_webhook_error():
    assert issubclass(webhook.HandshakeError, webhook.WebhookError)
    assert issubclass(webhook.WebhookError, ValueError)


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------

TEXT_BODY = b"""{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [{
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {
          "display_phone_number": "15550783881",
          "phone_number_id": "106540352242922"
        },
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16505551234"}],
        "messages": [{
          "from": "16505551234",
          "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFFNUQ3QjJCRjkzNEVBMTRDRQA=",
          "timestamp": "1749416383",
          "type": "text",
          "text": {"body": "Does it come in another color? \\u00e7a va \\ud83d\\ude00"}
        }]
      },
      "field": "messages"
    }]
  }]
}"""


def test_text_message_from_raw_bytes():
    batch = webhook.parse(TEXT_BODY)
    (message,) = batch.messages
    assert message.waba_id == WABA_ID
    assert message.phone_number_id == PHONE_NUMBER_ID
    assert message.display_phone_number == DISPLAY_PHONE_NUMBER
    assert message.wa_id == CUSTOMER
    assert message.profile_name == "Kerry Fisher"
    assert message.wamid == WAMID
    assert message.timestamp == 1749416383
    assert message.type == "text"
    assert message.text == "Does it come in another color? ça va 😀"
    assert message.media is message.location is message.context is message.referral is None
    assert message.errors == ()
    assert message.raw["text"]["body"] == message.text
    assert message.key == "msg:" + WAMID
    assert batch.profile_names == {CUSTOMER: "Kerry Fisher"}
    assert batch.events == [message]
    assert len(batch) == 1


def test_body_as_str_bytes_bytearray_and_dict_give_the_same_batch():
    expected = webhook.parse(TEXT_BODY)
    assert webhook.parse(TEXT_BODY.decode()) == expected
    assert webhook.parse(bytearray(TEXT_BODY)) == expected
    assert webhook.parse(json.loads(TEXT_BODY)) == expected


def test_text_message_with_ad_referral():
    message = parse_message(
        {
            "referral": {
                "source_url": "https://fb.me/3cr4Wqqkv",
                "source_id": "120226305854810726",
                "source_type": "ad",
                "headline": "Chat with us",
                "body": "Free shipping on all orders this week!",
                "media_type": "image",
                "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/photo.jpg",
                "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4",
            },
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1749416383",
            "text": {"body": "Is this still available?"},
            "type": "text",
        }
    )
    assert message.text == "Is this still available?"
    assert message.referral["source_type"] == "ad"
    assert message.referral["ctwa_clid"].startswith("ARAk")


def test_image_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "image",
            "image": {
                "caption": "Damaged box",
                "mime_type": "image/jpeg",
                "sha256": "SfInY0gHd+0GSsD6ZJ/7N7XFf6w5vkYLmf3mwErbAlk=",
                "id": "1003383421387256",
            },
        }
    )
    assert message.type == "image"
    assert message.text == "Damaged box"
    assert message.media == webhook.Media(
        id="1003383421387256",
        mime_type="image/jpeg",
        sha256="SfInY0gHd+0GSsD6ZJ/7N7XFf6w5vkYLmf3mwErbAlk=",
        caption="Damaged box",
    )


def test_image_without_caption_is_labelled():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "image",
            "image": {"mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256"},
        }
    )
    assert message.text == "[image]"
    assert message.media.caption == ""


def test_document_message_uses_filename_without_caption():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "document",
            "document": {
                "filename": "invoice-2025-0042.pdf",
                "mime_type": "application/pdf",
                "sha256": "n8z2mPDw3p0pLCnMuFa5Rut0LqElWJH9f0Rj2nCx4Oc=",
                "id": "1214447116715516",
            },
        }
    )
    assert message.text == "invoice-2025-0042.pdf"
    assert message.media.filename == "invoice-2025-0042.pdf"
    assert message.media.mime_type == "application/pdf"


def test_document_message_with_caption():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "document",
            "document": {
                "caption": "Here is the invoice",
                "filename": "invoice.pdf",
                "mime_type": "application/pdf",
                "sha256": "abc=",
                "id": "1214447116715516",
            },
        }
    )
    assert message.text == "Here is the invoice"


def test_voice_audio_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "audio",
            "audio": {
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "pZGxZzNE4dT8Lz3mD4Gq0XJb8b3V6yK9a1lY2ZsPzKQ=",
                "id": "2151016005323557",
                "voice": True,
            },
        }
    )
    assert message.media.voice is True
    assert message.media.mime_type == "audio/ogg; codecs=opus"
    assert message.text == "[voice message]"


def test_audio_file_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "audio",
            "audio": {"mime_type": "audio/mpeg", "sha256": "abc=", "id": "2151016005323557"},
        }
    )
    assert message.media.voice is False
    assert message.text == "[audio]"


def test_video_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "video",
            "video": {
                "caption": "The noise it makes",
                "mime_type": "video/mp4",
                "sha256": "IQ9ZkqRzVZ0aQdCzP1d6HUOr1d/3ot8cNNh1nF5sRkU=",
                "id": "1362587368324063",
            },
        }
    )
    assert message.text == "The noise it makes"
    assert message.media.id == "1362587368324063"


def test_sticker_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "sticker",
            "sticker": {
                "mime_type": "image/webp",
                "sha256": "AHj4tOmVGzsEGV8rXNA3Hv5Uu3H6TN4IdwNkhRIFUlk=",
                "id": "1218993922793853",
                "animated": True,
            },
        }
    )
    assert message.text == "[sticker]"
    assert message.media.animated is True


def test_location_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "location",
            "location": {
                "address": "101 Forest Ave, Palo Alto, CA 94301",
                "latitude": 37.44216251868683,
                "longitude": -122.16153582049394,
                "name": "Philz Coffee",
                "url": "https://www.philzcoffee.com/",
            },
        }
    )
    assert message.location == webhook.Location(
        latitude=37.44216251868683,
        longitude=-122.16153582049394,
        name="Philz Coffee",
        address="101 Forest Ave, Palo Alto, CA 94301",
        url="https://www.philzcoffee.com/",
    )
    assert message.text == "Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301"


def test_pinned_location_without_name_shows_coordinates():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "location",
            "location": {"latitude": 48.8584, "longitude": 2.2945},
        }
    )
    assert message.text == "48.8584, 2.2945"


def test_contacts_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "contacts",
            "contacts": [
                {
                    "addresses": [
                        {"city": "Menlo Park", "country": "United States", "type": "HOME"}
                    ],
                    "birthday": "1999-01-23",
                    "emails": [{"email": "barbara.johnson@example.com", "type": "WORK"}],
                    "name": {
                        "first_name": "Barbara",
                        "last_name": "Johnson",
                        "formatted_name": "Barbara J. Johnson",
                    },
                    "org": {"company": "Lucky Shrub", "department": "Legal"},
                    "phones": [
                        {"phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "WORK"},
                        {"phone": "+1 (650) 555-5678", "type": "HOME"},
                    ],
                    "urls": [{"url": "https://www.luckyshrub.com", "type": "WORK"}],
                },
                {"name": {"first_name": "Max", "last_name": "Ng"}, "phones": []},
            ],
        }
    )
    first, second = message.contacts
    assert first.name == "Barbara J. Johnson"
    assert first.phones == (
        webhook.ContactPhone("+1 (650) 555-1234", "WORK", "16505551234"),
        webhook.ContactPhone("+1 (650) 555-5678", "HOME"),
    )
    assert first.wa_ids == ("16505551234",)
    assert first.emails == ("barbara.johnson@example.com",)
    assert first.organization == "Lucky Shrub"
    assert second.name == "Max Ng"
    assert message.text == "Barbara J. Johnson, Max Ng"


def test_interactive_button_reply():
    message = parse_message(
        {
            "context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI="},
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "cancel-order", "title": "Cancel my order"},
            },
        }
    )
    assert message.interactive == webhook.InteractiveReply(
        kind="button_reply", id="cancel-order", title="Cancel my order"
    )
    assert message.text == "Cancel my order"
    assert message.context.from_ == DISPLAY_PHONE_NUMBER
    assert message.context.id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI="


def test_interactive_list_reply():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {
                    "id": "priority_express",
                    "title": "Priority Mail Express",
                    "description": "Next Day to 2 Days",
                },
            },
        }
    )
    assert message.interactive.kind == "list_reply"
    assert message.interactive.id == "priority_express"
    assert message.interactive.description == "Next Day to 2 Days"
    assert message.text == "Priority Mail Express"


def test_interactive_flow_reply():
    message = parse_message(
        {
            "context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI="},
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "interactive",
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {
                    "response_json": '{"flow_token": "AQAAAAACS5FpgQ_cAAA.", "rating": "5"}',
                    "body": "Sent",
                    "name": "flow",
                },
            },
        }
    )
    assert message.interactive.kind == "nfm_reply"
    assert message.interactive.id is None
    assert message.interactive.title == "Sent"
    assert message.interactive.response == {
        "flow_token": "AQAAAAACS5FpgQ_cAAA.",
        "rating": "5",
    }
    assert message.text == "Sent"


def test_interactive_flow_reply_with_garbled_response_json_is_kept():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "interactive",
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {"response_json": "{oops", "body": ""},
            },
        }
    )
    assert message.interactive.response is None
    assert message.text == "[interactive nfm_reply]"


def test_template_quick_reply_button():
    message = parse_message(
        {
            "context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI="},
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "button",
            "button": {"payload": "STOP_PROMOTIONS", "text": "Stop promotions"},
        }
    )
    assert message.button == webhook.ButtonReply(payload="STOP_PROMOTIONS", text="Stop promotions")
    assert message.text == "Stop promotions"


def test_reaction_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "reaction",
            "reaction": {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=", "emoji": "\U0001f44d"},
        }
    )
    assert message.reaction == webhook.Reaction(
        message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=", emoji="👍"
    )
    assert message.text == "👍"


def test_reaction_removed():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "reaction",
            "reaction": {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI="},
        }
    )
    assert message.reaction.emoji == ""
    assert message.text == "[reaction removed]"


def test_order_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "order",
            "order": {
                "catalog_id": "194836987003835",
                "text": "Please deliver before Friday",
                "product_items": [
                    {
                        "product_retailer_id": "di9ozbzfi4",
                        "quantity": 2,
                        "item_price": 30.5,
                        "currency": "USD",
                    },
                    {
                        "product_retailer_id": "nqryix03ez",
                        "quantity": "1",
                        "item_price": "9.99",
                        "currency": "USD",
                    },
                ],
            },
        }
    )
    assert message.order.catalog_id == "194836987003835"
    assert message.order.items == (
        webhook.OrderItem("di9ozbzfi4", quantity=2, item_price=30.5, currency="USD"),
        webhook.OrderItem("nqryix03ez", quantity=1, item_price=9.99, currency="USD"),
    )
    assert message.text == "Please deliver before Friday"


def test_order_message_without_text_is_labelled():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "order",
            "order": {
                "catalog_id": "194836987003835",
                "product_items": [
                    {"product_retailer_id": "a", "quantity": 1, "item_price": 1, "currency": "EUR"},
                    {"product_retailer_id": "b", "quantity": 1, "item_price": 2, "currency": "EUR"},
                ],
            },
        }
    )
    assert message.text == "[order: 2 items]"


def test_system_message_user_changed_number():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "system",
            "system": {
                "body": "Kerry Fisher changed from 16505551234 to 16505556789",
                "new_wa_id": "16505556789",
                "type": "user_changed_number",
            },
        }
    )
    assert message.system == webhook.SystemNotice(
        kind="user_changed_number",
        body="Kerry Fisher changed from 16505551234 to 16505556789",
        new_wa_id="16505556789",
    )
    assert message.text == "Kerry Fisher changed from 16505551234 to 16505556789"


def test_unsupported_message():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "unsupported",
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        }
    )
    assert message.type == "unsupported"
    assert message.errors == (
        webhook.MessageError(
            code=131051,
            title="Message type unknown",
            message="Message type unknown",
            details="Message type is currently not supported.",
        ),
    )
    assert message.text == "[unsupported message] Message type unknown"


def test_unknown_message_type_is_kept_with_a_label():
    message = parse_message(
        {
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "type": "hologram",
            "hologram": {"id": "42", "shimmer": True},
            "some_future_key": [1, 2, 3],
        }
    )
    assert message.type == "hologram"
    assert message.text == "[hologram message]"
    assert message.raw["hologram"] == {"id": "42", "shimmer": True}


def test_forwarded_message_context():
    message = parse_message(
        {
            "context": {"forwarded": True, "frequently_forwarded": True},
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "text": {"body": "Chain letter"},
            "type": "text",
        }
    )
    assert message.context == webhook.Context(forwarded=True, frequently_forwarded=True)


def test_product_inquiry_context():
    message = parse_message(
        {
            "context": {
                "from": DISPLAY_PHONE_NUMBER,
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=",
                "referred_product": {
                    "catalog_id": "194836987003835",
                    "product_retailer_id": "di9ozbzfi4",
                },
            },
            "from": CUSTOMER,
            "id": WAMID,
            "timestamp": "1744344496",
            "text": {"body": "Is this in stock?"},
            "type": "text",
        }
    )
    assert message.context.referred_product == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "di9ozbzfi4",
    }
    assert message.context.forwarded is False


def test_message_without_matching_contact_has_empty_profile_name():
    value = messages_value(
        [{"from": "447700900123", "id": WAMID, "timestamp": "1700000000", "type": "text"}],
        contacts=[{"profile": {"name": "Someone Else"}, "wa_id": CUSTOMER}],
    )
    (message,) = webhook.parse(notification(("messages", value))).messages
    assert message.profile_name == ""
    assert message.text == ""


def test_webhook_level_errors_are_kept_on_the_batch():
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "errors": [
            {
                "code": 131000,
                "title": "Something went wrong",
                "message": "Something went wrong",
                "error_data": {"details": "Message failed to send because of an unknown error."},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
    }
    batch = webhook.parse(notification(("messages", value), time=1700000000))
    assert not batch.messages and not batch.statuses
    (error,) = batch.errors
    (account_error,) = batch.account_errors
    assert account_error.error == error
    assert account_error.phone_number_id == PHONE_NUMBER_ID
    assert account_error.key.startswith(f"err:{PHONE_NUMBER_ID}:")
    assert batch.events == [account_error]
    assert error.code == 131000
    assert error.details == "Message failed to send because of an unknown error."
    assert error.href.endswith("/error-codes/")


# --------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------


def test_status_sent_with_conversation_and_pricing():
    status = parse_status(
        {
            "id": WAMID,
            "status": "sent",
            "timestamp": "1750263773",
            "recipient_id": CUSTOMER,
            "conversation": {
                "id": "6ceb9d929c0fa2e5ba5fd6ba8e7e8ffa",
                "expiration_timestamp": "1750350180",
                "origin": {"type": "utility"},
            },
            "pricing": {
                "billable": True,
                "pricing_model": "PMP",
                "category": "utility",
                "type": "regular",
            },
            "biz_opaque_callback_data": "ticket:42",
        }
    )
    assert status == webhook.StatusUpdate(
        waba_id=WABA_ID,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number=DISPLAY_PHONE_NUMBER,
        wamid=WAMID,
        status="sent",
        timestamp=1750263773,
        recipient_id=CUSTOMER,
        conversation_id="6ceb9d929c0fa2e5ba5fd6ba8e7e8ffa",
        conversation_origin="utility",
        conversation_expiration=1750350180,
        pricing=webhook.Pricing(
            billable=True, pricing_model="PMP", category="utility", type="regular"
        ),
        biz_opaque_callback_data="ticket:42",
        raw=status.raw,
    )
    assert status.key == f"st:{WAMID}:sent"


@pytest.mark.parametrize(
    ("category", "billable", "pricing_type"),
    [
        ("utility", True, "regular"),
        ("marketing", True, "regular"),
        ("authentication", True, "regular"),
        ("service", False, "free_customer_service"),
    ],
)
def test_status_pricing_categories(category, billable, pricing_type):
    status = parse_status(
        {
            "id": WAMID,
            "status": "delivered",
            "timestamp": "1750263774",
            "recipient_id": CUSTOMER,
            "pricing": {
                "billable": billable,
                "pricing_model": "PMP",
                "category": category,
                "type": pricing_type,
            },
        }
    )
    assert status.pricing == webhook.Pricing(billable, "PMP", category, pricing_type)
    assert status.conversation_id == "" and status.conversation_expiration is None


def test_status_delivered_without_expiration():
    status = parse_status(
        {
            "id": WAMID,
            "status": "delivered",
            "timestamp": "1750263774",
            "recipient_id": CUSTOMER,
            "conversation": {
                "id": "6ceb9d929c0fa2e5ba5fd6ba8e7e8ffa",
                "origin": {"type": "service"},
            },
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        }
    )
    assert status.status == "delivered"
    assert status.conversation_origin == "service"
    assert status.conversation_expiration is None
    assert status.pricing.type == ""


def test_status_read_has_no_pricing():
    status = parse_status(
        {"id": WAMID, "status": "read", "timestamp": "1750263780", "recipient_id": CUSTOMER}
    )
    assert status.status == "read"
    assert status.pricing is None
    assert status.errors == ()


def test_status_failed_with_errors():
    status = parse_status(
        {
            "id": WAMID,
            "status": "failed",
            "timestamp": "1750263790",
            "recipient_id": CUSTOMER,
            "errors": [
                {
                    "code": 131047,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {
                        "details": "Message failed to send because more than 24 hours have "
                        "passed since the customer last replied to this number."
                    },
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ],
        }
    )
    assert status.status == "failed"
    (error,) = status.errors
    assert error.code == 131047
    assert error.title == "Re-engagement message"
    assert error.details.startswith("Message failed to send because more than 24 hours")
    assert error.href.startswith("https://developers.facebook.com/")


def test_status_error_with_legacy_details_and_string_code():
    status = parse_status(
        {
            "id": WAMID,
            "status": "failed",
            "timestamp": "1750263790",
            "errors": [{"code": "470", "title": "Message failed", "details": "Legacy details"}],
        }
    )
    assert status.errors == (
        webhook.MessageError(code=470, title="Message failed", details="Legacy details"),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("deleted", "deleted"), ("warning", "warning"), ("PLAYED", "played"), ("Sent", "sent")],
)
def test_other_statuses_are_kept_lower_cased(raw, expected):
    status = parse_status({"id": WAMID, "status": raw, "timestamp": "1750263790"})
    assert status.status == expected
    assert status.key == f"st:{WAMID}:{expected}"


# --------------------------------------------------------------------------------------------
# Template updates and other fields
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("APPROVED", "NONE"),
        ("REJECTED", "INCORRECT_CATEGORY"),
        ("PENDING", None),
        ("PAUSED", None),
        ("DISABLED", None),
        ("IN_APPEAL", None),
        ("FLAGGED", None),
        ("REINSTATED", None),
    ],
)
def test_template_status_update(event, reason):
    value = {
        "event": event,
        "message_template_id": 806312974732579,
        "message_template_name": "order_confirmation",
        "message_template_language": "en_US",
    }
    if reason:
        value["reason"] = reason
    batch = webhook.parse(notification(("message_template_status_update", value), time=1674864290))
    (update,) = batch.template_updates
    assert update == webhook.TemplateUpdate(
        waba_id=WABA_ID,
        field="message_template_status_update",
        event=event,
        template_id="806312974732579",
        name="order_confirmation",
        language="en_US",
        reason=reason or "",
        timestamp=1674864290,
        raw=value,
    )
    assert update.key == f"tpl:806312974732579:message_template_status_update:{event}:1674864290"


def test_template_status_update_with_other_info_is_tolerated():
    body = {
        "entry": [
            {
                "id": WABA_ID,
                "time": "1674864290",
                "changes": [
                    {
                        "value": {
                            "event": "PAUSED",
                            "message_template_id": 806312974732579,
                            "message_template_name": "spring_sale",
                            "message_template_language": "en_US",
                            "reason": None,
                            "other_info": {
                                "title": "FIRST_PAUSE",
                                "description": "Paused for 3 hours due to low quality.",
                            },
                        },
                        "field": "message_template_status_update",
                    }
                ],
            }
        ],
        "object": "whatsapp_business_account",
    }
    (update,) = webhook.parse(body).template_updates
    assert (update.event, update.reason, update.timestamp) == ("PAUSED", "", 1674864290)


def test_template_quality_update():
    value = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "YELLOW",
        "message_template_id": 806312974732579,
        "message_template_name": "order_confirmation",
        "message_template_language": "en-US",
    }
    batch = webhook.parse(notification(("message_template_quality_update", value), time=1674864291))
    (update,) = batch.template_updates
    assert update.event == ""
    assert (update.previous_quality_score, update.new_quality_score) == ("GREEN", "YELLOW")
    assert update.key == ("tpl:806312974732579:message_template_quality_update:YELLOW:1674864291")


def test_template_category_update():
    value = {
        "message_template_id": 806312974732579,
        "message_template_name": "order_confirmation",
        "message_template_language": "en-US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    batch = webhook.parse(notification(("template_category_update", value), time=1674864292))
    (update,) = batch.template_updates
    assert (update.previous_category, update.new_category) == ("UTILITY", "MARKETING")
    assert update.key == "tpl:806312974732579:template_category_update:MARKETING:1674864292"


def test_template_components_update_without_entry_time():
    value = {
        "message_template_id": 806312974732579,
        "message_template_name": "order_confirmation",
        "message_template_language": "en-US",
        "message_template_element": "Your order {{1}} has shipped.",
        "message_template_footer": "Lucky Shrub",
    }
    batch = webhook.parse(notification(("message_template_components_update", value)))
    (update,) = batch.template_updates
    assert update.timestamp is None
    assert update.key == "tpl:806312974732579:message_template_components_update::"


def test_account_and_phone_number_changes_are_account_updates():
    account_update = {
        "phone_number": "15550783881",
        "event": "VERIFIED_ACCOUNT",
    }
    quality_update = {
        "display_phone_number": "15550783881",
        "event": "FLAGGED",
        "current_limit": "TIER_10K",
    }
    batch = webhook.parse(
        notification(
            ("account_update", account_update),
            ("phone_number_quality_update", quality_update),
            ("some_future_field", {}),
        )
    )
    verified, flagged = batch.account_updates
    assert (verified.field, verified.event, verified.display_phone_number) == (
        "account_update",
        "VERIFIED_ACCOUNT",
        "15550783881",
    )
    assert (flagged.field, flagged.event, flagged.messaging_limit) == (
        "phone_number_quality_update",
        "FLAGGED",
        "TIER_10K",
    )
    assert batch.other == [webhook.OtherChange(WABA_ID, "some_future_field", {})]
    assert batch.events == [verified, flagged, *batch.other]


def test_unknown_keys_everywhere_are_tolerated():
    body = json.loads(TEXT_BODY)
    body["new_top_level"] = True
    entry = body["entry"][0]
    entry["new_entry_key"] = [1]
    entry["changes"][0]["new_change_key"] = "x"
    value = entry["changes"][0]["value"]
    value["new_value_key"] = None
    value["metadata"]["new_metadata_key"] = 3
    value["messages"][0]["new_message_key"] = {"x": 1}
    value["messages"][0]["text"]["new_text_key"] = "y"
    (message,) = webhook.parse(body).messages
    assert message.raw["new_message_key"] == {"x": 1}
    assert message.text.startswith("Does it come in another color?")


# --------------------------------------------------------------------------------------------
# Batches and keys
# --------------------------------------------------------------------------------------------


def big_batch_body() -> dict:
    """Two entries (two business accounts), several changes, messages and statuses."""
    first = notification(
        (
            "messages",
            messages_value(
                [
                    {
                        "from": CUSTOMER,
                        "id": "wamid.A1",
                        "timestamp": "1700000001",
                        "type": "text",
                        "text": {"body": "Hello"},
                    },
                    {
                        "from": "447700900123",
                        "id": "wamid.A2",
                        "timestamp": "1700000002",
                        "type": "reaction",
                        "reaction": {"message_id": "wamid.X", "emoji": "🙏"},
                    },
                ],
                contacts=[
                    {"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER},
                    {"profile": {"name": "Alice Smith"}, "wa_id": "447700900123"},
                ],
            ),
        ),
        (
            "messages",
            messages_value(
                statuses=[
                    {"id": "wamid.S1", "status": "sent", "timestamp": "1700000003"},
                    {"id": "wamid.S1", "status": "delivered", "timestamp": "1700000004"},
                    {"id": "wamid.S1", "status": "read", "timestamp": "1700000005"},
                ]
            ),
        ),
        time=1700000010,
    )
    second = notification(
        ("message_template_status_update", {"event": "APPROVED", "message_template_id": 1}),
        ("message_template_status_update", {"event": "PAUSED", "message_template_id": 1}),
        ("message_template_quality_update", {"new_quality_score": "RED", "message_template_id": 1}),
        ("account_update", {"event": "ACCOUNT_UPDATE"}),
        (
            "messages",
            messages_value(
                [
                    {
                        "from": CUSTOMER,
                        "id": "wamid.B1",
                        "timestamp": "1700000020",
                        "type": "text",
                        "text": {"body": "Second account"},
                    }
                ]
            ),
        ),
        waba_id="200000000000001",
        time=1700000030,
    )
    return {"object": "whatsapp_business_account", "entry": first["entry"] + second["entry"]}


def test_batch_with_several_entries_changes_and_messages():
    batch = webhook.parse(json.dumps(big_batch_body()).encode())
    assert [m.wamid for m in batch.messages] == ["wamid.A1", "wamid.A2", "wamid.B1"]
    assert [m.waba_id for m in batch.messages] == [WABA_ID, WABA_ID, "200000000000001"]
    assert [m.profile_name for m in batch.messages] == [
        "Kerry Fisher",
        "Alice Smith",
        "Kerry Fisher",
    ]
    assert [s.status for s in batch.statuses] == ["sent", "delivered", "read"]
    assert [t.event or t.new_quality_score for t in batch.template_updates] == [
        "APPROVED",
        "PAUSED",
        "RED",
    ]
    assert {t.timestamp for t in batch.template_updates} == {1700000030}
    assert [o.field for o in batch.account_updates] == ["account_update"]
    assert not batch.other and not batch.rejected
    assert batch.events == (
        batch.messages + batch.statuses + batch.template_updates + batch.account_updates
    )
    assert len(batch) == 3 + 3 + 3 + 1
    assert batch.profile_names == {CUSTOMER: "Kerry Fisher", "447700900123": "Alice Smith"}


def test_keys_are_unique_per_event_and_stable_across_redeliveries():
    body = json.dumps(big_batch_body())
    keys = [event.key for event in webhook.parse(body).events]
    assert len(keys) == len(set(keys)) == 10
    assert keys == [event.key for event in webhook.parse(body).events]
    assert keys[:3] == ["msg:wamid.A1", "msg:wamid.A2", "msg:wamid.B1"]
    assert keys[3:6] == ["st:wamid.S1:sent", "st:wamid.S1:delivered", "st:wamid.S1:read"]


def test_empty_entry_list_is_an_empty_batch():
    batch = webhook.parse(BODY)
    assert batch == webhook.WebhookBatch()
    assert len(batch) == 0


def test_records_are_frozen():
    (message,) = webhook.parse(TEXT_BODY).messages
    with pytest.raises(AttributeError):
        message.text = "changed"


# --------------------------------------------------------------------------------------------
# Malformed bodies
# --------------------------------------------------------------------------------------------


def _text_notification() -> dict:
    return json.loads(TEXT_BODY)


def _status_notification() -> dict:
    status = {"id": WAMID, "status": "sent", "timestamp": "1750263773", "recipient_id": CUSTOMER}
    return notification(("messages", messages_value(statuses=[status])))


def _mutated(make, mutate):
    body = copy.deepcopy(make())
    mutate(body)
    return body


def _value(body):
    return body["entry"][0]["changes"][0]["value"]


def _first_message(body):
    return _value(body)["messages"][0]


def _first_status(body):
    return _value(body)["statuses"][0]


MALFORMED = {
    "not utf-8": b'{"object": "whatsapp_business_account", "entry": ["\xff"]}',
    "invalid json": b'{"object": "whatsapp_business_account", "entry": [',
    "empty body": b"",
    "top level list": b"[]",
    "top level string": '"whatsapp_business_account"',
    "top level null": None,
    "wrong object": {"object": "page", "entry": []},
    "missing object": {"entry": []},
    "missing entry": {"object": "whatsapp_business_account"},
    "entry not a list": {"object": "whatsapp_business_account", "entry": {"id": "1"}},
    "body too large": b" " * (webhook.MAX_BODY_BYTES + 1),
    "nesting past the JSON decoder's limit": b'{"object": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_raise_webhook_error(body):
    with pytest.raises(webhook.WebhookError) as info:
        webhook.parse(body)
    message = str(info.value)
    assert message and "\n" not in message and len(message) < 200
    assert "Traceback" not in message


# Parts of a well-formed notification that cannot be read: each is rejected on its own.
BAD_PARTS = {
    "entry item not an object": {"object": "whatsapp_business_account", "entry": ["x"]},
    "changes not a list": {"object": "whatsapp_business_account", "entry": [{"changes": {}}]},
    "change not an object": {"object": "whatsapp_business_account", "entry": [{"changes": [1]}]},
    "change without field": _mutated(
        _text_notification, lambda b: b["entry"][0]["changes"][0].pop("field")
    ),
    "value not an object": _mutated(
        _text_notification, lambda b: b["entry"][0]["changes"][0].update(value=[])
    ),
    "value missing": _mutated(
        _text_notification, lambda b: b["entry"][0]["changes"][0].pop("value")
    ),
    "template value not an object": notification(("message_template_status_update", "APPROVED")),
    "messages not a list": _mutated(_text_notification, lambda b: _value(b).update(messages={})),
    "message not an object": _mutated(
        _text_notification, lambda b: _value(b).update(messages=["hi"])
    ),
    "message without id": _mutated(_text_notification, lambda b: _first_message(b).pop("id")),
    "message without from": _mutated(
        _text_notification,
        lambda b: (_first_message(b).pop("from"), _value(b).pop("contacts")),
    ),
    "message from is not a number": _mutated(
        _text_notification, lambda b: _first_message(b).update({"from": "+1 650 555"})
    ),
    "message without type": _mutated(_text_notification, lambda b: _first_message(b).pop("type")),
    "message with empty id": _mutated(
        _text_notification, lambda b: _first_message(b).update(id="")
    ),
    "message id too long for an index": _mutated(
        _text_notification, lambda b: _first_message(b).update(id="wamid." + "A" * 2701)
    ),
    "message timestamp not numeric": _mutated(
        _text_notification, lambda b: _first_message(b).update(timestamp="yesterday")
    ),
    "message timestamp missing": _mutated(
        _text_notification, lambda b: _first_message(b).pop("timestamp")
    ),
    "message timestamp boolean": _mutated(
        _text_notification, lambda b: _first_message(b).update(timestamp=True)
    ),
    "message timestamp past 2100": _mutated(
        _text_notification, lambda b: _first_message(b).update(timestamp=10**20)
    ),
    "message timestamp before 2000": _mutated(
        _text_notification, lambda b: _first_message(b).update(timestamp="1")
    ),
    "message without phone_number_id": _mutated(
        _text_notification, lambda b: _value(b)["metadata"].pop("phone_number_id")
    ),
    "message without metadata": _mutated(_text_notification, lambda b: _value(b).pop("metadata")),
    "metadata not an object": _mutated(
        _text_notification, lambda b: _value(b).update(metadata="106540352242922")
    ),
    "location without coordinates": _mutated(
        _text_notification,
        lambda b: _first_message(b).update(type="location", location={"name": "Somewhere"}),
    ),
    "location out of range": _mutated(
        _text_notification,
        lambda b: _first_message(b).update(
            type="location", location={"latitude": 91.5, "longitude": 10}
        ),
    ),
    "content not an object": _mutated(
        _text_notification, lambda b: _first_message(b).update(text="plain string")
    ),
    "statuses not a list": _mutated(_status_notification, lambda b: _value(b).update(statuses="x")),
    "status without id": _mutated(_status_notification, lambda b: _first_status(b).pop("id")),
    "status without status": _mutated(
        _status_notification, lambda b: _first_status(b).pop("status")
    ),
    "status timestamp not numeric": _mutated(
        _status_notification, lambda b: _first_status(b).update(timestamp="12:30")
    ),
    "conversation expiration not numeric": _mutated(
        _status_notification,
        lambda b: _first_status(b).update(
            conversation={"id": "c1", "expiration_timestamp": "tomorrow"}
        ),
    ),
    "entry time not numeric": notification(
        ("message_template_status_update", {"event": "APPROVED"}), time="noon"
    ),
    "errors not a list": _mutated(
        _status_notification, lambda b: _first_status(b).update(errors={})
    ),
}


@pytest.mark.parametrize("body", BAD_PARTS.values(), ids=BAD_PARTS.keys())
def test_unreadable_parts_are_rejected_one_by_one(body):
    batch = webhook.parse(body)
    assert not batch.messages and not batch.statuses and not batch.template_updates
    (rejected,) = batch.rejected
    assert rejected.where.startswith("entry[0]")
    assert rejected.reason and "\n" not in rejected.reason and len(rejected.reason) < 300
    assert rejected.key.startswith("bad:")
    assert batch.events == [rejected]
    json.dumps(rejected.raw)  # storable as it is


def test_one_bad_message_does_not_cost_the_others():
    body = _text_notification()
    good = _first_message(body)
    bad = dict(good, id="wamid.BAD", timestamp="soon")
    _value(body)["messages"] = [bad, good, dict(good, id="wamid.OTHER")]
    _value(body)["statuses"] = [{"id": "wamid.S", "status": "sent", "timestamp": "1700000000"}]
    batch = webhook.parse(body)
    assert [m.wamid for m in batch.messages] == [good["id"], "wamid.OTHER"]
    assert [s.wamid for s in batch.statuses] == ["wamid.S"]
    (rejected,) = batch.rejected
    assert rejected.where == "entry[0].changes[0].value.messages[0]"
    assert rejected.raw == bad
    assert rejected.phone_number_id == PHONE_NUMBER_ID and rejected.waba_id == WABA_ID
    assert "timestamp" in rejected.reason


def test_rejected_keys_are_stable_across_redeliveries():
    body = json.dumps(BAD_PARTS["message without id"])
    assert webhook.parse(body).rejected[0].key == webhook.parse(body).rejected[0].key


def test_malformed_error_names_the_offending_path():
    body = _mutated(_text_notification, lambda b: _first_message(b).pop("id"))
    (rejected,) = webhook.parse(body).rejected
    assert rejected.where == "entry[0].changes[0].value.messages[0]"
    assert "entry[0].changes[0].value.messages[0].id" in rejected.reason


def test_max_body_bytes():
    assert webhook.MAX_BODY_BYTES == 3 * 1024 * 1024
