"""The one owner-scoped lookup every id route goes through.

A path id is resolved with :func:`get_owned`: malformed ids, unknown ids and other users' ids all
raise the same :class:`~mediavault.errors.NotFound`, so existence is never revealed and no route has
to remember its own ``if owner_id != ...`` check.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from mediavault.auth.providers import Principal
from mediavault.errors import NotFound

__all__ = ("Owned", "get_owned", "parse_id")


class Owned(Protocol):
    """A model with an ``id`` and the ``owner_id`` of the user it belongs to."""

    id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID]


M = TypeVar("M", bound=Any)


def parse_id(raw: str) -> uuid.UUID:
    """A path id as a UUID; anything malformed is a 404 (ids are opaque to clients).

    Raises:
        NotFound: ``raw`` is not a UUID.
    """
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise NotFound() from exc


async def get_owned(session: AsyncSession, model: type[M], principal: Principal, raw_id: str, *, what: str) -> M:
    """The ``model`` row ``raw_id`` if ``principal`` owns it.

    Args:
        model: a mapped class with ``id`` and ``owner_id`` columns.
        raw_id: the id as it came in the path.
        what: the resource's name for the error message (``"Media"``, ``"Collection"``...).

    Raises:
        NotFound: malformed id, no such row, or a row owned by someone else (indistinguishable).
    """
    row = await session.scalar(select(model).where(model.id == parse_id(raw_id), model.owner_id == principal.user_id))
    if row is None:
        raise NotFound(f"{what} not found")
    return row
