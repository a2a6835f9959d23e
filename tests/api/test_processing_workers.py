"""The processing worker is durable and exclusive: an item claimed by a worker that died is processed again once its
lease runs out, and with several workers on one database (SQLite, PostgreSQL) every item is processed once."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from mediavault import MediaVault
from mediavault.db.models import MediaProcessing, MediaVariant
from mediavault.db.processing import ProcessingRepository
from mediavault.processing.worker import MAX_ATTEMPTS
from tests.api._checks import processed
from tests.backends import BACKENDS
from tests.conftest import Account, make_config
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
