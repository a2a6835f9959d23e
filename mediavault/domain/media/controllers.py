"""``/media``: upload, list, get, content, update, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal, StorageDep
from mediavault.domain.media.query import MediaQueryDep
from mediavault.domain.media.schemas import MediaOut, MediaProcessingOut, MediaUpdate
from mediavault.domain.media.services import MediaService
from mediavault.http.content import content_response
from mediavault.http.envelope import Envelope, envelope, paginated
from mediavault.http.multipart import least_file_size
from mediavault.http.routes import delete, get, patch, post, put, route
from mediavault.http.uploads import UploadOperation, receive_upload

__all__ = ("DEDUPLICATED_HEADER", "MediaController", "MediaServiceDep")

MediaServiceDep = NamedDependency[MediaService]
"""``mediavault_media_service``."""

DEDUPLICATED_HEADER = "X-Mediavault-Deduplicated"
"""Sent on ``POST /media/upload`` when ``dedup`` is on: ``true`` if the bytes were already stored (now shared)."""


class MediaController(Controller):
    """The caller's media."""

    path = "/media"
    tags = ["media"]
    opt = {SCOPE_OPT: "media"}

    @post("/upload", status_code=HTTP_201_CREATED, request_max_body_size=None, operation_class=UploadOperation)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Upload one file as ``multipart/form-data``: part ``file`` (required), optional ``title``,
        ``description``, ``tags`` (comma-separated). The body is parsed here, as it arrives, and the file part's
        bytes are handed to the service as a stream (straight to storage); over ``max_upload_size`` → 413
        ``payload_too_large``, over the owner's quota → 413 ``quota_exceeded`` (before the file's bytes are stored
        when ``Content-Length`` already says so)."""
        declared = least_file_size(request.headers.get("content-length"))
        async with receive_upload(request, mediavault_config.max_upload_size) as file:
            upload = await mediavault_media_service.upload(mediavault_principal.user_id, file, declared_size=declared)
        response = envelope(request, MediaOut.of(upload.media, mediavault_config.path_prefix), HTTP_201_CREATED)
        if mediavault_config.dedup:
            response.headers[DEDUPLICATED_HEADER] = "true" if upload.deduplicated else "false"
        return response

    @get("/")
    async def list_media(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_media_query: MediaQueryDep,
        mediavault_config: ConfigDep,
        q: FromQuery[str | None] = None,
    ) -> Response[Envelope[list[MediaOut]]]:
        """The caller's media, paginated (``page``, ``per_page``), filtered by ``type``, ``tag``, ``q`` (substring
        of filename, title or description) and sorted by ``sort``."""
        query = replace(mediavault_media_query, q=q)
        items, total = await mediavault_media_service.list_page(mediavault_principal, query)
        prefix = mediavault_config.path_prefix
        return paginated(
            request,
            [MediaOut.of(m, prefix) for m in items],
            total=total,
            page=query.page,
            per_page=query.per_page,
            path="/media",
        )

    @get("/{media_id:str}")
    async def get_media(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """One media item of the caller (someone else's → 404)."""
        media = await mediavault_media_service.read(mediavault_principal, media_id)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix))

    @route("/{media_id:str}/content", http_method=["GET", "HEAD"])
    async def get_content(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_storage: StorageDep,
        mediavault_config: ConfigDep,
    ) -> Response[bytes]:
        """The stored bytes, with ETag, Last-Modified, single ``Range`` (206/416) and ``If-None-Match`` (304); with
        ``storage_presigned_downloads`` on an S3 backend, a 307 to a presigned URL for passive types."""
        file = await mediavault_media_service.content(mediavault_principal, media_id)
        config = mediavault_config
        redirect_ttl = config.storage_presigned_ttl if config.storage_presigned_downloads else None
        return await content_response(
            method=request.method,
            headers=request.headers,
            storage=mediavault_storage,
            file=file,
            redirect_ttl=redirect_ttl,
        )

    @put("/{media_id:str}/content", request_max_body_size=None, operation_class=UploadOperation)
    async def replace_content(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Replace the item's bytes with the same multipart body as upload (part ``file``; ``title``,
        ``description``, ``tags``, ``metadata`` replace those fields when sent): same id, collections and shares,
        ``version`` + 1, the previous bytes kept as a version. Over the owner's quota → 413 ``quota_exceeded``, as
        upload (before the file's bytes are stored when ``Content-Length`` already says so)."""
        declared = least_file_size(request.headers.get("content-length"))
        async with receive_upload(request, mediavault_config.max_upload_size) as file:
            media = await mediavault_media_service.replace(mediavault_principal, media_id, file, declared_size=declared)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix))

    @route("/{media_id:str}/thumbnail", http_method=["GET", "HEAD"])
    async def get_thumbnail(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_storage: StorageDep,
        size: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """A thumbnail (``size``: one of the configured ``thumbnail_sizes``, default the smallest; another value →
        400), with the download rules of ``/content``. Not made yet, failed, or not an image → 404."""
        file = await mediavault_media_service.thumbnail(mediavault_principal, media_id, size)
        return await content_response(
            method=request.method, headers=request.headers, storage=mediavault_storage, file=file
        )

    @get("/{media_id:str}/metadata")
    async def get_metadata(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaProcessingOut]]:
        """Processing status, what the processors found (dimensions, orientation, capture time, camera; never the
        GPS position), their errors and the item's variants."""
        media, state, variants = await mediavault_media_service.processing(mediavault_principal, media_id)
        return envelope(request, MediaProcessingOut.of(media, state, variants, mediavault_config.path_prefix))

    @post("/{media_id:str}/reprocess", status_code=HTTP_202_ACCEPTED)
    async def reprocess_media(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaProcessingOut]]:
        """Process the item again from scratch (e.g. it ``failed``, or a processor was added): 202 with its
        processing state, now ``pending``, as ``GET /media/{id}/metadata`` shows it."""
        media, state, variants = await mediavault_media_service.reprocess(mediavault_principal, media_id)
        processing = MediaProcessingOut.of(media, state, variants, mediavault_config.path_prefix)
        return envelope(request, processing, HTTP_202_ACCEPTED)

    @patch("/{media_id:str}")
    async def update_media(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        data: JSONBody[MediaUpdate],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Change ``title``, ``description``, ``tags`` or ``metadata`` (a JSON merge patch, RFC 7396); any other
        field → 400."""
        media = await mediavault_media_service.update(mediavault_principal, media_id, data)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix))

    @delete("/{media_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_media(
        self,
        media_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_media_service: MediaServiceDep,
    ) -> None:
        """Delete the media and its stored bytes (into the trash when ``trash_retention_days`` > 0)."""
        await mediavault_media_service.delete(mediavault_principal, media_id)
