"""``/search``: full-text search over the caller's media."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal
from mediavault.domain.media.query import MediaQueryDep
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.media.services import MediaService
from mediavault.errors import ValidationError
from mediavault.http.envelope import Envelope, paginated
from mediavault.http.routes import get

__all__ = ("SearchController",)

SearchQuery = Annotated[
    str,
    QueryParameter(
        max_length=1000, description="Words to find in filename, title, description or tags (all must match)"
    ),
]


class SearchController(Controller):
    """Search the caller's media."""

    path = "/search"
    tags = ["search"]
    opt = {SCOPE_OPT: "media"}

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: NamedDependency[MediaService],
        mediavault_media_query: MediaQueryDep,
        mediavault_config: ConfigDep,
        q: SearchQuery,
    ) -> Response[Envelope[list[MediaOut]]]:
        """The caller's media matching every word of ``q`` (word prefixes, case-insensitive; SQLite FTS5 or
        PostgreSQL full-text search), with the filters, sort and pagination of ``GET /media``. Empty ``q`` → 400."""
        if not q.strip():
            raise ValidationError.for_field("q", "must not be empty")
        query = replace(mediavault_media_query, search=q)
        items, total = await mediavault_media_service.list_page(mediavault_principal, query)
        prefix = mediavault_config.path_prefix
        return paginated(
            request,
            [MediaOut.of(m, prefix) for m in items],
            total=total,
            page=query.page,
            per_page=query.per_page,
            path="/search",
        )
