"""FsspecStorage against a real temporary directory and fsspec's memory filesystem."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mediavault.storage import fsspec as fsspec_storage
from mediavault.storage.fsspec import WRITE_BATCH_SIZE, FsspecStorage, validate_key


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["local", "file-url", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FsspecStorage]:
    if request.param == "local":
        yield FsspecStorage(str(tmp_path / "root"))
    elif request.param == "file-url":
        yield FsspecStorage(f"file://{tmp_path / 'root'}")
    else:
        root = f"memory://vault-{uuid.uuid4().hex}"
        backend = FsspecStorage(root)
        yield backend
        if backend.fs.exists(backend.root):
            backend.fs.rm(backend.root, recursive=True)


DATA = bytes(range(256)) * 20  # 5120 bytes, every offset distinguishable


async def _put(storage: FsspecStorage, key: str, data: bytes, chunk: int = 1000) -> None:
    writer = await storage.open_writer(key)
    for i in range(0, len(data), chunk):
        await writer.write(data[i : i + chunk])
    await writer.close()


async def _collect(it: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in it]


def _leftovers(storage: FsspecStorage) -> list[str]:
    """Every file under the root (hidden temporaries included)."""
    if not storage.fs.exists(storage.root):
        return []
    return [p for p in storage.fs.find(storage.root) if storage.fs.isfile(p)]


# --- keys -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["media/owner/uuid", "a", "a/b.c/d", "media/1/..x", "x..y"])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "/",
        "..",
        "../x",
        "media/../../etc/passwd",
        "media/..",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "a\\b",
        "..\\..\\x",
        "a\x00b",
        "a\nb",
        "s3://bucket/x",
    ],
)
@pytest.mark.anyio
async def test_traversal_keys_rejected(storage: FsspecStorage, key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)
    with pytest.raises(ValueError):
        await storage.open_writer(key)
    with pytest.raises(ValueError):
        storage.read(key)
    with pytest.raises(ValueError):
        storage.open_sync(key)
    with pytest.raises(ValueError):
        await storage.delete(key)
    with pytest.raises(ValueError):
        await storage.exists(key)


def test_non_string_key_rejected() -> None:
    with pytest.raises(ValueError):
        validate_key(None)  # type: ignore[arg-type]


def test_root_parsing(tmp_path: Path) -> None:
    assert FsspecStorage(str(tmp_path) + "/").root == str(tmp_path)
    assert FsspecStorage(f"file://{tmp_path}").root == str(tmp_path)
    assert FsspecStorage("memory://vault-x").root == "/vault-x"
    assert FsspecStorage(str(tmp_path)).path_for("media/a/b") == f"{tmp_path}/media/a/b"


# --- write / read -----------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_write_close_read_roundtrip(storage: FsspecStorage) -> None:
    key = "media/owner/one"
    assert not await storage.exists(key)
    await _put(storage, key, DATA)
    assert await storage.exists(key)
    assert b"".join(await _collect(storage.read(key))) == DATA
    assert _leftovers(storage) == [storage.path_for(key)]  # no temporary files left


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
        (100, 9999, 1024),  # end past EOF stops at EOF
        (6000, None, 10),  # start past EOF: nothing
        (50, 50, 10),  # empty range
    ],
)
async def test_read_ranges(storage: FsspecStorage, start: int, end: int | None, chunk_size: int) -> None:
    key = "media/owner/ranges"
    await _put(storage, key, DATA)
    chunks = await _collect(storage.read(key, start, end, chunk_size=chunk_size))
    assert b"".join(chunks) == DATA[start:end]
    assert all(0 < len(c) <= chunk_size for c in chunks)


@pytest.mark.anyio
async def test_read_invalid_arguments(storage: FsspecStorage) -> None:
    for args in [(-1, None, 10), (10, 5, 10), (0, None, 0)]:
        with pytest.raises(ValueError):
            storage.read("media/x", *args[:2], chunk_size=args[2])


@pytest.mark.anyio
async def test_read_missing_raises_file_not_found(storage: FsspecStorage) -> None:
    with pytest.raises(FileNotFoundError):
        await _collect(storage.read("media/owner/missing"))
    with pytest.raises(FileNotFoundError):
        storage.open_sync("media/owner/missing")


@pytest.mark.anyio
async def test_concurrent_readers_do_not_share_position(storage: FsspecStorage) -> None:
    key = "media/owner/conc"
    await _put(storage, key, DATA)
    a = storage.read(key, 0, None, chunk_size=100)
    b = storage.read(key, 1000, None, chunk_size=100)
    got_a, got_b = [], []
    async for chunk in a:
        got_a.append(chunk)
        got_b.append(await b.__anext__())
        if len(got_a) == 5:
            break
    await a.aclose()  # type: ignore[attr-defined]
    await b.aclose()  # type: ignore[attr-defined]
    assert b"".join(got_a) == DATA[:500]
    assert b"".join(got_b) == DATA[1000:1500]


@pytest.mark.anyio
async def test_empty_object(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/empty")
    await writer.write(b"")
    await writer.close()
    assert await storage.exists("media/owner/empty")
    assert await _collect(storage.read("media/owner/empty")) == []


@pytest.mark.anyio
async def test_open_sync_is_seekable(storage: FsspecStorage) -> None:
    await _put(storage, "media/owner/sync", DATA)
    with storage.open_sync("media/owner/sync") as f:
        f.seek(300)
        assert f.read(10) == DATA[300:310]


@pytest.mark.anyio
async def test_overwrite_and_invisible_until_close(storage: FsspecStorage) -> None:
    key = "media/owner/vis"
    writer = await storage.open_writer(key)
    await writer.write(b"partial")
    assert not await storage.exists(key)
    await writer.close()
    await writer.close()  # second close is a no-op
    assert await storage.exists(key)
    await _put(storage, key, b"second")
    assert b"".join(await _collect(storage.read(key))) == b"second"


@pytest.mark.anyio
async def test_large_write_batches(storage: FsspecStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_run = fsspec_storage._run

    async def counting_run(func, *args):  # type: ignore[no-untyped-def]
        if getattr(func, "__name__", "") == "write":
            calls.append(len(args[0]))
        return await real_run(func, *args)

    monkeypatch.setattr(fsspec_storage, "_run", counting_run)
    data = os.urandom(3 * WRITE_BATCH_SIZE + 12345)
    writer = await storage.open_writer("media/owner/big")
    for i in range(0, len(data), 64 * 1024):
        await writer.write(data[i : i + 64 * 1024])
    await writer.close()
    assert calls and all(n >= WRITE_BATCH_SIZE for n in calls)  # batched, not one thread hop per 64 KiB
    assert len(calls) == 3
    assert b"".join(await _collect(storage.read("media/owner/big"))) == data


# --- abort / delete -----------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_abort_leaves_nothing(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/aborted")
    await writer.write(os.urandom(WRITE_BATCH_SIZE + 10))  # one batch on disk, the rest buffered
    await writer.abort()
    await writer.abort()  # idempotent
    assert not await storage.exists("media/owner/aborted")
    assert _leftovers(storage) == []
    with pytest.raises(RuntimeError):
        await writer.write(b"more")
    with pytest.raises(RuntimeError):
        await writer.close()


@pytest.mark.anyio
async def test_abort_after_close_keeps_object(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/kept")
    await writer.write(b"abc")
    await writer.close()
    await writer.abort()
    assert await storage.exists("media/owner/kept")


@pytest.mark.anyio
async def test_abort_after_failed_write(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/failing")

    class Boom:
        def write(self, data: bytes) -> None:
            raise OSError("disk full")

        def close(self) -> None:
            raise OSError("still broken")

    real = writer._file
    writer._file = Boom()  # type: ignore[assignment]
    with pytest.raises(OSError, match="disk full"):
        await writer.write(b"x" * WRITE_BATCH_SIZE)
    with pytest.raises(RuntimeError):
        await writer.write(b"x")
    real.close()  # type: ignore[union-attr]
    await writer.abort()
    await writer.abort()
    assert _leftovers(storage) == []


@pytest.mark.anyio
async def test_failed_close_cleans_up(storage: FsspecStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = await storage.open_writer("media/owner/badclose")
    await writer.write(b"data")

    def broken_commit(tail: bytes) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(writer, "_commit_sync", broken_commit)
    with pytest.raises(OSError, match="rename failed"):
        await writer.close()
    assert not await storage.exists("media/owner/badclose")
    assert _leftovers(storage) == []


@pytest.mark.anyio
async def test_delete(storage: FsspecStorage) -> None:
    await _put(storage, "media/owner/del", b"abc")
    await storage.delete("media/owner/del")
    assert not await storage.exists("media/owner/del")
    await storage.delete("media/owner/del")  # missing: fine
    await storage.delete("media/nobody/never")


# --- readers close their file ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_early_stopped_reader_closes_file(storage: FsspecStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    await _put(storage, "media/owner/early", DATA)
    opened = []
    real_open = storage._open_read_sync

    def spy(path: str):  # type: ignore[no-untyped-def]
        f = real_open(path)
        opened.append(f)
        return f

    monkeypatch.setattr(storage, "_open_read_sync", spy)

    reader = storage.read("media/owner/early", 0, None, chunk_size=10)
    async for _ in reader:
        break
    assert len(opened) == 1 and not opened[0].closed
    await reader.aclose()  # type: ignore[attr-defined]
    assert opened[0].closed

    # Fully consumed readers close too.
    await _collect(storage.read("media/owner/early", 0, 100, chunk_size=10))
    assert len(opened) == 2 and opened[1].closed


@pytest.mark.anyio
async def test_cancelled_reader_closes_file(storage: FsspecStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    await _put(storage, "media/owner/cancel", DATA)
    opened = []
    real_open = storage._open_read_sync

    def spy(path: str):  # type: ignore[no-untyped-def]
        f = real_open(path)
        opened.append(f)
        return f

    monkeypatch.setattr(storage, "_open_read_sync", spy)

    async def consume() -> None:
        async for _ in storage.read("media/owner/cancel", 0, None, chunk_size=1):
            await anyio.sleep(0.01)

    with anyio.move_on_after(0.05):
        await consume()
    # A cancelled ``async for`` does not close its generator; asyncio's async-generator finalizer does, once the
    # generator is unreferenced, by running ``aclose()`` (and so the ``finally`` that closes the file) in a task.
    assert len(opened) == 1
    for _ in range(100):
        if opened[0].closed:
            break
        await anyio.sleep(0.01)
    assert opened[0].closed


# --- check --------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_check_creates_local_root(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    backend = FsspecStorage(str(root))
    await backend.check()
    assert root.is_dir()


@pytest.mark.anyio
async def test_root_created_on_first_write(tmp_path: Path) -> None:
    root = tmp_path / "lazy"
    backend = FsspecStorage(f"file://{root}")
    assert not root.exists()
    await _put(backend, "media/o/k", b"x")
    assert (root / "media" / "o" / "k").read_bytes() == b"x"


@pytest.mark.anyio
async def test_check_memory(storage: FsspecStorage) -> None:
    await storage.check()


@pytest.mark.anyio
async def test_check_fails_when_root_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError):
        await FsspecStorage(str(blocker)).check()
