"""WhatsApp ids and E.164 numbers, with ``phonenumbers``. No Odoo import.

Meta's ``wa_id`` is not always the E.164 number a business stores: Mexican mobiles come as
``521`` + ten digits (E.164 drops the ``1``), and many Brazilian mobiles come without the ninth
digit Brazil added in 2012-2016. Matching a customer therefore goes through :func:`wa_id_to_e164`.
"""

import phonenumbers

# Brazilian mobile subscriber numbers start with 6-9 and carry a leading 9 since the migration;
# WhatsApp still reports many accounts by their old eight-digit form.
_BR_OLD_MOBILE_FIRST_DIGITS = "6789"


def digits(number) -> str:
    """Only the digits of ``number`` (what the Cloud API takes as ``to``)."""
    return "".join(ch for ch in str(number or "") if ch.isdigit())


def wa_id_to_e164(wa_id):
    """The E.164 number (``+5511987654321``) of a WhatsApp id, or None when it cannot be one."""
    raw = digits(wa_id)
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse("+" + raw)
    except phonenumbers.NumberParseException:
        return None
    as_parsed = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if as_parsed != "+" + raw and not phonenumbers.is_valid_number(parsed):
        # phonenumbers took digits of the id for a carrier code or a trunk prefix (Brazil's
        # "90" in 5590945700000) and kept a number that is not valid either: Meta's digits stand
        return "+" + raw
    if parsed.country_code == 52:
        national = str(parsed.national_number)
        if len(national) == 11 and national.startswith("1"):
            parsed = phonenumbers.parse(f"+52{national[1:]}")
    elif parsed.country_code == 55:
        national = str(parsed.national_number)
        if len(national) == 10 and national[2] in _BR_OLD_MOBILE_FIRST_DIGITS:
            parsed = phonenumbers.parse(f"+55{national[:2]}9{national[2:]}")
    if not phonenumbers.is_possible_number(parsed):
        return "+" + raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
