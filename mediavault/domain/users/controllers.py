"""``/users/me``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody

from mediavault.auth.scopes import ANY_PRINCIPAL, EVERY_SCOPE, SCOPE_OPT
from mediavault.domain.deps import CurrentPrincipal
from mediavault.domain.users.schemas import UsageOut, UserOut, UserUpdate
from mediavault.domain.users.services import UserService
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.routes import get, patch

__all__ = ("UserController", "UserServiceDep")

UserServiceDep = NamedDependency[UserService]
"""``mediavault_user_service``."""


class UserController(Controller):
    """The caller's own account."""

    path = "/users"
    tags = ["users"]

    @get("/me", opt={SCOPE_OPT: ANY_PRINCIPAL})
    async def get_me(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_user_service: UserServiceDep,
    ) -> Response[Envelope[UserOut]]:
        """The caller's profile."""
        return envelope(request, UserOut.of(await mediavault_user_service.profile(mediavault_principal)))

    @patch("/me", opt={SCOPE_OPT: EVERY_SCOPE})
    async def update_me(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[UserUpdate],
        mediavault_principal: CurrentPrincipal,
        mediavault_user_service: UserServiceDep,
    ) -> Response[Envelope[UserOut]]:
        """Change ``display_name``, ``email``, or ``password`` (with ``current_password``). Other fields → 400."""
        user = await mediavault_user_service.update(mediavault_principal, data)
        return envelope(request, UserOut.of(user))

    @get("/me/usage", opt={SCOPE_OPT: ANY_PRINCIPAL})
    async def get_usage(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_user_service: UserServiceDep,
    ) -> Response[Envelope[UsageOut]]:
        """Bytes the caller stores (each stored blob once, previous versions and trash included), their quota
        (``null``: unlimited) and their number of media items."""
        usage = await mediavault_user_service.usage(mediavault_principal)
        return envelope(
            request, UsageOut(used_bytes=usage.used_bytes, quota_bytes=usage.quota_bytes, media_count=usage.media_count)
        )
