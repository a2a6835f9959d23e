"""API keys: ``X-API-Key: mvk_<43 url-safe base64 characters>``.

A key is 32 random bytes from :mod:`secrets` (256 bits), shown to its owner once at creation. The vault keeps
only its SHA-256 (hex). A fast hash is the right tool here: with 256 bits of entropy no amount of hashing
speed makes guessing feasible, and a keyed lookup by hash costs one indexed query per request, whereas a slow
password hash (Argon2id) would cost ~130 ms and 64 MiB per request without adding security (Argon2 pays off
only for low-entropy, human-chosen secrets). The ``mvk_`` prefix makes leaked keys easy to recognise (secret
scanners, logs) and to tell apart from JWTs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import AuthProvider, Principal
from mediavault.db.models import ApiKey, User, utcnow
from mediavault.db.statements import ReadStatement, decode_timestamp, decode_uuid
from mediavault.errors import Unauthorized

__all__ = ("API_KEY_HEADER", "API_KEY_PREFIX", "ApiKeyProvider", "generate_api_key", "hash_api_key")

API_KEY_PREFIX = "mvk_"
"""Every vault API key starts with this."""
API_KEY_HEADER = "x-api-key"
"""Request header carrying an API key."""
_DISPLAY_LENGTH = 12
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written when it is older than this: at most one write per key and minute, not one per
request."""


def generate_api_key() -> tuple[str, str, str]:
    """A new key.

    Returns:
        ``(key, display_prefix, sha256_hex)``: the key to show once, its first 12 characters (stored in clear
        so the owner can tell keys apart), and the hash to store.
    """
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:_DISPLAY_LENGTH], hash_api_key(key)


def hash_api_key(key: str) -> str:
    """The stored form of ``key``: SHA-256, hex (64 characters)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class _KeyOwner(msgspec.Struct):
    key_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    scopes: list[str] | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


def _optional(decode: Any) -> Any:
    return lambda value: None if value is None else decode(value)


def _json_list(value: Any) -> list[str] | None:
    """A JSON column as the driver gives it (text; a list already with some drivers), ``None`` for SQL NULL or
    JSON ``null``."""
    if value is None or isinstance(value, list):
        return value
    return msgspec.json.decode(value)  # type: ignore[no-any-return]


_keys, _users = ApiKey.__table__.c, User.__table__.c
_KEY_OWNER = ReadStatement(
    select(_keys.id, _users.id, _users.role, _keys.scopes, _keys.expires_at, _keys.last_used_at)
    .join(User.__table__, _users.id == _keys.owner_id)
    .where(_keys.key_hash == bindparam("key_hash"), _users.disabled_at.is_(None)),
    _KeyOwner,
    {
        "key_id": decode_uuid,
        "user_id": decode_uuid,
        "scopes": _json_list,
        "expires_at": _optional(decode_timestamp),
        "last_used_at": _optional(decode_timestamp),
    },
)
"""Key id, owner id, owner role, scopes, expiry and last use of a key hash whose owner is enabled: one indexed
statement per request, compiled once (see ``providers._LIVE_FAMILY_ROLE``)."""


class ApiKeyProvider(AuthProvider):
    """The built-in provider for ``X-API-Key``: the key's user, while the key exists (deleting it revokes it), has not
    expired and its user is enabled; limited to the key's scopes."""

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        key = connection.headers.get(API_KEY_HEADER)
        if key is None:
            return None
        return await self.principal_for(key, session)

    async def principal_for(self, key: str, session: AsyncSession) -> Principal:
        """The principal of ``key`` (its owner, limited to the key's scopes), while the key exists and has not
        expired and its owner is enabled. Records the use in ``last_used_at`` when the one recorded is older than
        :data:`LAST_USED_RESOLUTION` (then commits ``session``: a statement and a commit per key and minute).

        Raises:
            Unauthorized: not a vault key, unknown, revoked, expired, or its owner is disabled.
        """
        key = key.strip()
        if not key.startswith(API_KEY_PREFIX) or len(key) > 200:
            raise Unauthorized("Invalid API key")
        row = await _KEY_OWNER.first(session, key_hash=hash_api_key(key))
        if row is None:
            raise Unauthorized("Invalid or revoked API key")
        now = utcnow()
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthorized("API key has expired")
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            await _record_use(session, row.key_id, now)
        return Principal(
            user_id=row.user_id,
            role=row.role,
            method="api_key",
            api_key_id=row.key_id,
            expires_at=row.expires_at.timestamp() if row.expires_at is not None else None,
            scopes=frozenset(row.scopes) if row.scopes is not None else None,
        )


async def _record_use(session: AsyncSession, key_id: uuid.UUID, now: dt.datetime) -> None:
    """Set ``last_used_at`` of ``key_id`` to ``now`` unless another request did within the last minute, and commit
    (the request's own writes come later, in a transaction of their own)."""
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
