"""Repositories: the only place that builds SQL for the vault's tables (advanced-alchemy based)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, Select, func, or_, select, update

from mediavault.db.models import Media, MediaTag, RefreshToken, TokenFamily, User, utcnow

__all__ = ("MEDIA_SORTS", "MediaRepository", "RefreshTokenRepository", "TokenFamilyRepository", "UserRepository")


class UserRepository(SQLAlchemyAsyncRepository[User]):
    """Users."""

    model_type = User


class TokenFamilyRepository(SQLAlchemyAsyncRepository[TokenFamily]):
    """Token families (logins)."""

    model_type = TokenFamily

    async def revoke(self, family_ids: Sequence[uuid.UUID]) -> None:
        """Mark families revoked now (idempotent)."""
        if family_ids:
            await self.session.execute(
                update(TokenFamily)
                .where(TokenFamily.id.in_(family_ids), TokenFamily.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    async def revoke_all_for_user(self, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
        """Revoke every live family of ``user_id`` except ``keep``."""
        stmt = update(TokenFamily).where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
        if keep is not None:
            stmt = stmt.where(TokenFamily.id != keep)
        await self.session.execute(stmt.values(revoked_at=utcnow()))


class RefreshTokenRepository(SQLAlchemyAsyncRepository[RefreshToken]):
    """Refresh tokens of families."""

    model_type = RefreshToken

    async def spend(self, token_id: uuid.UUID) -> bool:
        """Mark an unused token used; ``False`` if it was already used (a replay). Race-safe."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


MEDIA_SORTS: dict[str, tuple[ColumnElement[object], ...]] = {
    "created_at": (Media.created_at.asc(), Media.id.asc()),
    "-created_at": (Media.created_at.desc(), Media.id.desc()),
    "filename": (Media.filename.asc(), Media.id.asc()),
    "-filename": (Media.filename.desc(), Media.id.desc()),
    "size": (Media.size.asc(), Media.id.asc()),
    "-size": (Media.size.desc(), Media.id.desc()),
}
"""``sort`` values of ``GET /media`` and their ORDER BY (id breaks ties so pages are stable)."""


class MediaRepository(SQLAlchemyAsyncRepository[Media]):
    """Media rows, always scoped to an owner."""

    model_type = Media

    @staticmethod
    def filtered(
        owner_id: uuid.UUID, *, kind: str | None = None, tag: str | None = None, q: str | None = None
    ) -> Select[tuple[Media]]:
        """SELECT of ``owner_id``'s media matching the filters (``q``: case-insensitive substring of
        filename, title or description; ``tag``: exact, case-insensitive)."""
        stmt = select(Media).where(Media.owner_id == owner_id)
        if kind:
            stmt = stmt.where(Media.kind == kind)
        if tag:
            stmt = stmt.where(Media.id.in_(select(MediaTag.media_id).where(MediaTag.tag == tag.strip().lower())))
        if q:
            needle = q.lower()
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(col).contains(needle, autoescape=True)
                        for col in (Media.filename, Media.title, Media.description)
                    )
                )
            )
        return stmt

    async def page(self, stmt: Select[tuple[Media]], *, sort: str, offset: int, limit: int) -> tuple[list[Media], int]:
        """One page of ``stmt`` ordered by ``sort`` (a :data:`MEDIA_SORTS` key), and the total count."""
        total = int(await self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        if offset >= total:  # past the end: no query (a huge page number would overflow the database's integer)
            return [], total
        rows = await self.session.scalars(stmt.order_by(*MEDIA_SORTS[sort]).offset(offset).limit(limit))
        return list(rows), total
