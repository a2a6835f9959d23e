"""``/uploads``: resumable uploads, tus 1.0.0 (core, creation, creation-with-upload, expiration, termination,
checksum). Error answers are the vault's envelope; every answer of these routes carries ``Tus-Resumable``
(:func:`add_tus_resumable`)."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_405_METHOD_NOT_ALLOWED
from litestar.types import Message, Scope
from litestar.utils import normalize_path

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.config import MediaVaultConfig
from mediavault.db.models import Upload
from mediavault.domain.deps import ConfigDep, CurrentPrincipal
from mediavault.domain.tus.schemas import (
    OFFSET_CONTENT_TYPE,
    TUS_EXTENSIONS,
    TUS_VERSION,
    decode_metadata,
    encode_metadata,
    http_date,
    parse_length,
)
from mediavault.domain.tus.services import CHECKSUM_ALGORITHMS, REPLACES_KEY, Checksum, TusService
from mediavault.errors import PreconditionFailed, UnsupportedMediaType, ValidationError
from mediavault.http.body import request_body
from mediavault.http.routes import delete, head, patch, post, route

__all__ = ("MEDIA_ID_HEADER", "TusController", "TusServiceDep", "add_tus_resumable")

TusServiceDep = NamedDependency[TusService]
"""``mediavault_tus_service``."""

MEDIA_ID_HEADER = "X-Media-Id"
"""The media made of a finished upload: on the request that stored its last byte, and on ``HEAD`` afterwards."""
_TUS_OPT = "mediavault_tus"


class _NoBody(Response[None]):
    """A tus answer that is only its status and headers (``HEAD`` 200, 201, 204): no ``Content-Type`` and no body
    (Litestar would serialize ``None`` as a 4-byte JSON ``null``); ``Content-Length: 0`` on a 201, none on ``HEAD``
    (there is no ``GET`` whose length it could announce) and on a 204 (RFC 9110 §8.6)."""

    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        if status_code == HTTP_201_CREATED:
            headers = {**headers, "Content-Length": "0"}
        super().__init__(None, status_code=status_code, headers=headers)

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        """The answer without a body, as Litestar makes a ``HEAD`` answer (headers only, an empty body)."""
        return super().to_asgi_response(app, request, **{**kwargs, "is_head_response": True})


async def add_tus_resumable(message: Message, scope: Scope) -> None:
    """``before_send``: ``Tus-Resumable: 1.0.0`` on every answer of a tus route, errors included (which the route's
    own middleware would not see), and on a 405 for a tus path (refused by Litestar's router before any handler was
    chosen: the path's route is then found by its ``OPTIONS`` handler, which every route has)."""
    if message["type"] != "http.response.start":
        return
    handler = scope.get("route_handler")
    if handler is None and message["status"] == HTTP_405_METHOD_NOT_ALLOWED:
        handler = _options_handler(scope)
    if handler is None or not handler.opt.get(_TUS_OPT):
        return
    headers = cast("list[tuple[bytes, bytes]]", message.setdefault("headers", []))
    headers.append((b"tus-resumable", TUS_VERSION.encode()))


def _options_handler(scope: Scope) -> BaseRouteHandler | None:
    """The ``OPTIONS`` handler of the route at the (not yet routed) path of ``scope``, as Litestar's router finds it
    (the same path handling: ``root_path`` stripped, then normalized); ``None`` for an unknown path."""
    path = scope["path"]
    if root_path := scope.get("root_path", ""):
        path = path.split(root_path, maxsplit=1)[-1]
    try:
        return cast("BaseRouteHandler", scope["app"].asgi_router.handle_routing(normalize_path(path), "OPTIONS")[1])
    except HTTPException:  # (a 405 came from routing this path, so it has a route: defensive only)
        return None


def _require_tus(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Guard of the tus routes: every request but ``OPTIONS`` says ``Tus-Resumable: 1.0.0``; else 412 with the
    versions served (tus 1.0.0). Runs after the vault's authentication guard (no principal: 401 first)."""
    if connection.scope.get("method") != "OPTIONS" and connection.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(
            f"Tus-Resumable: {TUS_VERSION} is required (tus resumable upload protocol)",
            headers={"Tus-Version": TUS_VERSION},
        )


def _upload_headers(upload: Upload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Expires": http_date(upload.expires_at)}
    if upload.media_id is not None:
        headers[MEDIA_ID_HEADER] = str(upload.media_id)
    return headers


async def _stream(request: Request[Any, Any, Any], work: Any) -> Any:
    """Run ``work`` (which reads the body); a refused body is drained first so a client still sending sees the
    answer (as ``POST /media/upload`` does)."""
    async with request_body(request) as body:
        return await work(aiter(body))


def _capabilities(config: MediaVaultConfig) -> _NoBody:
    """The ``OPTIONS`` answer of the tus routes (204, the capabilities headers)."""
    return _NoBody(
        HTTP_204_NO_CONTENT,
        {
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(config.max_upload_size),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


def _offset_body(request: Request[Any, Any, Any]) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaType(f"Content-Type must be {OFFSET_CONTENT_TYPE}")


def _checksum(request: Request[Any, Any, Any]) -> Checksum | None:
    raw = request.headers.get("upload-checksum")
    return None if raw is None else Checksum.parse(raw)


class TusController(Controller):
    """The caller's resumable uploads (tus 1.0.0)."""

    path = "/uploads"
    tags = ["uploads"]
    guards = [_require_tus]
    opt = {SCOPE_OPT: "media:write"}  # every step of an upload, HEAD included: an upload-only key resumes too

    @route("/", http_method="OPTIONS", status_code=HTTP_204_NO_CONTENT, opt={"public": True, _TUS_OPT: True})
    async def capabilities(self, mediavault_config: ConfigDep) -> Response[None]:
        """tus discovery: the version, extensions, size limit and checksum algorithms served (no principal
        needed). Named to sort before ``create``: Litestar registers a controller's handlers by name, and a path's
        first handler without an ``OPTIONS`` one gets Litestar's automatic ``OPTIONS`` answer, which would win."""
        return _capabilities(mediavault_config)

    @route(
        "/{upload_id:str}",
        http_method="OPTIONS",
        status_code=HTTP_204_NO_CONTENT,
        include_in_schema=False,
        opt={"public": True, _TUS_OPT: True},
    )
    async def allowed(self, mediavault_config: ConfigDep) -> Response[None]:
        """``OPTIONS`` on an upload: as on ``/uploads``, so that it says ``Tus-Resumable`` (Litestar's automatic
        answer would not); ``Allow`` is the plugin's. Named to sort before ``append`` (see :meth:`capabilities`)."""
        return _capabilities(mediavault_config)

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=None, opt={_TUS_OPT: True})
    async def create(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_tus_service: TusServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[None]:
        """Create an upload of ``Upload-Length`` bytes with ``Upload-Metadata`` (``filename``, ``title``,
        ``description``, ``tags``; ``media_id``: the caller's item whose bytes it replaces when finished, as
        ``PUT /media/{id}/content``; unknown or someone else's → 404); with an ``application/offset+octet-stream``
        body its bytes are appended at once (creation-with-upload). → 201 with ``Location`` and ``Upload-Expires``
        (and ``Upload-Offset``)."""
        if request.headers.get("upload-defer-length") is not None:
            raise ValidationError.for_field("Upload-Defer-Length", "deferred length is not offered")
        service = mediavault_tus_service

        async def work(chunks: Any) -> Upload:
            length = parse_length("Upload-Length", request.headers.get("upload-length"))
            metadata = decode_metadata(request.headers.get("upload-metadata"))
            upload = await service.create(mediavault_principal, length, metadata)
            if request.headers.get("content-type") is None:
                return upload
            _offset_body(request)
            return await service.append(mediavault_principal, str(upload.id), 0, chunks, _checksum(request))

        upload = await _stream(request, work)
        location = f"{mediavault_config.path_prefix}/uploads/{upload.id}"
        headers = {"Location": location, **_upload_headers(upload)}
        return _NoBody(HTTP_201_CREATED, headers)

    @head("/{upload_id:str}", status_code=HTTP_200_OK, opt={_TUS_OPT: True})
    async def status(
        self,
        mediavault_principal: CurrentPrincipal,
        mediavault_tus_service: TusServiceDep,
        upload_id: FromPath[str],
    ) -> Response[None]:
        """The upload's ``Upload-Offset`` (bytes stored), ``Upload-Length``, ``Upload-Expires``,
        ``Upload-Metadata``, and ``X-Media-Id`` once finished."""
        upload = await mediavault_tus_service.get(mediavault_principal, upload_id)
        headers = {
            **_upload_headers(upload),
            "Upload-Length": str(upload.length),
            "Cache-Control": "no-store",
        }
        named = {"filename": upload.filename} if upload.filename else {}
        if upload.replaces_id is not None:
            named[REPLACES_KEY] = str(upload.replaces_id)
        if metadata := encode_metadata({**named, **upload.fields}):
            headers["Upload-Metadata"] = metadata
        return _NoBody(HTTP_200_OK, headers)

    @patch("/{upload_id:str}", status_code=HTTP_204_NO_CONTENT, request_max_body_size=None, opt={_TUS_OPT: True})
    async def append(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_tus_service: TusServiceDep,
        upload_id: FromPath[str],
    ) -> Response[None]:
        """Append the body (``application/offset+octet-stream``) at ``Upload-Offset``; optional ``Upload-Checksum``
        (``sha1``/``sha256``, base64). → 204 with the new ``Upload-Offset`` (and ``X-Media-Id`` when that was the
        last byte)."""

        async def work(chunks: Any) -> Upload:
            _offset_body(request)
            offset = parse_length("Upload-Offset", request.headers.get("upload-offset"))
            checksum = _checksum(request)
            return await mediavault_tus_service.append(mediavault_principal, upload_id, offset, chunks, checksum)

        upload = await _stream(request, work)
        headers = _upload_headers(upload)
        return _NoBody(HTTP_204_NO_CONTENT, headers)

    @delete("/{upload_id:str}", status_code=HTTP_204_NO_CONTENT, opt={_TUS_OPT: True})
    async def terminate(
        self,
        mediavault_principal: CurrentPrincipal,
        mediavault_tus_service: TusServiceDep,
        upload_id: FromPath[str],
    ) -> None:
        """Terminate the upload: it and its bytes are gone (a finished upload's media stays)."""
        await mediavault_tus_service.terminate(mediavault_principal, upload_id)
