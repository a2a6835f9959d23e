"""The router guard that authenticates every vault route unless it is marked public.

Routes are protected by default: a handler opts out with ``opt={"public": True}`` (register, login,
refresh, health, public share links). The principal found is stored in the ASGI scope and handed to
handlers by the ``mediavault_principal`` dependency.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.errors import Unauthorized
from mediavault.runtime import REQUEST_SESSION_SCOPE_KEY, RequestSession, VaultRuntime

__all__ = ("PRINCIPAL_SCOPE_KEY", "authenticate", "make_guard", "provide_principal")

PRINCIPAL_SCOPE_KEY = "mediavault.principal"


async def authenticate(
    runtime: VaultRuntime, connection: ASGIConnection[Any, Any, Any, Any], *, quiet: bool = False
) -> Principal | None:
    """Run the vault's auth providers in order; the first that answers decides.

    Args:
        quiet: answer ``None`` instead of raising when a credential is present but bad (the rate limiter
            uses this to pick a tier; the guard then rejects the request).

    Returns:
        The principal, or ``None`` when no provider recognised a credential.

    Raises:
        Unauthorized: a provider found a bad credential (unless ``quiet``).
    """
    slot: RequestSession | None = connection.scope.get(REQUEST_SESSION_SCOPE_KEY)  # type: ignore[assignment]
    try:
        if slot is not None:  # the vault's router: the lookup runs on the request's session (see RequestSession)
            return await _first_principal(runtime, connection, slot.get())
        async with runtime.session() as session:
            return await _first_principal(runtime, connection, session)
    except Unauthorized:
        if not quiet:
            raise
    return None


async def _first_principal(
    runtime: VaultRuntime, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
) -> Principal | None:
    for provider in runtime.auth_providers:
        principal = await provider.authenticate(connection, session)
        if principal is not None:
            return principal
    return None


def make_guard(runtime: VaultRuntime) -> Guard:
    """The guard of one vault: the principal found by the rate limiter, else :func:`authenticate`.

    Raises:
        Unauthorized: no provider recognised a credential, or one found a bad credential.
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get("public") or PRINCIPAL_SCOPE_KEY in connection.scope:
            return
        principal = await authenticate(runtime, connection)
        if principal is None:
            raise Unauthorized()
        connection.scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]

    return guard


def provide_principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Dependency ``mediavault_principal``: the authenticated principal of this request."""
    return request.scope[PRINCIPAL_SCOPE_KEY]  # type: ignore[typeddict-item,no-any-return,literal-required]
