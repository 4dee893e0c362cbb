"""Tests of ``tools.click_tracking``: tokens, tracker URL and targets."""

import pytest
from wa_tools import click_tracking


def test_tracker_url_ends_with_the_dynamic_suffix():
    assert (
        click_tracking.tracker_url("https://odoo.example/")
        == "https://odoo.example/whatsapp/click/{{1}}"
    )


@pytest.mark.parametrize(
    "token",
    ["0" * 32, "0123456789abcdef0123456789abcdef"],
)
def test_tokens_of_the_right_shape(token):
    assert click_tracking.is_token(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "0" * 31,
        "0" * 33,
        "0" * 100_000,
        "0123456789ABCDEF0123456789ABCDEF",
        "' OR 1=1 --" + "0" * 21,
        "0" * 31 + "\n",
        None,
        123,
        ["0" * 32],
    ],
)
def test_hostile_tokens_are_refused(token):
    assert not click_tracking.is_token(token)


def test_targets():
    assert click_tracking.check_target(" https://shop.example/p?x=1 ") == (
        "https://shop.example/p?x=1"
    )
    for bad in (
        "javascript:alert(1)",
        "//evil.example",
        "/local/path",
        "ftp://shop.example",
        "https://",
        "https://shop.example/a b",
        "https://shop.example/\r\nSet-Cookie: x",
        "https://shop.example/" + "a" * 2000,
        None,
        42,
    ):
        with pytest.raises(ValueError):
            click_tracking.check_target(bad)
