"""Tests of ``tools.webhook`` parsing inbound messages: each type Meta documents, with its media,
location, shared contacts, replies, context, ad referral and the sender's profile name.

The samples follow the payloads documented by Meta for the WhatsApp Cloud API webhooks.
"""

from wa_tools import webhook
from webhook_samples import (
    CUSTOMER,
    DISPLAY_PHONE_NUMBER,
    PHONE_NUMBER_ID,
    TEXT_BODY,
    WABA_ID,
    WAMID,
    messages_value,
    notification,
    parse_message,
)


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
