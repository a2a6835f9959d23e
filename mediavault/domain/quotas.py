"""Storage quotas: how many bytes a user may store, and the checks every upload path makes.

A user's quota is the one an admin set (``PATCH /admin/users/{id}``, ``None`` meaning unlimited), else the config's
``default_quota_bytes`` (``None``: unlimited). Usage counts each stored object once (:mod:`mediavault.db.usage`).
An upload is checked three times: before any byte is stored when its length is declared (:meth:`Quotas.ensure_room`),
while its bytes arrive (:meth:`Quotas.capped`, cut off past the room left) and in its transaction, after its rows
were written and the user's row locked (:meth:`Quotas.check`: concurrent uploads of one user cannot both pass).
A quota read once in a session (one request) is remembered for the rest of it: an unlimited user's upload reads their
quota once (before its bytes are stored) and nothing in its transaction; a limited user's check goes straight to the
locked read. An admin's change to a quota applies from the next upload, not to one already streaming.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.usage import media_counts, quota_and_usage, quota_settings, used_bytes
from mediavault.errors import QuotaExceeded

__all__ = ("Quotas", "Usage")

_LIMITS_KEY = "mediavault.quota_limits"
"""``session.info`` key of ``(transaction, {user id: limit})``: the quotas read in the session's current transaction."""


@dataclass(frozen=True)
class Usage:
    """What a user stores: ``used_bytes``, ``quota_bytes`` (``None``: unlimited), ``media_count``."""

    used_bytes: int
    quota_bytes: int | None
    media_count: int


class Quotas:
    """The quota rule on one session (the caller commits).

    Args:
        session: the database session the checks read (and lock) in.
        default_quota_bytes: the config's quota for users without one of their own (``None``: unlimited).
    """

    def __init__(self, session: AsyncSession, *, default_quota_bytes: int | None) -> None:
        self.session = session
        self.default_quota_bytes = default_quota_bytes

    async def limit(self, user_id: uuid.UUID, *, lock: bool = False) -> int | None:
        """The quota of ``user_id`` in bytes, ``None`` when unlimited (``lock``: see
        :func:`~mediavault.db.usage.quota_settings`); remembered for the rest of the session."""
        override, quota = await quota_settings(self.session, user_id, lock=lock)
        limit = quota if override else self.default_quota_bytes
        self._remembered()[user_id] = limit
        return limit

    def _remembered(self) -> dict[uuid.UUID, int | None]:
        """``{user id: limit}`` read in this session (one request, or one in-process call): an upload's limit is read
        once, before its body, and holds to its end (an admin's change applies from the next upload)."""
        return self.session.info.setdefault(_LIMITS_KEY, {})  # type: ignore[no-any-return]

    async def room(self, user_id: uuid.UUID) -> int | None:
        """Bytes ``user_id`` may still store (0 when at or over the quota), ``None`` when unlimited (no usage is
        counted then): the quota and the usage in one statement."""
        found = await quota_and_usage(self.session, user_id, self.default_quota_bytes)  # one statement
        if found is None:  # no such user: the default quota
            limit = self.default_quota_bytes
            self._remembered()[user_id] = limit
            return None if limit is None else max(0, limit - (await used_bytes(self.session, [user_id]))[user_id])
        limit, used = found
        self._remembered()[user_id] = limit
        return None if limit is None else max(0, limit - (used or 0))

    async def ensure_room(self, user_id: uuid.UUID, size: int, *, at_least: bool = False) -> int | None:
        """May ``user_id`` store ``size`` more bytes? Call it before storing a declared length.

        Args:
            at_least: ``size`` is a lower bound (e.g. a multipart ``Content-Length`` less its framing margin), not
                the exact length (a tus ``Upload-Length``): the refusal then says "at least ``size`` bytes".

        Returns:
            The room left before these bytes (``None``: unlimited), for :meth:`capped`.

        Raises:
            QuotaExceeded: ``size`` is more than the room left.
        """
        room = await self.room(user_id)
        if room is not None and size > room:
            amount = f"at least {size}" if at_least else f"{size}"
            raise QuotaExceeded(f"The upload of {amount} bytes exceeds your storage quota ({room} bytes left)")
        return room

    @staticmethod
    async def capped(chunks: AsyncIterable[bytes], room: int | None) -> AsyncIterator[bytes]:
        """``chunks`` as they come, cut off with :class:`~mediavault.errors.QuotaExceeded` once more than ``room``
        bytes went through (``None``: never); ``chunks`` is closed when this is."""
        seen = 0
        source = aiter(chunks)
        try:
            async for chunk in source:
                seen += len(chunk)
                if room is not None and seen > room:
                    raise QuotaExceeded(f"The upload exceeds your storage quota ({room} bytes left)")
                yield chunk
        finally:
            if (aclose := getattr(source, "aclose", None)) is not None:
                await aclose()

    async def check(self, user_id: uuid.UUID) -> None:
        """After an upload's rows were written (flushed) in this session's transaction: lock the user's row
        (PostgreSQL; SQLite has one writer) and count again, so two concurrent uploads cannot both take the last room.

        Raises:
            QuotaExceeded: the user's usage, with the new rows, is over the quota (roll back).
        """
        remembered = self._remembered()
        if user_id in remembered and remembered[user_id] is None:
            return  # read in this transaction (before the bytes were stored): unlimited, nothing to count
        if user_id not in remembered and await self.limit(user_id) is None:
            return  # no lock, no count: unlimited users' uploads never wait for each other
        limit = await self.limit(user_id, lock=True)
        if limit is None:
            return
        await self.session.flush()
        if (used := (await used_bytes(self.session, [user_id]))[user_id]) > limit:
            raise QuotaExceeded(f"The upload exceeds your storage quota ({used} of {limit} bytes with it)")

    async def usage(self, user_id: uuid.UUID) -> Usage:
        """Usage, quota and media count of ``user_id``."""
        ids = [user_id]
        used, counts = await used_bytes(self.session, ids), await media_counts(self.session, ids)
        return Usage(used_bytes=used[user_id], quota_bytes=await self.limit(user_id), media_count=counts[user_id])
