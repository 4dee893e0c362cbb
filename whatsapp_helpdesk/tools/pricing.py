"""What a WhatsApp message costs (plain Python, no Odoo import).

Meta bills in one of two ways, told by the ``pricing`` block of every status webhook:
- per-message pricing (``PMP``, since 1 July 2025): each billable message costs the rate of its
  category in the customer's market; service messages, and utility templates inside an open
  customer-service window, are free;
- conversation-based pricing (``CBP``, before): a 24-hour conversation costs the rate of its
  category once, charged on its first billable message; the others are free.
The rate card is data (``whatsapp.rate``): this module picks a rate and applies the rule.
"""

from collections import namedtuple

import phonenumbers

PMP, CBP = "PMP", "CBP"
MARKETING, UTILITY, AUTHENTICATION, SERVICE = "marketing", "utility", "authentication", "service"
AUTHENTICATION_INTERNATIONAL = "authentication_international"
# Meta's pricing categories that are never charged whatever the card says
FREE_CATEGORIES = frozenset({SERVICE, "referral_conversion", "free_entry_point"})
FREE_TYPES = frozenset({"free_customer_service", "free_entry_point"})

Rate = namedtuple("Rate", ["country", "category", "pricing_model", "date_from", "price"])


def market_of(e164):
    """The ISO country code of a number (``"BR"``), or None when it cannot be told."""
    if not e164:
        return None
    try:
        parsed = phonenumbers.parse(e164 if e164.startswith("+") else "+" + e164)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed) or None


def market_of_prefix(prefix):
    """The ISO country code of a number's first characters (``"+551"`` -> ``"BR"``): calling
    codes are prefix-free, so the first one to name a region wins. Lets an estimate group a
    million numbers by prefix in SQL instead of parsing each."""
    digits = "".join(ch for ch in str(prefix or "") if ch.isdigit())
    for length in (1, 2, 3):
        if len(digits) >= length:
            region = phonenumbers.region_code_for_country_code(int(digits[:length]))
            if region and region != "ZZ":
                return region
    return None


def normalize_category(category):
    """Meta's pricing category in the rate card's words (lower case, known or None)."""
    category = (category or "").strip().lower()
    return category or None


def pick_rate(rates, country, category, pricing_model, on_date):
    """The price (rate card currency) of ``category`` to ``country`` on ``on_date`` under
    ``pricing_model``: the latest rate that started on or before that date, for the country or
    else for the rest of the world (``country`` None); None when the card has none.

    ``authentication_international`` falls back to ``authentication``.
    """
    categories = [category]
    if category == AUTHENTICATION_INTERNATIONAL:
        categories.append(AUTHENTICATION)
    for wanted in categories:
        for market in (country, None):
            candidates = [
                rate
                for rate in rates
                if rate.category == wanted
                and rate.country == market
                and rate.pricing_model == pricing_model
                and (rate.date_from is None or on_date is None or rate.date_from <= on_date)
            ]
            if candidates:
                return max(candidates, key=lambda r: (r.date_from is not None, r.date_from)).price
    return None


def is_charged(*, billable, pricing_model, category, pricing_type=None, conversation_charged=False):
    """Whether a message with this ``pricing`` block costs money.

    ``conversation_charged``: under conversation-based pricing, an earlier message of the same
    Meta conversation already carried the charge.
    """
    if not billable:
        return False
    category = normalize_category(category)
    if category in FREE_CATEGORIES or (pricing_type or "").lower() in FREE_TYPES:
        return False
    if (pricing_model or PMP).upper() == CBP:
        return not conversation_charged
    return True


def message_cost(rates, *, country, billable, pricing_model, category, on_date, **kwargs):
    """The cost of one message in the rate card's currency (0.0 when free or unknown rate)."""
    pricing_model = (pricing_model or PMP).upper()
    if not is_charged(billable=billable, pricing_model=pricing_model, category=category, **kwargs):
        return 0.0
    price = pick_rate(rates, country, normalize_category(category), pricing_model, on_date)
    return float(price or 0.0)


def estimate_category(template_category, window_open):
    """The pricing category a message about to be sent will be billed as, or None when free.

    Free text and media go only inside the window (service: free); a utility template inside an
    open window is free under per-message pricing; marketing and authentication always cost.
    """
    if not template_category:
        return None
    category = template_category.lower()
    if category == UTILITY and window_open:
        return None
    if category in (MARKETING, UTILITY, AUTHENTICATION):
        return category
    return None
