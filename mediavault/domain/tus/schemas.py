"""The tus 1.0.0 wire values (https://tus.io/protocols/resumable-upload): versions, extensions, headers and the
``Upload-Metadata`` encoding."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from email.utils import format_datetime

from mediavault.errors import ValidationError

__all__ = (
    "OFFSET_CONTENT_TYPE",
    "TUS_EXTENSIONS",
    "TUS_VERSION",
    "decode_metadata",
    "encode_metadata",
    "http_date",
    "parse_length",
)

TUS_VERSION = "1.0.0"
"""The one protocol version served (``Tus-Resumable``, ``Tus-Version``)."""
TUS_EXTENSIONS = "creation,creation-with-upload,expiration,termination,checksum"
"""``Tus-Extension``: deferred length and concatenation are not offered."""
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
"""The ``Content-Type`` of every body that carries upload bytes."""


def parse_length(header: str, raw: str | None) -> int:
    """A non-negative integer header (``Upload-Length``, ``Upload-Offset``).

    Raises:
        ValidationError: missing, not decimal digits, or too long to be a file size.
    """
    if raw is None:
        raise ValidationError.for_field(header, "required")
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError.for_field(header, "must be a non-negative integer")
    return int(raw)


def decode_metadata(raw: str | None) -> dict[str, str]:
    """Decode ``Upload-Metadata``: comma-separated ``key base64value`` pairs (a key alone means an empty value).

    Raises:
        ValidationError: a pair that is not ``key [base64]``, a repeated key, a value that is not base64 of UTF-8.
    """
    metadata: dict[str, str] = {}
    for pair in (raw or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        if not key or " " in value.strip() or key in metadata:
            raise ValidationError.for_field("Upload-Metadata", f"malformed pair {pair.strip()[:40]!r}")
        try:
            metadata[key] = base64.b64decode(value.strip(), validate=True).decode()
        except ValueError as exc:  # binascii.Error, UnicodeDecodeError, and a value with non-ASCII bytes
            raise ValidationError.for_field("Upload-Metadata", f"{key[:40]}: not base64 of UTF-8 text") from exc
    return metadata


def encode_metadata(values: Mapping[str, str]) -> str:
    """Encode ``values`` as ``Upload-Metadata`` (empty values as a key alone)."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" if v else k for k, v in values.items())


def http_date(moment: dt.datetime) -> str:
    """An RFC 9110 HTTP-date (``Upload-Expires``), from an aware or naive-UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)
