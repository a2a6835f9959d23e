"""The list query shared by ``GET /media``, ``GET /collections/{id}/media`` and ``GET /search``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar.params import FromQuery, QueryParameter

from mediavault.domain.media.schemas import MediaKind, MediaSort
from mediavault.http.envelope import PageParam, PerPageParam

__all__ = ("ChecksumParam", "MediaQuery", "provide_media_query")

ChecksumParam = Annotated[
    str | None,
    QueryParameter(pattern=r"^[0-9A-Fa-f]{64}$", description="SHA-256 of the content, 64 hex digits"),
]
"""``checksum_sha256`` query parameter: a SHA-256 (FIPS 180-4) as 64 hex digits, any case (else 400)."""


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
    """

    page: int = 1
    per_page: int = 20
    sort: str = "-created_at"
    kind: str | None = None
    tag: str | None = None
    q: str | None = None
    search: str | None = None
    checksum_sha256: str | None = None

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.per_page


def provide_media_query(
    page: PageParam = 1,
    per_page: PerPageParam = 20,
    sort: FromQuery[MediaSort] = "-created_at",
    type: FromQuery[MediaKind | None] = None,
    tag: FromQuery[str | None] = None,
    checksum_sha256: ChecksumParam = None,
) -> MediaQuery:
    """Dependency ``mediavault_media_query``: the shared query parameters, validated by Litestar (bad → 400).

    ``q`` is declared by each route itself, since it means a substring filter on ``GET /media`` and a
    required full-text query on ``GET /search``.
    """
    checksum = checksum_sha256.lower() if checksum_sha256 else None
    return MediaQuery(page=page, per_page=per_page, sort=sort, kind=type, tag=tag, checksum_sha256=checksum)
