"""Storage used per user: the bytes each stored object takes, counted once.

What a user stores is the union of :data:`USAGE_TERMS`, each a ``SELECT owner_id, size`` over one kind of stored
object: media items that own their bytes (in the trash too: they are rows until purged), previous versions that own
theirs, and deduplicated blobs (one per owner and checksum, however many items and versions share it). Derived files
(thumbnails, share copies) are not counted. A feature that keeps more bytes for a user appends its term here, and
quotas, ``GET /users/me/usage`` and the admin API count it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any

import msgspec
from advanced_alchemy.types import GUID
from sqlalchemy import BigInteger, Select, bindparam, case, cast, exists, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import Blob, Media, MediaVersion, User, media_blob
from mediavault.db.statements import ReadStatement
from mediavault.db.trash import not_trashed

__all__ = ("USAGE_TERMS", "media_counts", "quota_and_usage", "quota_settings", "used_bytes")

UsageTerm = Callable[[Collection[uuid.UUID]], Select[Any]]


def _own_bytes(owners: Collection[uuid.UUID]) -> Select[Any]:
    """Media items that own their bytes (not linked to a blob)."""
    linked = exists().where(media_blob.c.media_id == Media.id)
    return select(Media.owner_id.label("owner_id"), Media.size.label("size")).where(Media.owner_id.in_(owners), ~linked)


def _blob_bytes(owners: Collection[uuid.UUID]) -> Select[Any]:
    """Deduplicated blobs: each once, whatever the number of items reading it."""
    return select(Blob.owner_id.label("owner_id"), Blob.size.label("size")).where(Blob.owner_id.in_(owners))


def _version_bytes(owners: Collection[uuid.UUID]) -> Select[Any]:
    """Previous versions that own their bytes (a version on a blob is counted with the blob)."""
    return (
        select(Media.owner_id.label("owner_id"), MediaVersion.size.label("size"))
        .join(Media, Media.id == MediaVersion.media_id)
        .where(Media.owner_id.in_(owners), MediaVersion.blob_id.is_(None))
    )


USAGE_TERMS: list[UsageTerm] = [_own_bytes, _blob_bytes, _version_bytes]
"""Every kind of stored object a user's usage counts: functions of the owner ids giving ``(owner_id, size)`` rows."""


async def used_bytes(session: AsyncSession, owners: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Bytes stored by each of ``owners`` (one statement; owners storing nothing are 0)."""
    if not owners:
        return {}
    rows = union_all(*(term(owners) for term in USAGE_TERMS)).subquery()
    result = await session.execute(select(rows.c.owner_id, func.sum(rows.c.size)).group_by(rows.c.owner_id))
    found = {owner: int(total or 0) for owner, total in result.all()}
    return {owner: found.get(owner, 0) for owner in owners}


async def media_counts(session: AsyncSession, owners: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Media items of each of ``owners``, those in the trash left out (what they have: their bytes still count in
    :func:`used_bytes` until purged)."""
    result = await session.execute(
        select(Media.owner_id, func.count())
        .where(Media.owner_id.in_(owners), not_trashed(Media.owner_id))
        .group_by(Media.owner_id)
    )
    found = {owner: int(count) for owner, count in result.all()}
    return {owner: found.get(owner, 0) for owner in owners}


class _Quota(msgspec.Struct):
    override: bool
    quota_bytes: int | None


_QUOTA = select(User.quota_override, User.quota_bytes).where(User.id == bindparam("id"))
_READ_QUOTA = ReadStatement(_QUOTA, _Quota, {"override": bool})
"""A user's quota setting: read before every upload, so compiled once (:mod:`mediavault.db.statements`)."""


async def quota_settings(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> tuple[bool, int | None]:
    """``(quota_override, quota_bytes)`` of ``user_id`` (``(False, None)`` for an unknown user); ``lock`` takes the
    user's row ``FOR NO KEY UPDATE`` on PostgreSQL, so uploads of one user check their quota one at a time."""
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        # FOR NO KEY UPDATE: uploads of the user wait for each other, never for (nor against) the key-share locks
        # their own media rows' foreign keys take on the user's row
        row = (await session.execute(_QUOTA.with_for_update(key_share=True), {"id": user_id})).first()
        return (bool(row[0]), row[1]) if row is not None else (False, None)
    found = await _READ_QUOTA.first(session, id=user_id)
    return (found.override, found.quota_bytes) if found is not None else (False, None)


class _QuotaAndUsage(msgspec.Struct):
    limit: int | None
    used: int | None


def _quota_and_usage() -> ReadStatement[_QuotaAndUsage]:
    owner = bindparam("id", type_=GUID())
    # the owner as a bound parameter where the terms take ids (their in_() takes any expression)
    rows = union_all(*(term([owner]) for term in USAGE_TERMS)).subquery()  # type: ignore[list-item]
    used = select(cast(func.coalesce(func.sum(rows.c.size), literal_column("0")), BigInteger)).scalar_subquery()
    limit = case((User.quota_override, User.quota_bytes), else_=bindparam("default", type_=BigInteger()))
    # the usage is only counted when there is a limit (CASE evaluates its branch lazily on SQLite and PostgreSQL)
    return ReadStatement(
        select(limit, case((limit.is_not(None), used), else_=None)).where(User.id == owner), _QuotaAndUsage
    )


_READ_QUOTA_AND_USAGE = _quota_and_usage()


async def quota_and_usage(
    session: AsyncSession, user_id: uuid.UUID, default_quota_bytes: int | None
) -> tuple[int | None, int | None] | None:
    """``(quota, bytes used)`` of ``user_id`` in one statement: the quota is theirs or ``default_quota_bytes``
    (``None``: unlimited, and then the usage is not counted: ``None``); ``None`` for an unknown user."""
    found = await _READ_QUOTA_AND_USAGE.first(session, id=user_id, default=default_quota_bytes)
    return (found.limit, found.used) if found is not None else None
