"""The sandbox's control routes (``tools/sandbox/control.py``) and ``Sandbox.handle`` without
HTTP.
"""

import json
import re

import requests
from sandbox_support import CUSTOMER, WABA, open_window
from wa_tools.sandbox import Request


def test_control_health_and_page(sandbox):
    assert requests.get(sandbox.base_url + "/_sandbox/health", timeout=5).json() == {"ok": True}
    page = requests.get(sandbox.base_url + "/_sandbox/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<form" in html and "/_sandbox/inbound" in html and "setInterval" in html
    assert "fetch(" in html and "/_sandbox/messages" in html and "/_sandbox/deliveries" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert requests.get(sandbox.base_url + "/_sandbox", timeout=5).status_code == 200


def test_control_inbound(sandbox, receiver):
    url = sandbox.base_url + "/_sandbox/inbound"
    answer = requests.post(url, json={"from": CUSTOMER, "name": "Bo", "text": "Hey"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["wamid"].startswith("wamid.") and answer.json()["status_code"] == 200
    assert receiver.values()[0]["contacts"][0]["profile"]["name"] == "Bo"
    location = {"from": CUSTOMER, "type": "location", "latitude": "1.5", "longitude": "2"}
    assert requests.post(url, json=location, timeout=5).status_code == 200
    assert receiver.values()[1]["messages"][0]["location"]["longitude"] == 2.0
    for bad in ({"text": "no sender"}, {"from": CUSTOMER, "type": "fax"}):
        answer = requests.post(url, json=bad, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    assert requests.post(url, data=b"[", timeout=5).status_code == 400


def test_control_messages_and_deliveries(sandbox, receiver, graph):
    open_window(sandbox)
    graph.send()
    graph.send(content={"body": "second"})
    assert sandbox.wait_for_deliveries(7)
    base = sandbox.base_url + "/_sandbox"
    messages = requests.get(base + "/messages", timeout=5).json()["messages"]
    assert [m["payload"]["text"]["body"] for m in messages] == ["Hello from support", "second"]
    last = requests.get(base + "/messages", params={"limit": 1}, timeout=5).json()["messages"]
    assert last == messages[-1:]
    deliveries = requests.get(base + "/deliveries", timeout=5).json()["deliveries"]
    assert len(deliveries) >= 7
    assert {"url", "status_code", "error", "kind", "count", "time"} <= set(deliveries[0])
    limited = requests.get(base + "/deliveries?limit=2", timeout=5).json()["deliveries"]
    assert len(limited) == 2
    assert requests.get(base + "/deliveries?limit=x", timeout=5).status_code == 400
    assert requests.get(base + "/nothing", timeout=5).status_code == 404


def test_control_config_and_reset(sandbox, graph):
    url = sandbox.base_url + "/_sandbox/config"
    knobs = requests.get(url, timeout=5).json()
    assert knobs["burst_429"] == 0 and knobs["enforce_window"] is True
    assert knobs["fail_numbers"] == []
    changes = {"burst_429": "3", "enforce_window": "false", "fail_numbers": "15550001, +1 555 2"}
    knobs = requests.post(url, json=changes, timeout=5).json()
    assert knobs["burst_429"] == 3 and knobs["enforce_window"] is False
    assert knobs["fail_numbers"] == ["15550001", "15552"]
    assert sandbox.config.burst_429 == 3
    for bad in ({"nope": 1}, {"error_rate": "2"}, {"port": 1}, {"auto_read": "maybe"}):
        answer = requests.post(url, json=bad, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    open_window(sandbox)
    reset = requests.post(sandbox.base_url + "/_sandbox/reset", timeout=5)
    assert reset.json() == {"ok": True}
    assert sandbox.sent == [] and sandbox.deliveries == []
    assert sandbox.config.burst_429 == 0 and sandbox.config.enforce_window is True
    assert not sandbox.window_open(CUSTOMER)
    assert sandbox.find_template("hello_world")


def test_handle_without_http(sandbox):
    answer = sandbox.handle(Request("GET", "/_sandbox/health"))
    assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
    answer = sandbox.handle(Request("GET", f"/v1/{WABA}/message_templates"))
    assert answer.status == 401
