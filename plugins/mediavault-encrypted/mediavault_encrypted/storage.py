"""A :class:`~mediavault.StorageBackend` that encrypts at rest on top of another backend (any fsspec URL).

Bytes are encrypted on the way in and decrypted on the way out (format: :mod:`mediavault_encrypted.format`);
the wrapped backend only ever sees ciphertext and keeps doing what it is good at: atomic commits, ranges of
stored bytes, deletion, health checks. Encryption and decryption run in worker threads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import IO, Any, cast

import anyio
import anyio.to_thread

from mediavault.storage.base import StorageBackend, StorageWriter
from mediavault.storage.fsspec import validate_key, validate_read_range
from mediavault_encrypted.format import DEFAULT_CHUNK_SIZE, DecryptingReader, Keyring, ObjectCipher, check_chunk_size

__all__ = ("EncryptedStorage", "EncryptedWriter")


async def _run(func: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(partial(func, *args))


class EncryptedWriter(StorageWriter):
    """Encrypts an object chunk by chunk into a writer of the wrapped backend.

    Holds at most one chunk plus the data of the current :meth:`write` call; full chunks are sealed in a
    worker thread and passed on. The last chunk (sealed as final) is only written by :meth:`close`, so an
    object cut short can never authenticate. Commit and abort semantics are the wrapped writer's: the object
    appears on :meth:`close` and :meth:`abort` leaves nothing behind.
    """

    def __init__(self, inner: StorageWriter, cipher: ObjectCipher) -> None:
        self.key = inner.key
        self._inner = inner
        self._cipher = cipher
        self._pending = bytearray()
        self._index = 0
        self._state = "open"  # open -> closed | aborted; "failed" after an error in write/close

    def _seal_full_chunks(self, block: bytearray) -> bytes:
        size = self._cipher.chunk_size
        view = memoryview(block)
        sealed = []
        for offset in range(0, len(block), size):
            sealed.append(self._cipher.seal(self._index, False, view[offset : offset + size]))
            self._index += 1
        return b"".join(sealed)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (any length, may be empty).

        Raises:
            RuntimeError: the writer is already closed, aborted or failed.
            OSError: the wrapped writer failed (the writer is then ``failed``; call :meth:`abort`).
        """
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        self._pending += data
        size = self._cipher.chunk_size
        if len(self._pending) <= size:
            return
        full = (len(self._pending) - 1) // size * size  # keep >= 1 byte: the final chunk is sealed by close()
        block = self._pending[:full]
        del self._pending[:full]
        try:
            await self._inner.write(await _run(self._seal_full_chunks, block))
        except BaseException:
            self._state = "failed"
            raise

    async def close(self) -> None:
        """Seal the final chunk and commit the object. A second call after success is a no-op.

        Raises:
            RuntimeError: the writer was aborted or had failed.
            OSError: the wrapped writer failed to write or commit (nothing is left behind).
        """
        if self._state == "closed":
            return
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        final = await _run(self._cipher.seal, self._index, True, bytes(self._pending))  # up to 16 MiB: not on the loop
        self._pending.clear()
        try:
            await self._inner.write(final)
            await self._inner.close()
        except BaseException:
            self._state = "failed"
            with anyio.CancelScope(shield=True):
                await self._inner.abort()
            raise
        self._state = "closed"

    async def abort(self) -> None:
        """Discard the object; idempotent, and a no-op after a successful :meth:`close`."""
        if self._state in ("closed", "aborted"):
            return
        self._state = "aborted"
        self._pending.clear()
        with anyio.CancelScope(shield=True):
            await self._inner.abort()


class EncryptedStorage(StorageBackend):
    """Media bytes encrypted with AES-256-GCM (chunked, per-object keys) inside another backend.

    Args:
        inner: Where the ciphertext goes, e.g. ``FsspecStorage("file:///srv/media")`` or an ``s3://`` one.
            It must be used through this wrapper only: objects written around it are not readable through it.
        keyring: The master keys (the first encrypts).
        chunk_size: Plaintext bytes per chunk of new objects (1 KiB..16 MiB, default 64 KiB). Stored objects
            carry their own, so it can change at any time.

    Raises:
        ValueError: ``chunk_size`` out of range.

    Stored size is the plaintext size + 48 bytes + 16 bytes per started chunk (0.02 % at 64 KiB).
    """

    def __init__(self, inner: StorageBackend, keyring: Keyring, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.inner = inner
        self.keyring = keyring
        self.chunk_size = check_chunk_size(chunk_size)  # now, not at the first upload

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r}, {self.keyring!r})"

    async def open_writer(self, key: str) -> EncryptedWriter:
        """Start a new encrypted object at ``key``; it appears only after :meth:`EncryptedWriter.close`.

        Raises:
            ValueError: invalid key.
            OSError: the wrapped backend could not start the object.
        """
        cipher = ObjectCipher.new(self.keyring, validate_key(key), self.chunk_size)
        inner = await self.inner.open_writer(key)
        writer = EncryptedWriter(inner, cipher)
        try:
            await inner.write(cipher.header)
        except BaseException:
            await writer.abort()
            raise
        return writer

    def open_sync(self, key: str) -> IO[bytes]:
        """Open the object for blocking, seekable plaintext reads (a :class:`DecryptingReader`). Only call from a
        worker thread.

        Raises:
            ValueError: invalid key.
            FileNotFoundError: no object at ``key``.
            DecryptionError: the stored object is not a complete encrypted object for ``key``.
            UnknownKeyError: it was written with a key that is not configured.
        """
        return cast(IO[bytes], self._open_reader(key))

    def _open_reader(self, key: str) -> DecryptingReader:
        raw = self.inner.open_sync(validate_key(key))
        try:
            return DecryptingReader(raw, self.keyring, key)
        except BaseException:
            raw.close()
            raise

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Stream plaintext bytes ``[start, end)``, decrypting only the chunks that hold them.

        Raises:
            ValueError: invalid key or offsets (immediately).
            FileNotFoundError, DecryptionError, UnknownKeyError: as :meth:`open_sync` (on first iteration);
                :class:`DecryptionError` also for a chunk that fails authentication later on: the stream
                stops with an error rather than yield a wrong byte.
        """
        validate_key(key)
        validate_read_range(start, end, chunk_size)
        return self._read(key, start, end, chunk_size)

    async def _read(self, key: str, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
        if end == start:
            return
        reader: DecryptingReader = await _run(self._open_reader, key)
        try:
            reader.seek(start)
            stop = reader.size if end is None else min(end, reader.size)
            while (remaining := stop - reader.tell()) > 0:
                data = await _run(reader.read, min(chunk_size, remaining))
                if not data:
                    break
                yield data
        finally:
            with anyio.CancelScope(shield=True):
                await _run(reader.close)

    async def delete(self, key: str) -> None:
        """Remove the object at ``key``; a missing object is not an error."""
        await self.inner.delete(key)

    async def exists(self, key: str) -> bool:
        """Whether an object is stored at ``key``."""
        return await self.inner.exists(key)

    async def check(self) -> None:
        """The wrapped backend's health probe."""
        await self.inner.check()
