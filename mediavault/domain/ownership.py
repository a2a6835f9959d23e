"""The one owner-scoped lookup every id route goes through.

A path id is resolved with :func:`get_owned`: malformed ids, unknown ids and other users' ids all
raise the same :class:`~mediavault.errors.NotFound`, so existence is never revealed and no route has
to remember its own ``if owner_id != ...`` check.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from mediavault.auth.providers import Principal
from mediavault.db.models import Media
from mediavault.db.trash import not_trashed
from mediavault.errors import NotFound

__all__ = ("Owned", "delete_owned", "get_owned", "get_owned_ids", "lock_row", "parse_id", "still_owned")


class Owned(Protocol):
    """A model with an ``id`` and the ``owner_id`` of the user it belongs to."""

    id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID]


M = TypeVar("M", bound=Any)


def _visible(model: type[Any], owner: uuid.UUID) -> list[Any]:
    """Extra conditions for a row of ``model`` to exist for its owner: media in the trash do not."""
    return [not_trashed(owner)] if model is Media else []


def parse_id(raw: str) -> uuid.UUID:
    """A path id as a UUID; anything malformed is a 404 (ids are opaque to clients).

    Raises:
        NotFound: ``raw`` is not a UUID.
    """
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise NotFound() from exc


async def lock_row(session: AsyncSession, model: type[Any], row_id: uuid.UUID) -> None:
    """Lock the row ``row_id`` (if any) of ``model`` (one with ``id`` and ``updated_at``:
    :class:`~mediavault.db.models.Timestamped`) to the end of ``session``'s transaction with a no-op ``UPDATE``
    (``updated_at`` set to itself, so its ``onupdate`` does not fire): PostgreSQL's row lock; on SQLite the statement
    that opens the one write transaction. A read-modify-write of the row after it (read it again: the session may
    hold it as it was) applies to what the previous change left, so concurrent changes apply one after the other
    instead of losing each other's fields (or versions, tags...).
    """
    lock = update(model).where(model.id == row_id).values(updated_at=model.updated_at)
    await session.execute(lock.execution_options(synchronize_session=False))


async def get_owned(
    session: AsyncSession, model: type[M], principal: Principal, raw_id: str, *, what: str, lock: bool = False
) -> M:
    """The ``model`` row ``raw_id`` if ``principal`` owns it.

    Args:
        model: a mapped class with ``id`` and ``owner_id`` columns (and ``updated_at`` for ``lock``).
        raw_id: the id as it came in the path.
        what: the resource's name for the error message (``"Media"``, ``"Collection"``...).
        lock: first lock the row to the end of the transaction (:func:`lock_row`), then read it as committed now
            (for a read-modify-write of it: a change racing it waits, or is waited for).

    Raises:
        NotFound: malformed id, no such row, a row owned by someone else, or media in the trash (indistinguishable;
            also when a concurrent delete or trash committed before the lock was taken).
    """
    owner = principal.user_id
    row_id = parse_id(raw_id)
    if lock:
        await lock_row(session, model, row_id)
    statement = select(model).where(model.id == row_id, model.owner_id == owner, *_visible(model, owner))
    if lock:  # read as committed now, even where the session holds it as read before the lock
        statement = statement.execution_options(populate_existing=True)
    row = await session.scalar(statement)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


async def get_owned_ids(
    session: AsyncSession, model: type[M], principal: Principal, raw_ids: Sequence[str], *, what: str
) -> list[uuid.UUID]:
    """The ids in ``raw_ids`` (duplicates dropped, order kept) if ``principal`` owns every one of them.

    The all-or-nothing counterpart of :func:`get_owned` for ids that come in a body (e.g. the media of
    ``POST /collections/{id}/media``).

    Raises:
        NotFound: any id is malformed, unknown or someone else's; nothing is said about which.
    """
    ids = list(dict.fromkeys(parse_id(raw) for raw in raw_ids))
    if not ids:
        return ids
    owner = principal.user_id
    found = set(
        await session.scalars(
            select(model.id).where(model.id.in_(ids), model.owner_id == owner, *_visible(model, owner))
        )
    )
    if len(found) != len(ids):
        raise NotFound(f"{what} not found")
    return ids


@asynccontextmanager
async def still_owned(session: AsyncSession, what: str) -> AsyncIterator[None]:
    """Around the writes (up to the commit) that point at rows read with :func:`get_owned`: a foreign key refusing
    them means one of those rows was deleted since (a concurrent ``DELETE``), which is the same 404 as if it had
    been gone when it was read; the transaction is rolled back.

    Raises:
        NotFound: ``"<what> not found"``, a foreign key refused the writes.
        IntegrityError: any other constraint refused them (a bug to see, not a 404).
    """
    try:
        yield
    except IntegrityError as exc:
        await session.rollback()
        if not _foreign_key_refused(exc):
            raise
        raise NotFound(f"{what} not found") from exc


def _foreign_key_refused(exc: IntegrityError) -> bool:
    """Whether a foreign key refused the statement: SQLSTATE 23503 (PostgreSQL, asyncpg's ``sqlstate``), SQLite's
    ``FOREIGN KEY constraint failed``."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code is not None:
        return bool(code == "23503")
    return "FOREIGN KEY" in str(exc.orig)


async def delete_owned(session: AsyncSession, row: Any, *, what: str) -> None:
    """Delete ``row`` (read with :func:`get_owned`; a model no ORM cascade hangs on) with one statement that must
    match it, so that of concurrent deletes of one resource exactly one goes on (to its audit line, its commit).

    Raises:
        NotFound: ``"<what> not found"``, a concurrent request deleted it first; the transaction is rolled back.
    """
    model = type(row)
    result = await session.execute(delete(model).where(model.id == row.id).execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        raise NotFound(f"{what} not found")
