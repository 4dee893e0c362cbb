"""Hostile webhook bodies: ``tools.webhook.parse`` raises nothing but ``WebhookError``, and what it
returns can be stored by PostgreSQL as it is (no NUL, no lone surrogate, no NaN, bounded numbers,
ids short enough for a btree index).

The fuzz gate feeds seeded mutations of real Meta shapes (types changed, keys dropped, nulls, huge
numbers and strings, NUL, surrogates, deep nesting, broken bytes); it is deterministic.
"""

import copy
import json
import math
import random
import re

import pytest
from wa_tools import payloads, webhook
from webhook_samples import CUSTOMER, DISPLAY_PHONE_NUMBER, PHONE_NUMBER_ID, WABA_ID

FUZZ_SEED = 20261130
FUZZ_CASES = 10_000
SURROGATE = re.compile("[\ud800-\udfff]")


def seeds() -> list[dict]:
    """Real webhook shapes: one of each message type, statuses, template and account updates."""
    wa = CUSTOMER
    messages = [
        payloads.text_message(wa, "Olá, tudo bem?"),
        payloads.media_message(
            wa, "image", media_id="111", caption="photo", mime_type="image/jpeg"
        ),
        payloads.media_message(
            wa, "document", media_id="222", filename="nota.pdf", mime_type="application/pdf"
        ),
        payloads.media_message(wa, "audio", media_id="333", voice=True, mime_type="audio/ogg"),
        payloads.location_message(wa, -23.55, -46.63, name="Loja", address="Av. Paulista"),
        payloads.contacts_message(wa, [payloads.vcard("Barbara", "+1 650 555 1234", wa_id=wa)]),
        payloads.interactive_reply(wa, "button_reply", "yes", "Yes"),
        payloads.interactive_reply(wa, "list_reply", "opt1", "Option 1"),
        payloads.button_message(wa, "STOP", "Stop promotions"),
        payloads.reaction_message(wa, "wamid.OURS", "👍"),
        payloads.unsupported_message(wa),
        {
            **payloads.text_message(wa, "cart"),
            "type": "order",
            "order": {
                "catalog_id": "1",
                "product_items": [
                    {
                        "product_retailer_id": "x",
                        "quantity": 2,
                        "item_price": 9.9,
                        "currency": "BRL",
                    }
                ],
            },
        },
        {
            **payloads.text_message(wa, ""),
            "type": "system",
            "system": {"type": "user_changed_number", "body": "changed", "new_wa_id": "123"},
        },
        {
            **payloads.text_message(wa, "reply"),
            "context": {"from": "15550001111", "id": "wamid.CTX", "forwarded": True},
        },
        {**payloads.text_message(wa, "username"), "from": "", "from_user_id": "BR.1502576394655"},
    ]
    statuses = [
        payloads.status("wamid.S1", "sent", wa, category="marketing", billable=True),
        payloads.status("wamid.S2", "delivered", wa, category="utility"),
        payloads.status("wamid.S3", "failed", wa, errors=[payloads.undeliverable_error()]),
    ]
    body = payloads.envelope(
        WABA_ID,
        [
            payloads.messages_change(
                PHONE_NUMBER_ID,
                DISPLAY_PHONE_NUMBER,
                contacts=[
                    payloads.contact(wa, "Ana"),
                    {"user_id": "BR.1502576394655", "profile": {"name": "Jane", "username": "@j"}},
                ],
                messages=messages,
            ),
            payloads.messages_change(PHONE_NUMBER_ID, DISPLAY_PHONE_NUMBER, statuses=statuses),
            payloads.template_status_change("123", "order_confirmed", "en_US", "REJECTED"),
            payloads.template_quality_change("123", "order_confirmed", "en_US", "GREEN", "RED"),
            {
                "field": "account_update",
                "value": {
                    "event": "DISABLED_UPDATE",
                    "ban_info": {"waba_ban_state": ["DISABLE"], "waba_ban_date": "2026-12-01"},
                    "restriction_info": [{"restriction_type": "X", "expiration": "1"}],
                },
            },
            {
                "field": "phone_number_quality_update",
                "value": {"event": "UPGRADE", "current_limit": "TIER_10K"},
            },
            {
                "field": "messages",
                "value": {
                    "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                    "errors": [{"code": 130429, "title": "Rate limit hit"}],
                },
            },
        ],
        time=1750000000,
    )
    # the seeds are also given one change per body, as Meta mostly sends them
    singles = [
        {**body, "entry": [{**body["entry"][0], "changes": [change]}]}
        for change in body["entry"][0]["changes"]
    ]
    return [body, *singles]


# --------------------------------------------------------------------------------------------
# What "storable" means
# --------------------------------------------------------------------------------------------


