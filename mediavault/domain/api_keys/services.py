"""Create, list and revoke the principal's API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.api_keys import generate_api_key
from mediavault.auth.providers import Principal
from mediavault.auth.scopes import normalise_scopes
from mediavault.db.audit import AuditTrail
from mediavault.db.models import ApiKey, utcnow
from mediavault.db.repositories import ApiKeyRepository
from mediavault.domain.api_keys.schemas import ApiKeyCreate
from mediavault.domain.ownership import delete_owned, get_owned
from mediavault.errors import Conflict, Forbidden

__all__ = ("MAX_API_KEYS", "ApiKeyService")

MAX_API_KEYS = 100
"""Keys one user may hold at once."""


class ApiKeyService:
    """API keys of the principal, for one request's session.

    Keys are managed with a login (JWT) only: an API key cannot mint, list or revoke keys, so a leaked key
    cannot be used to create a longer-lived foothold (as with GitHub's personal access tokens).

    Args:
        session: the request's database session (the service commits it).
        audit: the audit log (keys created and revoked).
    """

    def __init__(self, session: AsyncSession, *, audit: AuditTrail | None = None) -> None:
        self.session = session
        self.audit = audit or AuditTrail()
        self.keys = ApiKeyRepository(session=session)

    @staticmethod
    def _require_login(principal: Principal) -> None:
        if principal.method == "api_key":
            raise Forbidden("API keys cannot manage API keys; use a login token")

    async def create(self, principal: Principal, data: ApiKeyCreate) -> tuple[ApiKey, str]:
        """Make a key for the principal, limited to ``data.scopes`` (``None``: every scope), expiring after
        ``data.expires_in`` seconds (``None``: never).

        Returns:
            The stored row and the key in clear (to show once).

        Raises:
            Forbidden: the caller authenticated with an API key.
            ValidationError: an unknown scope, or an empty list of scopes.
            Conflict: the user already holds :data:`MAX_API_KEYS` keys.
        """
        self._require_login(principal)
        scopes = normalise_scopes(data.scopes)
        expires_at = utcnow() + dt.timedelta(seconds=data.expires_in) if data.expires_in is not None else None
        if await self.keys.count(owner_id=principal.user_id) >= MAX_API_KEYS:
            raise Conflict(f"A user may hold at most {MAX_API_KEYS} API keys; delete one first")
        key, prefix, key_hash = generate_api_key()
        row = await self.keys.add(
            ApiKey(
                owner_id=principal.user_id,
                name=data.name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=scopes,
                expires_at=expires_at,
            )
        )
        self.audit.record(
            self.session,
            "api_key.created",
            actor_id=principal.user_id,
            target_type="api_key",
            target_id=row.id,
            details={"name": row.name, "scopes": scopes, "expires_at": expires_at.isoformat() if expires_at else None},
        )
        await self.session.commit()
        return row, key

    async def list_page(self, principal: Principal, *, page: int, per_page: int) -> tuple[list[ApiKey], int]:
        """One page of the principal's keys (newest first) and the total.

        Raises:
            Forbidden: the caller authenticated with an API key.
        """
        self._require_login(principal)
        return await self.keys.page_for(principal.user_id, offset=(page - 1) * per_page, limit=per_page)

    async def revoke(self, principal: Principal, key_id: str) -> None:
        """Delete a key of the principal: requests carrying it fail with 401 from now on.

        Raises:
            Forbidden: the caller authenticated with an API key.
            NotFound: unknown id, malformed id, or someone else's key.
        """
        self._require_login(principal)
        row = await get_owned(self.session, ApiKey, principal, key_id, what="API key")
        await delete_owned(self.session, row, what="API key")
        self.audit.record(
            self.session, "api_key.revoked", actor_id=principal.user_id, target_type="api_key", target_id=row.id
        )
        await self.session.commit()
