"""Message templates in the sandbox (``tools/sandbox/templates.py`` and their Graph routes):
listing, creation and review by webhook, validation, edits, Meta's status and quality changes,
and template sends checked against the stored templates.
"""

import time

import pytest
from sandbox_support import CUSTOMER, WABA, assert_graph_error

# -- templates ------------------------------------------------------------------------------------


TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Your order {{1}} shipped.", "example": {"body_text": [["A42"]]}}
    ],
}


def test_list_templates(graph):
    answer = graph.call("GET", f"/v23.0/{WABA}/message_templates")
    assert answer.status_code == 200
    data = answer.json()
    assert set(data) == {"data", "paging"}
    assert set(data["paging"]["cursors"]) == {"before", "after"}
    (template,) = data["data"]
    assert template["name"] == "hello_world" and template["status"] == "APPROVED"
    assert {"id", "language", "category", "components"} <= set(template)


def test_create_template_then_approved_by_webhook(sandbox, receiver, graph):
    answer = graph.call("POST", f"/v23.0/{WABA}/message_templates", json=TEMPLATE)
    assert answer.status_code == 200, answer.text
    created = answer.json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert receiver.wait(1)
    payload = receiver.payloads()[0]
    assert isinstance(payload["entry"][0]["time"], int)
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update"
    assert change["value"]["event"] == "APPROVED"
    assert str(change["value"]["message_template_id"]) == created["id"]
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    listed = graph.call("GET", f"/v23.0/{WABA}/message_templates", params={"name": "order"})
    assert [t["id"] for t in listed.json()["data"]] == [created["id"]]


def test_create_template_pending_without_auto_approval(sandbox, receiver, graph):
    sandbox.configure(auto_approve_templates=False)
    created = graph.call("POST", f"/v23.0/{WABA}/message_templates", json=TEMPLATE).json()
    time.sleep(0.1)
    assert receiver.posts == []
    assert sandbox.templates[created["id"]]["status"] == "PENDING"
    sandbox.template_event("order_update", "REJECTED", reason="INVALID_FORMAT")
    value = receiver.values()[0]
    assert value["event"] == "REJECTED" and value["reason"] == "INVALID_FORMAT"
    assert sandbox.templates[created["id"]]["status"] == "REJECTED"


def test_delete_template(sandbox, graph):
    path = f"/v23.0/{WABA}/message_templates"
    graph.call("POST", path, json=TEMPLATE)
    answer = graph.call("DELETE", path, params={"name": "order_update"})
    assert answer.json() == {"success": True}
    assert sandbox.find_template("order_update") is None
    names = [t["name"] for t in graph.call("GET", path).json()["data"]]
    assert names == ["hello_world"]
    assert_graph_error(graph.call("DELETE", path, params={"name": "order_update"}), 400, 100)
    assert_graph_error(graph.call("DELETE", path), 400, 100)


def test_template_paging(sandbox, graph):
    for index in range(4):
        sandbox.add_template(f"tpl_{index}")
    path = f"/v23.0/{WABA}/message_templates"
    first = graph.call("GET", path, params={"limit": 3}).json()
    assert len(first["data"]) == 3 and "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    rest = graph.call("GET", path, params={"limit": 3, "after": after}).json()
    assert len(rest["data"]) == 2 and "next" not in rest["paging"]
    assert not {t["id"] for t in first["data"]} & {t["id"] for t in rest["data"]}


def test_templates_of_another_account(graph):
    answer = graph.call("GET", "/v23.0/999/message_templates")
    assert assert_graph_error(answer, 400, 100)["error_subcode"] == 33


# -- template reviews, validation, edits ----------------------------------------------------------


TEMPLATES_PATH = f"/v23.0/{WABA}/message_templates"
SHOP_URL = "https://shop.example.com/orders/{{1}}"


def _create(graph, **changes):
    return graph.call("POST", TEMPLATES_PATH, json={**TEMPLATE, **changes})


def _review_values(receiver):
    return [
        payload["entry"][0]["changes"][0]["value"]
        for payload in receiver.payloads()
        if payload["entry"][0]["changes"][0]["field"] == "message_template_status_update"
    ]


