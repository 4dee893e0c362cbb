"""Tests of ``tools.text``: the shared rules for text, customer words, language codes and ids."""

import pytest
from wa_tools import text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Qual é o HORÁRIO de atendimento?? ", "qual e o horario de atendimento"),
        ("  Olá,\n  SÃO\tPaulo ", "ola sao paulo"),
        ("¿Cuánto tarda el envío?", "cuanto tarda el envio"),
        ("Ação, ÇA, Straße", "acao ca strasse"),
        ("ＳＴＯＰ", "stop"),
        ("Stop!", "stop"),
        ("Привет Ёлка", "привет елка"),
        ("Ｈｅｌｌｏ，世界！", "hello 世界"),
        ("你们几点开门？", "你们几点开门"),
        ("退订　谢谢", "退订 谢谢"),
        ("がぎ パ", "がぎ パ"),
        ("환불", "환불"),
        ("नमस्ते दुनिया", "नमस्ते दुनिया"),
        ("hi 👋🏽 there ❤️", "hi there"),
        ("👍🏽❤️🙏", ""),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_normalize(raw, expected):
    assert text.normalize(raw) == expected
    assert text.normalize(expected) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", "x"), (12, "12"), (1.5, "1.5"), (float("inf"), ""), (None, ""), (True, ""), ({}, "")],
)
def test_as_text(value, expected):
    assert text.as_text(value) == expected


@pytest.mark.parametrize(
    ("code", "base"),
    [("pt_BR", "pt"), ("pt-BR", "pt"), ("zh-Hans", "zh"), ("sr@latin", "sr"), ("", ""), (None, "")],
)
def test_base_language(code, base):
    assert text.base_language(code) == base


def test_id_key_orders_mixed_ids():
    assert sorted([3, "b", 1, "a", 2.5], key=text.id_key) == [1, 2.5, 3, "a", "b"]
