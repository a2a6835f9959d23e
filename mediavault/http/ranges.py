"""Byte ranges, entity tags, HTTP dates and conditional requests (RFC 9110), as pure functions.

Used by :mod:`mediavault.http.content` to serve media bytes. The evaluation order for a ``GET``/``HEAD`` is the
one of RFC 9110 §13.2.2:

1. ``If-None-Match`` (§13.1.2) when present, else ``If-Modified-Since`` (§13.1.3): a match is ``304 Not Modified``
   (:func:`is_not_modified`).
2. ``Range`` (§14.2), only for ``GET``, and only if ``If-Range`` (§13.1.5) is absent or matches
   (:func:`if_range_allows`): a single satisfiable range is ``206`` (:func:`parse_range`), an unsatisfiable one
   ``416``, anything else the full ``200``.

``If-Match`` / ``If-Unmodified-Since`` (which only matter for state-changing requests here) are not evaluated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mediavault.errors import RangeNotSatisfiable

__all__ = (
    "etag_for",
    "http_date",
    "if_modified_since_matches",
    "if_none_match_matches",
    "if_range_allows",
    "is_not_modified",
    "parse_http_date",
    "parse_range",
)

_OWS = " \t"
_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 19
"""Digit strings longer than this are clamped: no representation is that large, and it keeps ``int()`` cheap."""

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text   (RFC 9110 §8.8.3)
_ETAGC = r"[\x21\x23-\x7e\x80-\xff]"
_ENTITY_TAG = re.compile(rf'(W/)?"({_ETAGC}*)"')


def _to_int(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Resolve a ``Range`` request header to one byte range of a representation of ``size`` bytes.

    Only the ``bytes`` unit (case-insensitive) and a single range are supported. Per RFC 9110 §14.2 a server may
    ignore a ``Range`` header, and must ignore one it does not understand; ignoring means serving the full
    representation with ``200``. So ``None`` is returned for: no header, an unknown unit, a syntactically invalid
    range set (including ``first-pos > last-pos``, §14.1.1), or more than one range.

    Recognised forms (§14.1.2), with optional whitespace around ``=``, ``-`` and ``,`` tolerated and empty list
    elements ignored:

    * ``bytes=A-B``: bytes ``A`` to ``B`` inclusive; ``B`` past the end is clamped to ``size - 1``.
    * ``bytes=A-``: from ``A`` to the end.
    * ``bytes=-N``: the last ``N`` bytes; ``N >= size`` means the whole representation.

    Args:
        header: The raw ``Range`` field value, or ``None`` when absent.
        size: Length of the selected representation in bytes, ``>= 0``.

    Returns:
        ``(start, end)`` with ``0 <= start < end <= size`` (``end`` exclusive), or ``None`` to serve the full
        representation.

    Raises:
        RangeNotSatisfiable: a valid single range selects no byte (§14.1.1, §15.5.17): ``A >= size``, ``bytes=-0``,
            or any range on a zero-length representation. Its ``headers`` hold ``Content-Range: bytes */<size>``
            (§14.4) for the ``416`` response.
    """
    if header is None:
        return None
    unit, sep, range_set = header.partition("=")
    if not sep or unit.strip(_OWS).lower() != "bytes":
        return None
    specs = [s.strip(_OWS) for s in range_set.split(",")]
    specs = [s for s in specs if s]
    if len(specs) != 1:
        return None
    first, sep, last = specs[0].partition("-")
    first, last = first.strip(_OWS), last.strip(_OWS)
    if not sep:
        return None
    if not first:
        # suffix-range = "-" suffix-length
        if not _DIGITS.fullmatch(last):
            return None
        length = _to_int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return (max(size - length, 0), size)
    # int-range = first-pos "-" [ last-pos ]
    if not _DIGITS.fullmatch(first) or (last and not _DIGITS.fullmatch(last)):
        return None
    start = _to_int(first)
    stop = _to_int(last) if last else None
    if stop is not None and stop < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    end = size if stop is None else min(stop + 1, size)
    return (start, end)