def assert_storable(value, path="$"):
    """PostgreSQL text and jsonb accept it: no NUL, no lone surrogate, finite bounded numbers."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            assert "\x00" not in item, where
            assert not SURROGATE.search(item), where
            item.encode("utf-8")
        elif isinstance(item, float):
            assert math.isfinite(item), where
        elif isinstance(item, int) and not isinstance(item, bool):
            assert abs(item) < 10 ** (webhook.MAX_INT_DIGITS + 1), where
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, f"{where}.<key>"))
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(
                (getattr(item, name), f"{where}.{name}") for name in item.__dataclass_fields__
            )
        else:
            assert item is None or isinstance(item, bool), (where, type(item))


def assert_batch_is_storable(batch):
    for event in batch.events:
        assert len(event.key) <= 512, event.key[:80]
        assert_storable(event)
        json.dumps(getattr(event, "raw", None), allow_nan=False).encode("utf-8")
        for name in ("wamid", "wa_id", "user_id", "phone_number_id", "waba_id", "template_id"):
            assert len(getattr(event, name, "") or "") <= webhook.MAX_ID_CHARS, name
        timestamp = getattr(event, "timestamp", None)
        if timestamp is not None:
            assert webhook.MIN_TIMESTAMP <= timestamp < webhook.MAX_TIMESTAMP
        location = getattr(event, "location", None)
        if location is not None:
            assert -90 <= location.latitude <= 90 and -180 <= location.longitude <= 180


# --------------------------------------------------------------------------------------------
# Named hostile inputs
# --------------------------------------------------------------------------------------------


def text_body(**message_changes) -> dict:
    message = {**payloads.text_message(CUSTOMER, "Hi", wamid="wamid.X"), **message_changes}
    return payloads.inbound_payload(
        waba_id=WABA_ID,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number=DISPLAY_PHONE_NUMBER,
        wa_id=CUSTOMER,
        profile_name="Ana",
        messages=[message],
    )


def test_nul_in_text_is_stripped_everywhere():
    raw = json.dumps(text_body(text={"body": "a\x00b"}, **{"x\x00y": "\x00"})).encode()
    assert b"\\u0000" in raw
    (message,) = webhook.parse(raw).messages
    assert message.text == "ab"
    assert message.raw["xy"] == ""
    assert_batch_is_storable(webhook.parse(raw))


def test_lone_surrogates_are_replaced():
    raw = json.dumps(text_body(text={"body": "a\ud800b \ud83d\ude00"})).encode()
    (message,) = webhook.parse(raw).messages
    assert message.text == "a\ufffdb 😀"
    assert_batch_is_storable(webhook.parse(raw))


def test_nan_infinity_and_huge_numbers_become_null():
    body = json.dumps(text_body()).replace(
        '"type": "text"',
        '"type": "text", "a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999, "e": ' + "9" * 5000,
    )
    (message,) = webhook.parse(body.encode()).messages
    assert [message.raw[k] for k in "abcde"] == [None] * 5


def test_absurd_timestamp_is_rejected_not_stored():
    batch = webhook.parse(text_body(timestamp=10**20))
    assert not batch.messages
    (rejected,) = batch.rejected
    assert "2100" in rejected.reason


def test_absurd_error_code_is_dropped():
    body = text_body(errors=[{"code": 10**30, "title": "x"}, {"code": "99999999999999"}])
    (message,) = webhook.parse(body).messages
    assert [error.code for error in message.errors] == [None, None]


def test_id_too_long_for_an_index_is_rejected():
    batch = webhook.parse(text_body(id="wamid." + "A" * 2701))
    assert not batch.messages
    assert "longer than" in batch.rejected[0].reason


def test_deep_nesting_is_cut_and_storable():
    deep = current = {}
    for _ in range(500):
        current["x"] = {}
        current = current["x"]
    (message,) = webhook.parse(json.dumps(text_body(extra=deep)).encode()).messages
    depth, node = 0, message.raw["extra"]
    while isinstance(node, dict):
        node, depth = node.get("x"), depth + 1
    assert depth < webhook.MAX_DEPTH


def test_huge_string_is_kept_but_bounded_by_the_body_limit():
    body = json.dumps(text_body(text={"body": "x" * 1_000_000})).encode()
    (message,) = webhook.parse(body).messages
    assert len(message.text) == 1_000_000
    with pytest.raises(webhook.WebhookError):
        webhook.parse(b'{"object": "' + b"x" * webhook.MAX_BODY_BYTES + b'"}')


def test_wrong_types_in_every_field_never_escape():
    for value in (None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"a": None}):
        for key in ("from", "id", "timestamp", "type", "text", "context", "errors", "referral"):
            batch = webhook.parse(text_body(**{key: value}))
            assert_batch_is_storable(batch)


# --------------------------------------------------------------------------------------------
# The fuzz gate
# --------------------------------------------------------------------------------------------

HOSTILE_SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    10**30,
    -(10**30),
    1e308,
    -1.5,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "😀",
    "1750000000",
    "99999999999999999999999",
    "x" * 5000,
    "wamid." + "A" * 3000,
    "<script>alert(1)</script>",
    "'; DROP TABLE whatsapp_message; --",
]


def _nodes(tree):
    """(container, key) of every place in ``tree`` (iterative)."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            found.append((node, key))
            if isinstance(child, (dict, list)):
                stack.append(child)
    return found


