"""Wire shapes of the trash (msgspec)."""

from __future__ import annotations

import datetime as dt

from mediavault_sdk import types as wire

from mediavault.db.models import Media
from mediavault.domain.media.schemas import MediaOut

__all__ = ("TrashedMediaOut",)


class TrashedMediaOut(wire.TrashedMedia, MediaOut, kw_only=True):
    """A media item in the trash (``GET /trash``): the media object with ``deleted_at`` and ``purge_at``."""

    @classmethod
    def trashed(cls, media: Media, prefix: str, deleted_at: dt.datetime, purge_at: dt.datetime) -> TrashedMediaOut:
        """Build from the row, when it was deleted and when it will be purged."""
        out = MediaOut.of(media, prefix)
        return cls(**{f: getattr(out, f) for f in out.__struct_fields__}, deleted_at=deleted_at, purge_at=purge_at)
