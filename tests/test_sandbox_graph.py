"""The sandbox's Graph API routes (``tools/sandbox/graph.py``) over real HTTP: the access token,
routing and validation of sends, their answers and statuses, the knobs that make sends fail or
wait, and media.
"""

import hashlib
import time

import pytest
import requests
from sandbox_support import (
    CUSTOMER,
    PHONE_ID,
    SECRET,
    TOKEN,
    WABA,
    Graph,
    assert_graph_error,
    error_body,
    needs_parse,
    open_window,
)
from wa_tools import webhook

# -- authentication, routing, validation ----------------------------------------------------------


def test_missing_or_wrong_token_is_190(sandbox):
    for token in (None, "wrong"):
        answer = Graph(sandbox.base_url, token).template()
        error = assert_graph_error(answer, 401, 190)
        assert error["message"].startswith("Error validating access token")
    assert sandbox.sent == []


def test_access_token_query_parameter(sandbox):
    answer = Graph(sandbox.base_url, None).call(
        "GET", f"/v21.0/{WABA}/message_templates", params={"access_token": TOKEN}
    )
    assert answer.status_code == 200


def test_unknown_phone_number_id(graph):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    answer = graph.call("POST", "/v23.0/999/messages", json=body)
    assert assert_graph_error(answer, 400, 100)["error_subcode"] == 33


def test_unknown_path(graph):
    assert_graph_error(graph.call("GET", f"/v23.0/{PHONE_ID}/nothing/here"), 400, 2500)


@pytest.mark.parametrize(
    "body",
    [
        {"to": CUSTOMER, "type": "text", "text": {"body": "x"}},
        {"messaging_product": "sms", "to": CUSTOMER, "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "to": "", "type": "text", "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "fax", "fax": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text"},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": " "}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x" * 4097}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "location", "location": {}},
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "contacts", "contacts": []},
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {"type": "button"},
        },
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "template",
            "template": {"name": "hello_world"},
        },
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "reaction",
            "reaction": {"emoji": "x"},
        },
    ],
)
def test_invalid_sends_are_code_100(sandbox, graph, body):
    open_window(sandbox)
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert assert_graph_error(answer, 400, 100)["message"] == "(#100) Invalid parameter"
    assert sandbox.sent == []


def test_garbled_json_is_code_100(graph):
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", data=b"{nope")
    assert_graph_error(answer, 400, 100)


def test_text_of_4096_chars_is_accepted(sandbox, graph):
    open_window(sandbox)
    assert graph.send(content={"body": "x" * 4096}).status_code == 200


@pytest.mark.parametrize(
    ("type_", "content"),
    [
        ("image", {"link": "https://example.com/a.png", "caption": "c"}),
        ("document", {"id": "123", "filename": "a.pdf"}),
        ("audio", {"id": "123"}),
        ("video", {"id": "123"}),
        ("sticker", {"id": "123"}),
        ("location", {"latitude": 1.5, "longitude": 2.5}),
        ("contacts", [{"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1"}]}]),
        ("interactive", {"type": "button", "body": {"text": "?"}, "action": {"buttons": []}}),
        ("reaction", {"message_id": "wamid.X", "emoji": "\N{THUMBS UP SIGN}"}),
    ],
)
def test_each_send_type_is_accepted(sandbox, graph, type_, content):
    open_window(sandbox)
    answer = graph.send(type_=type_, content=content)
    assert answer.status_code == 200, answer.text
    assert sandbox.sent[-1]["type"] == type_


# -- sends and their statuses ---------------------------------------------------------------------


def test_send_answer_shape_and_record(sandbox, graph):
    open_window(sandbox)
    answer = graph.send(to="+1 (555) 123-4567")
    assert answer.status_code == 200
    data = answer.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": "+1 (555) 123-4567", "wa_id": CUSTOMER}]
    (message,) = data["messages"]
    assert message["id"].startswith("wamid.") and "message_status" not in message
    (entry,) = sandbox.sent
    assert entry["wamid"] == message["id"]
    assert entry["to"] == CUSTOMER
    assert entry["type"] == "text"
    assert entry["payload"]["text"] == {"body": "Hello from support"}
    assert entry["time"] <= time.time()


def test_window_is_enforced_and_opened_by_inject(sandbox, graph):
    error = assert_graph_error(graph.send(), 400, 131047)
    assert error["message"] == "(#131047) Re-engagement message"
    assert not sandbox.window_open(CUSTOMER)
    result = sandbox.inject(CUSTOMER, text="Help!")
    assert result["status_code"] == 200 and result["wamid"].startswith("wamid.")
    assert sandbox.window_open(CUSTOMER)
    assert graph.send().status_code == 200
    assert_graph_error(graph.send(to="15559990000"), 400, 131047)


