"""Tests of ``tools.campaign_plan``: skip reasons, the messaging-limit plan, local windows."""

from datetime import datetime

import pytest
from wa_tools import campaign_plan as plan


def test_limits():
    assert plan.limit_of("250") == 250
    assert plan.limit_of("unlimited") is plan.UNLIMITED
    assert plan.headroom(250, 100) == 150
    assert plan.headroom(250, 400) == 0
    assert plan.headroom(None, 10**9) is None


def test_plan_spreads_over_days():
    assert plan.plan_days(0, 250, 0) == []
    assert plan.plan_days(100, 250, 0) == [100]
    assert plan.plan_days(1000, 250, 100) == [150, 250, 250, 250, 100]
    assert plan.plan_days(500, 250, 250) == [0, 250, 250]
    assert plan.plan_days(10**6, None, 10) == [10**6]
    assert sum(plan.plan_days(123_457, 2000, 1999)) == 123_457
    with pytest.raises(ValueError):
        plan.plan_days(10, 0, 0)
    with pytest.raises(ValueError):
        plan.plan_days(10**9, 250, 0)


def test_skip_reasons_in_order():
    reasons = plan.skip_reasons(
        [(1, "+551"), (2, None), (3, "+551"), (4, "+552"), (5, "+553"), (6, "+554"), (7, "+555")],
        blacklisted={"+552"},
        opted_in={"+551", "+552", "+554", "+555"},
        recently_messaged={"+554"},
    )
    assert reasons == {
        1: None,
        2: plan.INVALID_NUMBER,
        3: plan.DUPLICATE,
        4: plan.BLACKLISTED,
        5: plan.NO_OPTIN,
        6: plan.FREQUENCY_CAP,
        7: None,
    }


def test_an_opted_out_number_is_skipped_as_such():
    reasons = plan.skip_reasons(
        [(1, "+551"), (2, "+552"), (3, "+553")],
        blacklisted={"+551"},
        opted_in={"+553"},
        recently_messaged={"+552"},
        opted_out={"+551", "+552"},
    )
    assert reasons == {1: plan.BLACKLISTED, 2: plan.OPTED_OUT, 3: None}
    assert plan.OPTED_OUT in dict(plan.SKIP_REASONS)


def test_not_receiving_marketing_is_no_failure():
    failures = {"ecosystem_limit": 3, "opted_out": 2, "undeliverable": 1, None: 4}
    assert plan.split_failures(failures) == (5, 5)
    assert plan.split_failures({}) == (0, 0)


def test_no_optin_needed():
    assert plan.skip_reasons(
        [(1, "+1")], blacklisted=set(), opted_in=None, recently_messaged=set()
    ) == {1: None}


def test_local_window():
    noon_utc = datetime(2026, 11, 30, 12, 0)
    assert plan.in_local_window(noon_utc, "America/Sao_Paulo", 9, 20)  # 09:00 there
    assert not plan.in_local_window(noon_utc, "Asia/Kolkata", 9, 17)  # 17:30 there
    assert plan.in_local_window(noon_utc, "Asia/Kolkata", 22, 18)  # wraps midnight
    assert plan.in_local_window(noon_utc, "Nowhere/Bogus", 11, 13)  # unknown zone: UTC
    assert plan.in_local_window(noon_utc, None, 0, 0)


def test_next_local_opening():
    noon_utc = datetime(2026, 11, 30, 12, 0)
    assert plan.next_local_opening(noon_utc, "America/Sao_Paulo", 9) == datetime(2026, 12, 1, 12, 0)
    assert plan.next_local_opening(noon_utc, "UTC", 13.5) == datetime(2026, 11, 30, 13, 30)


def test_customer_zone_without_a_partner_tz():
    # the partner's own zone first, even against the number's
    assert plan.customer_zone(tz="Asia/Tokyo", number="+5511981234567") == "Asia/Tokyo"
    # the number's zone when it has one
    assert plan.customer_zone(number="+5511981234567") == "America/Sao_Paulo"
    assert plan.customer_zone(number="+14155550100") == "America/Los_Angeles"
    assert plan.customer_zone(number="+6281234567890") == "Asia/Jakarta"
    # a number of several zones (Madrid or the Canaries): the country's main zone
    assert plan.customer_zone(number="+34612345678") == "Europe/Madrid"
    # a number without a zone: the partner's country, else the number's country
    assert plan.customer_zone(number="+556199998888") == "America/Sao_Paulo"
    assert plan.customer_zone(number="+556199998888", country="mx") == "America/Mexico_City"
    assert plan.customer_zone(country="BR") == "America/Sao_Paulo"
    assert plan.customer_zone(country="IN") in ("Asia/Kolkata", "Asia/Calcutta")
    # nothing known of the customer: the company's zone, else None (UTC)
    assert plan.customer_zone(number="+447700900123", company_tz="Europe/Lisbon") == (
        "Europe/Lisbon"
    )
    assert plan.customer_zone(company_tz="Europe/Lisbon") == "Europe/Lisbon"
    assert plan.customer_zone(tz="Nowhere/Bogus", company_tz="Bogus") is None
    assert plan.customer_zone(number="not a number", country="XX") is None


def test_country_zone():
    assert plan.country_zone("br") == "America/Sao_Paulo"
    assert plan.country_zone("US") == "America/New_York"
    assert plan.country_zone("DE") == "Europe/Berlin"
    assert plan.country_zone("CO") == "America/Bogota"
    assert plan.country_zone(None) is None
    assert plan.country_zone("ZZ") is None


def test_the_local_window_of_a_customer_without_tz_is_their_countrys():
    noon_utc = datetime(2026, 11, 30, 12, 0)
    zone = plan.customer_zone(number="+5511981234567", company_tz="Asia/Tokyo")
    assert plan.in_local_window(noon_utc, zone, 9, 10)  # 09:00 in São Paulo
    assert not plan.in_local_window(noon_utc, "Asia/Tokyo", 9, 10)  # 21:00 in Tokyo


def test_audience_check_shape():
    sound = {
        "total": 7,
        "eligible": 1,
        "used": 0,
        "limit": 1,
        "skipped": {"no_optin": 6},
        "days": [1],
    }
    assert plan.audience_check(sound) is sound
    assert plan.audience_check({**sound, "limit": None, "days": []}) is not None
    for data in (
        None,
        [],
        "x",
        42,
        {},
        {**sound, "total": "7"},
        {**sound, "total": True},
        {**sound, "eligible": 10**13},
        {**sound, "used": -1},
        {**sound, "limit": 2.5},
        {**sound, "skipped": []},
        {**sound, "skipped": {"a\x00b": 1}},
        {**sound, "skipped": {"x" * 100: 1}},
        {**sound, "skipped": {1: 1}},
        {**sound, "skipped": {"no_optin": None}},
        {**sound, "days": None},
        {**sound, "days": ["1"]},
        {**sound, "days": [1] * 4000},
    ):
        assert plan.audience_check(data) is None, data
