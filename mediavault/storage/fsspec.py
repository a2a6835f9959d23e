"""A :class:`~mediavault.storage.base.StorageBackend` over any `fsspec <https://filesystem-spec.readthedocs.io>`_
filesystem.

The backend is built from a URL (``file:///srv/media``, a plain path, ``memory://vault``, ``s3://bucket/prefix``
...) through :func:`fsspec.core.url_to_fs`; a protocol that fsspec (or an installed fsspec implementation such as
``s3fs``) knows works without new code here.

Every blocking filesystem call runs in a worker thread (:func:`anyio.to_thread.run_sync`), never on the event loop.

Keys are relative, ``/``-separated paths under the root (``"media/<owner id>/<uuid>"``). They are server-generated,
but every key is still validated (:func:`validate_key`) as defence in depth against path traversal.

Writes are made invisible until :meth:`FsspecWriter.close`: on filesystems where a rename is cheap and atomic
(local disk, memory) bytes go to a hidden sibling ``<name>.part-<hex>`` renamed onto the key on close; on object
stores (S3, GCS, ...) the object only appears when the upload completes on close anyway.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import IO, Any

import anyio
import anyio.to_thread
from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

from mediavault.storage.base import PartialObject, StorageBackend, StorageWriter, StoredObject

__all__ = ("WRITE_BATCH_SIZE", "FsspecStorage", "FsspecWriter", "validate_key", "validate_read_range")

WRITE_BATCH_SIZE = 1024 * 1024
"""Bytes buffered by :class:`FsspecWriter` before one batch is written in a worker thread (1 MiB)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEMPORARY = re.compile(r"\.part-[0-9a-f]{32}$")
"""The suffix of a writer's hidden temporary file (``<name>.part-<uuid4 hex>``)."""


def validate_read_range(start: int, end: int | None, chunk_size: int) -> None:
    """Check the arguments of :meth:`~mediavault.storage.base.StorageBackend.read`.

    Raises:
        ValueError: ``start < 0``, ``end < start`` or ``chunk_size <= 0``.
    """
    if start < 0 or (end is not None and end < start) or chunk_size <= 0:
        raise ValueError(f"invalid read range start={start} end={end} chunk_size={chunk_size}")


