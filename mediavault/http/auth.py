"""Authentication of the vault's HTTP routes: one lookup per request, read by the rate limiter and the guard.

:class:`AuthenticationMiddleware` asks the vault's :class:`~mediavault.auth.chain.ProviderChain` once and leaves
the outcome in the request's scope (:data:`~mediavault.auth.providers.PRINCIPAL_SCOPE_KEY`); the rate limiter picks
its tier by it and :func:`require_principal`, the router guard, only reads it. Routes are protected by default: a
handler opts out with ``opt={"public": True}`` (register, login, refresh, health, public share links).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from mediavault.auth.chain import ProviderChain
from mediavault.auth.providers import PRINCIPAL_SCOPE_KEY, Principal
from mediavault.auth.scopes import check_scope
from mediavault.db.availability import database_unavailable
from mediavault.errors import Forbidden, Unauthorized
from mediavault.http.ratelimit import EXEMPT_OPT_KEY
from mediavault.http.session import release_request_session, request_session

if TYPE_CHECKING:
    from litestar.handlers import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ("AuthenticationMiddleware", "provide_principal", "require_admin", "require_principal")

_REJECTION_SCOPE_KEY = "mediavault.auth_rejection"
"""ASGI scope key of the :class:`Unauthorized` a provider raised for this request's credential, else ``None``."""


class AuthenticationMiddleware(ASGIMiddleware):
    """Router middleware: resolve the request's principal once, through the provider chain, on the request's session.

    Sets ``scope[PRINCIPAL_SCOPE_KEY]`` to the principal or ``None``. A bad credential is not answered here: it is
    kept for :func:`require_principal`, so the rate limiter (next) counts the request against the client's address
    first and guessing credentials spends the anonymous budget. Public routes are looked up only when the rate
    limiter counts them (a logged-in caller spends their own budget there); a bad credential on a public route is
    anonymous.

    Args:
        chain: the vault's auth providers.
        rate_limited: whether the rate limiter runs (and reads the principal of public routes).
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, chain: ProviderChain, *, rate_limited: bool) -> None:
        self.chain = chain
        self.rate_limited = rate_limited

    def __deepcopy__(self, _memo: dict[int, Any]) -> AuthenticationMiddleware:
        return self  # Litestar deep-copies routers on registration; the chain is shared, never copied

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        opt = scope["route_handler"].opt
        principal: Principal | None = None
        rejection: Unauthorized | None = None
        if not opt.get("public") or (self.rate_limited and not opt.get(EXEMPT_OPT_KEY)):
            try:
                principal = await self._lookup(ASGIConnection(scope, receive, send))
            except Unauthorized as exc:
                rejection = exc
        scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
        scope[_REJECTION_SCOPE_KEY] = rejection  # type: ignore[literal-required]
        await next_app(scope, receive, send)

    async def _lookup(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        """The principal of ``connection`` (:meth:`ProviderChain.authenticate <mediavault.auth.chain.ProviderChain.
        authenticate>`). A lookup whose database connection died under it (a failover: the pool's check saw the
        socket open) runs once more on a new one, whatever the request's method: it is a read, and nothing of the
        request has run yet."""
        scope = connection.scope
        try:
            return await self.chain.authenticate(connection, request_session(scope))
        except Exception as exc:
            if database_unavailable(exc) != "lost":
                raise
        await release_request_session(scope)
        return await self.chain.authenticate(connection, request_session(scope))


async def require_principal(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The router guard: a route that is not public needs the principal :class:`AuthenticationMiddleware` found, and
    a principal limited to some scopes (an API key made with ``scopes``) the scope the route declares
    (:mod:`mediavault.auth.scopes`).

    A coroutine function although it never waits: Litestar runs a plain-function guard in a worker thread.

    Raises:
        Unauthorized: no provider recognised a credential, or the one a provider rejected (its message).
        Forbidden: the principal's scopes do not include the route's (the message names it).
    """
    opt = handler.opt
    if opt.get("public"):
        return
    principal: Principal | None = connection.scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[assignment]
    if principal is not None:
        if principal.scopes is not None:
            check_scope(principal.scopes, opt, connection.scope["method"])  # type: ignore[typeddict-item]
        return
    rejection: Unauthorized | None = connection.scope.get(_REJECTION_SCOPE_KEY)  # type: ignore[assignment]
    raise rejection or Unauthorized()


async def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Guard of the admin routes (after :func:`require_principal`): the principal's role must be ``admin``.

    Raises:
        Forbidden: any other role.
    """
    principal: Principal | None = connection.scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[assignment]
    if principal is None or principal.role != "admin":
        raise Forbidden("Only administrators may do this")


def provide_principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Dependency ``mediavault_principal``: the authenticated principal of this request."""
    return request.scope[PRINCIPAL_SCOPE_KEY]  # type: ignore[typeddict-item,no-any-return,literal-required]
