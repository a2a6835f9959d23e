"""Range parsing, entity tags, HTTP dates and conditional-request evaluation (RFC 9110)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mediavault.errors import RangeNotSatisfiable
from mediavault.http.ranges import (
    etag_for,
    http_date,
    if_modified_since_matches,
    if_none_match_matches,
    if_range_allows,
    is_not_modified,
    parse_http_date,
    parse_range,
)

# --- parse_range ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        # absent
        (None, 100, None),
        # int-range
        ("bytes=0-", 100, (0, 100)),
        ("bytes=0-0", 100, (0, 1)),
        ("bytes=5-10", 100, (5, 11)),
        ("bytes=99-99", 100, (99, 100)),
        ("bytes=99-", 100, (99, 100)),
        ("bytes=0-99", 100, (0, 100)),
        # last-pos past the end clamps
        ("bytes=0-100", 100, (0, 100)),
        ("bytes=50-1000000", 100, (50, 100)),
        ("bytes=10-" + "9" * 5000, 100, (10, 100)),
        ("bytes=007-010", 100, (7, 11)),
        # suffix-range
        ("bytes=-1", 100, (99, 100)),
        ("bytes=-10", 100, (90, 100)),
        ("bytes=-100", 100, (0, 100)),
        ("bytes=-101", 100, (0, 100)),
        ("bytes=-" + "9" * 5000, 100, (0, 100)),
        ("bytes=-5", 1, (0, 1)),
        # whitespace tolerance and case-insensitive unit
        ("Bytes=0-4", 100, (0, 5)),
        ("BYTES=0-4", 100, (0, 5)),
        (" bytes = 0 - 4 ", 100, (0, 5)),
        ("bytes=\t-3", 100, (97, 100)),
        # empty list elements are ignored (#rule, RFC 9110 §5.6.1)
        ("bytes=0-4,", 100, (0, 5)),
        ("bytes=, 0-4 ,", 100, (0, 5)),
        # unknown unit: ignore
        ("items=0-4", 100, None),
        ("none", 100, None),
        ("bytes 0-4", 100, None),
        ("", 100, None),
        # syntactically invalid: ignore
        ("bytes=", 100, None),
        ("bytes=,", 100, None),
        ("bytes=-", 100, None),
        ("bytes=abc", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=1-a", 100, None),
        ("bytes=--1", 100, None),
        ("bytes=+1-2", 100, None),
        ("bytes=1-+2", 100, None),
        ("bytes=1.5-2", 100, None),
        ("bytes=1-2-3", 100, None),
        ("bytes=5", 100, None),
        ("bytes=0x1-2", 100, None),
        ("bytes=\u0661-\u0662", 100, None),  # non-ASCII (Arabic-Indic) digits
        # first-pos > last-pos is invalid: ignore (not 416)
        ("bytes=10-5", 100, None),
        ("bytes=200-100", 100, None),
        # multiple ranges: ignored, full 200
        ("bytes=0-1,5-6", 100, None),
        ("bytes=0-1, -5", 100, None),
        ("bytes=0-1,0-1", 100, None),
        ("bytes=500-600,0-1", 100, None),
        # invalid beats unsatisfiable for a zero-length representation
        ("bytes=abc", 0, None),
        ("bytes=5-1", 0, None),
        ("items=0-", 0, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=100-200", 100),
        ("bytes=1000-", 100),
        ("bytes=" + "9" * 5000 + "-", 100),
        ("bytes=-0", 100),
        ("bytes=-000", 100),
        ("bytes=0-", 0),
        ("bytes=0-0", 0),
        ("bytes=-1", 0),
        ("bytes=-0", 0),
        ("bytes=1-", 1),
    ],
)
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as excinfo:
        parse_range(header, size)
    err = excinfo.value
    assert err.status_code == 416
    assert err.code == "range_not_satisfiable"
    assert err.headers == {"Content-Range": f"bytes */{size}"}


# --- etag_for ---------------------------------------------------------------------------------------------------


def test_etag_for() -> None:
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert etag_for(digest) == f'"{digest}"'


@pytest.mark.parametrize("bad", ["", 'ab"c', "ab c", "W/x", "abc\n"])
def test_etag_for_rejects_non_hex(bad: str) -> None:
    with pytest.raises(ValueError):
        etag_for(bad)


# --- If-None-Match ----------------------------------------------------------------------------------------------

ETAG = '"abc123"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('"abc123"', True),
        ('W/"abc123"', True),  # weak comparison ignores W/
        ('"other"', False),
        ('W/"other"', False),
        ("*", True),
        (" * ", True),
        ('"x", "abc123"', True),
        ('"x","abc123"', True),
        ('"x" ,\tW/"abc123" ', True),
        ('"x", "y"', False),
        ('"x", , "abc123"', True),  # empty list elements
        ('"ABC123"', False),  # opaque tags compare case-sensitively
        ("abc123", False),  # unquoted: malformed, matches nothing
        ('"abc123", garbage', False),
        ('"abc123', False),
        ('w/"abc123"', False),  # the weak prefix is case-sensitive
        ('"abc123"; x', False),
    ],
)
def test_if_none_match(header: str | None, expected: bool) -> None:
    assert if_none_match_matches(header, ETAG) is expected


def test_if_none_match_with_weak_current_tag() -> None:
    assert if_none_match_matches('"abc123"', 'W/"abc123"')


# --- HTTP dates -------------------------------------------------------------------------------------------------

LM = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


def test_http_date() -> None:
    assert http_date(LM) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(LM.replace(microsecond=999_999)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(LM.replace(tzinfo=None)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    plus2 = LM.astimezone(timezone(timedelta(hours=2)))
    assert http_date(plus2) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(datetime(2024, 2, 29, 0, 0, 0, tzinfo=UTC)) == "Thu, 29 Feb 2024 00:00:00 GMT"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", LM),
        (" Sun, 06 Nov 1994 08:49:37 GMT ", LM),
        ("Sunday, 06-Nov-94 08:49:37 GMT", LM),
        ("Sun Nov  6 08:49:37 1994", LM),
        ("Sun Nov 16 08:49:37 1994", LM.replace(day=16)),
        (None, None),
        ("", None),
        ("yesterday", None),
        ("Sun, 06 Nov 1994 08:49:37 UTC", None),
        ("Sun, 6 Nov 1994 08:49:37 GMT", None),
        ("Sun, 31 Feb 1994 08:49:37 GMT", None),
        ("Sun, 06 Nov 1994 25:49:37 GMT", None),
        ("sun, 06 nov 1994 08:49:37 gmt", None),
        ("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", None),
    ],
)
def test_parse_http_date(value: str | None, expected: datetime | None) -> None:
    assert parse_http_date(value) == expected


def test_roundtrip_http_date() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_http_date(http_date(moment)) == moment


# --- If-Modified-Since / is_not_modified ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "last_modified", "expected"),
    [
        (None, LM, False),
        ("Sun, 06 Nov 1994 08:49:37 GMT", LM, True),
        ("Sun, 06 Nov 1994 08:49:37 GMT", LM.replace(microsecond=500_000), True),  # second resolution
        ("Sun, 06 Nov 1994 08:49:38 GMT", LM, True),
        ("Sun, 06 Nov 1994 08:49:36 GMT", LM, False),
        ("not a date", LM, False),
        ("Sun, 06 Nov 2999 08:49:37 GMT", LM, False),  # in the future: invalid, ignored
    ],
)
def test_if_modified_since(header: str | None, last_modified: datetime, expected: bool) -> None:
    assert if_modified_since_matches(header, last_modified) is expected


@pytest.mark.parametrize(
    ("method", "inm", "ims", "expected"),
    [
        ("GET", None, None, False),
        ("GET", ETAG, None, True),
        ("HEAD", ETAG, None, True),
        ("POST", ETAG, None, False),
        ("GET", '"other"', None, False),
        ("GET", None, "Sun, 06 Nov 1994 08:49:37 GMT", True),
        ("HEAD", None, "Sun, 06 Nov 1994 08:49:37 GMT", True),
        ("GET", None, "Sat, 05 Nov 1994 08:49:37 GMT", False),
        # If-None-Match present: If-Modified-Since is not evaluated (RFC 9110 §13.2.2)
        ("GET", '"other"', "Sun, 06 Nov 1994 08:49:37 GMT", False),
        ("GET", ETAG, "Sat, 05 Nov 1994 08:49:37 GMT", True),
        ("GET", "", "Sun, 06 Nov 1994 08:49:37 GMT", False),
    ],
)
def test_is_not_modified(method: str, inm: str | None, ims: str | None, expected: bool) -> None:
    assert is_not_modified(method, inm, ims, ETAG, LM) is expected


# --- If-Range ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, True),
        ('"abc123"', True),
        (' "abc123" ', True),
        ('W/"abc123"', False),  # strong comparison: weak never matches
        ('"other"', False),
        ('"abc123", "x"', False),  # a list is not allowed
        ("abc123", False),
        ("Sun, 06 Nov 1994 08:49:37 GMT", True),
        ("Sunday, 06-Nov-94 08:49:37 GMT", True),
        ("Sun, 06 Nov 1994 08:49:38 GMT", False),  # a date must match exactly
        ("Sun, 06 Nov 1994 08:49:36 GMT", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_if_range(header: str | None, expected: bool) -> None:
    assert if_range_allows(header, ETAG, LM.replace(microsecond=123)) is expected


def test_if_range_with_weak_current_tag_never_matches() -> None:
    assert not if_range_allows('"abc123"', 'W/"abc123"', LM)
