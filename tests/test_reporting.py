"""Tests of ``tools.reporting``: backlog buckets, dashboard periods and how figures are shown."""

import pytest
from wa_tools import reporting


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [
        (0, "0_1h"),
        (0.99, "0_1h"),
        (1, "1_4h"),
        (23.9, "4_24h"),
        (24, "1_3d"),
        (72, "3d"),
        (1e6, "3d"),
    ],
)
def test_age_buckets(hours, bucket):
    assert reporting.age_bucket(hours) == bucket


def test_age_buckets_are_ordered_and_end_open():
    bounds = [upper for _key, _label, upper in reporting.AGE_BUCKETS]
    assert bounds[-1] is None
    assert bounds[:-1] == sorted(bounds[:-1])


@pytest.mark.parametrize("value", [7, 30, "7", "30"])
def test_dashboard_periods(value):
    assert reporting.dashboard_period(value) == int(value)


@pytest.mark.parametrize("value", [0, 1, -7, 10**12, "7 days", "", None, 7.0, True, [7], {"d": 7}])
def test_dashboard_period_refuses_anything_else(value):
    with pytest.raises(ValueError):
        reporting.dashboard_period(value)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (None, "–"),
        (0, "0 min"),
        (0.75, "45 min"),
        (2.0833, "2 h 05"),
        (47.99, "47 h 59"),
        (76, "3 d 4 h"),
    ],
)
def test_format_hours(hours, text):
    assert reporting.format_hours(hours) == text


def test_format_figure():
    assert reporting.format_figure(83.4, reporting.PERCENT) == "83 %"
    assert reporting.format_figure(12345, reporting.COUNT) == "12\u202f345"
    assert reporting.format_figure(None, reporting.COUNT) == "–"
    assert reporting.format_figure(1.5, reporting.HOURS) == "1 h 30"
    with pytest.raises(ValueError):
        reporting.format_figure(1, "euros")


def test_trend_and_ratio():
    assert reporting.trend(120, 100) == 20
    assert reporting.trend(80, 100) == -20
    assert reporting.trend(5, 0) is None
    assert reporting.trend(None, 3) is None
    assert reporting.ratio(1, 4) == 25.0
    assert reporting.ratio(1, 0) is None
