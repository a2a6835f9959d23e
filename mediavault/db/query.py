"""The media list query: what ``GET /media``, ``GET /collections/{id}/media``, ``GET /search`` and share links ask
the repository for (a plain value; the HTTP parameters are read in :mod:`mediavault.domain.media.query`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("MediaQuery",)


@dataclass(frozen=True)
class MediaQuery:
    """Page, order and filters of a media listing.

    Attributes:
        page: 1-based page number.
        per_page: items per page (1-100).
        sort: a ``MediaSort`` value (``-`` for descending).
        kind: only media of this ``type``.
        tag: only media with this tag (case-insensitive).
        q: case-insensitive substring of filename, title or description (``GET /media``).
        search: full-text query over filename, title, description and tags (``GET /search``).
        checksum_sha256: only media whose content has this SHA-256 (64 lower-case hex digits).
        metadata: ``(key, value)`` pairs of ``metadata.<key>=<value>``: only media whose custom metadata has every
            one (values compared as strings).
    """

    page: int = 1
    per_page: int = 20
    sort: str = "-created_at"
    kind: str | None = None
    tag: str | None = None
    q: str | None = None
    search: str | None = None
    checksum_sha256: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.per_page
