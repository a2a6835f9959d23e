"""Wire shapes of media versions (msgspec)."""

from __future__ import annotations

from mediavault_sdk import types as wire

__all__ = ("MediaVersionOut",)


class MediaVersionOut(wire.MediaVersion):
    """One version of an item's bytes (``GET /media/{id}/versions``)."""
