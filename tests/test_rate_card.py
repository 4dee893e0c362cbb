"""The shipped rate card (``data/whatsapp_rate_data.xml``): every market the product targets has a
plausible per-message USD rate for each template category, with its source and date."""

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

CARD = Path(__file__).resolve().parent.parent / "whatsapp_helpdesk/data/whatsapp_rate_data.xml"
# the markets of issue 11 (country xml ids; None: the rest of the world)
MARKETS = ("base.br", "base.in", "base.id", "base.mx", "base.co", "base.es", "base.de", "base.uk")
MARKETS += ("base.us", None)
CATEGORIES = ("marketing", "utility", "authentication")
# Meta's per-message rates run from a tenth of a US cent (utility in Colombia or India) to about
# fourteen cents (marketing in Germany or France): outside this, a digit was slipped
PLAUSIBLE = (0.0005, 0.25)


def _records():
    rates = {}
    for record in ET.parse(CARD).getroot().iter("record"):
        assert record.get("model") == "whatsapp.rate", record.get("id")
        fields = {field.get("name"): field for field in record.iter("field")}
        country = fields["country_id"].get("ref") if "country_id" in fields else None
        key = (country, fields["category"].text)
        assert key not in rates, f"{record.get('id')}: {key} twice"
        rates[key] = {
            "id": record.get("id"),
            "price": float(fields["price"].text),
            "currency": fields["currency_id"].get("ref"),
            "pricing_model": fields["pricing_model"].text,
            "date_from": date.fromisoformat(fields["date_from"].text),
            "source": fields["source"].text or "",
        }
    return rates


RATES = _records()


@pytest.mark.parametrize("market", MARKETS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_target_market_has_a_plausible_rate(market, category):
    rate = RATES.get((market, category))
    assert rate, f"no {category} rate for {market or 'the rest of the world'}"
    low, high = PLAUSIBLE
    assert low <= rate["price"] <= high, rate
    assert rate["currency"] == "base.USD"
    assert rate["pricing_model"] == "PMP"
    assert date(2025, 7, 1) <= rate["date_from"] <= date.today()


@pytest.mark.parametrize("market", MARKETS)
def test_marketing_costs_more_than_utility_and_authentication(market):
    marketing = RATES[(market, "marketing")]["price"]
    assert marketing > RATES[(market, "utility")]["price"]
    assert marketing > RATES[(market, "authentication")]["price"]


def test_authentication_costs_what_utility_costs_in_the_per_message_card():
    """In Meta's per-message card of 2025-07-01 an authentication template costs what a utility
    template costs in every market seen; a higher one is a 2024 conversation rate left over."""
    for market in MARKETS:
        assert RATES[(market, "authentication")]["price"] == RATES[(market, "utility")]["price"], (
            market
        )


def test_the_international_authentication_rate_is_above_the_local_one():
    for market in ("base.in", "base.id"):
        international = RATES[(market, "authentication_international")]["price"]
        assert international > RATES[(market, "authentication")]["price"]


def test_every_rate_says_where_it_comes_from_and_whether_it_was_checked():
    for rate in RATES.values():
        source = rate["source"]
        assert "2025-07-01" in source, rate["id"]
        assert any(word in source for word in ("confirmed", "fixed", "inferred")), rate["id"]