def _assert_template_error(answer, subcode=None):
    error = assert_graph_error(answer, 400, 100)
    assert error["error_user_title"] and error["error_user_msg"]
    assert error["is_transient"] is False
    assert error["error_data"]["details"] == error["error_user_msg"]
    assert error.get("error_subcode") == subcode
    return error


def test_create_template_approved_by_webhook_with_knob_delay(sandbox, receiver, graph):
    sandbox.configure(template_review_delay=0.3)
    created = _create(graph).json()
    time.sleep(0.1)
    assert sandbox.deliveries == []
    assert sandbox.templates[created["id"]]["status"] == "PENDING"
    assert sandbox.wait_for_deliveries(1)
    (value,) = _review_values(receiver)
    assert (value["event"], value["reason"]) == ("APPROVED", "NONE")
    template = sandbox.templates[created["id"]]
    assert (template["status"], template["rejected_reason"]) == ("APPROVED", "NONE")
    assert sandbox.knobs()["template_review_delay"] == 0.3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("promo_reject", "INVALID_FORMAT"),
        ("reject_policy_promo", "TAG_CONTENT_MISMATCH"),
        ("reject_category_promo", "INCORRECT_CATEGORY"),
    ],
)
def test_create_template_rejected_by_webhook(sandbox, receiver, graph, name, reason):
    created = _create(graph, name=name).json()
    assert created["status"] == "PENDING"
    assert sandbox.wait_for_deliveries(1)
    (value,) = _review_values(receiver)
    assert value["event"] == "REJECTED" and value["reason"] == reason
    assert value["message_template_name"] == name
    template = graph.call("GET", f"/v23.0/{created['id']}").json()
    assert (template["status"], template["rejected_reason"]) == ("REJECTED", reason)
    assert_graph_error(graph.template(name), 400, 132001)


def test_create_named_template_and_body_of_1024_chars(sandbox, graph):
    named = {
        "name": "named_update",
        "parameter_format": "named",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, order {{order_ref}} ships {{first_name}}.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Ana"},
                        {"param_name": "order_ref", "example": "S042"},
                    ]
                },
            }
        ],
    }
    answer = _create(graph, **named)
    assert answer.status_code == 200, answer.text
    assert sandbox.templates[answer.json()["id"]]["parameter_format"] == "NAMED"
    long_body = [{"type": "BODY", "text": "x" * 1024}]
    assert _create(graph, name="long_body", components=long_body).status_code == 200


def _body(text, example=None):
    component = {"type": "BODY", "text": text}
    if example is not None:
        component["example"] = example
    return [component]


@pytest.mark.parametrize(
    ("changes", "subcode"),
    [
        ({"name": "Order-Update"}, 2388046),
        ({"name": ""}, 2388046),
        ({"name": None}, 2388046),
        ({"category": "PROMO"}, None),
        ({"category": None}, None),
        ({"language": ""}, None),
        ({"language": None}, None),
        ({"parameter_format": "FANCY"}, None),
        ({"components": []}, None),
        ({"components": [{"text": "no type"}]}, None),
        ({"components": [{"type": "HEADER", "format": "TEXT", "text": "Hi"}]}, None),
        ({"components": _body("   ")}, None),
        ({"components": _body("x" * 1025)}, None),
        ({"components": _body("{{1}} and {{3}}", {"body_text": [["a", "b"]]})}, None),
        ({"components": _body("{{0}} and {{1}}", {"body_text": [["a", "b"]]})}, None),
        ({"components": _body("Hi {{name}}", {"body_text": [["a"]]})}, None),
        ({"components": _body("Your order {{1}} shipped.")}, 2388043),
        ({"components": _body("{{1}} and {{2}}", {"body_text": [["only one"]]})}, 2388043),
        (
            {
                "parameter_format": "NAMED",
                "components": _body("Hi {{name}}", {"body_text": [["a"]]}),
            },
            2388043,
        ),
        ({"parameter_format": "NAMED", "components": _body("Hi {{Name}}")}, None),
        (
            {
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    *_body("Shipped."),
                ]
            },
            2388043,
        ),
        (
            {
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}"},
                    *_body("Shipped."),
                ]
            },
            None,
        ),
        (
            {
                "components": [
                    *_body("Shipped."),
                    {
                        "type": "BUTTONS",
                        "buttons": [{"type": "URL", "text": "See", "url": SHOP_URL}],
                    },
                ]
            },
            2388043,
        ),
    ],
)
def test_create_template_validation(sandbox, receiver, graph, changes, subcode):
    _assert_template_error(_create(graph, **changes), subcode)
    assert [t["name"] for t in sandbox.templates.values()] == ["hello_world"]
    time.sleep(0.05)
    assert receiver.posts == []


