"""The sandbox's control routes (``tools/sandbox/control.py``) and ``Sandbox.handle`` without
HTTP: what they do with the control token, and that without it (or as a cross-site form could send
them) they do nothing and tell nothing.
"""

import json
import logging
import re

import pytest
import requests
from sandbox_support import CUSTOMER, SECRET, TOKEN, WABA, Control, open_window
from wa_tools.sandbox import TOKEN_HEADER, Request, Sandbox, SandboxConfig

EVIL_URL = "http://evil.example/hook"
# What a cross-site HTML form can send: its three encodings, the body shaped like JSON.
FORM_POSTS = [
    {"data": {"webhook_url": EVIL_URL}},
    {"files": {"webhook_url": (None, EVIL_URL)}},
    {
        "data": json.dumps({"webhook_url": EVIL_URL}),
        "headers": {"Content-Type": "text/plain"},
    },
]
GUARDED = [
    ("GET", "/config"),
    ("POST", "/config"),
    ("POST", "/inbound"),
    ("GET", "/customers"),
    ("GET", "/messages"),
    ("GET", "/deliveries"),
    ("GET", "/stats"),
    ("POST", "/reset"),
]


def _assert_without_secrets(text, sandbox):
    for secret in (SECRET, TOKEN, sandbox.config.control_token):
        assert secret not in text


# -- with the token -------------------------------------------------------------------------------