def validate_key(key: str) -> str:
    """Check that ``key`` is a safe relative storage key and return it unchanged.

    A valid key is a non-empty ``/``-separated relative path whose segments are all non-empty, none ``"."`` or
    ``".."``, with no backslash and no control character (NUL, CR, LF, ...).

    Args:
        key: A storage key such as ``"media/<owner id>/<uuid>"``.

    Returns:
        ``key``.

    Raises:
        ValueError: ``key`` is not a string, empty, absolute (leading ``/``), contains a backslash, a control
            character, an empty segment (``a//b``, trailing ``/``) or a ``.``/``..`` segment.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"storage key must be relative: {key!r}")
    if "\\" in key:
        raise ValueError(f"storage key must not contain backslashes: {key!r}")
    if _CONTROL.search(key):
        raise ValueError(f"storage key must not contain control characters: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"storage key has an empty, '.' or '..' segment: {key!r}")
    return key


async def _run(func: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(partial(func, *args))


class FsspecWriter(StorageWriter):
    """Writer returned by :meth:`FsspecStorage.open_writer`.

    Data passed to :meth:`write` is buffered and handed to a worker thread in batches of at least
    :data:`WRITE_BATCH_SIZE` bytes (the first one also creates the file). Finish with exactly one of :meth:`close`
    (commit) or :meth:`abort` (discard). :meth:`abort` is idempotent, safe after a failed :meth:`write` or
    :meth:`close`, and a no-op after a successful :meth:`close` (deleting a committed object is
    :meth:`FsspecStorage.delete`'s job).
    """

    def __init__(self, storage: FsspecStorage, key: str, path: str, write_path: str) -> None:
        self.key = key
        self._storage = storage
        self._path = path
        self._write_path = write_path
        self._file: IO[bytes] | None = (
            None  # created by the first batch, or by close(): one thread call for a small file
        )
        self._touched = False  # a worker-thread call may have created the file
        self._buffer = bytearray()
        self._state = "open"  # open -> closed | aborted; "failed" after an error in write/close

    async def write(self, data: bytes) -> None:
        """Append ``data`` (any length, may be empty).

        Raises:
            RuntimeError: the writer is already closed, aborted or failed.
            OSError: the underlying filesystem write failed (the writer is then ``failed``; call :meth:`abort`).
        """
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        if not self._buffer and len(data) >= WRITE_BATCH_SIZE:
            batch = data  # a full batch already: write it as is, without copying
        else:
            self._buffer += data
            if len(self._buffer) < WRITE_BATCH_SIZE:
                return
            batch = bytes(self._buffer)
            self._buffer.clear()
        self._touched = True
        try:
            await _run(self._file.write if self._file is not None else self._open_and_write, batch)
        except BaseException:
            self._state = "failed"
            raise

    def _open_sync(self) -> IO[bytes]:
        if self._file is None:
            self._file = self._storage._open_write_sync(self._path, self._write_path)
        return self._file

    def _open_and_write(self, batch: bytes) -> None:
        self._open_sync().write(batch)

    def _commit_sync(self, tail: bytes) -> None:
        self._open_sync()
        assert self._file is not None
        if tail:
            self._file.write(tail)
        file, self._file = self._file, None
        file.close()
        if self._write_path != self._path:
            self._storage._rename_sync(self._write_path, self._path)

    async def close(self) -> None:
        """Flush the buffer, close the file and make the object visible under its key.

        A second call after success is a no-op. On failure the partial data is removed before re-raising.

        Raises:
            RuntimeError: the writer was aborted or had failed.
            OSError: flushing, closing or renaming failed.
        """
        if self._state == "closed":
            return
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        tail = bytes(self._buffer)
        self._buffer.clear()
        self._touched = True
        try:
            with anyio.CancelScope(shield=True):
                await _run(self._commit_sync, tail)
        except BaseException:
            self._state = "failed"
            with anyio.CancelScope(shield=True):
                await self.abort()
            raise
        self._state = "closed"

    def _discard_sync(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(Exception):  # best effort: the file is being thrown away
                file.close()
        # Only what this writer created goes: the hidden temporary file, or the target when written directly.
        with contextlib.suppress(FileNotFoundError):
            self._storage.fs.rm_file(self._write_path)

    async def abort(self) -> None:
        """Discard everything written; nothing remains under the key. Never raises for a missing file."""
        if self._state in ("closed", "aborted"):
            return
        self._buffer.clear()
        self._state = "aborted"
        if not self._touched:
            return  # nothing was created
        with anyio.CancelScope(shield=True):
            await _run(self._discard_sync)


class FsspecStorage(StorageBackend):
    """Media bytes on any fsspec filesystem, rooted at the path of ``url``.

    Args:
        url: Root location: a plain path (``/srv/media``, ``./media``), ``file:///srv/media``, ``memory://vault``,
            ``s3://bucket/prefix`` (needs ``s3fs``) ...
        **storage_options: Passed to the fsspec filesystem (credentials, endpoint URL, ...).

    Attributes:
        fs: The fsspec filesystem.
        root: The root path inside ``fs`` (no trailing ``/``).

    Note:
        ``memory://`` filesystems share one process-wide store in fsspec; two vaults using ``memory://`` should use
        different root paths (``memory://vault-a``, ``memory://vault-b``).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        fs, root = url_to_fs(url, **storage_options)
        self.url = url
        self.fs: AbstractFileSystem = fs
        self.root: str = root.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)
        # Where a rename is cheap and atomic, write to a hidden sibling and rename on close.
        self._rename_on_close = isinstance(fs, (LocalFileSystem, MemoryFileSystem))
        self.leaves_temporary_files = self._rename_on_close
        self._root_ready = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def path_for(self, key: str) -> str:
        """Return the filesystem path of ``key`` (root joined with the validated key).

        Raises:
            ValueError: ``key`` is not a valid key (see :func:`validate_key`).
        """
        validate_key(key)
        return f"{self.root}/{key}" if self.root else key

    def _ensure_root_sync(self) -> None:
        if not self._root_ready:
            if self._local and self.root:
                self.fs.makedirs(self.root, exist_ok=True)
            self._root_ready = True

    def _open_write_sync(self, path: str, write_path: str) -> IO[bytes]:
        self._ensure_root_sync()
        if self._local:  # the OS's calls: fsspec's open, makedirs and mv measured ~4x as many instructions
            try:
                return open(write_path, "wb")
            except FileNotFoundError:  # the key's folder does not exist yet
                os.makedirs(os.path.dirname(path), exist_ok=True)
                return open(write_path, "wb")
        if self._rename_on_close:
            self.fs.makedirs(self.fs._parent(path), exist_ok=True)
        return self.fs.open(write_path, "wb")

    def _rename_sync(self, source: str, target: str) -> None:
        if self._local:
            os.replace(source, target)
        else:
            self.fs.mv(source, target)

    async def open_writer(self, key: str) -> FsspecWriter:
        """Start writing a new object at ``key``; it becomes visible only after :meth:`FsspecWriter.close`.

        Nothing is touched yet: the file is created by the first batch written or, for an object smaller than a
        batch, by :meth:`FsspecWriter.close`, in the same worker-thread call (each call costs ~270,000 instructions,
        more than the writing of a small file). A file that cannot be created fails that write or close (``OSError``).

        Raises:
            ValueError: invalid key.
        """
        path = self.path_for(key)
        write_path = f"{path}.part-{uuid.uuid4().hex}" if self._rename_on_close else path
        return FsspecWriter(self, key, path, write_path)

    def _open_read_sync(self, path: str) -> IO[bytes]:
        file = self.fs.open(path, "rb")
        if isinstance(file, MemoryFile):
            # fsspec's memory filesystem hands out the stored BytesIO itself, so concurrent readers would share
            # one file position; give each reader its own (copy-on-write) view instead.
            return io.BytesIO(file.getvalue())
        return file

    def _open_at_sync(self, path: str, start: int) -> IO[bytes]:
        file = self._open_read_sync(path)
        if start:
            try:
                file.seek(start)
            except BaseException:
                file.close()
                raise
        return file

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of the object at ``key`` in chunks of at most ``chunk_size`` bytes.

        The file is opened once (in a worker thread, on first iteration), each chunk is read in a worker thread,
        and the file is closed when iteration ends, fails, or the consumer stops early (``aclose()``/cancellation).
        ``end`` past the end of the object stops at the end.

        Args:
            key: Storage key.
            start: First byte offset, ``>= 0``.
            end: Exclusive end offset, ``>= start``; ``None`` reads to the end.
            chunk_size: Maximum bytes per yielded chunk, ``> 0``.

        Raises:
            ValueError: invalid key or offsets (raised immediately, before iteration).
            FileNotFoundError: no object at ``key`` (raised on first iteration).
        """
        path = self.path_for(key)
        validate_read_range(start, end, chunk_size)
        return self._read(path, start, end, chunk_size)

    async def _read(self, path: str, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
        if end == start:
            return
        file = await _run(self._open_at_sync, path, start)
        try:
            pos = start
            while end is None or pos < end:
                size = chunk_size if end is None else min(chunk_size, end - pos)
                data = await _run(file.read, size)
                if not data:
                    break
                pos += len(data)
                yield data
        finally:
            with anyio.CancelScope(shield=True):
                await _run(file.close)

    def _read_bytes_sync(self, path: str, start: int, end: int) -> bytes:
        with open(path, "rb") as file:  # a plain local file, without fsspec's wrapper
            if start:
                file.seek(start)
            return file.read(end - start)

    async def read_bytes(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object at once: on local disk opened, read and closed in one worker-thread
        call (streaming them costs one call per step); elsewhere joined from :meth:`read`.

        Raises:
            ValueError: invalid key or offsets.
            FileNotFoundError: no object at ``key``.
        """
        if not self._local:
            return await super().read_bytes(key, start, end)
        path = self.path_for(key)
        validate_read_range(start, end, 1)
        return await _run(self._read_bytes_sync, path, start, end)  # type: ignore[no-any-return]

    def open_sync(self, key: str) -> IO[bytes]:
        """Open the object for blocking, seekable reads. Only call from a worker thread.

        Raises:
            ValueError: invalid key.
            FileNotFoundError: no object at ``key``.
        """
        return self._open_read_sync(self.path_for(key))

    def _delete_sync(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    async def delete(self, key: str) -> None:
        """Remove the object at ``key``; a missing object is not an error.

        Raises:
            ValueError: invalid key.
        """
        await _run(self._delete_sync, self.path_for(key))

    def _remove_tree_sync(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)

    async def discard_partial(self, partial: PartialObject) -> None:
        """Remove everything under ``partial.pieces``: its segments, recorded or not, and a killed writer's
        temporary file.

        Raises:
            ValueError: invalid ``pieces``.
        """
        await _run(self._remove_tree_sync, self.path_for(partial.pieces))

    async def exists(self, key: str) -> bool:
        """Whether an object (a file, not a directory) is stored at ``key``.

        Raises:
            ValueError: invalid key.
        """
        return bool(await _run(self.fs.isfile, self.path_for(key)))

    def _check_sync(self) -> None:
        fs, root = self.fs, self.root
        if self._local or isinstance(fs, MemoryFileSystem):
            if root:
                fs.makedirs(root, exist_ok=True)
            self._root_ready = True
            if root and not fs.isdir(root):
                raise OSError(f"storage root is not a directory: {self.url}")
            if self._local and not os.access(root or "/", os.W_OK | os.X_OK):
                raise PermissionError(f"storage root is not writable: {self.url}")
            return
        # Object stores: the prefix may not exist before the first write, but its bucket must.
        if root and not fs.exists(root):
            bucket = root.split("/", 1)[0]
            if not fs.exists(bucket):
                raise FileNotFoundError(f"storage root does not exist: {self.url}")
        elif not root:
            fs.ls("", detail=False)

    def _modified(self, info: dict[str, Any]) -> float:
        for field in ("mtime", "LastModified", "created"):  # local, s3fs and other object stores, memory
            value = info.get(field)
            if value is not None:
                return float(value.timestamp() if hasattr(value, "timestamp") else value)
        return 0.0

    def _scan_sync(self) -> list[StoredObject]:
        self._ensure_root_sync()
        if self.root and not self.fs.exists(self.root):
            return []
        found = []
        prefix = f"{self.root}/" if self.root else ""
        for path, info in self.fs.find(self.root, detail=True).items():
            name = path[len(prefix) :] if path.startswith(prefix) else path
            found.append(
                StoredObject(
                    key=name,
                    size=int(info.get("size") or 0),
                    modified=self._modified(info),
                    temporary=bool(_TEMPORARY.search(name)),
                )
            )
        return found

    async def scan(self) -> list[StoredObject]:
        """Every file under the root, the hidden temporary files of writers (``.part-<hex>``) marked ``temporary``."""
        return list(await _run(self._scan_sync))

    async def remove_temporary(self, key: str) -> None:
        """Remove the temporary file at ``key`` (a path :meth:`scan` marked ``temporary``); missing is fine.

        Raises:
            ValueError: ``key`` is not a temporary file's name.
        """
        if not _TEMPORARY.search(key):
            raise ValueError(f"not a temporary file: {key!r}")
        await _run(self._delete_sync, self.path_for(key))

    async def free_space(self) -> int | None:
        """Bytes free to unprivileged writers on the local root's filesystem (``statvfs``); ``None`` elsewhere."""
        if not self._local:
            return None
        stats = os.statvfs(self.root or "/")
        return stats.f_bavail * stats.f_frsize

    async def check(self) -> None:
        """Health probe: create the local root if needed and verify it is usable.

        Raises:
            OSError: the root (or, for object stores, its bucket) is missing, not a directory, or not writable; or
                any error the filesystem raises while checking.
        """
        if self._local or isinstance(self.fs, MemoryFileSystem):
            # A few metadata syscalls on a local path (or dictionary look-ups): microseconds, far cheaper than the
            # worker-thread round trip a probe would otherwise pay each time. Object stores go over the network.
            self._check_sync()
            return
        await _run(self._check_sync)
