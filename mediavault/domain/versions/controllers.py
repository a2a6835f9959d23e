"""``/media/{id}/versions``: the versions of an item's bytes; download or restore one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal, StorageDep
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.versions.schemas import MediaVersionOut
from mediavault.domain.versions.services import VersionService
from mediavault.http.content import content_response
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.routes import get, post, route

__all__ = ("VersionController", "VersionServiceDep")

VersionServiceDep = NamedDependency[VersionService]
"""``mediavault_version_service``."""


class VersionController(Controller):
    """Versions of the caller's media (``PUT /media/{id}/content`` makes a new one)."""

    path = "/media/{media_id:str}/versions"
    tags = ["media"]
    opt = {SCOPE_OPT: "media"}

    @get("/")
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_version_service: VersionServiceDep,
    ) -> Response[Envelope[list[MediaVersionOut]]]:
        """The current version and the previous ones kept (``max_versions``), newest first."""
        versions = await mediavault_version_service.list_versions(mediavault_principal, media_id)
        return envelope(
            request,
            [
                MediaVersionOut(v.version, v.size, v.checksum_sha256, v.content_type, v.created_at, v.current)
                for v in versions
            ],
        )

    @route("/{version:str}/content", http_method=["GET", "HEAD"])
    async def get_version_content(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        version: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_version_service: VersionServiceDep,
        mediavault_storage: StorageDep,
    ) -> Response[bytes]:
        """The bytes of one version, with the download rules of ``/media/{id}/content``."""
        file = await mediavault_version_service.content(mediavault_principal, media_id, version)
        return await content_response(
            method=request.method, headers=request.headers, storage=mediavault_storage, file=file
        )

    @post("/{version:str}/restore", status_code=200)
    async def restore_version(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        version: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_version_service: VersionServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Make a version's bytes current again (a new version with a copy of them)."""
        media = await mediavault_version_service.restore(mediavault_principal, media_id, version)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix))