def etag_for(checksum_sha256: str) -> str:
    """Return the strong entity tag for content with the given SHA-256 hex digest.

    The tag is the quoted digest, ``"<hex>"`` (RFC 9110 §8.8.3): identical bytes always get the same tag and
    different bytes a different one, which is what a strong validator requires.

    Args:
        checksum_sha256: Hex digest of the stored bytes.

    Returns:
        The ``ETag`` field value, e.g. ``'"9f86d0..."'``.

    Raises:
        ValueError: ``checksum_sha256`` is empty or holds characters not allowed in an entity tag.
    """
    if not checksum_sha256 or not re.fullmatch(r"[0-9A-Za-z]+", checksum_sha256):
        raise ValueError(f"not a hex digest: {checksum_sha256!r}")
    return f'"{checksum_sha256}"'


def _parse_etag_list(header: str) -> list[tuple[bool, str]] | None:
    """Parse ``#entity-tag`` into ``(weak, opaque-tag)`` pairs; ``None`` if the list is malformed."""
    tags: list[tuple[bool, str]] = []
    for element in header.split(","):
        element = element.strip(_OWS)
        if not element:
            continue
        match = _ENTITY_TAG.fullmatch(element)
        if match is None:
            return None
        tags.append((bool(match.group(1)), match.group(2)))
    return tags


def _split_etag(etag: str) -> tuple[bool, str]:
    match = _ENTITY_TAG.fullmatch(etag.strip(_OWS))
    if match is None:
        raise ValueError(f"not an entity tag: {etag!r}")
    return bool(match.group(1)), match.group(2)


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """Evaluate ``If-None-Match`` against the current entity tag (RFC 9110 §13.1.2).

    The field matches when it is ``*`` (the representation exists), or when any listed entity tag equals ``etag``
    under the *weak* comparison of §8.8.3.2 (opaque tags equal, ``W/`` prefixes ignored). For ``GET``/``HEAD`` a
    match means ``304 Not Modified``.

    A malformed field (e.g. an unquoted tag) matches nothing, so the full response is served.

    Args:
        header: The raw ``If-None-Match`` field value (commas may join several lines), or ``None`` when absent.
        etag: The current entity tag, quoted, as from :func:`etag_for`.

    Returns:
        ``True`` if the condition matched (send ``304``), else ``False``.
    """
    if header is None:
        return False
    if header.strip(_OWS) == "*":
        return True
    tags = _parse_etag_list(header)
    if not tags:
        return False
    _, opaque = _split_etag(etag)
    return any(tag == opaque for _, tag in tags)


_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = r"(\d{2}):(\d{2}):(\d{2})"
_IMF_FIXDATE = re.compile(rf"({'|'.join(_DAYS)}), (\d{{2}}) ({'|'.join(_MONTHS)}) (\d{{4}}) {_TIME} GMT")
_RFC850_DATE = re.compile(rf"({'|'.join(_LONG_DAYS)}), (\d{{2}})-({'|'.join(_MONTHS)})-(\d{{2}}) {_TIME} GMT")
_ASCTIME_DATE = re.compile(rf"({'|'.join(_DAYS)}) ({'|'.join(_MONTHS)}) ([ \d]\d) {_TIME} (\d{{4}})")


