"""``/users/me/api-keys``: create (key shown once), list, revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import ANY_PRINCIPAL, SCOPE_OPT
from mediavault.domain.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from mediavault.domain.api_keys.services import ApiKeyService
from mediavault.domain.deps import CurrentPrincipal
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import delete, get, post

__all__ = ("ApiKeyController", "ApiKeyServiceDep")

ApiKeyServiceDep = NamedDependency[ApiKeyService]
"""``mediavault_api_key_service``."""


class ApiKeyController(Controller):
    """The caller's API keys (managed with a login token; an API key gets 403 here)."""

    path = "/users/me/api-keys"
    tags = ["api keys"]
    opt = {SCOPE_OPT: ANY_PRINCIPAL}  # API keys are refused here whatever their scopes (the service)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_api_key(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ApiKeyCreate],
        mediavault_principal: CurrentPrincipal,
        mediavault_api_key_service: ApiKeyServiceDep,
    ) -> Response[Envelope[ApiKeyCreated]]:
        """Create a key (201), limited to ``scopes`` (absent: every scope) and expiring after ``expires_in`` seconds
        (absent: never). ``key`` (``mvk_...``) is in this answer only; the vault stores its SHA-256."""
        row, key = await mediavault_api_key_service.create(mediavault_principal, data)
        return envelope(request, ApiKeyCreated.of(row, key), HTTP_201_CREATED)

    @get("/")
    async def list_api_keys(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_api_key_service: ApiKeyServiceDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[ApiKeyOut]]]:
        """The caller's keys, newest first, paginated; never the keys themselves."""
        rows, total = await mediavault_api_key_service.list_page(mediavault_principal, page=page, per_page=per_page)
        return paginated(
            request,
            [ApiKeyOut.of(r) for r in rows],
            total=total,
            page=page,
            per_page=per_page,
            path="/users/me/api-keys",
        )

    @delete("/{key_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_api_key(
        self,
        key_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_api_key_service: ApiKeyServiceDep,
    ) -> None:
        """Revoke a key at once (204); unknown or someone else's → 404."""
        await mediavault_api_key_service.revoke(mediavault_principal, key_id)
