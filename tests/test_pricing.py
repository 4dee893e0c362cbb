"""Tests of ``tools.pricing``: the cost of a message under both of Meta's pricing models."""

from datetime import date

from wa_tools import pricing

RATES = [
    pricing.Rate("BR", "marketing", "PMP", date(2025, 7, 1), 0.0625),
    pricing.Rate("BR", "marketing", "PMP", date(2026, 1, 1), 0.07),
    pricing.Rate("BR", "utility", "PMP", date(2025, 7, 1), 0.0068),
    pricing.Rate(None, "marketing", "PMP", date(2025, 7, 1), 0.0604),
    pricing.Rate(None, "authentication", "PMP", date(2025, 7, 1), 0.02),
    pricing.Rate("BR", "marketing", "CBP", date(2024, 1, 1), 0.0625),
]


def test_market_of_a_number():
    assert pricing.market_of("+5511987654321") == "BR"
    assert pricing.market_of("919876543210") == "IN"
    assert pricing.market_of("") is None
    assert pricing.market_of("+999") is None


def test_pick_rate_latest_before_the_date_then_rest_of_world():
    assert pricing.pick_rate(RATES, "BR", "marketing", "PMP", date(2025, 12, 31)) == 0.0625
    assert pricing.pick_rate(RATES, "BR", "marketing", "PMP", date(2026, 2, 1)) == 0.07
    assert pricing.pick_rate(RATES, "DE", "marketing", "PMP", date(2026, 2, 1)) == 0.0604
    assert pricing.pick_rate(RATES, "BR", "marketing", "PMP", date(2020, 1, 1)) is None
    assert pricing.pick_rate(RATES, "IN", "authentication_international", "PMP", None) == 0.02


def test_per_message_pricing():
    def cost(**kwargs):
        values = {
            "country": "BR",
            "billable": True,
            "pricing_model": "PMP",
            "category": "marketing",
            "on_date": date(2025, 8, 1),
        }
        values.update(kwargs)
        return pricing.message_cost(RATES, **values)

    assert cost() == 0.0625
    assert cost(billable=False) == 0.0
    assert cost(category="service") == 0.0
    assert cost(category="utility", pricing_type="free_customer_service") == 0.0
    assert cost(conversation_charged=True) == 0.0625  # every message is charged under PMP
    assert cost(country="JP") == 0.0604
    assert cost(category="mystery") == 0.0


def test_conversation_based_pricing_charges_the_first_message_only():
    values = {
        "country": "BR",
        "billable": True,
        "pricing_model": "CBP",
        "category": "marketing",
        "on_date": date(2025, 3, 1),
    }
    assert pricing.message_cost(RATES, **values) == 0.0625
    assert pricing.message_cost(RATES, conversation_charged=True, **values) == 0.0


def test_estimate_category():
    assert pricing.estimate_category(None, True) is None
    assert pricing.estimate_category("UTILITY", True) is None
    assert pricing.estimate_category("UTILITY", False) == "utility"
    assert pricing.estimate_category("MARKETING", True) == "marketing"
    assert pricing.estimate_category("AUTHENTICATION", False) == "authentication"


def test_market_of_prefix():
    assert pricing.market_of_prefix("+551") == "BR"
    assert pricing.market_of_prefix("+521") == "MX"
    assert pricing.market_of_prefix("+1") == "US"
    assert pricing.market_of_prefix("+4915") == "DE"
    assert pricing.market_of_prefix("+") is None
    assert pricing.market_of_prefix(None) is None
