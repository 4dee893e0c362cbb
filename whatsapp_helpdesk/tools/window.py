"""Meta's customer-service window, the one rule for when free-form messages may be sent. No Odoo.

Free-form messages (text, media, interactive) may be sent for 24 hours after the customer's last
message; afterwards only approved templates (Graph error 131047 otherwise).
"""

from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=24)


def window_end(last_inbound: datetime | None) -> datetime | None:
    """When the window opened by a customer message at ``last_inbound`` closes (None if none)."""
    return last_inbound + SERVICE_WINDOW if last_inbound else None


def is_open(end: datetime | None, now: datetime) -> bool:
    """Whether a window ending at ``end`` is still open at ``now``."""
    return bool(end) and end > now
