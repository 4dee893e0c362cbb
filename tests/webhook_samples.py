"""Webhook samples shared by the plain ``tools.webhook`` tests: the ids of one business account, one
customer and one message, raw bodies, and builders of notifications as Meta documents them."""

from wa_tools import webhook

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
CUSTOMER = "16505551234"
WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFFNUQ3QjJCRjkzNEVBMTRDRQA="

# A well-formed notification without any entry.
EMPTY_BODY = b'{"object":"whatsapp_business_account","entry":[]}'

# One text message from Kerry Fisher, as raw bytes with escaped non-ASCII text.
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


def notification(*changes, waba_id=WABA_ID, time=None) -> dict:
    """A full notification with one entry holding ``changes`` (``(field, value)`` pairs)."""
    entry = {"id": waba_id, "changes": [{"value": v, "field": f} for f, v in changes]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_value(messages=(), statuses=(), contacts=None) -> dict:
    """The ``value`` of a ``messages`` change as Meta sends it.

    Messages come with ``contacts``, Kerry Fisher's unless given; ``contacts=()`` sends none.
    """
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
    }
    if messages:
        if contacts is None:
            contacts = [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}]
        if contacts:
            value["contacts"] = list(contacts)
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return value


def parse_message(message: dict, contacts=None, time=None) -> webhook.InboundMessage:
    """``message`` parsed alone, in a notification of its own; nothing else comes out."""
    value = messages_value([message], contacts=contacts)
    batch = webhook.parse(notification(("messages", value), time=time))
    assert not batch.rejected, batch.rejected
    assert len(batch.messages) == 1 and not batch.statuses
    return batch.messages[0]


def parse_status(status: dict) -> webhook.StatusUpdate:
    """``status`` parsed alone, in a notification of its own; nothing else comes out."""
    batch = webhook.parse(notification(("messages", messages_value(statuses=[status]))))
    assert len(batch.statuses) == 1 and not batch.messages
    return batch.statuses[0]
