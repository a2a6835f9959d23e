"""SQLite's one writer: write transactions of a process take turns, and a write that cannot get its turn within
``database_busy_timeout`` answers 503 ``service_unavailable`` with ``Retry-After``, never a 500, having changed
nothing. Reads never wait. (About the SQLite engine: explicit SQLite config on both legs.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from mediavault import MediaVault
from tests.conftest import PREFIX, Account, make_config


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "writes.db"


@pytest.fixture
def vault(tmp_path: Path, sqlite_file: Path) -> MediaVault:
    url = f"sqlite+aiosqlite:///{sqlite_file}"
    return MediaVault(make_config(tmp_path, database_url=url, database_busy_timeout=0.2))


@pytest.fixture
def sqlite_client(vault: MediaVault) -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(plugins=[vault])) as client:
        yield client


def assert_busy(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) >= 1  # type: ignore[attr-defined]


def collection_names(client: TestClient[Litestar], account: Account) -> list[str]:
    response = client.get(f"{PREFIX}/collections", headers=account.headers)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["data"]]


def test_write_waits_its_turn_in_process_then_503(sqlite_client: TestClient[Litestar], vault: MediaVault) -> None:
    alice = Account(sqlite_client, "alice@example.com")
    portal = sqlite_client.blocking_portal
    assert portal is not None
    session = vault.runtime.session()

    async def write_without_commit() -> None:  # a write transaction of this process, on the app's event loop
        await session.execute(text("UPDATE mediavault_user SET display_name = 'held' WHERE id = :id"), {"id": "x"})

    portal.call(write_without_commit)
    try:
        assert_busy(sqlite_client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "queued"}))
        assert collection_names(sqlite_client, alice) == []  # reads do not wait for the writer
    finally:
        portal.call(session.close)  # rollback: the turn passes on
    created = sqlite_client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "after"})
    assert created.status_code == 201, created.text
    assert collection_names(sqlite_client, alice) == ["after"]


def test_write_blocked_by_another_process_answers_503(sqlite_client: TestClient[Litestar], sqlite_file: Path) -> None:
    alice = Account(sqlite_client, "alice@example.com")
    other = sqlite3.connect(sqlite_file, isolation_level=None)  # another process's writer, as `mediavault worker`
    try:
        other.execute("BEGIN IMMEDIATE")
        assert_busy(sqlite_client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "blocked"}))
        assert collection_names(sqlite_client, alice) == []
        other.execute("ROLLBACK")
    finally:
        other.close()
    created = sqlite_client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "after"})
    assert created.status_code == 201, created.text
    assert collection_names(sqlite_client, alice) == ["after"]


@pytest.mark.parametrize("holder", ["this process", "another process"])
def test_upload_without_its_turn_answers_503_and_keeps_nothing(
    sqlite_client: TestClient[Litestar], vault: MediaVault, sqlite_file: Path, holder: str
) -> None:
    """An upload's rows are Core statements sent to the driver itself (db/statements.WriteStatement): they take the
    write lock like every write, the driver's "database is locked" is SQLAlchemy's error like any other, and a refused
    upload leaves no row and no bytes."""
    alice = Account(sqlite_client, "alice@example.com")
    portal = sqlite_client.blocking_portal
    assert portal is not None
    session = vault.runtime.session()
    other = sqlite3.connect(sqlite_file, isolation_level=None)

    async def write_without_commit() -> None:
        await session.execute(text("UPDATE mediavault_user SET display_name = 'held' WHERE id = :id"), {"id": "x"})

    if holder == "this process":
        portal.call(write_without_commit)
    else:
        other.execute("BEGIN IMMEDIATE")
    try:
        upload = {"file": ("note.txt", b"hello", "text/plain")}
        assert_busy(sqlite_client.post(f"{PREFIX}/media/upload", headers=alice.headers, files=upload))
    finally:
        portal.call(session.close)
        other.close()
    listed = sqlite_client.get(f"{PREFIX}/media", headers=alice.headers)
    assert listed.json()["data"] == []
    assert portal.call(vault.runtime.storage.scan) == []  # no object, no temporary file
    created = sqlite_client.post(f"{PREFIX}/media/upload", headers=alice.headers, files=upload)
    assert created.status_code == 201, created.text
