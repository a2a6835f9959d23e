"""The query parameters shared by ``GET /media``, ``GET /collections/{id}/media`` and ``GET /search``."""

from __future__ import annotations

from typing import Annotated, get_args

from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from mediavault.db.query import MediaQuery
from mediavault.domain.media.schemas import MediaKind, MediaSort
from mediavault.errors import ValidationError
from mediavault.http.envelope import PageParam, PerPageParam

__all__ = ("MEDIA_KINDS", "ChecksumParam", "KindParam", "MediaQueryDep", "provide_media_query")

MEDIA_KINDS: tuple[str, ...] = get_args(MediaKind)
"""The values of the ``type`` filter."""

ChecksumParam = Annotated[
    str | None,
    QueryParameter(pattern=r"^[0-9A-Fa-f]{64}$", description="SHA-256 of the content, 64 hex digits"),
]
"""``checksum_sha256`` query parameter: a SHA-256 (FIPS 180-4) as 64 hex digits, any case (else 400)."""


KindParam = Annotated[
    str | None,
    QueryParameter(description="Only media of this type", schema_extra={"enum": list(MEDIA_KINDS)}),
]
"""``type`` query parameter: exactly one of :data:`MEDIA_KINDS` (else 400)."""


def provide_media_query(
    page: PageParam = 1,
    per_page: PerPageParam = 20,
    sort: FromQuery[MediaSort] = "-created_at",
    type: KindParam = None,
    tag: FromQuery[str | None] = None,
    checksum_sha256: ChecksumParam = None,
) -> MediaQuery:
    """Dependency ``mediavault_media_query``: the shared query parameters, validated by Litestar (bad → 400).

    ``type`` is read as text and must be exactly one of :data:`MEDIA_KINDS` (as ``MediaKind | None``, Litestar
    read ``type=null`` as no filter). ``q`` is declared by each route itself, since it means a substring filter on
    ``GET /media`` and a required full-text query on ``GET /search``.
    """
    if type is not None and type not in MEDIA_KINDS:
        raise ValidationError.for_field("type", f"must be one of {', '.join(MEDIA_KINDS)}")
    checksum = checksum_sha256.lower() if checksum_sha256 else None
    return MediaQuery(page=page, per_page=per_page, sort=sort, kind=type, tag=tag, checksum_sha256=checksum)


MediaQueryDep = NamedDependency[MediaQuery]
"""``mediavault_media_query``: page, per_page, sort, type and tag of a media listing."""
