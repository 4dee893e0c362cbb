"""Tests of ``tools.webhook`` on whole bodies: batches of several entries and changes, the keys of
their events, unknown keys, malformed bodies and unreadable parts rejected one by one."""

import copy
import json

import pytest
from wa_tools import webhook
from webhook_samples import (
    CUSTOMER,
    EMPTY_BODY,
    PHONE_NUMBER_ID,
    TEXT_BODY,
    WABA_ID,
    WAMID,
    messages_value,
    notification,
)

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


def test_body_as_str_bytes_bytearray_and_dict_give_the_same_batch():
    expected = webhook.parse(TEXT_BODY)
    assert webhook.parse(TEXT_BODY.decode()) == expected
    assert webhook.parse(bytearray(TEXT_BODY)) == expected
    assert webhook.parse(json.loads(TEXT_BODY)) == expected


def test_empty_entry_list_is_an_empty_batch():
    batch = webhook.parse(EMPTY_BODY)
    assert batch == webhook.WebhookBatch()
    assert len(batch) == 0


def test_records_are_frozen():
    (message,) = webhook.parse(TEXT_BODY).messages
    with pytest.raises(AttributeError):
        message.text = "changed"


# --------------------------------------------------------------------------------------------
# Unknown keys and malformed bodies
# --------------------------------------------------------------------------------------------


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
