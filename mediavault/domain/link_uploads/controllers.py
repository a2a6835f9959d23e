"""``/uploads/signed`` (signed upload URLs) and ``/s/{token}/upload`` (guest uploads through share links): uploads
without an account, with the multipart body of ``POST /media/upload``."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import ConfigDep, CurrentPrincipal, SharePassword
from mediavault.domain.link_uploads.schemas import SignedUploadCreate, SignedUploadOut
from mediavault.domain.link_uploads.services import LinkUploadService
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.shares.schemas import SharedMediaOut
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.multipart import least_file_size
from mediavault.http.routes import post
from mediavault.http.uploads import UploadOperation, receive_upload

__all__ = ("GuestUploadController", "LinkUploadServiceDep", "SignedUploadController")

LinkUploadServiceDep = NamedDependency[LinkUploadService]
"""``mediavault_link_upload_service``."""


class SignedUploadController(Controller):
    """Signed upload URLs: the owner signs one; anyone holding it uploads one file with it."""

    path = "/uploads/signed"
    opt = {SCOPE_OPT: "media:write"}  # signing (its POST /{token} is public: the token is the credential)
    tags = ["uploads"]

    @post("/", status_code=HTTP_201_CREATED)
    async def sign_upload(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SignedUploadCreate],
        mediavault_principal: CurrentPrincipal,
        mediavault_link_upload_service: LinkUploadServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[SignedUploadOut]]:
        """A URL that takes one upload into the caller's account (and ``collection_id``) without credentials, until
        ``expires_in`` seconds from now; ``url`` and ``token`` are shown only here."""
        grant, token = await mediavault_link_upload_service.sign(mediavault_principal, data)
        return envelope(request, SignedUploadOut.of(grant, mediavault_config.path_prefix, token), HTTP_201_CREATED)

    @post(
        "/{token:str}",
        status_code=HTTP_201_CREATED,
        opt={"public": True},
        request_max_body_size=None,
        operation_class=UploadOperation,
    )
    async def upload_signed(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        mediavault_link_upload_service: LinkUploadServiceDep,
        mediavault_config: ConfigDep,
    ) -> Response[Envelope[MediaOut]]:
        """Upload one file (the body of ``POST /media/upload``) with a signed URL, no credentials: a media item of
        the signer. Unknown, expired or used URL → 404; over its ``max_size`` → 413 and the URL stays usable; over
        the signer's quota → 413 ``quota_exceeded`` (before the file's bytes are stored when ``Content-Length`` says
        so) and the URL stays usable."""
        declared = least_file_size(request.headers.get("content-length"))
        service = mediavault_link_upload_service
        media = await service.upload_signed(token, partial(receive_upload, request), declared_size=declared)
        return envelope(request, MediaOut.of(media, mediavault_config.path_prefix), HTTP_201_CREATED)


class GuestUploadController(Controller):
    """Uploads through a collection share link made with ``allow_upload``: the token is the capability."""

    path = "/s"
    tags = ["sharing"]
    opt = {"public": True}

    @post(
        "/{token:str}/upload",
        status_code=HTTP_201_CREATED,
        opt={"public": True},
        request_max_body_size=None,
        operation_class=UploadOperation,
    )
    async def upload_to_share(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        mediavault_link_upload_service: LinkUploadServiceDep,
        mediavault_config: ConfigDep,
        x_share_password: SharePassword = None,
    ) -> Response[Envelope[SharedMediaOut]]:
        """Upload one file (the body of ``POST /media/upload``) into the shared collection, no credentials: a media
        item of the collection's owner, shown as the link shows its media (no ``owner_id``; ``content_url`` is the
        link's ``/s/{token}/media/{id}/content``). ``allow_upload`` false → 403; missing or wrong
        ``X-Share-Password`` → 401; expired or deleted link → 404; over the owner's quota → 413 ``quota_exceeded``
        (before the file's bytes are stored when ``Content-Length`` says so)."""
        declared = least_file_size(request.headers.get("content-length"))
        service = mediavault_link_upload_service
        opener = partial(receive_upload, request)
        media = await service.upload_to_share(token, x_share_password, opener, declared_size=declared)
        content_url = f"{mediavault_config.path_prefix}/s/{token}/media/{media.id}/content"
        return envelope(request, SharedMediaOut.of_upload(media, content_url), HTTP_201_CREATED)
