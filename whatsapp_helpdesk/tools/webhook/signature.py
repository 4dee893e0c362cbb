"""Meta's webhook authentication: the X-Hub-Signature-256 check and the GET handshake. No Odoo."""

import hashlib
import hmac
from collections.abc import Mapping

from .records import HandshakeError

SIGNATURE_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value Meta sends for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signing_secrets(body: bytes, header, app_secrets) -> frozenset:
    """The secrets among ``app_secrets`` whose signature of the raw ``body`` is ``header``.

    Every candidate is compared in constant time; a missing or garbled header matches none. The
    caller decides which accounts a body may speak for from the secrets that signed it.
    """
    if not header or not isinstance(header, str) or not header.startswith(SIGNATURE_PREFIX):
        return frozenset()
    if isinstance(app_secrets, str):
        app_secrets = [app_secrets]
    given = header.strip().encode()
    return frozenset(
        secret
        for secret in set(app_secrets)
        if secret and hmac.compare_digest(sign(body, secret).encode(), given)
    )


def verify_signature(body: bytes, header, app_secrets) -> bool:
    """True when ``header`` is a valid signature of the raw ``body`` with one of ``app_secrets``."""
    return bool(signing_secrets(body, header, app_secrets))


# --------------------------------------------------------------------------------------------
# GET handshake
# --------------------------------------------------------------------------------------------


def handshake(params: Mapping[str, str], verify_tokens) -> str:
    """Answer Meta's subscription check: return ``hub.challenge`` or raise :class:`HandshakeError`.

    ``params`` is the query string (``hub.mode``, ``hub.verify_token``, ``hub.challenge``);
    ``verify_tokens`` is one token or an iterable of them. Every configured token is compared in
    constant time and empty tokens never match. The caller must send the challenge back as
    ``text/plain``.
    """
    if params.get("hub.mode") != "subscribe":
        raise HandshakeError("hub.mode is not 'subscribe'")
    if not _token_matches(params.get("hub.verify_token"), verify_tokens):
        raise HandshakeError("hub.verify_token does not match")
    challenge = params.get("hub.challenge")
    if not isinstance(challenge, str) or not challenge:
        raise HandshakeError("hub.challenge is missing")
    return challenge


def _token_matches(given, verify_tokens) -> bool:
    """Constant-time comparison of ``given`` against every non-empty configured token."""
    if not isinstance(given, str) or not given:
        return False
    if verify_tokens is None:
        verify_tokens = ()
    elif isinstance(verify_tokens, str):
        verify_tokens = (verify_tokens,)
    given_bytes = given.encode()
    matched = False
    for token in verify_tokens:
        if isinstance(token, str) and token and hmac.compare_digest(token.encode(), given_bytes):
            matched = True
    return matched
