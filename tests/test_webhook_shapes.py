"""Tests of ``tools.webhook`` for the shapes Meta added or that were dropped before: username
senders (BSUID), account and phone number updates, webhook-level errors, template rejection and
category notices, media URLs, unsupported subtypes, shared contact phones and reactions."""

import webhook_samples
from wa_tools import webhook
from webhook_samples import CUSTOMER, PHONE_NUMBER_ID, WABA_ID, WAMID, messages_value, parse_message

BSUID = "US.13491208655302741918"
SENT_AT = 1750000000  # the entry time of every notification here


def notification(*changes, time=SENT_AT) -> dict:
    return webhook_samples.notification(*changes, time=time)


def text(body="Hi", **sender) -> dict:
    return {
        "id": WAMID,
        "timestamp": "1750000000",
        "type": "text",
        "text": {"body": body},
        **sender,
    }


def parse_one(message, contacts=()) -> webhook.InboundMessage:
    """``message`` parsed alone, with the ``contacts`` given only."""
    return parse_message(message, contacts=contacts, time=SENT_AT)


# --------------------------------------------------------------------------------------------
# Username senders (business-scoped user ids)
# --------------------------------------------------------------------------------------------


def test_username_sender_without_number():
    contacts = [{"user_id": BSUID, "profile": {"name": "Jane", "username": "@jane"}}]
    message = parse_one(text(**{"from": "", "from_user_id": BSUID}), contacts)
    assert message.wa_id == ""
    assert message.user_id == BSUID
    assert message.sender == BSUID
    assert message.profile_name == "Jane"
    assert message.username == "@jane"
    assert message.key == "msg:" + WAMID


def test_username_sender_with_user_id_key_and_no_from():
    message = parse_one(text(user_id=BSUID), [{"user_id": BSUID, "profile": {"name": "Jane"}}])
    assert (message.wa_id, message.user_id, message.profile_name) == ("", BSUID, "Jane")


def test_number_and_user_id_are_paired_from_contacts():
    contacts = [{"wa_id": CUSTOMER, "user_id": BSUID, "profile": {"name": "Kerry"}}]
    message = parse_one(text(**{"from": CUSTOMER}), contacts)
    assert (message.wa_id, message.user_id, message.sender) == (CUSTOMER, BSUID, CUSTOMER)
    message = parse_one(text(from_user_id=BSUID), contacts)
    assert (message.wa_id, message.user_id) == (CUSTOMER, BSUID)


def test_profile_names_are_kept_by_number_and_by_user_id():
    contacts = [
        {"wa_id": CUSTOMER, "profile": {"name": "Kerry"}},
        {"user_id": BSUID, "profile": {"name": "Jane"}},
    ]
    value = messages_value([text(**{"from": CUSTOMER})], contacts=contacts)
    batch = webhook.parse(notification(("messages", value)))
    assert batch.profile_names == {CUSTOMER: "Kerry", BSUID: "Jane"}


def test_sender_without_any_id_is_rejected_alone():
    messages = [text(**{"from": ""}), dict(text(**{"from": CUSTOMER}), id="wamid.2")]
    value = messages_value(messages, contacts=())
    batch = webhook.parse(notification(("messages", value)))
    assert [m.wamid for m in batch.messages] == ["wamid.2"]
    (rejected,) = batch.rejected
    assert "from" in rejected.reason


def test_status_to_a_username_carries_the_user_id():
    status = {
        "id": WAMID,
        "status": "delivered",
        "timestamp": "1750000001",
        "recipient_user_id": BSUID,
    }
    (update,) = webhook.parse(
        notification(("messages", messages_value(statuses=[status])))
    ).statuses
    assert update.recipient_id == ""
    assert update.recipient_user_id == BSUID


# --------------------------------------------------------------------------------------------
# Inbound details
# --------------------------------------------------------------------------------------------


def test_media_url_is_kept_when_meta_sends_it():
    image = {
        "id": "1234567890",
        "mime_type": "image/jpeg",
        "sha256": "abc",
        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
    }
    message = parse_one({**text(**{"from": CUSTOMER}), "type": "image", "image": image})
    assert message.media.url == image["url"]
    assert message.media.id == "1234567890"


