"""What answers and events say about themselves: the package version and RFC 3339 UTC timestamps.

Used by the response envelope (``meta.version``, ``meta.timestamp``), the outbox events and the webhook worker, so it
sits below all of them.
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import PackageNotFoundError, version

__all__ = ("VERSION", "utc_timestamp")

try:
    VERSION = version("mediavault")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    VERSION = "0.0.0"


def utc_timestamp(moment: dt.datetime | None = None) -> str:
    """RFC 3339 UTC timestamp with a ``Z`` suffix, e.g. ``2026-11-29T10:00:00.123456Z``."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
