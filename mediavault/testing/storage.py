"""The :class:`~mediavault.storage.base.StorageBackend` contract as a test suite: subclass
:class:`StorageBackendContract`, override its ``storage`` fixture, and pytest runs every check on your backend.

The built-in backends (fsspec on local files and memory, S3), the encrypted-storage plugin and the storage-plugin
guide's example all run this same suite (docs/testing.md). Each check is one rule of docs/storage-plugins.md.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from mediavault.storage.base import StorageBackend, write_stream

__all__ = ("DATA", "ESCAPING_KEYS", "StorageBackendContract", "collect", "put")

DATA = bytes(range(256)) * 20
"""5120 bytes in which every offset is distinguishable."""

ESCAPING_KEYS = (
    *("", "/etc/passwd", "/", "..", "../x", "media/../../etc/passwd", "media/..", "./a", "a/./b", "a//b", "a/"),
    *("a\\b", "..\\..\\x", "a\x00b", "a\nb", "s3://bucket/x"),
)
"""Keys a backend must refuse with ``ValueError``: absolute, traversing, empty segments, backslashes, control
characters, URLs. The vault makes its own keys (``media/<owner id>/<uuid>``); refusing the rest is defence in depth."""


async def put(storage: StorageBackend, key: str, data: bytes, chunk: int = 1000) -> None:
    """Write ``data`` at ``key`` in ``chunk``-byte writes, then commit."""
    writer = await storage.open_writer(key)
    for i in range(0, len(data), chunk):
        await writer.write(data[i : i + chunk])
    await writer.close()


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    """Every chunk of ``chunks``, in order."""
    return [chunk async for chunk in chunks]


class StorageBackendContract:
    """What every storage backend must do (docs/storage-plugins.md, "The contract").

    Subclass it as ``Test...`` and override the ``storage`` fixture to build your backend (it may use any fixture:
    ``tmp_path``, a server, parameters)::

        class TestMyStorage(StorageBackendContract):
            @pytest.fixture
            def storage(self, tmp_path):
                return MyStorage(tmp_path)

    :attr:`large_size` sets the size of the many-chunk object (make it cross your backend's part or chunk size).
    """

    large_size = 1024 * 1024 + 12345
    """Bytes of the object written in 64 KiB pieces by :meth:`test_large_object_round_trip`."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def storage(self) -> StorageBackend:
        """The backend under test, empty. Override it."""
        raise NotImplementedError("override the `storage` fixture to build the backend under test")

    # --- writes ---------------------------------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_write_close_read_round_trip(self, storage: StorageBackend) -> None:
        assert not await storage.exists("media/owner/one")
        await put(storage, "media/owner/one", DATA)
        assert await storage.exists("media/owner/one")
        assert b"".join(await collect(storage.read("media/owner/one"))) == DATA

    @pytest.mark.anyio
    async def test_large_object_round_trip(self, storage: StorageBackend) -> None:
        data = os.urandom(self.large_size)
        await put(storage, "media/owner/large", data, chunk=64 * 1024)
        assert b"".join(await collect(storage.read("media/owner/large"))) == data
        middle = self.large_size // 2
        assert (
            b"".join(await collect(storage.read("media/owner/large", middle - 5, middle + 70_000)))
            == data[middle - 5 : middle + 70_000]
        )

    @pytest.mark.anyio
    async def test_empty_object(self, storage: StorageBackend) -> None:
        writer = await storage.open_writer("media/owner/empty")
        await writer.write(b"")
        await writer.close()
        assert await storage.exists("media/owner/empty")
        assert await collect(storage.read("media/owner/empty")) == []

    @pytest.mark.anyio
    async def test_invisible_until_close_and_overwritten_by_a_new_object(self, storage: StorageBackend) -> None:
        writer = await storage.open_writer("media/owner/vis")
        await writer.write(b"partial")
        assert not await storage.exists("media/owner/vis")
        await writer.close()
        await writer.close()  # a second close is a no-op
        assert await storage.exists("media/owner/vis")
        await put(storage, "media/owner/vis", b"second")
        assert b"".join(await collect(storage.read("media/owner/vis"))) == b"second"

    @pytest.mark.anyio
    async def test_abort_leaves_nothing(self, storage: StorageBackend) -> None:
        writer = await storage.open_writer("media/owner/aborted")
        await writer.write(os.urandom(self.large_size))
        await writer.abort()
        await writer.abort()  # idempotent
        assert not await storage.exists("media/owner/aborted")
        with pytest.raises(RuntimeError):
            await writer.write(b"more")
        with pytest.raises(RuntimeError):
            await writer.close()

    @pytest.mark.anyio
    async def test_abort_after_close_keeps_the_object(self, storage: StorageBackend) -> None:
        writer = await storage.open_writer("media/owner/kept")
        await writer.write(b"abc")
        await writer.close()
        await writer.abort()
        assert b"".join(await collect(storage.read("media/owner/kept"))) == b"abc"

    @pytest.mark.anyio
    async def test_a_failed_upload_stream_leaves_nothing(self, storage: StorageBackend) -> None:
        async def cut_short() -> AsyncIterator[bytes]:  # a client that goes away mid-upload
            yield DATA
            yield DATA
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            await write_stream(await storage.open_writer("media/owner/cut"), cut_short())
        assert not await storage.exists("media/owner/cut")

    # --- reads ----------------------------------------------------------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("start", "end", "chunk_size"),
        [
            (0, None, 256 * 1024),
            (0, None, 1000),
            (10, 20, 4),
            (0, 1, 1),
            (5119, None, 7),
            (100, 5120, 333),
            (100, 9999, 1024),  # end past the end stops at the end
            (6000, None, 10),  # start past the end: nothing
            (50, 50, 10),  # empty range
        ],
    )
    async def test_read_ranges(self, storage: StorageBackend, start: int, end: int | None, chunk_size: int) -> None:
        await put(storage, "media/owner/ranges", DATA)
        chunks = await collect(storage.read("media/owner/ranges", start, end, chunk_size=chunk_size))
        assert b"".join(chunks) == DATA[start:end]
        assert all(0 < len(c) <= chunk_size for c in chunks)

    @pytest.mark.anyio
    async def test_read_invalid_arguments(self, storage: StorageBackend) -> None:
        for start, end, chunk_size in [(-1, None, 10), (10, 5, 10), (0, None, 0)]:
            with pytest.raises(ValueError):
                storage.read("media/x", start, end, chunk_size=chunk_size)

    @pytest.mark.anyio
    @pytest.mark.parametrize("key", ESCAPING_KEYS)
    async def test_keys_that_escape_are_refused(self, storage: StorageBackend, key: str) -> None:
        with pytest.raises(ValueError):
            await storage.open_writer(key)
        with pytest.raises(ValueError):
            await collect(storage.read(key))
        with pytest.raises(ValueError):
            storage.open_sync(key)
        with pytest.raises(ValueError):
            await storage.delete(key)
        with pytest.raises(ValueError):
            await storage.exists(key)

    @pytest.mark.anyio
    async def test_missing_object(self, storage: StorageBackend) -> None:
        with pytest.raises(FileNotFoundError):
            await collect(storage.read("media/owner/missing"))
        with pytest.raises(FileNotFoundError):
            storage.open_sync("media/owner/missing")
        assert not await storage.exists("media/owner/missing")

    @pytest.mark.anyio
    async def test_concurrent_readers_do_not_share_a_position(self, storage: StorageBackend) -> None:
        await put(storage, "media/owner/conc", DATA)
        a = storage.read("media/owner/conc", 0, None, chunk_size=100)
        b = storage.read("media/owner/conc", 1000, None, chunk_size=100)
        got_a, got_b = [], []
        async for chunk in a:
            got_a.append(chunk)
            got_b.append(await anext(b))
            if len(b"".join(got_a)) >= 500:
                break
        await a.aclose()  # type: ignore[attr-defined]
        await b.aclose()  # type: ignore[attr-defined]
        assert b"".join(got_a) == DATA[: len(b"".join(got_a))]
        assert b"".join(got_b) == DATA[1000 : 1000 + len(b"".join(got_b))]

    @pytest.mark.anyio
    async def test_a_reader_stopped_early_leaves_the_backend_usable(self, storage: StorageBackend) -> None:
        data = os.urandom(2 * 1024 * 1024)  # more than one network read or buffer
        await put(storage, "media/owner/early", data, chunk=64 * 1024)
        reader = storage.read("media/owner/early", chunk_size=1000)
        assert await anext(reader) == data[:1000]
        await reader.aclose()  # type: ignore[attr-defined]
        # Whatever it held (a file, a connection) is released, not reused half-read: the next read is right.
        assert b"".join(await collect(storage.read("media/owner/early", 5, 10))) == data[5:10]

    @pytest.mark.anyio
    async def test_open_sync_is_seekable(self, storage: StorageBackend) -> None:
        await put(storage, "media/owner/sync", DATA)
        with storage.open_sync("media/owner/sync") as f:
            f.seek(300)
            assert f.read(10) == DATA[300:310]
            assert f.tell() == 310
            f.seek(0)
            assert f.read() == DATA

    # --- delete, health -------------------------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_delete(self, storage: StorageBackend) -> None:
        await put(storage, "media/owner/del", b"abc")
        await storage.delete("media/owner/del")
        assert not await storage.exists("media/owner/del")
        with pytest.raises(FileNotFoundError):
            await collect(storage.read("media/owner/del"))
        await storage.delete("media/owner/del")  # missing: not an error
        await storage.delete("media/nobody/never")

    @pytest.mark.anyio
    async def test_check(self, storage: StorageBackend) -> None:
        await storage.check()
