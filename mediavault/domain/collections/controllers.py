"""``/collections``: CRUD, and the media in a collection."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.collections.schemas import CollectionAddMedia, CollectionCreate, CollectionOut, CollectionUpdate
from mediavault.domain.collections.services import CollectionService
from mediavault.domain.deps import ConfigDep, CurrentPrincipal
from mediavault.domain.media.query import MediaQueryDep
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.ownership import parse_id
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import delete, get, patch, post

__all__ = ("CollectionController", "CollectionServiceDep")

CollectionServiceDep = NamedDependency[CollectionService]
"""``mediavault_collection_service``."""


class CollectionController(Controller):
    """The caller's collections."""

    path = "/collections"
    tags = ["collections"]
    opt = {SCOPE_OPT: "collections"}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_collection(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CollectionCreate],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> Response[Envelope[CollectionOut]]:
        """Create a collection ``{"name", "description"?}`` (201); emits ``collection.created``."""
        collection, count = await mediavault_collection_service.create(mediavault_principal, data)
        return envelope(request, CollectionOut.of(collection, count), HTTP_201_CREATED)

    @get("/")
    async def list_collections(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[CollectionOut]]]:
        """The caller's collections, newest first, paginated."""
        rows, total = await mediavault_collection_service.list_page(mediavault_principal, page=page, per_page=per_page)
        items = [CollectionOut.of(c, n) for c, n in rows]
        return paginated(request, items, total=total, page=page, per_page=per_page, path="/collections")

    @get("/{collection_id:str}")
    async def get_collection(
        self,
        request: Request[Any, Any, Any],
        collection_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> Response[Envelope[CollectionOut]]:
        """One collection of the caller (someone else's → 404)."""
        collection, count = await mediavault_collection_service.get(mediavault_principal, collection_id)
        return envelope(request, CollectionOut.of(collection, count))

    @patch("/{collection_id:str}")
    async def update_collection(
        self,
        request: Request[Any, Any, Any],
        collection_id: FromPath[str],
        data: JSONBody[CollectionUpdate],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> Response[Envelope[CollectionOut]]:
        """Change ``name`` and/or ``description``; any other field → 400."""
        collection, count = await mediavault_collection_service.update(mediavault_principal, collection_id, data)
        return envelope(request, CollectionOut.of(collection, count))

    @delete("/{collection_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_collection(
        self,
        collection_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> None:
        """Delete the collection and its share links; its media stay. Emits ``collection.deleted``."""
        await mediavault_collection_service.delete(mediavault_principal, collection_id)

    @post("/{collection_id:str}/media", status_code=HTTP_200_OK)
    async def add_media(
        self,
        request: Request[Any, Any, Any],
        collection_id: FromPath[str],
        data: JSONBody[CollectionAddMedia],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> Response[Envelope[CollectionOut]]:
        """Add ``{"media_ids": [...]}`` (idempotent). Any id the caller cannot see → 404 and nothing is added."""
        collection, count = await mediavault_collection_service.add_media(
            mediavault_principal, collection_id, data.media_ids
        )
        return envelope(request, CollectionOut.of(collection, count))

    @get("/{collection_id:str}/media")
    async def list_collection_media(
        self,
        request: Request[Any, Any, Any],
        collection_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
        mediavault_media_query: MediaQueryDep,
        mediavault_config: ConfigDep,
        q: FromQuery[str | None] = None,
    ) -> Response[Envelope[list[MediaOut]]]:
        """The collection's media with the pagination, filters and sort of ``GET /media``."""
        query = replace(mediavault_media_query, q=q)
        items, total = await mediavault_collection_service.list_media(mediavault_principal, collection_id, query)
        prefix = mediavault_config.path_prefix
        return paginated(
            request,
            [MediaOut.of(m, prefix) for m in items],
            total=total,
            page=query.page,
            per_page=query.per_page,
            path=f"/collections/{parse_id(collection_id)}/media",
        )

    @delete("/{collection_id:str}/media/{media_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def remove_media(
        self,
        collection_id: FromPath[str],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_collection_service: CollectionServiceDep,
    ) -> None:
        """Take one media out of the collection (the media stays); not a member → 404."""
        await mediavault_collection_service.remove_media(mediavault_principal, collection_id, media_id)
