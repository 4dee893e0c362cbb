"""The sandbox's webhook deliveries (``tools/sandbox/webhooks.py``): failures are recorded, never
raised, and a reset drops the pending ones.
"""

import time

from sandbox_support import CUSTOMER


def test_receiver_errors_are_recorded(sandbox, receiver):
    receiver.status = 500
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] == 500
    assert sandbox.deliveries[-1]["status_code"] == 500


def test_unreachable_webhook_is_recorded_not_raised(sandbox):
    sandbox.configure(webhook_url="http://127.0.0.1:9/nowhere", webhook_timeout=0.5)
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] is None and result["error"]
    record = sandbox.deliveries[-1]
    assert record["url"] == "http://127.0.0.1:9/nowhere" and record["error"]


def test_without_webhook_url_deliveries_are_recorded(sandbox, receiver):
    sandbox.configure(webhook_url=None)
    result = sandbox.inject(CUSTOMER, text="Hi")
    assert result["status_code"] is None
    assert sandbox.deliveries[-1]["error"] == "no webhook_url configured"
    assert receiver.posts == []


def test_reset_drops_pending_webhooks(sandbox, receiver, graph):
    sandbox.configure(status_delay=0.3)
    graph.template()
    sandbox.reset()
    time.sleep(0.5)
    assert receiver.posts == []


def test_statuses_can_be_turned_off(sandbox, receiver, graph):
    sandbox.configure(statuses=False, status_delay=0.05, enforce_window=False)
    response = graph.send(CUSTOMER, "text", {"body": "no status for me"})
    assert response.status_code == 200
    time.sleep(0.3)
    assert receiver.posts == []
    assert len(sandbox.sent) == 1