def test_control_health_and_page(sandbox):
    assert requests.get(sandbox.base_url + "/_sandbox/health", timeout=5).json() == {"ok": True}
    page = requests.get(sandbox.control_url, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.text
    assert "<form" in html and "/_sandbox/inbound" in html and "setInterval" in html
    assert "fetch(" in html and "/_sandbox/messages" in html and "/_sandbox/deliveries" in html
    assert TOKEN_HEADER in html and "application/json" in html
    assert f'content="{sandbox.config.control_token}"' in html
    assert SECRET not in html and TOKEN not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    token = {"token": sandbox.config.control_token}
    assert requests.get(sandbox.base_url + "/_sandbox", params=token, timeout=5).status_code == 200


def test_control_inbound(sandbox, receiver, control):
    answer = control.post("/inbound", {"from": CUSTOMER, "name": "Bo", "text": "Hey"})
    assert answer.status_code == 200
    assert answer.json()["wamid"].startswith("wamid.") and answer.json()["status_code"] == 200
    assert receiver.values()[0]["contacts"][0]["profile"]["name"] == "Bo"
    location = {"from": CUSTOMER, "type": "location", "latitude": "1.5", "longitude": "2"}
    assert control.post("/inbound", location).status_code == 200
    assert receiver.values()[1]["messages"][0]["location"]["longitude"] == 2.0
    for bad in ({"text": "no sender"}, {"from": CUSTOMER, "type": "fax"}):
        answer = control.post("/inbound", bad)
        assert answer.status_code == 400 and answer.json()["error"]
    garbled = control.call(
        "POST", "/inbound", data=b"[", headers={"Content-Type": "application/json"}
    )
    assert garbled.status_code == 400


def test_control_offers_the_demo_customers(sandbox, control):
    customers = control.get("/customers").json()["customers"]
    assert [c["name"] for c in customers][:3] == ["Ana Souza", "Rahul Mehta", "Lucía Hernández"]
    assert customers[0]["number"] == "5511987654321"
    assert all(c["text"] for c in customers)
    html = requests.get(sandbox.control_url, timeout=5).text
    # the page says what happened, in words, rather than showing the raw answer
    assert "/_sandbox/customers" in html and "Odoo took the webhook" in html
    assert "JSON.stringify(result)" not in html


def test_control_messages_and_deliveries(sandbox, receiver, graph, control):
    open_window(sandbox)
    graph.send()
    graph.send(content={"body": "second"})
    assert sandbox.wait_for_deliveries(7)
    messages = control.get("/messages").json()["messages"]
    assert [m["payload"]["text"]["body"] for m in messages] == ["Hello from support", "second"]
    last = control.get("/messages", params={"limit": 1}).json()["messages"]
    assert last == messages[-1:]
    deliveries = control.get("/deliveries").json()["deliveries"]
    assert len(deliveries) >= 7
    assert {"url", "status_code", "error", "kind", "count", "time"} <= set(deliveries[0])
    assert len(control.get("/deliveries?limit=2").json()["deliveries"]) == 2
    assert control.get("/deliveries?limit=x").status_code == 400
    stats = control.get("/stats").json()
    assert stats["sent"] == 2 and stats["deliveries"] >= 7
    assert control.get("/nothing").status_code == 404


def test_control_config_and_reset(sandbox, graph, control):
    knobs = control.get("/config").json()
    assert knobs["burst_429"] == 0 and knobs["enforce_window"] is True
    assert knobs["fail_numbers"] == []
    changes = {"burst_429": "3", "enforce_window": "false", "fail_numbers": "15550001, +1 555 2"}
    knobs = control.post("/config", changes).json()
    assert knobs["burst_429"] == 3 and knobs["enforce_window"] is False
    assert knobs["fail_numbers"] == ["15550001", "15552"]
    assert sandbox.config.burst_429 == 3
    bad_changes = [
        {"nope": 1},
        {"error_rate": "2"},
        {"port": 1},
        {"auto_read": "maybe"},
        {"control_token": "mine now"},
    ]
    for bad in bad_changes:
        answer = control.post("/config", bad)
        assert answer.status_code == 400 and answer.json()["error"]
    open_window(sandbox)
    assert control.post("/reset").json() == {"ok": True}
    assert sandbox.sent == [] and sandbox.deliveries == []
    assert sandbox.config.burst_429 == 0 and sandbox.config.enforce_window is True
    assert not sandbox.window_open(CUSTOMER)
    assert sandbox.find_template("hello_world")
    assert control.get("/config").status_code == 200  # the token outlives the reset


def test_config_never_shows_the_secrets(sandbox, control):
    shown = control.get("/config")
    assert not {"token", "app_secret", "control_token"} & set(shown.json())
    _assert_without_secrets(shown.text, sandbox)
    changed = control.post("/config", {"app_secret": "rotated", "latency_ms": 1})
    assert changed.status_code == 200 and "rotated" not in changed.text
    assert sandbox.config.app_secret == "rotated"
    assert "app_secret" not in sandbox.knobs()


# -- without the token, or as a cross-site form ---------------------------------------------------


def _snapshot(sandbox):
    return (sandbox.knobs(), len(sandbox.sent), len(sandbox.deliveries), sandbox.config.token)


@pytest.mark.parametrize("token", ["", "wrong-token"])
@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_control_routes_need_the_token(sandbox, graph, token, method, path):
    graph.template()  # something the routes could reveal or reset
    assert sandbox.wait_for_deliveries(3)
    before = _snapshot(sandbox)
    body = {"from": CUSTOMER, "text": "Hi"} if path == "/inbound" else {"webhook_url": EVIL_URL}
    answer = Control(sandbox, token).call(method, path, json=body)
    assert answer.status_code == 401
    assert list(answer.json()) == ["error"] and TOKEN_HEADER in answer.json()["error"]
    _assert_without_secrets(answer.text, sandbox)
    assert _snapshot(sandbox) == before


@pytest.mark.parametrize("token", ["", "right"])
@pytest.mark.parametrize("form", FORM_POSTS, ids=["urlencoded", "multipart", "text-plain"])
def test_form_posts_are_refused(sandbox, token, form):
    before = _snapshot(sandbox)
    control = Control(sandbox) if token else Control(sandbox, "")
    for path in ("/config", "/inbound", "/reset"):
        answer = control.call("POST", path, **form)
        assert answer.status_code == (415 if token else 401)
    assert sandbox.config.webhook_url != EVIL_URL
    assert _snapshot(sandbox) == before


def test_page_without_the_token_is_locked(sandbox):
    for params in ({}, {"token": "wrong-token"}, {"token": ""}):
        page = requests.get(sandbox.base_url + "/_sandbox/", params=params, timeout=5)
        assert page.status_code == 401
        assert page.headers["Content-Type"].startswith("text/html")
        assert "?token=" in page.text and "/_sandbox/inbound" not in page.text
        _assert_without_secrets(page.text, sandbox)


def test_no_cross_origin_access_is_granted(sandbox):
    preflight = requests.options(
        sandbox.base_url + "/_sandbox/config",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": f"{TOKEN_HEADER}, content-type",
        },
        timeout=5,
    )
    assert not preflight.ok
    assert not [name for name in preflight.headers if name.lower().startswith("access-control")]


def test_the_token_stays_out_of_the_log(sandbox, caplog):
    with caplog.at_level(logging.INFO):
        assert requests.get(sandbox.control_url, timeout=5).status_code == 200
        Control(sandbox).post("/config", {"app_secret": "rotated-secret"})
    assert "/_sandbox/?token=***" in caplog.text
    assert sandbox.config.control_token not in caplog.text
    assert "rotated-secret" not in caplog.text


def test_a_given_token_is_kept(receiver):
    config = SandboxConfig(port=0, control_token="chosen-token", webhook_url=receiver.url)
    with Sandbox(config) as sandbox:
        assert sandbox.control_url.endswith("/_sandbox/?token=chosen-token")
        assert Control(sandbox, "chosen-token").get("/config").status_code == 200


# -- without HTTP ---------------------------------------------------------------------------------


def test_handle_without_http(sandbox):
    answer = sandbox.handle(Request("GET", "/_sandbox/health"))
    assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
    answer = sandbox.handle(Request("GET", f"/v1/{WABA}/message_templates"))
    assert answer.status == 401
    headers = {TOKEN_HEADER: sandbox.config.control_token}
    answer = sandbox.handle(Request("GET", "/_sandbox/config", headers=headers))
    assert answer.status == 200
    assert sandbox.handle(Request("GET", "/_sandbox/config")).status == 401
