"""``/shares`` (the owner's links) and ``/s/{token}`` (the public side, no authentication)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal, SharePassword, StorageDep
from mediavault.domain.shares.schemas import (
    PublicCollection,
    PublicMedia,
    ShareCreate,
    SharedCollectionOut,
    SharedMediaOut,
    ShareOut,
)
from mediavault.domain.shares.services import SharedCollection, SharedMedia, ShareService
from mediavault.http.content import content_response
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import delete, get, post, route

__all__ = ("PublicShareController", "ShareController", "ShareServiceDep")

ShareServiceDep = NamedDependency[ShareService]
"""``mediavault_share_service``."""


class ShareController(Controller):
    """The caller's share links."""

    path = "/shares"
    tags = ["sharing"]
    opt = {SCOPE_OPT: "shares"}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_share(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ShareCreate],
        mediavault_principal: CurrentPrincipal,
        mediavault_share_service: ShareServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[ShareOut]]:
        """Create a link to ``media_id`` or ``collection_id`` (201). ``token``/``url`` are shown only here."""
        share, token = await mediavault_share_service.create(mediavault_principal, data)
        return envelope(request, ShareOut.of(share, mediavault_config.path_prefix, token), HTTP_201_CREATED)

    @get("/")
    async def list_shares(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_share_service: ShareServiceDep,
        mediavault_config: ConfigDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[ShareOut]]]:
        """The caller's links, newest first, paginated (``token`` and ``url`` are ``null``: only hashes are kept)."""
        rows, total = await mediavault_share_service.list_page(mediavault_principal, page=page, per_page=per_page)
        prefix = mediavault_config.path_prefix
        items = [ShareOut.of(s, prefix) for s in rows]
        return paginated(request, items, total=total, page=page, per_page=per_page, path="/shares")

    @delete("/{share_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_share(
        self, share_id: FromPath[str], mediavault_principal: CurrentPrincipal, mediavault_share_service: ShareServiceDep
    ) -> None:
        """Delete a link; it stops working at once."""
        await mediavault_share_service.delete(mediavault_principal, share_id)


class PublicShareController(Controller):
    """Opening share links: no authentication, the token is the capability."""

    path = "/s"
    tags = ["sharing"]
    opt = {"public": True}

    @get("/{token:str}", opt={"public": True})
    async def open_share(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        mediavault_share_service: ShareServiceDep,
        mediavault_config: ConfigDep,
        x_share_password: SharePassword = None,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[PublicMedia | PublicCollection]]:
        """A media link: ``{"type": "media", "media"}``. A collection link: ``{"type": "collection", "collection",
        "media": [...]}`` with ``meta.pagination`` for the media (newest first). Nothing of the owner or the
        original: the objects describe the files the link serves (:class:`SharedMediaOut`). Expired/deleted → 404;
        missing or wrong ``X-Share-Password`` → 401."""
        shared = await mediavault_share_service.view(token, x_share_password, page=page, per_page=per_page)
        base = f"{mediavault_config.path_prefix}/s/{token}"
        if not isinstance(shared, SharedCollection):
            return envelope(request, PublicMedia(media=_shared_media_out(shared, f"{base}/content")))
        items = [_shared_media_out(m, f"{base}/media/{m.media.id}/content") for m in shared.media]
        data = PublicCollection(collection=SharedCollectionOut.of(shared.collection, shared.media_count), media=items)
        return paginated(
            request, items, total=shared.total, page=page, per_page=per_page, path=f"/s/{token}", data=data
        )

    @route("/{token:str}/content", http_method=["GET", "HEAD"], opt={"public": True})
    async def share_content(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        mediavault_share_service: ShareServiceDep,
        mediavault_storage: StorageDep,
        x_share_password: SharePassword = None,
    ) -> Response[bytes]:
        """The bytes of a media link, with the download rules of ``/media/{id}/content``; images without their
        metadata (``share_strip_metadata``). ``allow_download`` false → 403."""
        file = await mediavault_share_service.content(token, x_share_password)
        return await content_response(
            method=request.method, headers=request.headers, storage=mediavault_storage, file=file
        )

    @route("/{token:str}/media/{media_id:str}/content", http_method=["GET", "HEAD"], opt={"public": True})
    async def share_member_content(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        media_id: FromPath[str],
        mediavault_share_service: ShareServiceDep,
        mediavault_storage: StorageDep,
        x_share_password: SharePassword = None,
    ) -> Response[bytes]:
        """The bytes of one member of a collection link (a non-member → 404), same rules as above."""
        file = await mediavault_share_service.content(token, x_share_password, media_id)
        return await content_response(
            method=request.method, headers=request.headers, storage=mediavault_storage, file=file
        )


def _shared_media_out(shared: SharedMedia, content_url: str) -> SharedMediaOut:
    return SharedMediaOut.of(shared.media, shared.file, shared.width, shared.height, content_url)
