"""The processing worker: runs the media processors on each new upload, once, durably.

The upload's transaction writes a ``pending`` :class:`~mediavault.db.models.MediaProcessing` row next to the media
row and its ``media.uploaded`` outbox event, so an item exists if and only if its processing is owed. One
:class:`ProcessingWorker` per vault instance runs in the app's lifespan (``processing_worker=True``) or under
``mediavault worker``. Its loop:

1. **claim** pending items with a lease (:mod:`mediavault.db.leases`, the mechanism the webhook worker uses:
   ``SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite), up to ``processing_concurrency`` in flight,
   so with several processes an item is processed once;
2. **process** each item: every accepting processor runs (sync ones in a worker thread), each failing alone;
3. **store** the variants through the storage backend, next to the item's bytes (``<key>.<name>.<random>``);
4. **record** results, errors and variant rows in one transaction, if the lease is still this worker's
   (otherwise, or if the item was deleted meanwhile, the stored variants are deleted again);
5. sleep until woken by a committed ``media.uploaded``, or ``processing_poll_interval``.

A process that dies mid-item leaves a lease that runs out after ``processing_timeout``; the item is claimed again.
An item claimed :data:`MAX_ATTEMPTS` times without being recorded (e.g. it kills the process every time) is marked
``failed``. A transient error (:func:`is_transient`: storage or database unavailable, a full disk) is not counted:
the item goes back to ``pending`` with its cause as the ``worker`` error, to be tried again after
``processing_retry_delay`` seconds, doubled after each such failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import IO, Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.config import MediaVaultConfig
from mediavault.db.availability import log_retry
from mediavault.db.blobs import BlobRepository
from mediavault.db.models import Media, MediaVariant, utcnow
from mediavault.db.processing import ClaimedItem, ProcessingRepository
from mediavault.events import Event
from mediavault.processing.base import MediaProcessor, MediaSource, ProcessingError, ProcessingResult, Variant
from mediavault.processing.images import ShareCopyProcessor
from mediavault.storage.base import StorageBackend, StorageWriter

__all__ = ("MAX_ATTEMPTS", "MAX_RETRY_DELAY", "ProcessingWorker", "is_transient")

logger = logging.getLogger("mediavault.processing")

MAX_ATTEMPTS = 3
"""Claims of one item before it is marked ``failed``."""
MAX_ERROR_CHARS = 300
MAX_RETRY_DELAY = 3600.0
"""Longest wait (seconds) before an item that met a transient error is tried again."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is trouble that may pass (the storage or the database unavailable, a full disk), not the
    file's fault: an ``OSError`` other than a missing file (processors turn a bad file's decode errors into
    :class:`ProcessingError`), or a database connection error."""
    if isinstance(exc, OSError):
        return not isinstance(exc, FileNotFoundError)
    return isinstance(exc, OperationalError | InterfaceError)


_CHUNK = 1024 * 1024
"""Bytes read at a time from a variant given as a file."""


def _read_hashed(fp: IO[bytes], digest: Any) -> bytes:
    chunk = fp.read(_CHUNK)
    digest.update(chunk)
    return chunk


async def _write(writer: StorageWriter, data: bytes | IO[bytes]) -> tuple[int, str]:
    """Write a variant's bytes (or its file, read in chunks in a worker thread, then closed) to ``writer``; their
    length and hex SHA-256."""
    digest = hashlib.sha256()
    if isinstance(data, bytes):
        await anyio.to_thread.run_sync(digest.update, data)
        await writer.write(data)
        return len(data), digest.hexdigest()
    size = 0
    try:
        while chunk := await anyio.to_thread.run_sync(_read_hashed, data, digest):
            size += len(chunk)
            await writer.write(chunk)
    finally:
        await anyio.to_thread.run_sync(data.close)
    return size, digest.hexdigest()


def unique_processors(processors: list[MediaProcessor]) -> list[MediaProcessor]:
    """The first processor of each name (plugins' come before the built-ins, so they replace them)."""
    seen: dict[str, MediaProcessor] = {}
    for processor in processors:
        seen.setdefault(processor.name, processor)
    return list(seen.values())


class ProcessingWorker:
    """Processes the new media of one vault instance.

    Args:
        config: ``processing_*`` settings are read; handed to processors with each item.
        session_factory: opens a new database session (one per claim, item and record).
        storage: where the items' bytes are read and the variants written.
        processors: from the ``mediavault_media_processors`` hook, plugins' first.
    """

    def __init__(
        self,
        config: MediaVaultConfig,
        session_factory: Callable[[], AsyncSession],
        storage: StorageBackend,
        processors: list[MediaProcessor],
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.storage = storage
        self.processors = unique_processors(processors)
        share = next((p for p in self.processors if p.name == "share"), None)
        self.share_processor: MediaProcessor = share or ShareCopyProcessor(self.config)
        self.concurrency = self.config.processing_concurrency
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[asyncio.Task[None], ClaimedItem] = {}
        self._share_copies: dict[uuid.UUID, asyncio.Task[MediaVariant | None]] = {}

    # ------------------------------------------------------------------ lifecycle

    def notify(self, event: Event | None = None) -> None:
        """Wake the loop (subscribed to the event publisher: a committed ``media.uploaded``, or ``media.updated``
        which a replacement of the bytes raises)."""
        if self._wake is not None and (event is None or event.name in ("media.uploaded", "media.updated")):
            self._wake.set()

    @property
    def running(self) -> bool:
        """Whether the loop is running."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop on the running event loop (it first takes what is pending, e.g. after a crash)."""
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="mediavault-processing-worker")

    async def stop(self) -> None:
        """Stop the loop; items in flight are abandoned and their leases given back (they will be processed again;
        work already running in a thread finishes, its results are dropped)."""
        tasks = [t for t in (self._task, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        abandoned = [item.claim_token for item in self._inflight.values()]
        self._inflight.clear()
        self._task = self._wake = None
        if abandoned:
            with contextlib.suppress(Exception):
                async with self.session_factory() as session:
                    await ProcessingRepository(session).release(abandoned)
                    await session.commit()

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                await self._claim_and_spawn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_retry(logger, exc, "processing worker: loop iteration failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.processing_poll_interval):
                    await self._wake.wait()

    async def _claim_and_spawn(self) -> None:
        while (free := self.concurrency - len(self._inflight)) > 0:
            async with self.session_factory() as session:
                claimed = await ProcessingRepository(session).claim_pending(
                    limit=free, lease=self.config.processing_timeout
                )
                await session.commit()
            for item in claimed:
                task = asyncio.create_task(self._process(item))
                self._inflight[task] = item
                task.add_done_callback(self._done)
            if len(claimed) < free:
                return

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            self._inflight.pop(task, None)
            if self._wake is not None:
                self._wake.set()  # a free slot: look for more

    # ------------------------------------------------------------------ one item

    async def _process(self, item: ClaimedItem) -> None:
        try:
            if item.attempts > MAX_ATTEMPTS:
                await self._finish(item, status="failed", errors={"worker": f"gave up after {MAX_ATTEMPTS} attempts"})
                return
            async with self.session_factory() as session:
                media = await session.get(Media, item.media_id)
                source = await self.source(session, media) if media is not None else None
            if media is None or source is None:
                return  # deleted meanwhile: its processing row went with it
            info: dict[str, Any] = {}
            private: dict[str, Any] = {}
            errors: dict[str, str] = {}
            variants: list[Variant] = []
            for processor in self.processors:
                try:
                    if not processor.accepts(source):
                        continue
                    result = await self.run(processor, source)
                except ProcessingError as exc:
                    errors[processor.name] = str(exc)[:MAX_ERROR_CHARS]
                    continue
                except Exception as exc:  # a broken processor must not stop the others, nor the worker
                    if is_transient(exc):
                        raise  # not the file's fault: the whole item is tried again later
                    logger.exception("media processor %r failed on %s", processor.name, item.media_id)
                    errors[processor.name] = type(exc).__name__
                    continue
                if result.info:
                    info[processor.name] = result.info
                if result.private:
                    private[processor.name] = result.private
                variants.extend(result.variants)
            await self._record(item, media, info=info, private=private, errors=errors, variants=variants)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_transient(exc):
                await self._retry_later(item, exc)
            else:
                logger.exception("processing of %s failed; it will be tried again", item.media_id)

    async def _retry_later(self, item: ClaimedItem, exc: Exception) -> None:
        """Give ``item`` back after a transient error, to be tried again after a delay that doubles with each such
        failure (``processing_retry_delay``, at most :data:`MAX_RETRY_DELAY`); the attempt is not counted."""
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).split("\n", 1)[0][:100]
        try:
            async with self.session_factory() as session:
                repo = ProcessingRepository(session)
                failures = await repo.transient_failures(item.id) + 1
                delay = min(self.config.processing_retry_delay * 2 ** min(failures - 1, 20), MAX_RETRY_DELAY)
                cause = (
                    f"storage or database unavailable: {reason} ({type(exc).__name__}); "
                    f"failed {failures} times, next try in {delay:.0f} s"
                )
                await repo.retry_later(item, delay=delay, cause=cause[:MAX_ERROR_CHARS], failures=failures)
                await session.commit()
            logger.warning("processing of %s: %s", item.media_id, cause)
        except Exception:  # the database is gone too: the lease runs out and the item is claimed again
            logger.exception("processing of %s failed; it will be tried again", item.media_id)

    async def source(self, session: Any, media: Media) -> MediaSource:
        """The :class:`MediaSource` of ``media`` (its bytes may be a shared blob's)."""
        return self._source(media, await BlobRepository(session).content_key(media.id, media.storage_key))

    def _source(self, media: Media, key: str) -> MediaSource:
        return MediaSource(
            id=str(media.id),
            filename=media.filename,
            content_type=media.content_type,
            kind=media.kind,
            size=media.size,
            checksum_sha256=media.checksum_sha256,
            open=partial(self.storage.open_sync, key),
            config=self.config,
        )

    def owed(self, media: Media, name: str | None = None) -> bool:
        """Whether any processor (or the one called ``name``) accepts ``media`` (asked at upload: an item no
        processor wants is recorded ``done`` at once and costs the worker nothing; and by ``/thumbnail``, to tell
        "not yet" from "never"). A processor whose ``accepts`` raises counts as accepting."""
        source = self._source(media, media.storage_key)
        for processor in self.processors:
            if name is not None and processor.name != name:
                continue
            try:
                if processor.accepts(source):
                    return True
            except Exception:
                return True
        return False

    @staticmethod
    async def run(processor: MediaProcessor, source: MediaSource) -> ProcessingResult:
        """Run one processor: a sync ``process`` in a worker thread, an async one on the loop.

        Raises:
            ProcessingError, Exception: whatever the processor raises; ``TypeError`` if it returns no
                :class:`ProcessingResult`.
        """
        if inspect.iscoroutinefunction(processor.process):
            result = await processor.process(source)
        else:
            result = await anyio.to_thread.run_sync(processor.process, source)
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, ProcessingResult):
            raise TypeError(f"processor {processor.name!r} returned {type(result).__name__}, not ProcessingResult")
        return result

    async def _store(self, media: Media, variants: list[Variant]) -> list[MediaVariant]:
        rows = []
        storage = self.storage
        try:
            for variant in variants:
                key = f"{media.storage_key}.{variant.name}.{uuid.uuid4().hex[:12]}"
                writer = await storage.open_writer(key)
                try:
                    size, digest = await _write(writer, variant.data)
                    await writer.close()
                except BaseException:
                    await writer.abort()
                    raise
                rows.append(
                    MediaVariant(
                        id=uuid.uuid4(),
                        media_id=media.id,
                        name=variant.name,
                        storage_key=key,
                        content_type=variant.content_type,
                        size=size,
                        checksum_sha256=digest,
                        width=variant.width,
                        height=variant.height,
                        created_at=utcnow(),
                    )
                )
        except BaseException:
            await self._discard(rows)
            raise
        return rows

    async def _discard(self, rows: list[MediaVariant]) -> None:
        for row in rows:
            try:
                await self.storage.delete(row.storage_key)
            except Exception:
                logger.exception("could not delete variant bytes %s", row.storage_key)

    async def _record(self, item: ClaimedItem, media: Media, *, variants: list[Variant], **values: Any) -> None:
        rows = await self._store(media, variants)
        for _ in range(3):
            async with self.session_factory() as session:
                repo = ProcessingRepository(session)
                try:
                    # The media row first (PostgreSQL: FOR KEY SHARE, what the variant rows' foreign key takes anyway),
                    # then the claim: a change of the item (a replacement: its row, then this processing row) and
                    # this worker lock the two rows in the same order, so neither waits on the other in a deadlock.
                    # A media deleted meanwhile ends here, before its variant rows are written.
                    present = await session.scalar(
                        select(Media.id).where(Media.id == media.id).with_for_update(key_share=True)
                    )
                    if present is None or not await repo.finish(item, status="done", processed_at=utcnow(), **values):
                        await session.rollback()
                        await self._discard(rows)  # the lease was lost or the item deleted
                        return
                    taken = {v.name for v in await repo.variants(media.id)}
                    keep = [row for row in rows if row.name not in taken]  # e.g. a share copy made on demand first
                    session.add_all(keep)
                    await session.commit()
                except IntegrityError:  # a variant of that name appeared meanwhile, or the item was deleted
                    await session.rollback()
                    continue
            await self._discard([row for row in rows if row not in keep])
            return
        await self._discard(rows)
        raise RuntimeError(f"could not record the processing of {media.id}")

    async def _finish(self, item: ClaimedItem, **values: Any) -> None:
        async with self.session_factory() as session:
            await ProcessingRepository(session).finish(item, processed_at=utcnow(), **values)
            await session.commit()

    # ------------------------------------------------------------------ on demand

    async def share_copy(self, media: Media) -> MediaVariant | None:
        """The ``share`` variant of ``media`` (its bytes without metadata), made now if processing has not made it
        yet, so a share link never serves the original; ``None`` when the item's own bytes carry no metadata (they
        are served as they are, and no copy is stored). Concurrent calls for one item in this process share one
        computation.

        Raises:
            ProcessingError: the item cannot be stripped (malformed, too large, a format the vault does not decode).
        """
        async with self.session_factory() as session:
            repo = ProcessingRepository(session)
            existing = await repo.variant(media.id, "share")
            if existing is not None:
                return existing
            state = await repo.state(media.id)
            if state is not None and state.info.get("share", {}).get("unchanged"):
                return None
            source = await self.source(session, media)
        task = self._share_copies.get(media.id)
        if task is None:  # its own task: a request that goes away does not cancel the copy others wait for
            task = asyncio.create_task(self._make_share_copy(media, source))
            self._share_copies[media.id] = task
            task.add_done_callback(lambda _: self._share_copies.pop(media.id, None))
        return await asyncio.shield(task)

    async def _make_share_copy(self, media: Media, source: MediaSource) -> MediaVariant | None:
        result = await self.run(self.share_processor, source)
        variants = [v for v in result.variants if v.name == "share"]
        if not variants:
            if result.info.get("unchanged"):
                return None
            raise ProcessingError("no share copy was made")
        [row] = await self._store(media, variants)
        async with self.session_factory() as session:
            session.add(row)
            try:
                await session.commit()
                return row
            except IntegrityError:  # the worker recorded its copy meanwhile (or the item was deleted)
                await session.rollback()
        await self._discard([row])
        async with self.session_factory() as session:
            existing = await ProcessingRepository(session).variant(media.id, "share")
        if existing is None:
            raise ProcessingError("the media was deleted")
        return existing
