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
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = (
    "ApiKey",
    "AuditEvent",
    "Base",
    "Blob",
    "Collection",
    "Media",
    "MediaProcessing",
    "MediaTag",
    "MediaVariant",
    "MediaVersion",
    "OutboxEvent",
    "RefreshToken",
    "Share",
    "SignedUpload",
    "TokenFamily",
    "Upload",
    "User",
    "Webhook",
    "WebhookDelivery",
    "collection_media",
    "media_blob",
    "media_metadata",
    "media_trash",
    "metadata",
    "storage_key_columns",
)


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


def storage_key_columns() -> list[Column[Any]]:
    """Every column of the vault's tables that holds a key of its storage: those named ``storage_key`` or
    ``*_storage_key``. A table whose rows own stored bytes names its column so; ``mediavault fsck`` then keeps those
    bytes (they have a row) and ``mediavault export`` includes them."""
    return [
        c
        for table in metadata.sorted_tables
        for c in table.columns
        if c.name == "storage_key" or c.name.endswith("_storage_key")
    ]


class User(Timestamped, Base):
    """An account. ``email`` is stored lower-cased and unique; ``external_id`` is the host app's id of a user
    created on first sight from the host's authentication (:mod:`mediavault.auth.host`), else ``None``."""

    __tablename__ = "mediavault_user"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    role: Mapped[str] = mapped_column(String(20), default="user")
    password_hash: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255), default=None, unique=True, index=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When an admin disabled the account (``None``: enabled); a disabled user's tokens and keys are refused."""
    quota_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether an admin set this user's quota (then ``quota_bytes`` applies, ``None`` meaning unlimited); else the
    config's ``default_quota_bytes`` applies."""
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)


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
        # Covering the ORDER BY of every sort (id breaks ties), so a page is found in the index alone.
        Index("ix_mediavault_media_owner_created_id", "owner_id", "created_at", "id"),
        Index("ix_mediavault_media_owner_filename_id", "owner_id", "filename", "id"),
        Index("ix_mediavault_media_owner_size_id", "owner_id", "size", "id"),
        # ``GET /media?checksum_sha256=`` (asked for every file by ``mediavault upload``) is one index lookup
        # (migration 0006).
        Index("ix_mediavault_media_owner_checksum", "owner_id", "checksum_sha256"),
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
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Filename, title, description and tags as lower-case words (:func:`mediavault.db.search.search_document`),
    kept current by the media service; the full-text index (SQLite FTS5 / PostgreSQL ``tsvector``) is built on it."""
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """The number of the current bytes: 1 at upload, + 1 for each ``PUT /media/{id}/content`` or version restore."""
    replaced_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When the current bytes came in by a replacement (``None``: at upload, ``created_at``)."""
    custom_metadata: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict, server_default="{}")
    """The owner's JSON object (``metadata`` on the wire); its top-level entries are indexed in
    :data:`media_metadata` for ``?metadata.<key>=<value>``."""
    tag_rows: Mapped[list[MediaTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MediaTag.position"
    )

    @property
    def tags(self) -> list[str]:
        """The media's tags, in the order they were given."""
        return [t.tag for t in self.tag_rows]


media_metadata = Table(
    "mediavault_media_metadata",
    metadata,
    Column("media_id", GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Index("ix_mediavault_media_metadata_digest", "digest", "media_id"),
)
"""One row per top-level entry of a media item's ``custom_metadata``: ``digest`` is the SHA-256 of the entry
(:func:`mediavault.db.metadata.entry_digest`), so ``?metadata.<key>=<value>`` is one indexed equality on every
engine whatever the lengths of keys and values (a B-tree entry of PostgreSQL holds at most ~2.7 kB)."""

media_trash = Table(
    "mediavault_media_trash",
    metadata,
    Column("media_id", GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), primary_key=True),
    Column("owner_id", GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), nullable=False),
    Column("deleted_at", DateTimeUTC(timezone=True), nullable=False),
    Index("ix_mediavault_media_trash_owner_deleted", "owner_id", "deleted_at", "media_id"),
    Index("ix_mediavault_media_trash_deleted", "deleted_at"),
)
"""Media in the trash (``trash_retention_days`` > 0): the row stays as it was (collections, shares, tags), and every
read hides it (:func:`mediavault.db.trash.not_trashed`); restoring deletes this row, purging the media."""


class MediaTag(Base):
    """One tag of one media item (a table, not a JSON column, so ``?tag=`` is an indexed lookup everywhere)."""

    __tablename__ = "mediavault_media_tag"
    __table_args__ = (
        Index("ix_mediavault_media_tag_tag", "tag", "media_id"),
        # An item's tags in their order without a sort (migration 0008); lookups by media_id use its first column.
        Index("ix_mediavault_media_tag_media_position", "media_id", "position"),
    )

    media_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"))
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


class Collection(Timestamped, Base):
    """A named set of its owner's media. Deleting it leaves the media alone."""

    __tablename__ = "mediavault_collection"
    __table_args__ = (Index("ix_mediavault_collection_owner_created_id", "owner_id", "created_at", "id"),)

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)