def test_templates_skip_the_window(graph):
    answer = graph.template()
    assert answer.status_code == 200
    assert answer.json()["messages"][0]["message_status"] == "accepted"


def test_window_enforcement_can_be_disabled(sandbox, graph):
    sandbox.configure(enforce_window=False)
    assert graph.send().status_code == 200


def test_status_sequence_is_signed_ordered_and_priced(sandbox, receiver, graph):
    open_window(sandbox)
    wamid = graph.send().json()["messages"][0]["id"]
    assert sandbox.wait_for_deliveries(4, timeout=3)
    assert receiver.wait(4)
    for post in receiver.posts:
        signature = post["headers"]["X-Hub-Signature-256"]
        assert webhook.verify_signature(post["body"], signature, SECRET)
        assert post["headers"]["Content-Type"] == "application/json"
        assert post["path"] == "/whatsapp/webhook"
    inbound, *statuses = receiver.values()
    assert inbound["messages"][0]["text"]["body"] == "Hi"
    assert [value["statuses"][0]["status"] for value in statuses] == ["sent", "delivered", "read"]
    sent, delivered, read = (value["statuses"][0] for value in statuses)
    assert {s["id"] for s in (sent, delivered, read)} == {wamid}
    assert {s["recipient_id"] for s in (sent, delivered, read)} == {CUSTOMER}
    assert sent["conversation"]["id"] == delivered["conversation"]["id"]
    assert "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]
    for status in (sent, delivered):
        assert status["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    assert [d["kind"] for d in sandbox.deliveries] == ["messages"] + ["statuses"] * 3
    assert all(d["status_code"] == 200 and d["error"] is None for d in sandbox.deliveries)
    assert all(d["url"] == receiver.url and d["count"] == 1 for d in sandbox.deliveries)
    assert sandbox.sent[0]["status"] == "read"


@needs_parse
def test_statuses_parse(sandbox, receiver, graph):
    graph.template()
    assert receiver.wait(3)
    parsed = [webhook.parse(post["body"]) for post in receiver.posts]
    assert [batch.statuses[0].status for batch in parsed] == ["sent", "delivered", "read"]


def test_template_sends_are_billed_by_category(sandbox, receiver, graph):
    sandbox.configure(auto_read=False)
    sandbox.add_template("spring_sale", category="MARKETING")
    graph.template("hello_world")
    graph.template("spring_sale", to="15550000002")
    assert receiver.wait(4)
    pricing = {s["recipient_id"]: s["pricing"] for s in receiver.statuses()}
    assert pricing[CUSTOMER]["category"] == "utility"
    assert pricing["15550000002"]["category"] == "marketing"
    assert all(p["billable"] is True and p["type"] == "regular" for p in pricing.values())


def test_auto_read_off(sandbox, receiver, graph):
    sandbox.configure(auto_read=False)
    graph.template()
    assert receiver.wait(2)
    time.sleep(0.1)
    assert [s["status"] for s in receiver.statuses()] == ["sent", "delivered"]


def test_fail_numbers_get_a_failed_status(sandbox, receiver, graph):
    sandbox.configure(fail_numbers=["+1 555 000 9999"])
    answer = graph.template(to="15550009999")
    assert answer.status_code == 200
    assert receiver.wait(1)
    time.sleep(0.1)
    (status,) = receiver.statuses()
    assert status["status"] == "failed"
    assert status["id"] == answer.json()["messages"][0]["id"]
    assert status["errors"][0]["code"] == 131026
    assert sandbox.sent[0]["status"] == "failed"


def test_burst_429(sandbox, graph):
    sandbox.configure(burst_429=2)
    for _ in range(2):
        error = assert_graph_error(graph.template(), 429, 130429)
        assert error["message"] == "(#130429) Rate limit hit"
    assert sandbox.config.burst_429 == 0
    assert graph.template().status_code == 200
    assert len(sandbox.sent) == 1


def test_burst_500_answers_something_went_wrong_without_sending(sandbox, receiver, graph):
    sandbox.configure(burst_500=2)
    for _ in range(2):
        error = assert_graph_error(graph.template(), 500, 131000)
        assert error["message"] == "(#131000) Something went wrong"
    assert sandbox.config.burst_500 == 0 and sandbox.sent == []
    assert graph.template().status_code == 200


def test_gateway_error_next_sends_but_answers_503_without_graph_error(sandbox, receiver, graph):
    sandbox.configure(gateway_error_next=1)
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
        "biz_opaque_callback_data": "uuid-1",
    }
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "text/html" and b"error" not in answer.content
    assert sandbox.config.gateway_error_next == 0
    (entry,) = sandbox.sent  # the message left: only its answer is lost
    assert receiver.wait(3)
    # the statuses tell which send it was, by the wamid it never got or the data it sent
    assert {(s["id"], s["biz_opaque_callback_data"]) for s in receiver.statuses()} == {
        (entry["wamid"], "uuid-1")
    }
    assert graph.template().status_code == 200


