"""Consistency of rows and stored bytes: what ``mediavault fsck`` and the start-up sweep do.

* A process killed mid-upload (SIGKILL, power loss) leaves its writer's hidden temporary file behind (issue 13,
  finding 2). :func:`sweep_temporary_files` removes those not written to for ``temporary_file_max_age`` seconds:
  younger ones may belong to a live upload of another process sharing the storage, so several processes can sweep
  at once safely.
* A delete killed after its transaction committed leaves the item's bytes with no row (finding 3); :func:`fsck`
  finds such orphans (and rows whose bytes are missing, and processing that never finished) and, asked to repair,
  removes the orphans and re-queues the processing. An object younger than ``max_age`` is never an orphan (an
  upload writes its bytes before it commits its row), and each orphan's key is looked up again right before it is
  deleted, so fsck is safe while the server runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.availability import log_retry
from mediavault.db.models import (
    Blob,
    Media,
    MediaProcessing,
    MediaVariant,
    MediaVersion,
    Upload,
    media_blob,
    storage_key_columns,
)
from mediavault.db.processing import ProcessingRepository
from mediavault.storage.base import StorageBackend, StoredObject

__all__ = ("FsckReport", "fsck", "fsck_periodically", "stale_temporary_files", "sweep_temporary_files")

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


@dataclass
class FsckReport:
    """What :func:`fsck` found (and, with ``repair``, fixed).

    Attributes:
        temporary: writers' temporary files older than ``max_age`` (left by killed processes).
        orphaned: stored objects older than ``max_age`` that no row points at.
        missing: ``"<what> <id>: <key>"`` for each row whose bytes are not stored.
        unfinished: media ids whose processing failed or has not finished within ``max_age``.
        repaired: whether the orphans and temporary files were removed and the processing re-queued.
    """

    temporary: list[StoredObject] = field(default_factory=list)
    orphaned: list[StoredObject] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unfinished: list[uuid.UUID] = field(default_factory=list)
    repaired: bool = False

    @property
    def consistent(self) -> bool:
        """Nothing found."""
        return not (self.temporary or self.orphaned or self.missing or self.unfinished)

    def summary(self) -> list[str]:
        """Lines for a person: one per finding, then the totals."""
        done = "removed" if self.repaired else "found"
        lines = [f"temporary file ({done}): {o.key} ({o.size} bytes)" for o in self.temporary]
        lines += [f"bytes without a row ({done}): {o.key} ({o.size} bytes)" for o in self.orphaned]
        lines += [f"row without bytes: {m}" for m in self.missing]
        queued = "re-queued" if self.repaired else "found"
        lines += [f"unfinished processing ({queued}): media {m}" for m in self.unfinished]
        lines.append(
            f"{len(self.temporary)} temporary files, {len(self.orphaned)} objects without rows, "
            f"{len(self.missing)} rows without bytes, {len(self.unfinished)} unfinished processing"
            + (" (repaired)" if self.repaired and not self.consistent else "")
        )
        return lines


async def _referenced_keys(session: AsyncSession) -> set[str]:
    """The storage keys any row names (every storage-key column of every table, so a new table's are included), and
    the ``<pieces>/`` prefixes of resumable uploads (everything under one is theirs)."""
    keys: set[str] = set()
    for column in storage_key_columns():
        keys.update(await session.scalars(select(column).where(column.is_not(None))))
    keys |= {f"{pieces}/" for pieces in await session.scalars(select(Upload.pieces))}
    return keys


def _unreferenced(key: str, referenced: set[str]) -> bool:
    """Whether no row names ``key``, directly or as a piece of a resumable upload (``uploads/<hex>/...``)."""
    if key in referenced:
        return False
    head, sep, _ = key.partition("/")
    pieces, sep2, _ = key[len(head) + 1 :].partition("/") if sep else ("", "", "")
    return not (sep2 and f"{head}/{pieces}/" in referenced)


async def _rows_without_bytes(session: AsyncSession, stored: set[str]) -> tuple[list[str], set[uuid.UUID]]:
    """Rows whose bytes are missing, and the media whose variants are among them (re-processing remakes those)."""
    missing: list[str] = []
    content = (
        select(Media.id, Media.storage_key, Blob.storage_key)
        .outerjoin(media_blob, media_blob.c.media_id == Media.id)
        .outerjoin(Blob, Blob.id == media_blob.c.blob_id)
    )
    for media_id, own_key, blob_key in await session.execute(content):
        key = blob_key or own_key
        if key not in stored:
            missing.append(f"media {media_id}: {key}")
    versions = select(
        MediaVersion.media_id, MediaVersion.version, func.coalesce(Blob.storage_key, MediaVersion.storage_key)
    )
    for media_id, number, key in await session.execute(versions.outerjoin(Blob, Blob.id == MediaVersion.blob_id)):
        if key not in stored:
            missing.append(f"version {number} of media {media_id}: {key}")
    remake: set[uuid.UUID] = set()
    for media_id, name, key in await session.execute(
        select(MediaVariant.media_id, MediaVariant.name, MediaVariant.storage_key)
    ):
        if key not in stored:
            missing.append(f"variant {name} of media {media_id}: {key}")
            remake.add(media_id)
    return missing, remake


async def fsck(
    storage: StorageBackend,
    session_factory: Callable[[], AsyncSession],
    *,
    max_age: float,
    repair: bool = False,
) -> FsckReport:
    """Check rows against stored bytes; with ``repair`` remove orphaned bytes and stale temporary files and
    re-queue unfinished processing (and the processing of items whose variants are missing).

    Args:
        storage: the vault's byte store (it must support :meth:`~StorageBackend.scan`).
        session_factory: opens a database session.
        max_age: seconds; younger objects, temporary files and processing are left alone (they may be in flight).
        repair: fix what can be fixed. Rows without bytes are only reported (their bytes are gone).

    Raises:
        NotImplementedError: the backend cannot list its objects.
    """
    report = FsckReport()
    objects = await storage.scan()
    cutoff = time.time() - max_age
    report.temporary = [o for o in objects if o.temporary and o.modified <= cutoff]
    async with session_factory() as session:
        referenced = await _referenced_keys(session)
        stored = {o.key for o in objects if not o.temporary}
        report.orphaned = [
            o for o in objects if not o.temporary and _unreferenced(o.key, referenced) and o.modified <= cutoff
        ]
        report.missing, remake = await _rows_without_bytes(session, stored)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_age)
        unfinished = (
            select(MediaProcessing.media_id)
            .join(Media, Media.id == MediaProcessing.media_id)
            .where(
                (MediaProcessing.status == "failed")
                | ((MediaProcessing.status != "done") & (Media.created_at <= since))
            )
        )
        report.unfinished = sorted(set(await session.scalars(unfinished)) | remake)
    if not repair:
        return report
    for leftover in report.temporary:
        await storage.remove_temporary(leftover.key)
    async with session_factory() as session:
        still = await _referenced_keys(session)  # looked up again: a row may have been committed meanwhile
    report.orphaned = [o for o in report.orphaned if _unreferenced(o.key, still)]
    for orphan in report.orphaned:
        await storage.delete(orphan.key)
        logger.warning("fsck removed bytes without a row: %s (%d bytes)", orphan.key, orphan.size)
    if report.unfinished:
        async with session_factory() as session:
            await ProcessingRepository(session).requeue(report.unfinished)
            await session.commit()
    report.repaired = True
    return report


async def fsck_periodically(
    storage: StorageBackend, session_factory: Callable[[], AsyncSession], *, interval: float, max_age: float
) -> None:
    """Run :func:`fsck` with ``repair`` now and then every ``interval`` seconds, until cancelled (the
    ``fsck_interval`` setting). Several processes may run it at once: see the module's notes on safety."""
    while True:
        try:
            report = await fsck(storage, session_factory, max_age=max_age, repair=True)
            if not report.consistent:
                logger.warning("periodic fsck: %s", report.summary()[-1])
        except NotImplementedError:
            logger.warning("periodic fsck: the storage cannot list its objects; stopped")
            return
        except Exception as exc:
            log_retry(logger, exc, "periodic fsck failed; trying again in %g s", interval)
        await asyncio.sleep(interval)