collection_media = Table(
    "mediavault_collection_media",
    metadata,
    Column("collection_id", GUID, ForeignKey("mediavault_collection.id", ondelete="CASCADE"), primary_key=True),
    Column("media_id", GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("added_at", DateTimeUTC(timezone=True), nullable=False, default=utcnow),
)
"""Membership of media in collections: one row per pair (composite primary key, so adding twice is a no-op).

Both foreign keys cascade in the database: deleting a media or a collection removes its memberships, so a
collection's ``media_count`` (a ``COUNT`` over this table) is always right."""


class Share(Base):
    """A public link to one media or one collection.

    Only the SHA-256 of the link's token is stored (``token_hash``), so a copy of the database holds no usable
    link. Both targets cascade: deleting the media or collection deletes the share, which kills the link.
    """

    __tablename__ = "mediavault_share"
    __table_args__ = (
        CheckConstraint("(media_id IS NULL) <> (collection_id IS NULL)", name="one_target"),
        Index("ix_mediavault_share_owner_created_id", "owner_id", "created_at", "id"),
    )

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    media_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), default=None, index=True
    )
    collection_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_collection.id", ondelete="CASCADE"), default=None, index=True
    )
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    allow_download: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_upload: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A collection link that takes uploads from whoever holds it (``POST /s/{token}/upload``; migration 0250)."""


class SignedUpload(Base):
    """A signed upload URL: one upload, without credentials, into its owner's account until ``expires_at``.

    Only the SHA-256 of the URL's token is stored (``token_hash``), as for share links. The row is deleted by the
    upload that uses it, in the transaction that records the media (single use), and by the next signing once it
    has expired; it cascades with its owner and with its collection.
    """

    __tablename__ = "mediavault_signed_upload"

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    max_size: Mapped[int] = mapped_column(BigInteger)
    collection_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_collection.id", ondelete="CASCADE"), default=None, index=True
    )


class Webhook(Timestamped, Base):
    """A webhook endpoint: a user's (``owner_id``) or a host-level one from the config (``config_key``).

    A user's endpoint receives the events about that user's own resources; a host-level endpoint (no
    owner, kept in step with ``MediaVaultConfig.webhooks`` at start-up) receives every event. Both
    filter on ``events`` (empty: every event). ``secret`` (``whsec_<base64>``) signs deliveries, so it
    is stored as is; the API shows it once, at creation.
    """

    __tablename__ = "mediavault_webhook"
    __table_args__ = (Index("ix_mediavault_webhook_owner_created", "owner_id", "created_at"),)

    owner_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), default=None
    )
    config_key: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    """SHA-256 (hex) of a host-level endpoint's URL; ``None`` for a user's endpoint."""
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    events: Mapped[list[str]] = mapped_column(JsonB, default=list)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    """Why the endpoint was disabled (410 Gone, too many failed deliveries, its owner), shown to the owner."""
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When a disabled endpoint was last turned back on (``None``: never disabled). Events raised before
    it are not sent to it, even when the worker fans them out afterwards."""
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    """Deliveries in a row that failed every attempt (any success resets it); at
    ``webhook_failure_limit`` the endpoint is disabled."""

    def enable(self) -> None:
        """Turn a disabled endpoint back on: reason and failure count cleared, ``enabled_at`` now."""
        self.active, self.disabled_reason, self.disabled_at = True, None, None
        self.consecutive_failures = 0
        self.enabled_at = utcnow()


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint (the delivery log is these rows, newest first).

    An attempt is ``pending`` until it is made at ``next_attempt_at``; a worker claims it by setting
    ``claim_token`` and a lease (``claimed_until``), sends it, and records ``succeeded`` or ``failed``
    with the response status, duration and error. A failed attempt with retries left schedules the next
    one as a new ``pending`` row (``attempt + 1``) and keeps its time in ``next_attempt_at``. The unique
    ``(webhook_id, event_id, attempt)`` makes a second fan-out or retry of the same attempt impossible.
    """

    __tablename__ = "mediavault_webhook_delivery"
    __table_args__ = (
        Index("ux_mediavault_webhook_delivery_attempt", "webhook_id", "event_id", "attempt", unique=True),
        Index("ix_mediavault_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_mediavault_webhook_delivery_log", "webhook_id", "created_at"),
    )

    webhook_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_webhook.id", ondelete="CASCADE"))
    event_id: Mapped[UUID] = mapped_column(
        GUID, ForeignKey("mediavault_outbox_event.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    claim_token: Mapped[UUID | None] = mapped_column(GUID, default=None)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class ApiKey(Base):
    """A long-lived credential of a user, sent as ``X-API-Key``.

    Only the SHA-256 of the key is stored (``key_hash``, hex): keys are 256-bit random strings, so a fast
    hash cannot be brute-forced and lets every request be checked with one indexed lookup (a slow password
    hash like Argon2 only pays off for low-entropy secrets). ``prefix`` (the first characters, e.g.
    ``mvk_AbCd1234``) is kept in clear so a user can tell keys apart. Deleting the row revokes the key.
    """

    __tablename__ = "mediavault_api_key"

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str] | None] = mapped_column(JsonB, default=None)
    """The scopes the key is limited to (:data:`mediavault.auth.scopes.SCOPES`); ``None``: every scope."""
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When the key last authenticated a request, to the minute (written at most once a minute per key)."""