def test_media_url_that_is_not_http_is_dropped():
    image = {"id": "1", "url": "file:///etc/passwd"}
    message = parse_one({**text(**{"from": CUSTOMER}), "type": "image", "image": image})
    assert message.media.url == ""


def test_unsupported_message_keeps_its_subtype():
    raw = {
        **text(**{"from": CUSTOMER}),
        "type": "unsupported",
        "unsupported": {"type": "edit"},
        "errors": [{"code": 131051, "title": "Message type unknown"}],
    }
    message = parse_one(raw)
    assert message.subtype == "edit"
    assert message.text == "[unsupported message: edit]"
    assert message.errors[0].code == 131051


def test_unsupported_message_without_subtype_keeps_the_error_title():
    raw = {
        **text(**{"from": CUSTOMER}),
        "type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown"}],
    }
    message = parse_one(raw)
    assert message.subtype == ""
    assert message.text == "[unsupported message] Message type unknown"


def test_shared_contact_phones_keep_type_and_own_wa_id():
    card = {
        "name": {"formatted_name": "Barbara"},
        "phones": [
            {"phone": "+1 650 555 1234", "type": "HOME"},
            {"phone": "+1 650 555 5678", "wa_id": "16505555678", "type": "CELL"},
        ],
    }
    message = parse_one({**text(**{"from": CUSTOMER}), "type": "contacts", "contacts": [card]})
    (contact,) = message.contacts
    assert contact.phones == (
        webhook.ContactPhone("+1 650 555 1234", "HOME", ""),
        webhook.ContactPhone("+1 650 555 5678", "CELL", "16505555678"),
    )
    assert contact.wa_ids == ("16505555678",)


def test_reaction_names_the_message_it_reacts_to():
    raw = {
        **text(**{"from": CUSTOMER}),
        "type": "reaction",
        "reaction": {"message_id": "wamid.OURS", "emoji": "👍"},
    }
    message = parse_one(raw)
    assert message.reaction == webhook.Reaction("wamid.OURS", "👍")


# --------------------------------------------------------------------------------------------
# Account and phone number updates, webhook-level errors
# --------------------------------------------------------------------------------------------


def test_account_ban_is_an_account_update():
    value = {
        "event": "DISABLED_UPDATE",
        "ban_info": {"waba_ban_state": ["DISABLE"], "waba_ban_date": "2026-11-30"},
    }
    (update,) = webhook.parse(notification(("account_update", value))).account_updates
    assert (update.field, update.event) == ("account_update", "DISABLED_UPDATE")
    assert (update.ban_state, update.ban_date) == ("DISABLE", "2026-11-30")
    assert update.waba_id == WABA_ID and update.timestamp == 1750000000
    assert update.key.startswith(f"acct:{WABA_ID}:account_update:")


def test_account_violation_and_restrictions():
    value = {
        "phone_number": "15550783881",
        "event": "ACCOUNT_RESTRICTION",
        "violation_info": {"violation_type": "SCAM"},
        "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "1751000000"},
            "garbage",
        ],
    }
    (update,) = webhook.parse(notification(("account_update", value))).account_updates
    assert update.violation_type == "SCAM"
    assert update.display_phone_number == "15550783881"
    assert update.restrictions == (
        webhook.Restriction("RESTRICTED_BIZ_INITIATED_MESSAGING", "1751000000"),
    )


def test_phone_number_quality_update_carries_the_messaging_limit():
    value = {
        "display_phone_number": "15550783881",
        "event": "UPGRADE",
        "current_limit": "TIER_10K",
        "old_limit": "TIER_2K",
    }
    (update,) = webhook.parse(notification(("phone_number_quality_update", value))).account_updates
    assert (update.event, update.messaging_limit, update.previous_limit) == (
        "UPGRADE",
        "TIER_10K",
        "TIER_2K",
    )


def test_business_capability_update_numeric_limit():
    value = {"max_daily_conversation_per_phone": 1000, "max_phone_numbers_per_business": 2}
    (update,) = webhook.parse(notification(("business_capability_update", value))).account_updates
    assert update.daily_conversation_limit == 1000
    assert update.messaging_limit == ""


