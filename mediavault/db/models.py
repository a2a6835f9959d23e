"""SQLAlchemy models of the vault's own tables.

They live on a registry and :class:`~sqlalchemy.MetaData` of their own (:data:`metadata`), with
table names prefixed ``mediavault_``, so they never collide with a host application's models or
tables even when both share one database. The schema is created by the Alembic migrations in
:mod:`mediavault.db.migrations`, never by ``metadata.create_all``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from advanced_alchemy.base import CommonTableAttributes, create_registry
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ("Base", "Media", "MediaTag", "OutboxEvent", "RefreshToken", "TokenFamily", "User", "metadata")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def _insert_time(other: str) -> Any:
    """INSERT default of a timestamp column: the value already chosen for column ``other`` of the same row, else now.

    ``created_at`` and ``updated_at`` thus get the very same instant on insert, whichever SQLAlchemy computes first
    (two separate ``utcnow()`` calls made a new row's ``updated_at`` a few microseconds *before* its ``created_at``).
    """

    def default(context: Any) -> dt.datetime:
        chosen = context.get_current_parameters().get(other)
        return chosen if isinstance(chosen, dt.datetime) else utcnow()

    return default


class Base(CommonTableAttributes, AsyncAttrs, DeclarativeBase):
    """Declarative base of every vault model, on the vault's own registry."""

    registry = create_registry()
    __abstract__ = True

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True, default=uuid4)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_insert_time("updated_at"))


class Timestamped:
    """``updated_at`` kept current on every ORM update; equal to ``created_at`` on insert."""

    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=_insert_time("created_at"), onupdate=utcnow
    )


metadata = Base.metadata
"""The vault's :class:`~sqlalchemy.MetaData` (Alembic's ``target_metadata``)."""


class User(Timestamped, Base):
    """An account. ``email`` is stored lower-cased and unique."""

    __tablename__ = "mediavault_user"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    role: Mapped[str] = mapped_column(String(20), default="user")
    password_hash: Mapped[str] = mapped_column(String(255))


class TokenFamily(Base):
    """One login: the access tokens and the chain of refresh tokens it produced.

    Revoking the family (logout, or a spent refresh token presented again) ends them all at once.
    """

    __tablename__ = "mediavault_token_family"

    user_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class RefreshToken(Base):
    """A refresh token of a family, by its ``jti``. A used one may never be presented again."""

    __tablename__ = "mediavault_refresh_token"

    family_id: Mapped[UUID] = mapped_column(
        GUID, ForeignKey("mediavault_token_family.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Media(Timestamped, Base):
    """A stored file: metadata here, bytes in storage under ``storage_key``."""

    __tablename__ = "mediavault_media"
    __table_args__ = (
        Index("ix_mediavault_media_owner_created", "owner_id", "created_at"),
        Index("ix_mediavault_media_owner_filename", "owner_id", "filename"),
        Index("ix_mediavault_media_owner_size", "owner_id", "size"),
    )

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    original_filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    tag_rows: Mapped[list[MediaTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MediaTag.position"
    )

    @property
    def tags(self) -> list[str]:
        """The media's tags, in the order they were given."""
        return [t.tag for t in self.tag_rows]


class MediaTag(Base):
    """One tag of one media item (a table, not a JSON column, so ``?tag=`` is an indexed lookup everywhere)."""

    __tablename__ = "mediavault_media_tag"
    __table_args__ = (Index("ix_mediavault_media_tag_tag", "tag", "media_id"),)

    media_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEvent(Base):
    """An event, written in the same transaction as the change that raised it (transactional outbox).

    Webhook and realtime delivery read from here; ``id`` is the event id sent as ``webhook-id``.
    """

    __tablename__ = "mediavault_outbox_event"

    event: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[UUID | None] = mapped_column(GUID, default=None, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None, index=True)
