"""``/auth``: register, login, refresh, logout."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import ANY_PRINCIPAL, SCOPE_OPT
from mediavault.domain.auth.schemas import LoginIn, RefreshIn, RegisterIn, TokenPair
from mediavault.domain.auth.services import AuthService
from mediavault.domain.deps import ClientAddressDep, CurrentPrincipal
from mediavault.domain.users.schemas import UserOut
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.routes import post

__all__ = ("AuthController", "AuthServiceDep")

AuthServiceDep = NamedDependency[AuthService]
"""``mediavault_auth_service``."""


class AuthController(Controller):
    """Accounts and tokens."""

    path = "/auth"
    tags = ["auth"]

    @post("/register", opt={"public": True}, status_code=HTTP_201_CREATED)
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[RegisterIn], mediavault_auth_service: AuthServiceDep
    ) -> Response[Envelope[UserOut]]:
        """Create an account (201). Duplicate email → 409; registration disabled → 403."""
        user = await mediavault_auth_service.register(data)
        return envelope(request, UserOut.of(user), HTTP_201_CREATED)

    @post("/login", opt={"public": True}, status_code=HTTP_200_OK)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        mediavault_auth_service: AuthServiceDep,
        mediavault_client_address: ClientAddressDep,
    ) -> Response[Envelope[TokenPair]]:
        """Exchange email (``username``) and password for an access and a refresh token. Attempts are limited
        per client address and per account (``rate_limit_login_per_*``; over → 429 with ``Retry-After``)."""
        pair = await mediavault_auth_service.login(data, client_address=mediavault_client_address)
        return envelope(request, pair)

    @post("/refresh", opt={"public": True}, status_code=HTTP_200_OK)
    async def refresh(
        self, request: Request[Any, Any, Any], data: JSONBody[RefreshIn], mediavault_auth_service: AuthServiceDep
    ) -> Response[Envelope[TokenPair]]:
        """Rotate a refresh token; a spent one presented again revokes its whole family (401)."""
        return envelope(request, await mediavault_auth_service.refresh(data.refresh_token))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, opt={SCOPE_OPT: ANY_PRINCIPAL})
    async def logout(self, mediavault_principal: CurrentPrincipal, mediavault_auth_service: AuthServiceDep) -> None:
        """Revoke the caller's access token and its refresh family at once."""
        await mediavault_auth_service.logout(mediavault_principal)