def test_error_rate(sandbox, graph):
    sandbox.configure(error_rate=1.0)
    codes = set()
    for _ in range(12):
        answer = graph.template()
        codes.add((answer.status_code, error_body(answer)["code"]))
    assert codes <= {(500, 131000), (429, 130429)} and len(codes) == 2
    assert sandbox.sent == []
    sandbox.configure(error_rate=0)
    assert graph.template().status_code == 200


def test_timeout_next_records_and_posts_statuses(sandbox, receiver, graph):
    sandbox.configure(timeout_next=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        graph.template(timeout=0.2)
    assert len(sandbox.sent) == 1
    assert receiver.wait(3)
    assert {s["id"] for s in receiver.statuses()} == {sandbox.sent[0]["wamid"]}
    assert sandbox.config.timeout_next == 0
    assert graph.template(timeout=5).status_code == 200  # the next answer is not held back


def test_pair_gap(sandbox, graph):
    sandbox.configure(pair_gap_ms=200)
    assert graph.template().status_code == 200
    error = assert_graph_error(graph.template(), 400, 131056)
    assert "pair rate limit" in error["message"]
    assert graph.template(to="15550000002").status_code == 200
    time.sleep(0.25)
    assert graph.template().status_code == 200


def test_latency(sandbox, graph):
    sandbox.configure(latency_ms=250)
    started = time.monotonic()
    assert graph.template().status_code == 200
    assert time.monotonic() - started >= 0.25


def test_read_receipt(sandbox, graph):
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}
    answer = graph.call("POST", f"/v23.0/{PHONE_ID}/messages", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    assert sandbox.read_receipts[0]["message_id"] == "wamid.IN"
    assert sandbox.sent == []


# -- media ----------------------------------------------------------------------------------------


def test_media_upload_get_download_delete(sandbox, graph):
    data = bytes(range(256)) * 4 + b"\r\n\r\n--boundary\n"
    answer = graph.call(
        "POST",
        f"/v23.0/{PHONE_ID}/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"type": "image/jpeg", "messaging_product": "whatsapp"},
    )
    assert answer.status_code == 200, answer.text
    media_id = answer.json()["id"]
    assert set(answer.json()) == {"id"}
    info = graph.call("GET", f"/v23.0/{media_id}").json()
    assert info == {
        "messaging_product": "whatsapp",
        "url": f"{sandbox.base_url}/_sandbox/media/{media_id}",
        "mime_type": "image/jpeg",
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "id": media_id,
    }
    download = graph.call("GET", f"/_sandbox/media/{media_id}")
    assert download.content == data
    assert download.headers["Content-Type"] == "image/jpeg"
    anonymous = Graph(sandbox.base_url, None)
    assert_graph_error(anonymous.call("GET", f"/_sandbox/media/{media_id}"), 401, 190)
    assert graph.call("DELETE", f"/v23.0/{media_id}").json() == {"success": True}
    assert_graph_error(graph.call("GET", f"/v23.0/{media_id}"), 400, 100)


def test_media_upload_validation(graph):
    path = f"/v23.0/{PHONE_ID}/media"
    no_product = graph.call("POST", path, files={"file": ("a.png", b"x", "image/png")})
    assert_graph_error(no_product, 400, 100)
    no_file = graph.call("POST", path, files={"messaging_product": (None, "whatsapp")})
    assert_graph_error(no_file, 400, 100)
    assert_graph_error(graph.call("POST", path, json={"messaging_product": "whatsapp"}), 400, 100)


def test_media_type_defaults_to_the_file_part(sandbox, graph):
    answer = graph.call(
        "POST",
        f"/v23.0/{PHONE_ID}/media",
        files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        data={"messaging_product": "whatsapp"},
    )
    assert sandbox.media[answer.json()["id"]].mime_type == "application/pdf"


def test_phone_number_object(graph):
    info = graph.call("GET", f"/v23.0/{PHONE_ID}").json()
    assert info["id"] == PHONE_ID and info["display_phone_number"] == "15550001111"