def http_date(moment: datetime) -> str:
    """Format ``moment`` as an IMF-fixdate, the preferred HTTP-date form (RFC 9110 §5.6.7).

    Args:
        moment: An aware datetime (a naive one is taken as UTC); sub-second precision is dropped.

    Returns:
        e.g. ``"Sun, 06 Nov 1994 08:49:37 GMT"``.
    """
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{_DAYS[moment.weekday()]}, {moment.day:02d} {list(_MONTHS)[moment.month - 1]} {moment:%Y %H:%M:%S} GMT"


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP-date in any of the three forms recipients must accept (RFC 9110 §5.6.7).

    Accepts IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), the obsolete RFC 850 form
    (``Sunday, 06-Nov-94 08:49:37 GMT``; a two-digit year more than 50 years in the future is taken as the past
    century) and asctime (``Sun Nov  6 08:49:37 1994``). Surrounding whitespace is ignored; matching is exact and
    case-sensitive, as the grammar is.

    Args:
        value: The field value, or ``None``.

    Returns:
        An aware UTC datetime, or ``None`` if ``value`` is absent or not a valid HTTP-date.
    """
    if value is None:
        return None
    value = value.strip(_OWS)
    try:
        if m := _IMF_FIXDATE.fullmatch(value):
            _, day, month, year, hh, mm, ss = m.groups()
            return datetime(int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        if m := _RFC850_DATE.fullmatch(value):
            _, day, month, yy, hh, mm, ss = m.groups()
            year = 2000 + int(yy)
            if year > datetime.now(UTC).year + 50:
                year -= 100
            return datetime(year, _MONTHS[month], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        if m := _ASCTIME_DATE.fullmatch(value):
            _, month, day, hh, mm, ss, year = m.groups()
            return datetime(int(year), _MONTHS[month], int(day.strip()), int(hh), int(mm), int(ss), tzinfo=UTC)
    except ValueError:  # e.g. 31 Feb, hour 25
        return None
    return None


def _to_second(moment: datetime) -> datetime:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def if_modified_since_matches(header: str | None, last_modified: datetime, now: datetime | None = None) -> bool:
    """Evaluate ``If-Modified-Since`` (RFC 9110 §13.1.3): ``True`` when the representation was *not* modified.

    The field is ignored (``False``) when absent, not a valid HTTP-date, or later than the server's current time
    (such a date is invalid, §13.1.3). Otherwise it matches when ``last_modified`` (truncated to whole seconds,
    the resolution of HTTP-dates) is not later than the given date.

    Callers must only evaluate this for ``GET``/``HEAD`` and only when ``If-None-Match`` is absent (§13.2.2); see
    :func:`is_not_modified`.

    Args:
        header: The raw ``If-Modified-Since`` field value, or ``None``.
        last_modified: The representation's modification time (aware; naive is taken as UTC).
        now: The current time, for tests; defaults to the clock.

    Returns:
        ``True`` to answer ``304 Not Modified``.
    """
    since = parse_http_date(header)
    if since is None:
        return False
    if since > (now or datetime.now(UTC)):
        return False
    return _to_second(last_modified) <= since


def is_not_modified(
    method: str,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime,
) -> bool:
    """Decide whether a request gets ``304 Not Modified`` (RFC 9110 §13.2.2 steps 3 and 4, §15.4.5).

    Only ``GET`` and ``HEAD`` are considered. ``If-None-Match`` takes precedence: when it is present
    ``If-Modified-Since`` is not evaluated at all (§13.1.3), so a non-matching ``If-None-Match`` means a full
    response even if the date would match.

    Args:
        method: Request method (case-sensitive per §9.1; ``"GET"`` or ``"HEAD"`` to evaluate).
        if_none_match: Raw ``If-None-Match`` value or ``None``.
        if_modified_since: Raw ``If-Modified-Since`` value or ``None``.
        etag: Current entity tag (quoted).
        last_modified: Current modification time.

    Returns:
        ``True`` to answer ``304``.
    """
    if method not in ("GET", "HEAD"):
        return False
    if if_none_match is not None:
        return if_none_match_matches(if_none_match, etag)
    return if_modified_since_matches(if_modified_since, last_modified)


def if_range_allows(header: str | None, etag: str, last_modified: datetime) -> bool:
    """Evaluate ``If-Range`` (RFC 9110 §13.1.5): ``True`` when a ``Range`` in the same request may be honoured.

    * Absent: ``True`` (the range applies unconditionally).
    * An entity tag: ``True`` only on a *strong* match (§8.8.3.2): both tags strong and opaque tags equal; a weak
      tag never matches.
    * An HTTP-date: ``True`` only if it exactly equals ``last_modified`` truncated to whole seconds (the
      ``Last-Modified`` value sent).
    * Anything else (malformed): ``False``.

    ``False`` means "ignore the Range and send the full representation with 200". The caller must ignore
    ``If-Range`` entirely when the request has no ``Range`` header.

    Args:
        header: The raw ``If-Range`` field value, or ``None``.
        etag: The current strong entity tag (quoted).
        last_modified: The representation's modification time.

    Returns:
        Whether the ``Range`` header may be used.
    """
    if header is None:
        return True
    value = header.strip(_OWS)
    if value.startswith(('"', "W/")):
        match = _ENTITY_TAG.fullmatch(value)
        if match is None or match.group(1):
            return False
        weak, opaque = _split_etag(etag)
        return not weak and match.group(2) == opaque
    date = parse_http_date(value)
    return date is not None and date == _to_second(last_modified)
