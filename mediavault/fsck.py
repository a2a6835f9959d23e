"""Consistency of rows and stored bytes: what ``mediavault fsck`` and the start-up sweep do.

A process killed mid-upload (SIGKILL, power loss) leaves its writer's hidden temporary file behind (issue 13,
finding 2). :func:`sweep_temporary_files` removes those not written to for ``temporary_file_max_age`` seconds:
younger ones may belong to a live upload of another process sharing the storage, so several processes can sweep at
once safely.
"""

from __future__ import annotations

import logging
import time

from mediavault.storage.base import StorageBackend, StoredObject

__all__ = ("stale_temporary_files", "sweep_temporary_files")

logger = logging.getLogger("mediavault")


async def stale_temporary_files(storage: StorageBackend, max_age: float) -> list[StoredObject]:
    """The writers' temporary files not written to for at least ``max_age`` seconds (none where the backend's
    writes leave none)."""
    if not storage.leaves_temporary_files:
        return []
    cutoff = time.time() - max_age
    return [o for o in await storage.scan() if o.temporary and o.modified <= cutoff]


async def sweep_temporary_files(storage: StorageBackend, max_age: float) -> list[StoredObject]:
    """Remove :func:`stale_temporary_files` and return what was removed (each logged)."""
    stale = await stale_temporary_files(storage, max_age)
    for leftover in stale:
        await storage.remove_temporary(leftover.key)
        logger.warning(
            "removed a temporary upload file left by a killed process: %s (%d bytes)", leftover.key, leftover.size
        )
    return stale
