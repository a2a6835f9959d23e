"""The database session of one HTTP request: opened when first needed, closed once, by one owner.

:class:`RequestSessionMiddleware` (the outermost middleware of the vault's router) owns it. Whoever needs the
request's session first opens it through :func:`request_session` (the principal lookup of
:class:`~mediavault.http.auth.AuthenticationMiddleware`, or a service dependency): a request costs one session and
at most one pooled connection. The middleware closes it when the response starts, so a download never holds a
connection while its bytes stream, or when the request ends without a response having started. Nobody else closes
it: the services commit their unit of work and leave the session to its owner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.availability import database_unavailable
from mediavault.http.envelope import request_id
from mediavault.http.errors import DATABASE_LOST_SCOPE_KEY
from mediavault.logs import REQUEST_ID, REQUEST_SCOPE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = (
    "REQUEST_SESSION_SCOPE_KEY",
    "RequestSession",
    "RequestSessionMiddleware",
    "release_request_session",
    "request_session",
)

logger = logging.getLogger("mediavault")

REQUEST_SESSION_SCOPE_KEY = "mediavault.session"
"""ASGI scope key of the request's :class:`RequestSession` (set by :class:`RequestSessionMiddleware`)."""


class RequestSession:
    """The lazily opened database session of one request (kept in its ASGI scope only, never shared).

    Args:
        factory: makes a new session (the vault's sessionmaker).
    """

    __slots__ = ("_factory", "_session", "closed")

    def __init__(self, factory: Callable[[], AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None
        self.closed = False

    def get(self) -> AsyncSession:
        """The request's session, opened on first use.

        Raises:
            RuntimeError: the session was already closed (the response has started).
        """
        if self._session is None:
            if self.closed:
                raise RuntimeError("the request's database session is closed once its response has started")
            self._session = self._factory()
        return self._session

    async def release(self) -> None:
        """End the opened session's transaction (rolled back) and give its connection back to the pool; the session
        stays usable (a later statement checks a connection out again)."""
        if self._session is not None:
            await self._session.close()

    async def close(self) -> None:
        """Close the session if it was opened (its owner calls this once)."""
        self.closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def request_session(scope: Scope) -> AsyncSession:
    """The session of the request ``scope`` belongs to, opened on first use (see :class:`RequestSession`)."""
    return scope[REQUEST_SESSION_SCOPE_KEY].get()  # type: ignore[literal-required,no-any-return]


async def release_request_session(scope: Scope) -> None:
    """Before the request waits on its client with nothing left to do in the database (a refused body read to its
    end, :func:`~mediavault.http.body.request_body`): its session's transaction is rolled back and the connection
    goes back to the pool (see :meth:`RequestSession.release`), so a slow client holds none."""
    slot: RequestSession | None = scope.get(REQUEST_SESSION_SCOPE_KEY)  # type: ignore[assignment]
    if slot is not None:
        await slot.release()


class RequestSessionMiddleware(ASGIMiddleware):
    """Router middleware (outermost): the owner of each request's :class:`RequestSession`.

    Args:
        factory: makes a new session (the vault's sessionmaker).
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, factory: Callable[[], AsyncSession]) -> None:
        self.factory = factory

    def __deepcopy__(self, _memo: dict[int, Any]) -> RequestSessionMiddleware:
        return self  # Litestar deep-copies routers on registration; the factory is shared, never copied

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the request on its own session. A ``GET``/``HEAD`` whose database connection died under it before any
        answer began (a terminated PostgreSQL backend, a failover) runs a second time on a new one: a read changes
        nothing and has no body, so repeating it is safe (RFC 9110 §9.2.2), and SQLAlchemy has renewed every
        connection pooled before the loss meanwhile. Other methods answer the vault's 503 (``Retry-After``)."""
        REQUEST_ID.set(request_id(scope))  # for the logs (mediavault.logs), in this request's task only
        REQUEST_SCOPE.set(scope)  # for the audit log's address and user agent, read only when a line is written
        method: str = scope["method"]  # type: ignore[typeddict-item]  # HTTP scopes only (``scopes``)
        if await self._attempt(scope, receive, send, next_app, retry=method in ("GET", "HEAD")):
            logger.warning("database connection lost on %s %s: sent again", method, scope["path"])
            await self._attempt(scope, receive, send, next_app, retry=False)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp, *, retry: bool) -> bool:
        """Run the request once on a new session, closed once: when the answer begins, or at the end. With ``retry``,
        answer ``True`` instead of sending anything when its database connection was lost before an answer began."""
        slot = RequestSession(self.factory)
        scope[REQUEST_SESSION_SCOPE_KEY] = slot  # type: ignore[literal-required]
        started = lost = False

        async def send_on_own_session(message: Message) -> None:
            nonlocal started, lost
            if not started:
                if retry and scope.pop(DATABASE_LOST_SCOPE_KEY, False):  # type: ignore[misc]
                    lost = True
                if lost:
                    return  # the 503 of a lost connection and its body
                started = True
                await slot.close()  # the answer begins: a streamed body never holds a connection
            await send(message)

        try:
            await next_app(scope, receive, send_on_own_session)
        except Exception as exc:
            if not retry or started or database_unavailable(exc) != "lost":
                raise
            return True
        finally:
            if not slot.closed:
                await slot.close()
        return lost