def test_create_duplicate_template(sandbox, graph):
    assert _create(graph).status_code == 200
    error = _assert_template_error(_create(graph), 2388024)
    assert "already" in error["error_user_msg"]
    assert _create(graph, language="fr").status_code == 200
    assert len(sandbox.templates) == 3


def test_create_authentication_template_fills_meta_texts(sandbox, graph):
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    body = {**TEMPLATE, "name": "login_code", "category": "AUTHENTICATION"}
    answer = graph.call("POST", TEMPLATES_PATH, json={**body, "components": components})
    assert answer.status_code == 200, answer.text
    assert sandbox.wait_for_deliveries(1)
    stored = graph.call("GET", f"/v23.0/{answer.json()['id']}").json()
    body_text = stored["components"][0]["text"]
    assert body_text.startswith("*{{1}}* is your verification code.") and "share" in body_text
    assert stored["components"][1]["text"] == "This code expires in 10 minutes."
    code = [{"type": "text", "text": "123456"}]
    sent = [
        {"type": "body", "parameters": code},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": code},
    ]
    assert _send_template(graph, "login_code", sent).status_code == 200
    assert_graph_error(_send_template(graph, "login_code", sent[:1]), 400, 132000)


def test_get_template(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    created = _create(graph).json()
    answer = graph.call("GET", f"/v23.0/{created['id']}")
    assert answer.status_code == 200
    template = answer.json()
    assert {
        "id": template["id"],
        "name": template["name"],
        "language": template["language"],
        "status": template["status"],
        "category": template["category"],
        "parameter_format": template["parameter_format"],
        "rejected_reason": template["rejected_reason"],
    } == {
        "id": created["id"],
        "name": "order_update",
        "language": "en_US",
        "status": "PENDING",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "rejected_reason": "NONE",
    }
    assert template["components"] == TEMPLATE["components"]
    narrowed = graph.call("GET", f"/v23.0/{created['id']}", params={"fields": "name,status"})
    assert narrowed.json() == {"id": created["id"], "name": "order_update", "status": "PENDING"}
    assert_graph_error(graph.call("GET", "/v23.0/4242"), 400, 100)


def test_edit_template_goes_pending_then_approved(sandbox, receiver, graph):
    created = _create(graph).json()
    assert sandbox.wait_for_deliveries(1)
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    components = _body("Order {{1}} left {{2}}.", {"body_text": [["A42", "Lyon"]]})
    sandbox.configure(template_review_delay=0.2)
    answer = graph.call("POST", f"/v23.0/{created['id']}", json={"components": components})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}
    template = graph.call("GET", f"/v23.0/{created['id']}").json()
    assert template["status"] == "PENDING" and template["components"] == components
    assert_graph_error(graph.template("order_update"), 400, 132001)
    assert sandbox.wait_for_deliveries(2)
    assert [v["event"] for v in _review_values(receiver)] == ["APPROVED", "APPROVED"]
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    answer = graph.call("POST", f"/v23.0/{created['id']}", json={"category": "marketing"})
    assert answer.json() == {"success": True}
    assert sandbox.templates[created["id"]]["category"] == "MARKETING"
    assert sandbox.wait_for_deliveries(3)


def test_edit_rejected_template_is_reviewed_again(sandbox, receiver, graph):
    created = _create(graph, name="reject_me").json()
    assert sandbox.wait_for_deliveries(1)
    sandbox.configure(template_review_delay=0.2)
    graph.call("POST", f"/v23.0/{created['id']}", json={"category": "MARKETING"})
    template = sandbox.templates[created["id"]]
    assert (template["status"], template["rejected_reason"]) == ("PENDING", "NONE")
    assert sandbox.wait_for_deliveries(2)
    assert [v["event"] for v in _review_values(receiver)] == ["REJECTED", "REJECTED"]
    assert template["rejected_reason"] == "INVALID_FORMAT"