class Blob(Base):
    """Stored bytes shared by several media items of one owner (``dedup``): one row per ``(owner_id, checksum_sha256)``.

    Media items using it are linked through :data:`media_blob`; their bytes are read at the blob's ``storage_key``.
    The link's foreign key refuses to delete a blob still in use (``RESTRICT``), so no deletion race can leave an
    item without its bytes, and the unique ``(owner_id, checksum_sha256)`` makes two concurrent identical uploads
    end with one blob.
    """

    __tablename__ = "mediavault_blob"
    __table_args__ = (UniqueConstraint("owner_id", "checksum_sha256"),)

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"))
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)


media_blob = Table(
    "mediavault_media_blob",
    metadata,
    Column("media_id", GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), primary_key=True),
    Column("blob_id", GUID, ForeignKey("mediavault_blob.id", ondelete="RESTRICT"), nullable=False, index=True),
)
"""Which media items read their bytes from a shared :class:`Blob` (deduplicated uploads); the others own theirs."""


class MediaVersion(Base):
    """A previous version of a media item's bytes (``PUT /media/{id}/content`` made a newer one current).

    Its bytes are its own at ``storage_key``, or a shared :class:`Blob` (``blob_id``, ``dedup``) whose ``RESTRICT``
    foreign key keeps the blob while the version exists. ``created_at`` is when these bytes became current.
    """

    __tablename__ = "mediavault_media_version"
    __table_args__ = (UniqueConstraint("media_id", "version"),)

    media_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    blob_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_blob.id", ondelete="RESTRICT"), default=None, index=True
    )
    size: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))


class MediaProcessing(Base):
    """Processing state and results of one media item, written in its upload's transaction (``pending``).

    The processing worker claims pending rows with a lease (``claim_token``, ``claimed_until``, see
    :mod:`mediavault.db.leases`), runs the processors and records ``done`` (or ``failed`` after
    ``attempts`` claims without finishing). ``info`` holds each processor's public results (``{name: {...}}``),
    ``private`` what must never leave the server (e.g. the GPS position), ``errors`` each failed processor's message.
    """

    __tablename__ = "mediavault_media_processing"
    __table_args__ = (Index("ix_mediavault_media_processing_due", "status", "claimed_until"),)

    media_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[UUID | None] = mapped_column(GUID, default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    info: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    private: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    errors: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)


class MediaVariant(Base):
    """A derived file of a media item (a thumbnail, the metadata-stripped share copy), stored at ``storage_key``.

    ``name`` is unique per item (``thumb-256``, ``share``); the row and its bytes go with the item.
    """

    __tablename__ = "mediavault_media_variant"
    __table_args__ = (UniqueConstraint("media_id", "name"),)

    media_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_media.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(600), unique=True)
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)


class Upload(Timestamped, Base):
    """A resumable (tus) upload: ``offset`` of ``length`` bytes stored so far, as pieces the storage's
    ``storage_state`` records (:class:`~mediavault.storage.base.PartialObject`: ``storage_key`` once complete,
    ``pieces`` until then).

    ``offset`` counts only bytes whose state was committed here, so after a crash the upload resumes at the offset
    this row says. ``media_id`` is set in the transaction that creates the media from the last byte (and
    ``storage_key`` then names the object it kept); the row lasts until ``expires_at`` (``upload_expiry`` after its
    last append), when the expiry sweep removes it and its pieces. ``completions`` counts the attempts to write the
    finished object, each counted (and committed) before its bytes are written, so the sweep can remove every object
    an attempt may have left (:func:`mediavault.domain.tus.services.completion_key`).
    """

    __tablename__ = "mediavault_upload"
    __table_args__ = (Index("ix_mediavault_upload_expires_at", "expires_at"),)

    owner_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("mediavault_user.id", ondelete="CASCADE"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)
    storage_key: Mapped[str] = mapped_column(String(512))
    pieces: Mapped[str] = mapped_column(String(512))
    storage_state: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    media_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("mediavault_media.id", ondelete="SET NULL"), default=None
    )
    completions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replaces_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    """The owner's media item whose bytes the finished upload replaces (as ``PUT /media/{id}/content``), ``None``
    for a new item. No foreign key: an item deleted meanwhile fails the completion, the row stays for the sweep."""


class AuditEvent(Base):
    """One line of the audit log: who (``actor_id``) did what (``action``) to what (``target_type``, ``target_id``),
    from where (``ip``, ``user_agent``), when (``created_at``), with ``details``.

    Append-only: the API only reads it, the worker deletes lines past ``audit_retention``. ``actor_id`` has no
    foreign key, so the lines about a deleted user stay.
    """

    __tablename__ = "mediavault_audit_event"
    __table_args__ = (
        Index("ix_mediavault_audit_event_created_id", "created_at", "id"),
        Index("ix_mediavault_audit_event_action_created", "action", "created_at"),
        Index("ix_mediavault_audit_event_actor_created", "actor_id", "created_at"),
    )

    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    target_type: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
