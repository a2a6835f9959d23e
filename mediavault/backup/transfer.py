"""Moving objects between a storage backend and files, hashing on the way, a few at a time."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

import anyio.to_thread

from mediavault.storage.base import StorageBackend, WrittenStream, write_stream

__all__ = ("CHUNK", "for_each", "object_digest", "read_file", "save_object", "store_file")

CHUNK = 1 << 20
"""Bytes read at a time from a file or an object (1 MiB)."""

T = TypeVar("T")


async def for_each(items: Iterable[T], action: Callable[[T], Awaitable[None]], *, limit: int) -> None:
    """Await ``action(item)`` for every item, at most ``limit`` at once (object stores answer one request at a time
    slowly, and many at once well).

    After an action fails no other one starts, and those under way are let finish rather than cancelled: a write
    running in a worker thread would go on after its task was cancelled, and store its object after the caller's
    clean-up had looked (an import refused for one damaged file left another file's object stored).

    Raises:
        Exception: the first error of an action, once the others under way have ended.
    """
    pending = iter(items)
    errors: list[Exception] = []

    async def worker() -> None:
        for item in pending:  # shared: each item is taken by exactly one worker
            if errors:
                return
            try:
                await action(item)
            except Exception as exc:
                errors.append(exc)
                return

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, limit))]
    try:
        await asyncio.gather(*workers)
    except BaseException:  # cancelled by the caller
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    if errors:
        raise errors[0]


async def save_object(storage: StorageBackend, key: str, path: Path) -> tuple[int, str]:
    """Copy the object at ``key`` into a new file at ``path`` (parents created); ``(size, SHA-256 hex)`` of it.

    Raises:
        FileNotFoundError: no object at ``key`` (no file is made).
        OSError: the file could not be written.
    """
    sha256 = hashlib.sha256()
    size = 0
    file: IO[bytes] | None = None
    chunks = storage.read(key, chunk_size=CHUNK)
    try:
        async for chunk in chunks:  # a missing object raises at the first chunk, before the file exists
            if file is None:
                file = await anyio.to_thread.run_sync(_create, path)
            await anyio.to_thread.run_sync(_write_and_hash, file, sha256, chunk)
            size += len(chunk)
        if file is None:  # an empty object
            file = await anyio.to_thread.run_sync(_create, path)
    finally:
        await _aclose(chunks)
        if file is not None:
            await anyio.to_thread.run_sync(file.close)
    return size, sha256.hexdigest()


def _create(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _write_and_hash(file: IO[bytes], sha256: Any, chunk: bytes) -> None:
    file.write(chunk)
    sha256.update(chunk)


async def _aclose(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)  # the backends' readers are async generators
    if aclose is not None:
        await aclose()


async def read_file(path: Path) -> AsyncIterator[bytes]:
    """The bytes of the file at ``path``, :data:`CHUNK` at a time (reads in a worker thread)."""
    file = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await anyio.to_thread.run_sync(file.read, CHUNK):
            yield chunk
    finally:
        await anyio.to_thread.run_sync(file.close)


async def store_file(storage: StorageBackend, key: str, path: Path) -> WrittenStream:
    """Write the file at ``path`` as the object at ``key``; its size and SHA-256 as written (nothing is left in
    storage when it fails)."""
    return await write_stream(await storage.open_writer(key), read_file(path))


async def object_digest(storage: StorageBackend, key: str) -> tuple[int, str]:
    """``(size, SHA-256 hex)`` of the object at ``key``, read back from ``storage``.

    Raises:
        FileNotFoundError: no object at ``key``.
    """
    sha256 = hashlib.sha256()
    size = 0
    chunks = storage.read(key, chunk_size=CHUNK)
    try:
        async for chunk in chunks:
            await anyio.to_thread.run_sync(sha256.update, chunk)
            size += len(chunk)
    finally:
        await _aclose(chunks)
    return size, sha256.hexdigest()
