"""``/trash``: the caller's deleted media (``trash_retention_days`` > 0): list, restore, purge one or all."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.trash.schemas import TrashedMediaOut
from mediavault.domain.trash.services import TrashService
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import delete, get, post

__all__ = ("TrashController", "TrashServiceDep")

TrashServiceDep = NamedDependency[TrashService]
"""``mediavault_trash_service``."""


class TrashController(Controller):
    """The caller's trash."""

    path = "/trash"
    tags = ["trash"]
    opt = {SCOPE_OPT: "media"}

    @get("/")
    async def list_trash(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_trash_service: TrashServiceDep,
        mediavault_config: ConfigDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[TrashedMediaOut]]]:
        """Deleted media, most recently deleted first, paginated, each with ``deleted_at`` and ``purge_at``."""
        service = mediavault_trash_service
        rows, total = await service.list_page(mediavault_principal, page=page, per_page=per_page)
        prefix = mediavault_config.path_prefix
        items = [TrashedMediaOut.trashed(m, prefix, deleted_at, service.purge_at(deleted_at)) for m, deleted_at in rows]
        return paginated(request, items, total=total, page=page, per_page=per_page, path="/trash")

    @post("/{media_id:str}/restore", status_code=200)
    async def restore_media(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_trash_service: TrashServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Restore a deleted item, back where it was (collections and shares included)."""
        media = await mediavault_trash_service.restore(mediavault_principal, media_id)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix))

    @delete("/{media_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def purge_media(
        self, media_id: FromPath[str], mediavault_principal: CurrentPrincipal, mediavault_trash_service: TrashServiceDep
    ) -> None:
        """Purge a deleted item now, with its bytes."""
        await mediavault_trash_service.purge(mediavault_principal, media_id)

    @delete("/", status_code=HTTP_204_NO_CONTENT)
    async def empty_trash(
        self, mediavault_principal: CurrentPrincipal, mediavault_trash_service: TrashServiceDep
    ) -> None:
        """Purge every deleted item now, with its bytes."""
        await mediavault_trash_service.empty(mediavault_principal)
