"""Click tracking of a template's URL button (plain Python, no Odoo import).

Meta's URL buttons may end with one variable, the dynamic suffix: a tracked button's URL is
Odoo's redirect address ending with ``{{1}}``, and each message fills the suffix with its own
token. The redirect records the click once and forwards to the button's target, which is stored
on the button: nothing in the request chooses where the customer goes (no open redirect).
"""

import re
from urllib.parse import urlsplit

CLICK_PATH = "/whatsapp/click/"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_TARGET_LENGTH = 2000


def tracker_url(base_url):
    """The URL a tracked button sends to Meta: the redirect, the token as its suffix."""
    return f"{(base_url or '').rstrip('/')}{CLICK_PATH}{{{{1}}}}"


def is_token(value):
    """Whether ``value`` has the shape of a click token (32 hex digits), checked before any
    query: anything longer, shorter or of another alphabet is refused as unknown."""
    return isinstance(value, str) and len(value) == 32 and bool(TOKEN_RE.match(value))


def check_target(url):
    """The target ``url`` of a tracked button, stripped, or ValueError: an absolute http(s)
    URL with a host, no spaces or control characters, at most MAX_TARGET_LENGTH characters."""
    if not isinstance(url, str):
        raise ValueError("the target must be a text")
    url = url.strip()
    if len(url) > MAX_TARGET_LENGTH:
        raise ValueError(f"the target is longer than {MAX_TARGET_LENGTH} characters")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError("the target contains spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ValueError(f"the target is not a URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("the target must be an http:// or https:// address with a host")
    return url
