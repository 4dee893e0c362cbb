import pytest
from wa_tools import phone


@pytest.mark.parametrize(
    ("wa_id", "e164"),
    [
        ("5511987654321", "+5511987654321"),  # Brazil, nine-digit mobile
        ("551187654321", "+5511987654321"),  # Brazil, WhatsApp's old eight-digit form
        ("551132654321", "+551132654321"),  # Brazil landline: no ninth digit added
        ("5215512345678", "+525512345678"),  # Mexico: WhatsApp keeps the legacy 1
        ("525512345678", "+525512345678"),
        ("919820012345", "+919820012345"),  # India
        ("6281234567890", "+6281234567890"),  # Indonesia
        ("8613800138000", "+8613800138000"),  # China
        ("+34 612 34 56 78", "+34612345678"),  # Spain, formatted
        # no area code 90 in Brazil: phonenumbers reads "90" as a carrier code and keeps
        # +55945700000, another (and invalid) number; Meta's digits stand
        ("5590945700000", "+5590945700000"),
    ],
)
def test_wa_id_to_e164(wa_id, e164):
    assert phone.wa_id_to_e164(wa_id) == e164


@pytest.mark.parametrize("wa_id", ["", None, "abc"])
def test_wa_id_to_e164_rejects_empty(wa_id):
    assert phone.wa_id_to_e164(wa_id) is None


def test_digits():
    assert phone.digits("+55 (11) 98765-4321") == "5511987654321"
