"""Tests of ``tools.language``: the customer's language from their words and their number."""

import pytest
from wa_tools import language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Olá! Vocês entregam em São Paulo?", "pt_BR"),
        ("Obrigada!", "pt_BR"),
        ("Quero fazer uma reclamação", "pt_BR"),
        ("oi, qual o prazo de entrega do meu pedido?", "pt_BR"),
        ("Hola, ¿tienen stock del modelo X?", "es"),
        ("Gracias", "es"),
        ("mi pedido no llegó, necesito ayuda por favor", "es"),
        ("Hi, is my order shipped?", "en"),
        ("Hello", "en"),
        ("my lamp is broken", "en"),
        ("你们几点开门？", "zh_CN"),
        ("我的订单 S00042 什么时候发货", "zh_CN"),
        ("Selamat pagi, kapan pesanan saya dikirim?", "id"),
        ("terima kasih", "id"),
    ],
)
def test_detect(text, expected):
    assert language.detect(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ok", "S00042", "👍", "", "   ", None, 42, ["hola"], "como", "a de que", "123 456"],
)
def test_detect_gives_up_rather_than_guess(text):
    assert language.detect(text) is None


def test_detect_reads_a_bounded_prefix():
    assert language.detect("obrigada " + "x " * 1_000_000) == "pt_BR"


@pytest.mark.parametrize(
    ("number", "country", "lang"),
    [
        ("+5511987654321", "BR", "pt_BR"),
        ("+525512345678", "MX", "es"),
        ("+919820012345", "IN", "en"),
        ("+6281234567890", "ID", "id"),
        ("+8613800138000", "CN", "zh_CN"),
        ("5511987654321", "BR", "pt_BR"),
        ("+33612345678", "FR", None),
    ],
)
def test_number_country_and_its_language(number, country, lang):
    assert language.number_country(number) == country
    assert language.country_language(country) == lang


@pytest.mark.parametrize("number", [None, "", "+", "abc", 42, "+999"])
def test_number_country_of_garbage(number):
    assert language.number_country(number) is None


def test_country_language_of_garbage():
    assert language.country_language(None) is None
    assert language.country_language("zz") is None
    assert language.country_language(" br ") == "pt_BR"


def test_infer_order_of_trust():
    guess = language.infer(agent="es_419", texts=["Obrigada"], profile="en_US", country="BR")
    assert guess == language.Guess("es_419", language.AGENT)
    guess = language.infer(texts=["ok", "Obrigada"], profile="en_US", country="US")
    assert guess == language.Guess("pt_BR", language.WORDS)
    # the words say the profile's language: the profile's region is kept
    assert language.infer(texts=["Hi, is my order shipped?"], profile="en_IN") == (
        language.Guess("en_IN", language.PROFILE)
    )
    assert language.infer(texts=["ok"], profile="pt_BR", country="MX") == (
        language.Guess("pt_BR", language.PROFILE)
    )
    assert language.infer(texts=["ok"], country="MX") == language.Guess("es", language.COUNTRY)
    assert language.infer(texts=["ok"], country="FR") is None
    assert language.infer() is None


@pytest.mark.parametrize(
    ("code", "installed", "expected"),
    [
        ("pt_BR", ["en_US", "pt_BR"], "pt_BR"),
        ("es", ["en_US", "es_419", "es_ES"], "es_419"),
        ("en", ["en_US", "en_IN"], "en_US"),
        ("id", ["en_US", "id_ID"], "id_ID"),
        ("zh_CN", ["en_US"], None),
        (None, ["en_US"], None),
        ("pt_BR", None, None),
        ("pt_BR", [None, 3, "pt_PT"], "pt_PT"),
    ],
)
def test_installed_variant(code, installed, expected):
    assert language.installed_variant(code, installed) == expected


def test_infer_with_a_language_already_spoken():
    assert language.infer(spoken="es", texts=["Obrigada"], profile="pt_BR") == (
        language.Guess("es", language.WORDS)
    )
    assert language.infer(spoken="pt_BR", profile="pt_BR") == (
        language.Guess("pt_BR", language.PROFILE)
    )
