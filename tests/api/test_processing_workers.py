"""The processing worker is durable and exclusive: an item claimed by a worker that died is processed again once its
lease runs out, and with several workers on one database (SQLite, PostgreSQL) every item is processed once."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from mediavault import MediaVault, MediaVaultConfig, hookimpl
from mediavault._builtins import mediavault_storage_backend as builtin_storage
from mediavault.cli import main
from mediavault.db.models import MediaProcessing, MediaVariant
from mediavault.db.processing import ProcessingRepository
from mediavault.processing.worker import MAX_ATTEMPTS
from mediavault.storage.base import StorageBackend, StorageWriter
from tests.api._checks import error, processed, success
from tests.backends import BACKENDS
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_photo


def _runtime(client: TestClient[Litestar]) -> Any:
    return client.app.plugins.get(MediaVault).runtime


async def _claim_and_die(client: TestClient[Litestar], lease: float = 0.2) -> int:
    """What a worker that claimed everything pending and then crashed leaves behind: ``lease``-second leases."""
    async with _runtime(client).session() as session:
        claimed = await ProcessingRepository(session).claim_pending(limit=100, lease=lease)
        await session.commit()
    return len(claimed)


async def _rows(client: TestClient[Litestar]) -> list[tuple[str, int, int]]:
    """``(status, attempts, variants)`` of every processing row."""
    variants = select(func.count()).where(MediaVariant.media_id == MediaProcessing.media_id).scalar_subquery()
    async with _runtime(client).session() as session:
        result = await session.execute(select(MediaProcessing.status, MediaProcessing.attempts, variants))
        return [tuple(row) for row in result.all()]


def test_an_item_left_by_a_dead_worker_is_processed_again(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=False, processing_poll_interval=0.05, thumbnail_sizes=(64,))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "crash@example.com")
        media = owner.upload(make_photo(), "crash.jpg")
        assert client.blocking_portal.call(_claim_and_die, client) == 1
        client.blocking_portal.call(_runtime(client).processing.start)
        assert processed(owner, media["id"])["status"] == "done"
        assert client.blocking_portal.call(_rows, client) == [("done", 2, 2)]  # thumb-64 and share


def test_an_item_that_never_finishes_is_marked_failed(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=False, processing_poll_interval=0.05)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "poison@example.com")
        media = owner.upload(make_photo(), "poison.jpg")
        for _ in range(MAX_ATTEMPTS):  # e.g. it killed the process every time
            assert client.blocking_portal.call(_claim_and_die, client, 0.0) == 1  # a lease that ran out
        client.blocking_portal.call(_runtime(client).processing.start)
        state = processed(owner, media["id"])
        assert state["status"] == "failed" and state["errors"] == {"worker": f"gave up after {MAX_ATTEMPTS} attempts"}
        assert state["variants"] == []


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    return BACKENDS.postgres_url(tmp_path)


def test_several_workers_process_each_item_once(tmp_path: Path, database_url: str) -> None:
    overrides = {
        "processing_worker": True,
        "processing_poll_interval": 0.05,
        "thumbnail_sizes": (32, 64),
        "database_url": database_url,
    }
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path, **overrides))])))
            for _ in range(3)
        ]
        owner = Account(clients[0], "busy@example.com")
        items = [owner.upload(make_photo(40 + i, 30), f"p{i}.jpg")["id"] for i in range(8)]
        for media_id in items:
            assert processed(owner, media_id)["status"] == "done"
        assert sorted(clients[0].blocking_portal.call(_rows, clients[0])) == [("done", 1, 3)] * 8


class FullDisk:
    """A storage plugin (the ``mediavault_storage_backend`` hook) whose writes fail with ``ENOSPC`` while ``full``:
    a disk that fills up and gets room again."""

    full = False

    @hookimpl
    def mediavault_storage_backend(self, config: MediaVaultConfig) -> StorageBackend:
        storage = builtin_storage(config)  # the leg's own: local files, or S3
        write = storage.open_writer

        async def open_writer(key: str) -> StorageWriter:
            if self.full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/var/lib/mediavault/" + key)
            return await write(key)

        storage.open_writer = open_writer  # type: ignore[method-assign]
        return storage


def test_a_full_disk_is_retried_not_failed_and_its_cause_shown(tmp_path: Path) -> None:
    """Storing the thumbnails fails while the disk is full: the item stays ``pending`` (however many times it is
    tried: a storage error is not the file's fault), the owner sees why, and once there is room it is done."""
    disk = FullDisk()
    config = make_config(
        tmp_path, processing_poll_interval=0.05, processing_retry_delay=0.05, thumbnail_sizes=(64,), plugins=(disk,)
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "full@example.com")
        media = owner.upload(make_photo(gps=(1.0, 2.0)), "full.jpg")
        disk.full = True
        client.blocking_portal.call(_runtime(client).processing.start)
        url = f"{PREFIX}/media/{media['id']}/metadata"
        for _ in range(400):
            state = success(client.get(url, headers=owner.headers))
            if f"failed {MAX_ATTEMPTS + 1} times" in state["errors"].get("worker", ""):
                break
            assert state["status"] == "pending", state
            time.sleep(0.025)
        assert state["status"] == "pending"
        cause = state["errors"]["worker"]
        assert cause.startswith("storage or database unavailable: No space left on device") and "/var/lib" not in cause
        disk.full = False
        state = processed(owner, media["id"])
        assert state["status"] == "done" and state["errors"] == {}
        assert sorted(v["name"] for v in state["variants"]) == ["share", "thumb-64"]


def test_reprocess_an_item_that_failed(tmp_path: Path) -> None:
    """``POST /media/{id}/reprocess`` (its owner; 404 for anyone else) and ``mediavault reprocess --failed``."""
    config = make_config(tmp_path, processing_poll_interval=0.05, thumbnail_sizes=(64,))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "again@example.com")
        first, second = (owner.upload(make_photo(), f"{name}.jpg")["id"] for name in ("first", "second"))
        for _ in range(MAX_ATTEMPTS + 1):  # it killed the process every time: given up
            client.blocking_portal.call(_claim_and_die, client, 0.0)
        client.blocking_portal.call(_runtime(client).processing.start)
        for media_id in (first, second):
            assert processed(owner, media_id)["status"] == "failed"
        stranger = Account(client, "stranger@example.com")
        error(client.post(f"{PREFIX}/media/{first}/reprocess", headers=stranger.headers), 404, "not_found")
        response = client.post(f"{PREFIX}/media/{first}/reprocess", headers=owner.headers)
        assert response.status_code == 202 and success(response, 202)["status"] == "pending"
        state = processed(owner, first)
        assert state["status"] == "done" and [v["name"] for v in state["variants"]] == ["share", "thumb-64"]
        assert processed(owner, second)["status"] == "failed"
        env = {"MEDIAVAULT_DATABASE_URL": config.database_url, "MEDIAVAULT_SECRET_KEY": config.secret_key}
        result = CliRunner().invoke(main, ["reprocess", "--failed", "--data-dir", str(tmp_path)], env=env)
        assert result.exit_code == 0 and "1 item queued for processing" in result.output, result.output
        assert processed(owner, second)["status"] == "done"
        result = CliRunner().invoke(main, ["reprocess", "--data-dir", str(tmp_path)], env=env)
        assert result.exit_code == 2 and "give media ids or --failed" in result.output


