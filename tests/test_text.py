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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # stored as is: what the sanitizer stores
        ("Olá", "<p>Olá</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror="alert(1)"&gt;</p>'),
        ("a & b; &amp;", "<p>a &amp; b; &amp;amp;</p>"),
        ("no-break\xa0space", "<p>no-break&nbsp;space</p>"),
        ("bell\x07 esc\x1b \ufffe\uffff ok", "<p>bell esc  ok</p>"),
        ("lines\nand\r\ntabs\t", "<p>lines\nand\r\ntabs\t</p>"),
        ("", "<p></p>"),
        (None, "<p></p>"),
    ],
)
def test_chatter_paragraph_stored_as_is(raw, expected):
    assert text.chatter_paragraph(raw) == (expected, False)


def test_chatter_paragraph_holds_no_markup_of_the_customer():
    hostile = "<a href='javascript:x' onclick=y>z</a><svg/onload=alert(1)>\"'"
    html, sanitize = text.chatter_paragraph(hostile)
    assert not sanitize
    assert html.count("<") == 2 and html.startswith("<p>") and html.endswith("</p>")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Olá <b>", ("<p>Olá &lt;b&gt;</p>", False)),
        ("", ("<p></p>", False)),
        (None, ("<p></p>", False)),
        # what the sanitizer rewrites more than markup: left to it, escaped (it never sees the
        # customer's markup as markup)
        ("quoted\n\x07> reply", ("<p>quoted\n\x07&gt; reply</p>", True)),
        ("nul\x00<script>", ("<p>nul\x00&lt;script&gt;</p>", True)),
        ("lone \ud800 & <i>", ("<p>lone \ud800 &amp; &lt;i&gt;</p>", True)),
        ("quoted\n> <a href='x'>", ("<p>quoted\n&gt; &lt;a href='x'&gt;</p>", True)),
        ("regards\n-- \nme", ("<p>regards\n-- \nme</p>", True)),
    ],
)
def test_chatter_paragraph(raw, expected):
    assert text.chatter_paragraph(raw) == expected
