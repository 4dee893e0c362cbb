"""Meta webhook intake: X-Hub-Signature-256 check, GET handshake, payload parsing. No Odoo import."""

import hashlib
import hmac

SIGNATURE_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value Meta sends for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(body: bytes, header, app_secrets) -> bool:
    """True when ``header`` is a valid signature of the raw ``body`` with one of ``app_secrets``.

    Every candidate is compared in constant time; a missing or garbled header is simply invalid.
    """
    if not header or not isinstance(header, str) or not header.startswith(SIGNATURE_PREFIX):
        return False
    if isinstance(app_secrets, str):
        app_secrets = [app_secrets]
    given = header.strip().encode()
    valid = False
    for secret in app_secrets:
        if secret and hmac.compare_digest(sign(body, secret).encode(), given):
            valid = True
    return valid