class GatedVariants:
    """A storage plugin that holds the worker at its first variant write until ``proceed`` is set (``reached`` tells
    the test it got there) and records every variant key it was asked to write."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.proceed = threading.Event()
        self.keys: list[str] = []
        self.deleted: set[str] = set()

    @hookimpl
    def mediavault_storage_backend(self, config: MediaVaultConfig) -> StorageBackend:
        storage = builtin_storage(config)
        write, delete = storage.open_writer, storage.delete

        async def open_writer(key: str) -> StorageWriter:
            if ".thumb-" in key or ".share." in key:
                self.keys.append(key)
                self.reached.set()
                await anyio.to_thread.run_sync(self.proceed.wait)
            return await write(key)

        async def delete_key(key: str) -> None:
            await delete(key)
            self.deleted.add(key)

        storage.open_writer = open_writer  # type: ignore[method-assign]
        storage.delete = delete_key  # type: ignore[method-assign]
        return storage


def test_a_media_deleted_while_processed_leaves_no_variant(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The owner deletes the media while the worker makes its thumbnails: the worker drops what it made (no variant
    row, no variant bytes) without an error, instead of failing on the vanished media's foreign key."""
    gate = GatedVariants()
    config = make_config(tmp_path, processing_poll_interval=0.05, thumbnail_sizes=(64,), plugins=(gate,))
    logger = logging.getLogger("mediavault.processing")
    logger.addHandler(caplog.handler)  # the app's logging config stops propagation to the root logger
    with ExitStack() as stack:
        stack.callback(logger.removeHandler, caplog.handler)
        client = stack.enter_context(TestClient(Litestar(plugins=[MediaVault(config)])))
        owner = Account(client, "gone@example.com")
        media = owner.upload(make_photo(), "gone.jpg")
        client.blocking_portal.call(_runtime(client).processing.start)
        assert gate.reached.wait(30)
        assert client.delete(f"{PREFIX}/media/{media['id']}", headers=owner.headers).status_code == 204
        gate.proceed.set()
        worker = _runtime(client).processing
        for _ in range(400):  # until the worker is done with the item
            if not worker._inflight:
                break
            time.sleep(0.025)
        assert not worker._inflight
        assert gate.keys and gate.deleted >= set(gate.keys)  # the variant bytes it made are gone
        assert client.blocking_portal.call(_rows, client) == []
        assert "could not record" not in caplog.text and "failed" not in caplog.text
