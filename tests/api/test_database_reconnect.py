"""PostgreSQL backends terminated under the vault (``pg_terminate_backend``: a failover, a restart, an administrator,
an idle timeout): idle pooled connections are replaced (pre-ping), a read whose connection died under it is answered
on a new one, and a write answers 503 ``service_unavailable`` (``Retry-After``) having changed nothing, never 500.
About PostgreSQL: explicit PostgreSQL config on both legs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from mediavault import MediaVault
from tests.backends import BACKENDS, query
from tests.conftest import PREFIX, Account, make_config

TERMINATE_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE usename = current_user AND pid <> pg_backend_pid()"
)


@pytest.fixture
def vault(tmp_path: Path) -> MediaVault:
    url = BACKENDS.postgres_url(tmp_path)  # no webhook worker: only requests take connections from the pool
    return MediaVault(make_config(tmp_path, database_url=url, database_pool_size=3, webhook_worker=False))


@pytest.fixture
def client(vault: MediaVault) -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(plugins=[vault])) as test_client:
        yield test_client


class BackendKiller:
    """Terminates the backend of the next ``left`` connections the pool hands out, right after their pre-ping: the
    worst moment, when a request already holds the connection (``pg_terminate_backend`` by the backend itself)."""

    def __init__(self, vault: MediaVault) -> None:
        self.left = 0
        event.listen(vault.runtime.engine.sync_engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if self.left > 0:
            self.left -= 1
            with contextlib.suppress(Exception):  # the backend is gone: that was the point
                dbapi_connection.cursor().execute("SELECT pg_terminate_backend(pg_backend_pid())")


def test_requests_after_idle_backends_were_terminated(client: TestClient[Litestar], vault: MediaVault) -> None:
    alice = Account(client, "alice@example.com")
    media = alice.upload(b"survives a reconnect", "a.txt")
    for _ in range(3):
        assert client.get(f"{PREFIX}/media", headers=alice.headers).status_code == 200
    [(terminated,)] = query(vault.config, TERMINATE_OTHERS)
    assert terminated >= 1  # the vault's pooled connections were there and are gone now
    for _ in range(4):  # more requests than pooled connections: each was terminated
        read = client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)
        assert read.status_code == 200, read.text
    written = client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "after"})
    assert written.status_code == 201, written.text


def test_read_whose_connection_dies_is_answered_on_a_new_one(client: TestClient[Litestar], vault: MediaVault) -> None:
    alice = Account(client, "alice@example.com")
    media = alice.upload(b"read me", "a.txt")
    killer = BackendKiller(vault)
    for path in (f"/media/{media['id']}", "/media", f"/media/{media['id']}/content"):
        killer.left = 1
        response = client.get(f"{PREFIX}{path}", headers=alice.headers)
        assert killer.left == 0  # the request's connection was killed
        assert response.status_code == 200, response.text
    assert response.content == b"read me"


def test_write_whose_connection_dies_answers_503_and_changes_nothing(
    client: TestClient[Litestar], vault: MediaVault
) -> None:
    """The connection dies at the write itself (after the principal lookup): 503, nothing written."""
    alice = Account(client, "alice@example.com")
    killed: list[str] = []

    def kill_at_the_insert(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO mediavault_collection") and not killed:
            killed.append(statement)
            with contextlib.suppress(Exception):
                conn.connection.dbapi_connection.cursor().execute("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(vault.runtime.engine.sync_engine, "before_cursor_execute", kill_at_the_insert)
    response = client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "lost"})
    assert killed
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) >= 1
    listed = client.get(f"{PREFIX}/collections", headers=alice.headers)
    assert listed.status_code == 200 and listed.json()["data"] == []
    again = client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "kept"})
    assert again.status_code == 201, again.text


def test_upload_whose_connection_dies_after_its_body_streamed_answers_503(
    client: TestClient[Litestar], vault: MediaVault
) -> None:
    """A body that streams ends the upload's reads (its connection goes back to the pool); the connection the upload
    then takes to write its rows is killed: 503, nothing stored, and the next upload works."""
    alice = Account(client, "alice@example.com")
    killer = BackendKiller(vault)
    boundary = "reconnectboundary"

    async def upload() -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="lost.bin"\r\n\r\n'
            yield head.encode() + b"first half "
            killer.left = 1  # the upload's reads ended: its next connection is killed
            yield b"second half" + f"\r\n--{boundary}--\r\n".encode()

        headers = {**alice.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://testserver") as h:
            return await h.post(f"{PREFIX}/media/upload", content=body(), headers=headers)

    response = client.blocking_portal.call(upload)
    assert killer.left == 0
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "service_unavailable"
    listed = client.get(f"{PREFIX}/media", headers=alice.headers)
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert alice.upload(b"kept", "kept.txt")["size"] == 4


@pytest.mark.parametrize("worker", ["webhook", "processing"])
def test_a_worker_whose_connection_dies_logs_one_warning_and_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, worker: str
) -> None:
    """Background work (a worker's loop, the expiry sweep it runs) on a killed connection: one warning line (not an
    ERROR with a traceback: a restart or failover is not a bug), and the next try works."""
    workers = {"webhook_worker": worker == "webhook", "processing_worker": worker == "processing"}
    intervals = {"webhook_poll_interval": 0.05, "processing_poll_interval": 0.05}
    config = make_config(tmp_path, database_url=BACKENDS.postgres_url(tmp_path), **workers, **intervals)
    vault = MediaVault(config)
    logger = logging.getLogger("mediavault")
    logger.addHandler(caplog.handler)  # the app's logging config stops propagation to the root logger
    try:
        with TestClient(Litestar(plugins=[vault])) as client:
            killer = BackendKiller(vault)
            killer.left = 1
            deadline = time.monotonic() + 20  # a deadlock guard, not a timing: the worker looks every 0.05 s
            while not [r for r in caplog.records if r.levelno >= logging.WARNING] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert killer.left == 0
            alice = Account(client, "alice@example.com")
            assert alice.upload(b"after", "after.txt")["size"] == 5
    finally:
        logger.removeHandler(caplog.handler)
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("mediavault")]
    assert logged, "the killed connection was not noticed"
    assert all(r.levelno == logging.WARNING and "briefly unavailable: lost" in r.getMessage() for r in logged), [
        (r.levelname, r.getMessage()) for r in logged
    ]


class Failover:
    """From :meth:`start` on, every connection opened before it has lost its backend, whether the pool's check saw
    its socket close yet or not: each such connection handed out is terminated right after the check (as when the
    end of its socket is still on its way)."""

    def __init__(self, vault: MediaVault) -> None:
        self.at: float | None = None
        self.killed = 0
        event.listen(vault.runtime.engine.sync_engine, "checkout", self._checkout)

    def start(self) -> None:
        self.at = time.time()

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if self.at is not None and record.starttime < self.at:
            self.killed += 1
            with contextlib.suppress(Exception):
                dbapi_connection.cursor().execute("SELECT pg_terminate_backend(pg_backend_pid())")


def test_read_sent_again_after_a_failover_gets_a_new_connection(
    client: TestClient[Litestar], vault: MediaVault
) -> None:
    """Several pooled connections, all of them lost at once: the read that found its connection dead is sent again on
    a connection opened after the loss, not on another of the dead ones the pool still holds."""
    alice = Account(client, "alice@example.com")
    media = alice.upload(b"read me", "a.txt")

    async def use_several_connections() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://testserver") as h:
            answers = await asyncio.gather(
                *(h.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers) for _ in range(6))
            )
        assert all(answer.status_code == 200 for answer in answers)

    client.blocking_portal.call(use_several_connections)
    assert vault.runtime.engine.sync_engine.pool.checkedin() >= 2  # type: ignore[attr-defined]
    failover = Failover(vault)
    failover.start()
    read = client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers)
    assert read.status_code == 200, read.text
    assert failover.killed == 1  # the first attempt's; the second ran on a new connection
    assert read.content == b"read me"


def test_a_write_right_after_a_failover_is_answered(client: TestClient[Litestar], vault: MediaVault) -> None:
    """The connection of a write's principal lookup lost its backend in a failover the pool's check did not see yet:
    the lookup (a read, before anything of the request ran) is sent again on a new connection, and the write is
    done, not answered 503."""
    alice = Account(client, "alice@example.com")
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).status_code == 200  # a pooled connection
    failover = Failover(vault)
    failover.start()
    created = client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "after the failover"})
    assert created.status_code == 201, created.text
    assert failover.killed == 1  # the lookup's first connection; the rest ran on a new one
    listed = client.get(f"{PREFIX}/collections", headers=alice.headers).json()["data"]
    assert [c["name"] for c in listed] == ["after the failover"]
