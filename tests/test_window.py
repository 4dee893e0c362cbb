"""Tests of ``tools.window``: Meta's 24-hour customer-service window."""

from datetime import datetime, timedelta

from wa_tools import window

NOW = datetime(2026, 11, 30, 12, 0, 0)


def test_window_end_is_24_hours_after_the_last_customer_message():
    assert window.window_end(NOW) == NOW + timedelta(hours=24)
    assert window.window_end(None) is None


def test_open_until_the_end_exclusive():
    end = window.window_end(NOW)
    assert window.is_open(end, NOW + timedelta(hours=23, minutes=59))
    assert not window.is_open(end, end)
    assert not window.is_open(None, NOW)