def _hostile_value(rng):
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(HOSTILE_SCALARS)
    if roll < 0.75:
        return [rng.choice(HOSTILE_SCALARS) for _ in range(rng.randint(0, 3))]
    if roll < 0.9:
        return {rng.choice(["id", "from", "type", "body", "\x00"]): rng.choice(HOSTILE_SCALARS)}
    nested = current = {}
    for _ in range(rng.choice([5, 40, 300])):
        current["n"] = {}
        current = current["n"]
    return nested


def mutate(tree, rng):
    """One to four random mutations of a deep copy of ``tree``."""
    tree = copy.deepcopy(tree)
    for _ in range(rng.randint(1, 4)):
        nodes = _nodes(tree)
        if not nodes:
            break
        container, key = rng.choice(nodes)
        action = rng.random()
        if action < 0.45:
            container[key] = _hostile_value(rng)
        elif action < 0.65:
            if isinstance(container, dict):
                del container[key]
            else:
                container.pop(key)
        elif action < 0.75:
            container[key] = None
        elif action < 0.85 and isinstance(container[key], str):
            text = container[key]
            cut = rng.randint(0, len(text))
            container[key] = text[:cut] + rng.choice(["\x00", "\ud83d", "\udc00", "€"]) + text[cut:]
        elif isinstance(container[key], list) and container[key]:
            container[key] = container[key] * rng.randint(2, 5)  # duplicated events
        else:
            container[key] = [container[key]] if rng.random() < 0.5 else {"v": container[key]}
    return tree


def encode(tree, rng) -> bytes:
    """JSON (sometimes with NaN/Infinity tokens or broken bytes), as a webhook body."""
    body = json.dumps(tree, allow_nan=True, ensure_ascii=rng.random() < 0.5)
    raw = body.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.03:
        raw = raw[: rng.randint(0, len(raw))]
    elif roll < 0.06 and raw:
        index = rng.randrange(len(raw))
        raw = raw[:index] + bytes([rng.randrange(256)]) + raw[index + 1 :]
    return raw


def test_fuzz_gate_only_webhook_errors_escape_and_everything_returned_is_storable():
    rng = random.Random(FUZZ_SEED)
    bases = seeds()
    outcomes = {"parsed": 0, "refused": 0, "events": 0, "rejected": 0}
    for case in range(FUZZ_CASES):
        body = encode(mutate(rng.choice(bases), rng), rng)
        try:
            batch = webhook.parse(body)
        except webhook.WebhookError:
            outcomes["refused"] += 1
            continue
        except Exception as error:  # noqa: BLE001 - the gate: anything else is a bug
            pytest.fail(f"case {case}: {type(error).__name__}: {error!r} for {body[:300]!r}")
        outcomes["parsed"] += 1
        outcomes["events"] += len(batch.events)
        outcomes["rejected"] += len(batch.rejected)
        assert_batch_is_storable(batch)
        keys = [event.key for event in batch.events]
        if case % 10 == 0:
            assert webhook.parse(body).events == batch.events, f"case {case} is not deterministic"
        assert len(keys) >= len(set(keys))
    # the mutations must exercise both sides, and mostly reach the per-event parsing
    assert outcomes["parsed"] > FUZZ_CASES * 0.6, outcomes
    assert outcomes["refused"] > 0 and outcomes["rejected"] > 0, outcomes


def test_every_parsed_event_survives_storage_as_itself():
    rng = random.Random(FUZZ_SEED + 1)
    bases = seeds()
    seen = set()
    for _case in range(2000):
        try:
            batch = webhook.parse(encode(mutate(rng.choice(bases), rng), rng))
        except webhook.WebhookError:
            continue
        for event in [*batch.events, *(webhook.parse(base).events[0] for base in bases[:1])]:
            stored = json.loads(json.dumps(webhook.to_stored(event), allow_nan=False))
            assert webhook.from_stored(stored) == event
            seen.add(type(event).__name__)
    assert seen >= {
        "InboundMessage",
        "StatusUpdate",
        "TemplateUpdate",
        "AccountUpdate",
        "AccountError",
        "Rejected",
    }


@pytest.mark.parametrize("data", [None, [], {}, {"type": "Nope"}, {"type": "StatusUpdate"}])
def test_unreadable_stored_events_raise_webhook_error(data):
    with pytest.raises(webhook.WebhookError):
        webhook.from_stored(data)
