"""Tests of ``tools.webhook`` parsing what Meta reports about our side: statuses of sent messages,
template updates, account and phone number updates, and webhook-level errors.

The samples follow the payloads documented by Meta for the WhatsApp Cloud API webhooks.
"""

import pytest
from wa_tools import webhook
from webhook_samples import (
    CUSTOMER,
    DISPLAY_PHONE_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    WAMID,
    messages_value,
    notification,
    parse_status,
)

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


# --------------------------------------------------------------------------------------------
# Webhook-level errors
# --------------------------------------------------------------------------------------------


def test_webhook_level_errors_are_kept_on_the_batch():
    value = messages_value()
    value["errors"] = [
        {
            "code": 131000,
            "title": "Something went wrong",
            "message": "Something went wrong",
            "error_data": {"details": "Message failed to send because of an unknown error."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]
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
