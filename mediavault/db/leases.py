"""Claiming rows with a lease: how a worker takes work that any number of processes compete for.

A claimable model has ``claim_token`` (GUID) and ``claimed_until`` (timestamp) columns. :func:`claim` gives up to
``limit`` due rows one fresh token and a lease; the caller commits at once and then works on the rows that carry its
token. No other claimer takes them while the lease runs; a worker that dies leaves a lease that runs out, and the
rows are claimed again. On PostgreSQL the candidates are read with ``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent
claimers skip each other's rows instead of waiting); on SQLite, which has no row locks, one conditional ``UPDATE``
whose ``WHERE`` re-checks ``due`` takes them (SQLite runs one writer at a time). Used by the webhook delivery worker
and the media processing worker.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session

from mediavault.db.models import utcnow

__all__ = ("claim", "finish_claim")


async def claim(
    session: AsyncSession | async_scoped_session[AsyncSession],
    model: Any,
    *,
    due: ColumnElement[bool],
    order_by: tuple[Any, ...],
    limit: int,
    lease: float,
    join: tuple[Any, Any] | None = None,
    only: ColumnElement[bool] | None = None,
    values: dict[str, Any] | None = None,
) -> uuid.UUID | None:
    """Lease up to ``limit`` rows of ``model`` matching ``due`` (in ``order_by`` order) to a new claim token.

    Args:
        session: the caller's session; the caller commits right after, before working on the rows.
        model: a mapped class with ``id``, ``claim_token`` and ``claimed_until`` columns.
        due: which rows may be claimed now (must exclude rows whose lease still runs).
        order_by: which rows go first.
        limit: most rows to take.
        lease: seconds the rows stay this claimer's.
        join: ``(target, on)`` joined when picking the candidates (e.g. a parent table ``only`` refers to).
        only: a further condition on the candidates, checked when they are picked (may use ``join``'s table).
        values: more columns to set on the claimed rows (e.g. ``{"attempts": model.attempts + 1}``).

    Returns:
        The claim token the taken rows now carry, or ``None`` when none was due.
    """
    token = uuid.uuid4()
    assigned = {"claim_token": token, "claimed_until": utcnow() + dt.timedelta(seconds=lease), **(values or {})}
    candidates = select(model.id)
    if join is not None:
        candidates = candidates.join(*join)
    candidates = candidates.where(due if only is None else due & only).order_by(*order_by).limit(limit)
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        ids = list(await session.scalars(candidates.with_for_update(skip_locked=True, of=model)))
        if not ids:
            return None
        await session.execute(
            update(model).where(model.id.in_(ids)).values(**assigned).execution_options(synchronize_session=False)
        )
        return token
    result = await session.execute(
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()), due)
        .values(**assigned)
        .execution_options(synchronize_session=False)
    )
    return token if result.rowcount else None  # type: ignore[attr-defined]


async def finish_claim(
    session: AsyncSession | async_scoped_session[AsyncSession], model: Any, row_id: Any, token: uuid.UUID, **values: Any
) -> bool:
    """Set ``values`` on a claimed row and drop its lease, if ``token`` still holds it; ``False`` if the claim was
    lost (the lease ran out and another claimer took the row, or the row was deleted)."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
