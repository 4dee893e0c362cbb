"""Tests of ``tools.messages``: the payloads of the messages we send, in the shapes of Meta's
Cloud API documentation (messages, media, interactive reply buttons and lists)."""

import pytest
from template_specs import positional
from wa_tools import messages
from wa_tools.template_payloads import send_components

# --------------------------------------------------------------------------------------------
# Address, message, envelope
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "user_id", "expected"),
    [
        ("5511987654321", None, {"to": "5511987654321"}),
        ("5511987654321", "BR.123", {"to": "5511987654321"}),
        (False, "BR.123", {"recipient": "BR.123"}),
        (None, None, {"to": None}),
    ],
)
def test_address_prefers_the_number(number, user_id, expected):
    assert messages.address(number, user_id) == expected


def test_message_joins_address_content_context_and_callback_data():
    content = messages.text("Olá")
    assert messages.message({"to": "55119"}, content) == {"to": "55119", **content}
    assert messages.message(
        {"recipient": "BR.123"}, content, reply_to="wamid.Q", callback_data="c0ffee"
    ) == {
        "recipient": "BR.123",
        "type": "text",
        "text": {"body": "Olá", "preview_url": False},
        "context": {"message_id": "wamid.Q"},
        "biz_opaque_callback_data": "c0ffee",
    }


def test_envelope_and_read_receipt():
    assert messages.envelope({"to": "55119"}) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "55119",
    }
    assert messages.read_receipt("wamid.IN") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
    }
    typing = messages.read_receipt("wamid.IN", typing_indicator=True)
    assert typing["typing_indicator"] == {"type": "text"}


# --------------------------------------------------------------------------------------------
# Contents
# --------------------------------------------------------------------------------------------


def test_text():
    assert messages.text("Hi") == {"type": "text", "text": {"body": "Hi", "preview_url": False}}
    assert messages.text("x.test", preview_url=True)["text"]["preview_url"] is True


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        ("image", {"media_id": "m1", "caption": "Look"}, {"id": "m1", "caption": "Look"}),
        (
            "document",
            {"link": "https://x.test/a.pdf", "caption": "Invoice", "filename": "a.pdf"},
            {"link": "https://x.test/a.pdf", "caption": "Invoice", "filename": "a.pdf"},
        ),
        ("audio", {"media_id": "m2"}, {"id": "m2"}),
        (
            "video",
            {"link": "https://x.test/v.mp4", "caption": "Clip"},
            {"link": "https://x.test/v.mp4", "caption": "Clip"},
        ),
        ("sticker", {"media_id": "m3"}, {"id": "m3"}),
    ],
)
def test_media(kind, options, expected):
    assert messages.media(kind, **options) == {"type": kind, kind: expected}


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("gif", {"media_id": "m1"}),
        ("image", {}),
        ("image", {"media_id": "m1", "link": "https://x.test/a.png"}),
        ("audio", {"media_id": "m1", "caption": "no"}),
        ("sticker", {"media_id": "m1", "caption": "no"}),
        ("image", {"media_id": "m1", "filename": "a.png"}),
        ("video", {"media_id": "m1", "filename": "a.mp4"}),
    ],
)
def test_media_refuses_what_meta_refuses(kind, options):
    with pytest.raises(ValueError):
        messages.media(kind, **options)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("audio", {"id": "m1"}),
        ("sticker", {"id": "m1"}),
        ("image", {"id": "m1", "caption": "Olá"}),
        ("document", {"id": "m1", "caption": "Olá", "filename": "a.pdf"}),
    ],
)
def test_lenient_media_leaves_out_what_the_type_cannot_carry(kind, expected):
    """What the outbox does: a caption stays in Odoo's thread when the type cannot carry it."""
    media = messages.media_object(
        kind, media_id="m1", caption="Olá", filename="a.pdf", strict=False
    )
    assert media == expected


def test_lenient_media_still_needs_one_source():
    with pytest.raises(ValueError):
        messages.media_object("image", strict=False)
    with pytest.raises(ValueError):
        messages.media_object("gif", media_id="m1", strict=False)


@pytest.mark.parametrize(
    ("mimetype", "expected"),
    [
        ("image/png", "image"),
        ("IMAGE/JPEG", "image"),
        ("video/mp4", "video"),
        ("audio/ogg; codecs=opus", "audio"),
        ("image/gif", "document"),
        ("application/pdf", "document"),
        (None, "document"),
    ],
)
def test_media_type_of_a_file(mimetype, expected):
    assert messages.media_type(mimetype) == expected


def test_template_with_and_without_components():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]
    assert messages.template("ticket_update", "en_US", components) == {
        "type": "template",
        "template": {
            "name": "ticket_update",
            "language": {"code": "en_US"},
            "components": components,
        },
    }
    assert messages.template("hello_world", "en_US", []) == {
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
    }


def test_filled_template_sends_the_components_of_the_spec():
    spec = positional()
    values = spec["samples"]
    content = messages.filled_template(spec, values)
    assert content == messages.template("order_confirmed", "pt_BR", send_components(spec, values))


