"""``GET /health``'s checks: the database answers ``SELECT 1``, the storage answers its probe and (local disks) has
at least ``storage_min_free_space`` bytes free.

The route is public and never rate-limited, so each process reuses one result for ``health_cache_ttl`` seconds
(issue 13, finding 15): however many probes arrive, the database and the storage (a billable request on S3) are
asked at most once per interval, and concurrent probes share the one check in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from mediavault.storage.base import StorageBackend

__all__ = ("HealthProbe",)

logger = logging.getLogger("mediavault")


class HealthProbe:
    """The health checks of one vault instance, with the result cached per process.

    Args:
        storage: the byte store to probe.
        min_free_space: bytes of free space below which storage is ``error`` (0: not checked).
        ttl: seconds a result is reused (0: never).
    """

    def __init__(self, storage: StorageBackend, *, min_free_space: int, ttl: float) -> None:
        self._storage = storage
        self._min_free_space = min_free_space
        self._ttl = ttl
        self._result: dict[str, str] | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def checks(self, engine: AsyncEngine) -> dict[str, str]:
        """``{"database": "ok"|"error", "storage": "ok"|"error"}``, at most ``ttl`` seconds old."""
        async with self._lock:  # probes arriving during a check wait for it and share its result
            if self._result is None or time.monotonic() - self._checked_at >= self._ttl:
                self._result = {"database": await self._database(engine), "storage": await self._storage_state()}
                self._checked_at = time.monotonic()
            return dict(self._result)

    @staticmethod
    async def _database(engine: AsyncEngine) -> str:
        try:
            async with engine.connect() as connection:  # no ORM session needed for a ping
                await connection.execute(text("SELECT 1"))
        except Exception:
            logger.exception("health check: database failed")
            return "error"
        return "ok"

    async def _storage_state(self) -> str:
        try:
            await self._storage.check()
            free = await self._storage.free_space() if self._min_free_space else None
        except Exception:
            logger.exception("health check: storage failed")
            return "error"
        if free is not None and free < self._min_free_space:
            logger.error("health check: storage has %d bytes free, under storage_min_free_space", free)
            return "error"
        return "ok"
