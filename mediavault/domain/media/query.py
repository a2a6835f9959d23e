"""The query parameters shared by ``GET /media``, ``GET /collections/{id}/media`` and ``GET /search``."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from mediavault.db.query import MediaQuery
from mediavault.domain.media.schemas import MediaKind, MediaSort
from mediavault.errors import ValidationError
from mediavault.http.envelope import PageParam, PerPageParam

__all__ = (
    "MAX_METADATA_FILTERS",
    "MEDIA_KINDS",
    "METADATA_FILTER",
    "ChecksumParam",
    "KindParam",
    "MediaQueryDep",
    "metadata_filters",
    "provide_media_query",
)

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


METADATA_FILTER = "metadata."
"""Prefix of the query parameters filtering on custom metadata: ``metadata.<key>=<value>``."""
MAX_METADATA_FILTERS = 10
"""At most this many ``metadata.<key>`` filters in one query (each is one more indexed lookup)."""


def metadata_filters(request: Request[Any, Any, Any]) -> tuple[tuple[str, str], ...]:
    """The ``metadata.<key>=<value>`` query parameters of ``request`` as ``(key, value)`` pairs, in their order.

    Raises:
        ValidationError: an empty key, or more than :data:`MAX_METADATA_FILTERS` filters.
    """
    pairs = tuple(
        (name.removeprefix(METADATA_FILTER), value)
        for name, value in request.query_params.multi_items()
        if name.startswith(METADATA_FILTER)
    )
    for key, _ in pairs:
        if not key:
            raise ValidationError.for_field(METADATA_FILTER, "name a key: metadata.<key>=<value>")
    if len(pairs) > MAX_METADATA_FILTERS:
        raise ValidationError.for_field(METADATA_FILTER, f"at most {MAX_METADATA_FILTERS} metadata filters")
    return pairs


def provide_media_query(
    request: Request[Any, Any, Any],
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
    ``GET /media`` and a required full-text query on ``GET /search``. ``metadata.<key>=<value>`` parameters are
    read from the request (:func:`metadata_filters`): their names are not known in advance.
    """
    if type is not None and type not in MEDIA_KINDS:
        raise ValidationError.for_field("type", f"must be one of {', '.join(MEDIA_KINDS)}")
    checksum = checksum_sha256.lower() if checksum_sha256 else None
    return MediaQuery(
        page=page,
        per_page=per_page,
        sort=sort,
        kind=type,
        tag=tag,
        checksum_sha256=checksum,
        metadata=metadata_filters(request),
    )


MediaQueryDep = NamedDependency[MediaQuery]
"""``mediavault_media_query``: page, per_page, sort, type and tag of a media listing."""