def test_filled_template_with_a_media_header():
    spec = {**positional(), "header_type": "document", "header_text": ""}
    header = messages.media_object("document", media_id="m1", filename="a.pdf")
    components = messages.filled_template(spec, spec["samples"], header_media=header)["template"][
        "components"
    ]
    assert components[0] == {
        "type": "header",
        "parameters": [{"type": "document", "document": {"id": "m1", "filename": "a.pdf"}}],
    }


def test_filled_template_names_a_missing_value():
    with pytest.raises(ValueError, match=r"\{\{2\}\}"):
        messages.filled_template(positional(), {"header": {"1": "S1"}, "body": {"1": "Ana"}})


def test_interactive_needs_a_typed_object():
    buttons = messages.reply_buttons("Ok?", [("yes", "Yes")])
    assert messages.interactive(buttons) == {"type": "interactive", "interactive": buttons}
    for value in (None, {}, {"body": {"text": "no type"}}, ["button"]):
        with pytest.raises(ValueError):
            messages.interactive(value)


def test_location():
    assert messages.location(48.8584, 2.2945, name="Tour Eiffel", address="Paris") == {
        "type": "location",
        "location": {
            "latitude": 48.8584,
            "longitude": 2.2945,
            "name": "Tour Eiffel",
            "address": "Paris",
        },
    }
    plain = messages.location("-33.8568", "151.2153")["location"]
    assert plain == {"latitude": -33.8568, "longitude": 151.2153}


@pytest.mark.parametrize(("latitude", "longitude"), [(91, 0), (-91, 0), (0, 181), (0, -180.5)])
def test_location_refuses_impossible_coordinates(latitude, longitude):
    with pytest.raises(ValueError):
        messages.location(latitude, longitude)


def test_reaction():
    assert messages.reaction("wamid.Q", "👍") == {
        "type": "reaction",
        "reaction": {"message_id": "wamid.Q", "emoji": "👍"},
    }
    assert messages.reaction("wamid.Q", "")["reaction"]["emoji"] == ""


# --------------------------------------------------------------------------------------------
# Interactive objects
# --------------------------------------------------------------------------------------------


def test_reply_buttons():
    assert messages.reply_buttons("Was your issue solved?", [("yes", "Yes"), ("no", "No")]) == {
        "type": "button",
        "body": {"text": "Was your issue solved?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    }


def test_reply_buttons_within_meta_limits():
    buttons = [(f"b{i}", f"Button number {i} with a long title") for i in range(5)]
    value = messages.reply_buttons("x" * 2000, buttons)
    assert len(value["body"]["text"]) == 1024
    replies = [button["reply"] for button in value["action"]["buttons"]]
    assert [reply["id"] for reply in replies] == ["b0", "b1", "b2"]
    assert [reply["title"] for reply in replies] == [f"Button number {i} with" for i in range(3)]


@pytest.mark.parametrize(
    "buttons",
    [
        [],
        [("", "Empty id")],
        [(None, "No id")],
        [("same", "One"), ("same", "Two")],
        [("x" * 257, "Id too long")],
    ],
)
def test_reply_buttons_refuse_ids_that_cannot_be_cut(buttons):
    with pytest.raises(ValueError):
        messages.reply_buttons("Ok?", buttons)


def test_list_menu():
    assert messages.list_menu(
        "Which shop?",
        [("shop:1", "Centro"), ("shop:2", "Shopping")],
        button="Options",
        section_title="Choose",
    ) == {
        "type": "list",
        "body": {"text": "Which shop?"},
        "action": {
            "button": "Options",
            "sections": [
                {
                    "title": "Choose",
                    "rows": [
                        {"id": "shop:1", "title": "Centro"},
                        {"id": "shop:2", "title": "Shopping"},
                    ],
                }
            ],
        },
    }


def test_list_menu_within_meta_limits():
    rows = [(f"r{i}", f"Row {i:02d} with a title that is long") for i in range(12)]
    value = messages.list_menu(
        "y" * 1500, rows, button="A button label far too long", section_title="S" * 30
    )
    action = value["action"]
    section = action["sections"][0]
    assert len(value["body"]["text"]) == 1024
    assert action["button"] == "A button label far t"
    assert section["title"] == "S" * 24
    assert [row["id"] for row in section["rows"]] == [f"r{i}" for i in range(10)]
    assert [row["title"] for row in section["rows"]] == [
        f"Row {i:02d} with a title that" for i in range(10)
    ]


@pytest.mark.parametrize(
    "rows", [[], [("", "Empty id")], [("a", "One"), ("a", "Two")], [("r" * 201, "Long")]]
)
def test_list_menu_refuses_ids_that_cannot_be_cut(rows):
    with pytest.raises(ValueError):
        messages.list_menu("Which?", rows, button="Options", section_title="Choose")


def test_list_menu_rows_with_descriptions():
    value = messages.list_menu(
        "Which order?",
        [("o:1", "S00042", "1 mar. · R$ 1.234,56 · " + "Enviado" * 20), ("o:2", "S00043", "")],
        button="Pedidos",
        section_title="Escolha",
    )
    rows = value["action"]["sections"][0]["rows"]
    assert rows[0]["title"] == "S00042" and len(rows[0]["description"]) == 72
    assert rows[1] == {"id": "o:2", "title": "S00043"}
