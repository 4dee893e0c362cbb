"""What Meta accepts as a file message, checked before a file is queued. No Odoo import.

Meta refuses a file it cannot take only after the upload (error 131053, or 131052 later): an
agent would learn it minutes after pressing Send. These rules give the answer at once, with a
reason the user can act on. The numbers are those of the Cloud API's "Supported media types".
"""

from dataclasses import dataclass

from .messages import CAPTION_MEDIA_TYPES, MAX_CAPTION, MEDIA_MAX_BYTES, media_type

MB = 1024 * 1024

# Documents Meta delivers; any other format is refused by Meta after the upload.
DOCUMENT_MIMETYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)

# What an inbound file may weigh before it is kept in Odoo (a bigger one stays at Meta, noted).
DEFAULT_INBOUND_MAX_BYTES = 16 * MB


@dataclass(frozen=True)
class MediaProblem:
    """Why a file cannot go: ``code`` for tests and logs, ``limit`` in bytes when it is a size."""

    code: str  # "empty", "too_large", "unsupported_type", "caption_too_long"
    kind: str
    limit: int | None = None


def base_mimetype(mimetype) -> str:
    return (mimetype or "").split(";")[0].strip().lower()


def media_problem(mimetype, size, caption=None) -> MediaProblem | None:
    """Why Meta would refuse a file of ``mimetype`` and ``size`` bytes with ``caption``, or None.

    The file goes as :func:`.messages.media_type` says (a PNG as an image, a PDF as a document);
    a document must be of a format Meta delivers.
    """
    kind = media_type(mimetype)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return MediaProblem("empty", kind)
    if size > MEDIA_MAX_BYTES[kind]:
        return MediaProblem("too_large", kind, MEDIA_MAX_BYTES[kind])
    if kind == "document" and base_mimetype(mimetype) not in DOCUMENT_MIMETYPES:
        return MediaProblem("unsupported_type", kind)
    if caption and kind in CAPTION_MEDIA_TYPES and len(caption) > MAX_CAPTION:
        return MediaProblem("caption_too_long", kind, MAX_CAPTION)
    return None


def megabytes(size) -> str:
    """``size`` bytes for a person: "5 MB", "0.5 MB"."""
    value = size / MB
    return f"{value:.0f} MB" if value >= 1 else f"{value:.1f} MB"


def inbound_too_large(declared_size, limit) -> bool:
    """Whether an inbound file Meta declares at ``declared_size`` bytes is over ``limit``."""
    return isinstance(declared_size, int) and declared_size > limit