def test_edit_template_errors(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    created = _create(graph).json()
    path = f"/v23.0/{created['id']}"
    components = _body("New text.")
    pending = graph.call("POST", path, json={"components": components})
    assert "PENDING" in _assert_template_error(pending)["error_user_msg"]
    sandbox.template_event("order_update", "APPROVED")
    _assert_template_error(graph.call("POST", path, json={}))
    _assert_template_error(graph.call("POST", path, json={"components": _body("{{1}}")}), 2388043)
    _assert_template_error(graph.call("POST", path, json={"category": "PROMO"}))
    assert sandbox.templates[created["id"]]["status"] == "APPROVED"
    assert sandbox.templates[created["id"]]["components"] == TEMPLATE["components"]
    unknown = graph.call("POST", "/v23.0/4242", json={"components": components})
    assert assert_graph_error(unknown, 400, 100)["error_subcode"] == 33


def test_deleted_or_manually_reviewed_templates_skip_the_pending_review(sandbox, receiver, graph):
    sandbox.configure(template_review_delay=0.2)
    _create(graph)
    _create(graph, name="other_update")
    graph.call("DELETE", TEMPLATES_PATH, params={"name": "order_update"})
    sandbox.template_event("other_update", "REJECTED", reason="SCAM")
    time.sleep(0.35)
    assert [(v["event"], v["reason"]) for v in _review_values(receiver)] == [("REJECTED", "SCAM")]
    assert sandbox.find_template("other_update")["rejected_reason"] == "SCAM"


def test_template_quality_update(sandbox, receiver):
    template = sandbox.find_template("hello_world")
    assert sandbox.template_quality("hello_world", "green")["status_code"] == 200
    assert sandbox.template_quality("hello_world", "RED")["status_code"] == 200
    first, second = (p["entry"][0]["changes"][0] for p in receiver.payloads())
    assert first["field"] == "message_template_quality_update"
    assert (first["value"]["previous_quality_score"], first["value"]["new_quality_score"]) == (
        "UNKNOWN",
        "GREEN",
    )
    assert second["value"]["previous_quality_score"] == "GREEN"
    assert second["value"]["message_template_id"] == int(template["id"])
    assert template["quality_score"]["score"] == "RED"
    assert [d["kind"] for d in sandbox.deliveries] == ["template_quality"] * 2
    with pytest.raises(ValueError):
        sandbox.template_quality("nope", "RED")
    with pytest.raises(ValueError):
        sandbox.template_quality("hello_world", "PURPLE")


# -- template sends -------------------------------------------------------------------------------


def _send_template(graph, name, components=None, language="en_US", to=CUSTOMER):
    content = {"name": name, "language": {"code": language}}
    if components is not None:
        content["components"] = components
    return graph.send(to, "template", content)


def _text(value, name=None):
    parameter = {"type": "text", "text": value}
    if name:
        parameter["parameter_name"] = name
    return parameter


def _url_button(value, index="1"):
    return {"type": "button", "sub_type": "url", "index": index, "parameters": [_text(value)]}


def _add_positional(sandbox, **kwargs):
    """An IMAGE header, a body with two variables, a quick reply and a URL button (index 1)."""
    components = [
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} shipped."},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": SHOP_URL},
            ],
        },
    ]
    return sandbox.add_template("order_shipped", components=components, **kwargs)


def _add_named(sandbox):
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{order_ref}}"},
        {"type": "BODY", "text": "Hi {{first_name}}, order {{order_ref}} is ready."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": SHOP_URL}]},
    ]
    return sandbox.add_template(
        "order_ready", category="MARKETING", components=components, parameter_format="NAMED"
    )


POSITIONAL_OK = [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/a.png"}}]},
    {"type": "body", "parameters": [_text("Ana"), _text("S042")]},
    _url_button("S042"),
]
NAMED_OK = [
    {"type": "header", "parameters": [_text("S042", "order_ref")]},
    {"type": "body", "parameters": [_text("S042", "order_ref"), _text("Ana", "first_name")]},
    _url_button("S042", index=0),
]


def test_correct_positional_template_send(sandbox, receiver, graph):
    _add_positional(sandbox)
    answer = _send_template(graph, "order_shipped", POSITIONAL_OK)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"][0]["message_status"] == "accepted"
    assert sandbox.sent[-1]["payload"]["template"]["components"] == POSITIONAL_OK
    assert _send_template(graph, "hello_world").status_code == 200


