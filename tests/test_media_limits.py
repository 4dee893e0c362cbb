"""Tests of ``tools.media_limits``: what Meta takes as a file message, decided before queuing."""

import pytest
from wa_tools import media_limits
from wa_tools.media_limits import MB, media_problem


@pytest.mark.parametrize(
    ("mimetype", "size"),
    [
        ("image/jpeg", 5 * MB),
        ("image/png", 1),
        ("video/mp4", 16 * MB),
        ("audio/ogg; codecs=opus", 100_000),
        ("application/pdf", 100 * MB),
        ("text/plain", 10),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 2 * MB),
    ],
)
def test_files_meta_takes_pass(mimetype, size):
    assert media_problem(mimetype, size) is None


@pytest.mark.parametrize(
    ("mimetype", "size", "kind", "limit"),
    [
        ("image/jpeg", 5 * MB + 1, "image", 5 * MB),
        ("video/3gpp", 17 * MB, "video", 16 * MB),
        ("audio/mpeg", 16 * MB + 1, "audio", 16 * MB),
        ("application/pdf", 100 * MB + 1, "document", 100 * MB),
    ],
)
def test_too_large_names_the_limit_of_the_kind(mimetype, size, kind, limit):
    assert media_problem(mimetype, size) == media_limits.MediaProblem("too_large", kind, limit)


@pytest.mark.parametrize(
    "mimetype", ["application/zip", "text/html", "image/gif", "application/x-msdownload", "", None]
)
def test_formats_meta_does_not_deliver_are_refused(mimetype):
    assert media_problem(mimetype, 100).code == "unsupported_type"


@pytest.mark.parametrize("size", [0, -1, None, "12", 1.5])
def test_empty_or_unreadable_sizes_are_refused(size):
    assert media_problem("application/pdf", size).code == "empty"


def test_a_caption_longer_than_meta_takes_is_refused_where_it_is_sent():
    long = "x" * (media_limits.MAX_CAPTION + 1)
    assert media_problem("image/png", 10, long).code == "caption_too_long"
    assert media_problem("image/png", 10, "x" * media_limits.MAX_CAPTION) is None
    # audio carries no caption: it stays in Odoo's thread only
    assert media_problem("audio/aac", 10, long) is None


def test_megabytes_for_people():
    assert media_limits.megabytes(5 * MB) == "5 MB"
    assert media_limits.megabytes(MB // 2) == "0.5 MB"


@pytest.mark.parametrize(
    ("declared", "expected"), [(17 * MB, True), (16 * MB, False), (None, False), ("huge", False)]
)
def test_inbound_too_large_only_on_a_declared_size(declared, expected):
    assert media_limits.inbound_too_large(declared, 16 * MB) is expected
