"""Tests of ``tools.webhook`` before any parsing: the signature of a POST body and the GET
handshake."""

import hashlib
import hmac

import pytest
from wa_tools import webhook
from webhook_samples import EMPTY_BODY

# --------------------------------------------------------------------------------------------
# Signature
# --------------------------------------------------------------------------------------------

SECRET = "8f3c1a2b9d4e"


def test_sign_matches_hashlib():
    expected = hmac.new(SECRET.encode(), EMPTY_BODY, hashlib.sha256).hexdigest()
    assert webhook.sign(EMPTY_BODY, SECRET) == "sha256=" + expected


def test_sign_fixed_vectors():
    # RFC 4231, test case 2.
    assert webhook.sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert webhook.sign(EMPTY_BODY, SECRET) == (
        "sha256=494e3c76cf4d6892549db3989abc65d0293650853d058bea62239e0e95cd31b5"
    )


def test_verify_signature_valid():
    assert webhook.verify_signature(EMPTY_BODY, webhook.sign(EMPTY_BODY, SECRET), SECRET)
    assert webhook.verify_signature(EMPTY_BODY, webhook.sign(EMPTY_BODY, SECRET) + "\r\n", SECRET)


def test_verify_signature_wrong_secret():
    assert not webhook.verify_signature(
        EMPTY_BODY, webhook.sign(EMPTY_BODY, "other-secret"), SECRET
    )


def test_verify_signature_tampered_body():
    header = webhook.sign(EMPTY_BODY, SECRET)
    assert not webhook.verify_signature(EMPTY_BODY.replace(b"[]", b"[{}]"), header, SECRET)
    assert not webhook.verify_signature(EMPTY_BODY + b" ", header, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=zz",
        "sha1=" + hmac.new(SECRET.encode(), EMPTY_BODY, hashlib.sha1).hexdigest(),
        hmac.new(SECRET.encode(), EMPTY_BODY, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(SECRET.encode(), EMPTY_BODY, hashlib.sha256).hexdigest()[:-1],
        b"sha256=" + hmac.new(SECRET.encode(), EMPTY_BODY, hashlib.sha256).hexdigest().encode(),
    ],
)
def test_verify_signature_missing_or_garbled_header(header):
    assert not webhook.verify_signature(EMPTY_BODY, header, SECRET)


def test_verify_signature_several_secrets():
    header = webhook.sign(EMPTY_BODY, SECRET)
    assert webhook.verify_signature(EMPTY_BODY, header, ["old-secret", SECRET])
    assert webhook.verify_signature(EMPTY_BODY, header, (SECRET, "next-secret"))
    assert not webhook.verify_signature(EMPTY_BODY, header, ["old-secret", "next-secret"])
    assert not webhook.verify_signature(EMPTY_BODY, header, [])
    assert not webhook.verify_signature(EMPTY_BODY, webhook.sign(EMPTY_BODY, ""), ["", None])


# --------------------------------------------------------------------------------------------
# GET handshake
# --------------------------------------------------------------------------------------------

HUB = {"hub.mode": "subscribe", "hub.verify_token": "s3cr3t-t0ken", "hub.challenge": "1158201444"}


def test_handshake_ok():
    assert webhook.handshake(HUB, "s3cr3t-t0ken") == "1158201444"


@pytest.mark.parametrize(
    "tokens",
    [["other", "s3cr3t-t0ken"], ("s3cr3t-t0ken",), {"", "s3cr3t-t0ken"}, iter(["s3cr3t-t0ken"])],
)
def test_handshake_ok_with_one_of_several_tokens(tokens):
    assert webhook.handshake(HUB, tokens) == "1158201444"


@pytest.mark.parametrize("tokens", ["wrong", ["a", "b"], [], None, "", "s3cr3t-t0ken "])
def test_handshake_wrong_token(tokens):
    with pytest.raises(webhook.HandshakeError, match="verify_token"):
        webhook.handshake(HUB, tokens)


def test_handshake_empty_tokens_never_match():
    params = {**HUB, "hub.verify_token": ""}
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake(params, "")
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake({"hub.mode": "subscribe", "hub.challenge": "1"}, ["", None])


@pytest.mark.parametrize("mode", ["unsubscribe", "", "SUBSCRIBE", None])
def test_handshake_wrong_mode(mode):
    params = {**HUB, "hub.mode": mode}
    with pytest.raises(webhook.HandshakeError, match="hub.mode"):
        webhook.handshake(params, "s3cr3t-t0ken")


def test_handshake_missing_mode():
    params = {k: v for k, v in HUB.items() if k != "hub.mode"}
    with pytest.raises(webhook.HandshakeError):
        webhook.handshake(params, "s3cr3t-t0ken")


@pytest.mark.parametrize("challenge", [None, ""])
def test_handshake_missing_challenge(challenge):
    params = {**HUB, "hub.challenge": challenge}
    with pytest.raises(webhook.HandshakeError, match="challenge"):
        webhook.handshake(params, "s3cr3t-t0ken")


def test_handshake_error_is_a_webhook_error():
    assert issubclass(webhook.HandshakeError, webhook.WebhookError)
    assert issubclass(webhook.WebhookError, ValueError)