def test_correct_named_template_send_is_billed_as_marketing(sandbox, receiver, graph):
    _add_named(sandbox)
    answer = _send_template(graph, "order_ready", NAMED_OK)
    assert answer.status_code == 200, answer.text
    assert receiver.wait(1)
    assert receiver.statuses()[0]["pricing"]["category"] == "marketing"


def _without(components, type_):
    return [c for c in components if c["type"] != type_]


def _replace(components, index, component):
    return [component if i == index else c for i, c in enumerate(components)]


@pytest.mark.parametrize(
    ("template", "components", "code"),
    [
        ("positional", _without(POSITIONAL_OK, "body"), 132000),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text("Ana")]}),
            132000,
        ),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text(v) for v in "abc"]}),
            132000,
        ),
        ("positional", _without(POSITIONAL_OK, "header"), 132012),
        (
            "positional",
            _replace(POSITIONAL_OK, 0, {"type": "header", "parameters": [_text("not an image")]}),
            132012,
        ),
        ("positional", _without(POSITIONAL_OK, "button"), 132000),
        ("positional", _replace(POSITIONAL_OK, 2, _url_button("S042", index="0")), 132000),
        (
            "positional",
            _replace(POSITIONAL_OK, 2, {**_url_button("x"), "sub_type": "quick_reply"}),
            132000,
        ),
        (
            "positional",
            _replace(POSITIONAL_OK, 1, {"type": "body", "parameters": [_text(""), _text("x")]}),
            131008,
        ),
        ("named", _without(NAMED_OK, "header"), 132012),
        ("named", _replace(NAMED_OK, 0, {"type": "header", "parameters": []}), 132012),
        (
            "named",
            _replace(
                NAMED_OK,
                1,
                {"type": "body", "parameters": [_text("S", "order_ref"), _text("A", "name")]},
            ),
            132000,
        ),
        ("named", _without(NAMED_OK, "button"), 132000),
        ("hello", [{"type": "body", "parameters": [_text("extra")]}], 132000),
        ("hello", [{"type": "header", "parameters": [_text("extra")]}], 132000),
    ],
)
def test_template_parameter_errors(sandbox, graph, template, components, code):
    _add_positional(sandbox)
    _add_named(sandbox)
    name = {"positional": "order_shipped", "named": "order_ready", "hello": "hello_world"}
    answer = _send_template(graph, name[template], components)
    error = assert_graph_error(answer, 400, code)
    assert error["message"].startswith(f"(#{code}) ")
    assert sandbox.sent == []


def test_unknown_or_unapproved_templates_are_132001(sandbox, graph):
    sandbox.configure(auto_approve_templates=False)
    _create(graph)
    sandbox.add_template("refused", status="REJECTED")
    cases = [("never_registered", "en_US"), ("hello_world", "fr"), ("order_update", "en_US")]
    cases.append(("refused", "en_US"))
    for name, language in cases:
        answer = _send_template(graph, name, language=language)
        error = assert_graph_error(answer, 400, 132001)
        assert error["message"] == "(#132001) Template name does not exist in the translation"
        assert name in error["error_data"]["details"]
    assert sandbox.sent == []


def test_paused_disabled_flagged_and_reinstated_templates(sandbox, receiver, graph):
    sandbox.template_event("hello_world", "PAUSED", reason="LOW_QUALITY")
    error = assert_graph_error(graph.template(), 400, 132015)
    assert error["message"] == "(#132015) Template is Paused"
    sandbox.template_event("hello_world", "REINSTATED")
    assert sandbox.find_template("hello_world")["status"] == "APPROVED"
    sandbox.template_event("hello_world", "FLAGGED")
    assert graph.template().status_code == 200
    sandbox.template_event("hello_world", "DISABLED")
    error = assert_graph_error(graph.template(), 400, 132016)
    assert error["message"] == "(#132016) Template is disabled"
    events = [v["event"] for v in _review_values(receiver)]
    assert events == ["PAUSED", "REINSTATED", "FLAGGED", "DISABLED"]
    assert len(sandbox.sent) == 1


def test_template_components_must_be_a_list(graph):
    answer = _send_template(graph, "hello_world", {"type": "body"})
    assert_graph_error(answer, 400, 100)
