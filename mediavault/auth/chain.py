"""The provider chain: the one place where a vault turns a credential into a :class:`Principal`.

Both ways in use it: HTTP requests (once per request, :class:`~mediavault.http.auth.AuthenticationMiddleware`)
and the realtime socket's ``{"type": "auth", "token"}`` message (:mod:`mediavault.realtime.socket`). So a
plugin's provider (hook ``mediavault_auth_providers``) authenticates both.

Nothing is cached: every call asks the providers, and the built-in ones look the login or key up in the database
(one statement), so a logout, a deleted key or a deleted user is refused at once in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.api_keys import API_KEY_HEADER, API_KEY_PREFIX
from mediavault.auth.providers import AuthProvider, Principal
from mediavault.errors import Unauthorized

__all__ = ("ProviderChain",)


class ProviderChain:
    """A vault's auth providers, asked in order (plugins' first, then the built-in Bearer JWT and API key).

    Args:
        providers: what the ``mediavault_auth_providers`` hook answered, flattened, in hook order.
    """

    __slots__ = ("providers",)

    def __init__(self, providers: Iterable[AuthProvider]) -> None:
        self.providers = tuple(providers)

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        """The principal of ``connection``: the first provider that answers one decides.

        Args:
            connection: the request (or the connection :meth:`authenticate_token` built).
            session: the database session the providers look users up in (never committed here).

        Returns:
            The principal, or ``None`` when no provider recognised a credential.

        Raises:
            Unauthorized: a provider found its credential present but bad (invalid, expired, revoked).
        """
        for provider in self.providers:
            principal = await provider.authenticate(connection, session)
            if principal is not None:
                return principal
        return None

    async def authenticate_token(
        self, connection: ASGIConnection[Any, Any, Any, Any], token: str, session: AsyncSession
    ) -> Principal:
        """The principal of a credential that arrived in a message, not in a header (the realtime ``auth``).

        Providers see a copy of ``connection`` whose only header is the credential as it would be sent over HTTP:
        ``X-API-Key: <token>`` for a vault API key (``mvk_...``), else ``Authorization: Bearer <token>`` (RFC 6750).
        The connection's own headers are not shown, nor what the host's middleware made of them (``scope["user"]``
        and ``scope["auth"]`` are ``None``, the session empty): a browser sends its cookies with any site's
        WebSocket handshake (cross-site WebSocket hijacking), so a socket's identity comes from the message alone
        (or, asked for explicitly, from a handshake of an allowed origin: :meth:`authenticate_handshake`).

        Raises:
            Unauthorized: no provider recognised the token, or one found it bad.
        """
        try:
            if token.startswith(API_KEY_PREFIX):
                header = (API_KEY_HEADER.encode(), token.encode("latin-1"))
            else:
                header = (b"authorization", b"Bearer " + token.encode("latin-1"))
        except UnicodeEncodeError as exc:  # a header value carries latin-1 only (RFC 9110 §5.5)
            raise Unauthorized("Invalid token") from exc
        scope: Any = {  # fresh state: no cached headers
            **connection.scope,
            "headers": [header],
            "state": {},
            "user": None,
            "auth": None,
            "session": {},
        }
        principal = await self.authenticate(ASGIConnection(scope), session)
        if principal is None:
            raise Unauthorized("Invalid token")
        return principal

    async def authenticate_handshake(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal:
        """The principal of a WebSocket handshake itself: its headers (cookies) and what the host's middleware made
        of them (``scope["user"]``, :class:`~mediavault.auth.host.HostUserProvider`). The caller has checked that
        the handshake comes from an allowed origin (:func:`mediavault.realtime.socket.handshake_origin_allowed`).

        Raises:
            Unauthorized: no provider recognised a credential, or one found it bad.
        """
        principal = await self.authenticate(connection, session)
        if principal is None:
            raise Unauthorized("No credential in the handshake: send a token")
        return principal