def test_phone_number_name_update():
    value = {
        "display_phone_number": "15550783881",
        "decision": "REJECTED",
        "requested_verified_name": "Lucky Shrub",
        "rejection_reason": "NAME_FORMAT",
    }
    (update,) = webhook.parse(notification(("phone_number_name_update", value))).account_updates
    assert (update.decision, update.requested_name, update.rejection_reason) == (
        "REJECTED",
        "Lucky Shrub",
        "NAME_FORMAT",
    )


def test_account_update_keys_differ_by_date_and_content_and_are_stable():
    value = {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SPAM"}}
    first = webhook.parse(notification(("account_update", value))).account_updates[0]
    again = webhook.parse(notification(("account_update", value))).account_updates[0]
    later = webhook.parse(notification(("account_update", value), time=1750000100))
    assert first.key == again.key != later.account_updates[0].key


def test_webhook_level_error_is_an_event_of_its_phone_number():
    value = messages_value()
    value["errors"] = [{"code": "130429", "title": "Rate limit hit"}]
    batch = webhook.parse(notification(("messages", value)))
    (error,) = batch.account_errors
    assert error.error.code == 130429
    assert error.phone_number_id == PHONE_NUMBER_ID
    assert batch.events == [error]


# --------------------------------------------------------------------------------------------
# Template updates
# --------------------------------------------------------------------------------------------


def test_template_rejection_info_and_category():
    value = {
        "event": "REJECTED",
        "message_template_id": 806312974732579,
        "message_template_name": "order_confirmed",
        "message_template_language": "en_US",
        "message_template_category": "UTILITY",
        "reason": "INVALID_FORMAT",
        "rejection_info": {
            "reason": "Variables at the start",
            "recommendation": "Add text before {{1}}",
        },
    }
    (update,) = webhook.parse(
        notification(("message_template_status_update", value))
    ).template_updates
    assert update.category == "UTILITY"
    assert update.rejection_reason == "Variables at the start"
    assert update.rejection_recommendation == "Add text before {{1}}"
    assert update.template_id == "806312974732579"


def test_template_other_info_is_read_as_rejection_info():
    value = {
        "event": "REJECTED",
        "message_template_id": 1,
        "other_info": {"title": "Policy", "description": "Looks like marketing"},
    }
    (update,) = webhook.parse(
        notification(("message_template_status_update", value))
    ).template_updates
    assert (update.rejection_reason, update.rejection_recommendation) == (
        "Policy",
        "Looks like marketing",
    )


def test_category_notice_is_not_a_change():
    notice = {
        "message_template_id": 1,
        "message_template_name": "promo",
        "message_template_language": "en_US",
        "correct_category": "MARKETING",
        "category_update_timestamp": 1751000000,
    }
    change = {"message_template_id": 1, "previous_category": "UTILITY", "new_category": "MARKETING"}
    batch = webhook.parse(
        notification(("template_category_update", notice), ("template_category_update", change))
    )
    announced, changed = batch.template_updates
    assert (announced.correct_category, announced.category_update_at) == ("MARKETING", 1751000000)
    assert announced.new_category == ""
    assert (changed.correct_category, changed.new_category) == ("", "MARKETING")
    assert announced.key != changed.key
    assert "notice" in announced.key


# --------------------------------------------------------------------------------------------
# Signatures per secret
# --------------------------------------------------------------------------------------------


def test_signing_secrets_names_the_secret_that_signed():
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    header = webhook.sign(body, "secret-b")
    assert webhook.signing_secrets(body, header, ["secret-a", "secret-b"]) == {"secret-b"}
    assert webhook.signing_secrets(body, header, ["secret-a"]) == frozenset()
    assert webhook.signing_secrets(body, None, ["secret-b"]) == frozenset()
    assert webhook.signing_secrets(body, "sha1=abc", ["secret-b"]) == frozenset()
    assert webhook.signing_secrets(body, header, ["", None, "secret-b"]) == {"secret-b"}
