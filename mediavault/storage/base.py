"""The storage backend interface: where media bytes live.

A :class:`StorageBackend` stores opaque byte objects under server-generated keys
(``"media/<owner id>/<uuid>"``; never user input). Every method is async; backends whose
underlying library blocks (local disk, s3fs's sync calls) run that work in a worker
thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any

import anyio
import anyio.to_thread

__all__ = (
    "HEAD_SIZE",
    "PartialObject",
    "StorageBackend",
    "StorageWriter",
    "StoredFile",
    "StoredObject",
    "WrittenStream",
    "storage_full",
    "write_stream",
)

logger = logging.getLogger("mediavault")

HEAD_SIZE = 8192
"""How many leading bytes :func:`write_stream` keeps (:attr:`WrittenStream.head`, for content sniffing)."""
_PIPELINE_DEPTH = 3
"""Chunks queued between the producer (e.g. the multipart parser) and the hash-and-write task."""
_INLINE_HASH_SIZE = 64 * 1024
"""A chunk up to this size is hashed on the event loop (tens of microseconds): a worker thread's round trip costs
more than that. Larger chunks (the multipart parser hands over 1 MiB batches) are hashed in a worker thread."""
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_S3_CODES = frozenset({"QuotaExceeded", "XMinioStorageFull", "XMinioAdminBucketQuotaExceeded"})
"""S3-compatible stores' error codes for "no room" (MinIO's disk full and bucket quota; Ceph RGW's quota)."""


def storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from or while handling) means the storage has no room: ``ENOSPC``
    (no space left on the device), ``EDQUOT`` (disk quota exceeded), or an object store's quota error code."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
            return True
        response = getattr(error, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code") in _FULL_S3_CODES:
            return True
        error = error.__cause__ or error.__context__
    return False


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A stored object as a download presents it: what services return for
    :func:`~mediavault.http.content.content_response` to serve.

    Attributes:
        key: storage key of the bytes.
        size: length in bytes.
        checksum_sha256: hex SHA-256 of the bytes (the strong ``ETag``).
        content_type: the media type served.
        filename: the name offered in ``Content-Disposition``.
        last_modified: when the bytes were written (aware, or naive UTC).
    """

    key: str
    size: int
    checksum_sha256: str
    content_type: str
    filename: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object found by :meth:`StorageBackend.scan`.

    Attributes:
        key: its storage key; for a temporary file, its path under the root (pass it to
            :meth:`StorageBackend.remove_temporary`).
        size: length in bytes.
        modified: when it was last written, POSIX seconds.
        temporary: a writer's hidden temporary file (``<key>.part-<hex>``), not an object.
    """

    key: str
    size: int
    modified: float
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class PartialObject:
    """An object assembled over several requests (a resumable upload): see :meth:`StorageBackend.append_partial`.

    The state is the truth: bytes an append wrote whose returned state was never recorded (a crash, a checksum that
    did not match) are ignored by later appends and removed by :meth:`StorageBackend.discard_partial`.

    Attributes:
        key: storage key of the finished object: where :meth:`StorageBackend.complete_partial` writes it, unless the
            backend fixed it at an earlier append (S3: the multipart upload's key); it returns the key it wrote.
        pieces: key prefix under which the pieces live until then (no trailing ``/``); everything under it belongs
            to this object.
        state: the backend's record of the pieces, JSON-able, for the caller to keep (e.g. in a database row) and
            hand back; empty before the first append.
    """

    key: str
    pieces: str
    state: Mapping[str, Any] = field(default_factory=dict)


class StorageWriter(ABC):
    """An object being written. Bytes become visible under the key only after :meth:`close`.

    Callers must finish with exactly one of :meth:`close` (keep) or :meth:`abort`
    (discard everything written, leaving nothing behind).
    """

    key: str

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Append ``data`` (any length, may be empty)."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and commit the object."""

    @abstractmethod
    async def abort(self) -> None:
        """Discard the object; never raises for an object that was never created."""


class StorageBackend(ABC):
    """Byte storage for media. One instance per :class:`~mediavault.MediaVault`.

    Attributes:
        leaves_temporary_files: whether a writer killed mid-way (SIGKILL, power loss) can leave a hidden temporary
            file behind, for the start-up sweep and ``mediavault fsck`` to remove.
    """

    leaves_temporary_files: bool = False

    @abstractmethod
    async def open_writer(self, key: str) -> StorageWriter:
        """Start writing a new object at ``key`` (overwrites nothing the caller did not create)."""

    @abstractmethod
    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of the object (``end=None``: to the end).

        Raises:
            FileNotFoundError: no object at ``key``.
        """

    async def read_bytes(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object at once (a small range: the whole is held in memory); fewer if the
        object is shorter. The default joins :meth:`read`'s chunks; a backend may do it in one call.

        Raises:
            FileNotFoundError: no object at ``key``.
        """
        return b"".join([chunk async for chunk in self.read(key, start, end)])

    @abstractmethod
    def open_sync(self, key: str) -> IO[bytes]:
        """Open the object for blocking, seekable reads. Only call from a worker thread."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether an object is stored at ``key``."""

    @abstractmethod
    async def check(self) -> None:
        """Health probe: raise if the backend cannot be used (``GET /health``)."""

    async def scan(self) -> list[StoredObject]:
        """Every object and writer's temporary file under the root (``mediavault fsck``, the start-up sweep).

        Raises:
            NotImplementedError: the backend cannot list its objects.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot list its objects")

    async def remove_temporary(self, key: str) -> None:
        """Remove a temporary file :meth:`scan` found (a missing one is not an error).

        Raises:
            NotImplementedError: the backend's writes leave no temporary files (``leaves_temporary_files`` false).
        """
        raise NotImplementedError(f"{type(self).__name__} leaves no temporary files")

    async def append_partial(self, partial: PartialObject, chunks: AsyncIterable[bytes]) -> PartialObject:
        """Append the bytes of ``chunks`` to ``partial``; returns it with the new state, for the caller to record.

        All or nothing: when ``chunks`` or the storage raise, nothing of this call counts (``partial``'s state stays
        valid) and the error propagates. The default writes each append as one new object under ``partial.pieces``
        (a segment, through :meth:`open_writer`: it exists whole or not at all).
        """
        writer = await self.open_writer(f"{partial.pieces}/{uuid.uuid4().hex}")
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                await writer.write(chunk)
            if not size:
                await writer.abort()
                return partial
            await writer.close()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await writer.abort()
            raise
        return replace(partial, state={"segments": [*partial.state.get("segments", ()), [writer.key, size]]})

    async def complete_partial(self, partial: PartialObject) -> tuple[str, WrittenStream]:
        """Write the object from the pieces appended so far; returns its key and its size, SHA-256 and head. The
        pieces stay until :meth:`discard_partial`. The default copies the segments, in order, into ``partial.key``
        while hashing."""
        keys = [key for key, _ in partial.state.get("segments", ())]
        return partial.key, await write_stream(await self.open_writer(partial.key), self._concatenated(keys))

    async def _concatenated(self, keys: list[str]) -> AsyncIterator[bytes]:
        for key in keys:
            async for chunk in self.read(key, chunk_size=1024 * 1024):
                yield chunk

    async def release_partial(self, before: PartialObject, after: PartialObject) -> None:  # noqa: B027
        """Remove pieces of ``before`` that ``after`` (a later state, now recorded) no longer needs. The default
        needs them all."""

    async def abandon_partial(self, before: PartialObject, after: PartialObject) -> None:
        """Remove what an append added to ``before`` to make ``after``, a state that will never be recorded (another
        request's append or completion won, or the completion failed); ``before``'s pieces stay. The default deletes
        the segments ``after`` lists and ``before`` does not."""
        kept = {key for key, _ in before.state.get("segments", ())}
        for key, _ in after.state.get("segments", ()):
            if key not in kept:
                await self.delete(key)

    async def discard_partial(self, partial: PartialObject) -> None:
        """Remove every piece of ``partial`` (not the object at ``partial.key``); idempotent. The default deletes
        the segments its state lists; backends that can remove a prefix also remove what a crash left unrecorded."""
        for key, _ in partial.state.get("segments", ()):
            await self.delete(key)

    async def free_space(self) -> int | None:
        """Bytes still free for new objects, or ``None`` when the backend cannot tell (object stores). Cheap: the
        health check asks it."""
        return None

    async def download_url(
        self, key: str, *, expires_in: int, content_type: str, content_disposition: str, cache_control: str
    ) -> str | None:
        """A URL from which clients can fetch the object directly, or ``None`` when the backend has none.

        Used for presigned download redirects (``storage_presigned_downloads``). The URL must be valid for
        ``expires_in`` seconds, answer a ``GET`` (and ``Range``) with the object's bytes and the given
        ``Content-Type``, ``Content-Disposition`` and ``Cache-Control``, and grant nothing else. The default has
        none: downloads stream through the app.
        """
        return None


@dataclass(frozen=True, slots=True)
class WrittenStream:
    """What :func:`write_stream` wrote.

    Attributes:
        size: bytes written.
        checksum_sha256: SHA-256 of the bytes, lowercase hex.
        head: the first ``min(size, head_size)`` bytes.
    """

    size: int
    checksum_sha256: str
    head: bytes


async def write_stream(
    writer: StorageWriter, chunks: AsyncIterable[bytes], *, head_size: int = HEAD_SIZE
) -> WrittenStream:
    """Write every chunk of ``chunks`` to ``writer``, then close it (commit); size, SHA-256 and the first
    ``head_size`` bytes are taken on the way, so each byte is touched once.

    Hashing (in a worker thread for chunks over 64 KiB: hashlib releases the GIL) and writing run in a task of their
    own, up to three chunks behind, so the producer (e.g. the multipart parser reading the request body) keeps going
    meanwhile; a stream of one chunk (a small upload) is hashed and written in place, without that task. On any
    failure (the stream's, e.g. a limit or a client that went away, the writer's, or cancellation) the writer is
    aborted and the error re-raised: nothing is left in storage. ``chunks`` is closed (``aclose``) in every case.

    Raises:
        Exception: whatever ``chunks`` or the writer raise, after the abort.
    """
    sha256 = hashlib.sha256()
    head = bytearray()
    size = 0
    failure: list[Exception] = []
    pipeline: asyncio.Task[None] | None = None

    async def hash_and_write(chunk: bytes) -> None:
        if len(chunk) <= _INLINE_HASH_SIZE:
            sha256.update(chunk)
        else:
            await anyio.to_thread.run_sync(sha256.update, chunk)
        await writer.write(chunk)

    async def drain(queue: asyncio.Queue[bytes | None]) -> None:  # after a failure keep draining: no producer blocks
        while (chunk := await queue.get()) is not None:
            if not failure:
                try:
                    await hash_and_write(chunk)
                except Exception as exc:
                    failure.append(exc)

    iterator = aiter(chunks)
    try:
        first = await anext(iterator, None)
        second = None if first is None else await anext(iterator, None)
        if second is None:  # no chunk, or one
            if first is not None:
                size, head = len(first), bytearray(first[:head_size])
                await hash_and_write(first)
        else:
            queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=_PIPELINE_DEPTH)
            pipeline = asyncio.get_running_loop().create_task(drain(queue))

            async def put(chunk: bytes) -> None:
                nonlocal size
                if failure:
                    raise failure[0]
                size += len(chunk)
                if len(head) < head_size:
                    head.extend(chunk[: head_size - len(head)])
                await queue.put(chunk)

            await put(first)  # type: ignore[arg-type]  # (not None here)
            await put(second)
            async for chunk in iterator:
                await put(chunk)
            await queue.put(None)
            await pipeline
            if failure:
                raise failure[0]
        await writer.close()
    except BaseException:
        with anyio.CancelScope(shield=True):
            if pipeline is not None and not pipeline.done():
                pipeline.cancel()
                await asyncio.gather(pipeline, return_exceptions=True)
            try:
                await writer.abort()
            except Exception:
                logger.exception("aborting storage writer %r failed", getattr(writer, "key", None))
        raise
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()
    return WrittenStream(size=size, checksum_sha256=sha256.hexdigest(), head=bytes(head))
