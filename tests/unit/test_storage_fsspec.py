"""FsspecStorage against a real temporary directory and fsspec's memory filesystem: the storage contract
(:class:`mediavault.testing.storage.StorageBackendContract`), then what is particular to this backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediavault.storage import fsspec as fsspec_storage
from mediavault.storage.fsspec import WRITE_BATCH_SIZE, FsspecStorage, validate_key
from mediavault.testing.storage import DATA, ESCAPING_KEYS, StorageBackendContract
from mediavault.testing.storage import collect as _collect
from mediavault.testing.storage import put as _put


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


class TestFsspecStorageContract(StorageBackendContract):
    """The whole contract on each of the three roots above."""

    @pytest.fixture
    def storage(self, storage: FsspecStorage) -> FsspecStorage:  # the module's parametrised fixture
        return storage


def _leftovers(storage: FsspecStorage) -> list[str]:
    """Every file under the root (hidden temporaries included)."""
    if not storage.fs.exists(storage.root):
        return []
    return [p for p in storage.fs.find(storage.root) if storage.fs.isfile(p)]


# --- keys -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["media/owner/uuid", "a", "a/b.c/d", "media/1/..x", "x..y"])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ESCAPING_KEYS)
def test_traversal_keys_rejected(key: str) -> None:  # the backend's methods refuse them: the contract
    with pytest.raises(ValueError):
        validate_key(key)


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
async def test_no_temporary_file_left_after_close(storage: FsspecStorage) -> None:
    await _put(storage, "media/owner/one", DATA)
    assert _leftovers(storage) == [storage.path_for("media/owner/one")]


@pytest.mark.anyio
async def test_large_write_batches(storage: FsspecStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_run = fsspec_storage._run

    async def counting_run(func, *args):  # type: ignore[no-untyped-def]
        if getattr(func, "__name__", "") in ("write", "_open_and_write"):  # the first batch also creates the file
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


# --- abort -------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_abort_leaves_no_temporary_file(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/aborted")
    await writer.write(os.urandom(WRITE_BATCH_SIZE + 10))  # one batch on disk, the rest buffered
    await writer.abort()
    assert _leftovers(storage) == []


@pytest.mark.anyio
async def test_abort_after_failed_write(storage: FsspecStorage) -> None:
    writer = await storage.open_writer("media/owner/failing")
    await writer.write(b"x" * WRITE_BATCH_SIZE)  # the file exists from the first batch on

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
async def test_check_fails_when_root_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError):
        await FsspecStorage(str(blocker)).check()
