"""Auth providers: where a request's :class:`Principal` comes from.

A provider looks at a connection and answers ``None`` (its kind of credential is absent: ask the next
provider), a :class:`Principal`, or raises :class:`~mediavault.errors.Unauthorized` (its credential is
present but bad). A vault asks its providers in order through one :class:`~mediavault.auth.chain.ProviderChain`,
once per HTTP request (:mod:`mediavault.http.auth`) and per realtime ``auth`` message.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.tokens import TokenClaims, TokenService
from mediavault.db.models import TokenFamily, User
from mediavault.db.statements import ReadStatement
from mediavault.errors import Unauthorized

__all__ = ("PRINCIPAL_SCOPE_KEY", "AuthProvider", "BearerTokenProvider", "Principal")

PRINCIPAL_SCOPE_KEY = "mediavault.principal"
"""ASGI scope key of an HTTP request's :class:`Principal` (``None`` when none was found), set once per request by
:class:`~mediavault.http.auth.AuthenticationMiddleware`. A key of the vault's own: a host's ``scope["user"]`` and
``scope["auth"]`` are left alone."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request.

    Attributes:
        user_id: the vault user acted for.
        role: that user's role (``"user"`` or ``"admin"``).
        method: how they authenticated (``"jwt"``, ``"api_key"``, or a provider's own name).
        family_id: the token family (login) of a JWT principal, else ``None``.
        token_id: the ``jti`` of the access token, else ``None``.
        api_key_id: the API key used (method ``"api_key"``), else ``None``; such principals spend the
            API-key rate-limit tier.
        expires_at: Unix time (seconds) when the credential stops being valid (an access token's ``exp``),
            ``None`` when it has no end of its own; a realtime socket is closed then unless it sent a fresh one.
        scopes: the scopes an API key is limited to (:mod:`mediavault.auth.scopes`), ``None`` for every scope.
    """

    user_id: uuid.UUID
    role: str
    method: str
    family_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    expires_at: float | None = None
    scopes: frozenset[str] | None = None


class AuthProvider(ABC):
    """A source of principals. Implement :meth:`authenticate`."""

    @abstractmethod
    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        """Return the principal of ``connection``, ``None`` when this provider's credential is absent.

        Raises:
            Unauthorized: the credential is present but invalid, expired or revoked.
        """


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), or ``None``."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


class _Role(msgspec.Struct):
    role: str


_users, _families = User.__table__.c, TokenFamily.__table__.c
_LIVE_FAMILY_ROLE = ReadStatement(
    select(_users.role)
    .join(TokenFamily.__table__, _families.user_id == _users.id)
    .where(
        _families.id == bindparam("family"),
        _families.user_id == bindparam("user"),
        _families.revoked_at.is_(None),
        _users.disabled_at.is_(None),
    ),
    _Role,
)
"""The role of the enabled user of a live token family: one indexed statement per request, compiled once
(:class:`~mediavault.db.statements.ReadStatement`), no cache: a logout, a disabled or a deleted user is refused at
once."""


class BearerTokenProvider(AuthProvider):
    """The built-in provider: a vault access JWT whose token family (login) is still alive."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        token = bearer_token(connection)
        if token is None:
            return None
        return await self.principal_for(self._tokens.verify(token, "access"), session)

    async def principal_for(self, claims: TokenClaims, session: AsyncSession) -> Principal:
        """The principal of verified access-token ``claims`` whose family (login) is still alive.

        Raises:
            Unauthorized: the family was revoked (logout, refresh-token reuse), or the user is disabled or gone.
        """
        row = await _LIVE_FAMILY_ROLE.first(session, family=claims.fam, user=claims.sub)
        if row is None:
            raise Unauthorized("Token has been revoked")
        return Principal(
            user_id=claims.sub,
            role=row.role,
            method="jwt",
            family_id=claims.fam,
            token_id=claims.jti,
            expires_at=float(claims.exp),
        )
