"""One database session per request, with one owner (``RequestSessionMiddleware``): opened when first needed (by the
principal lookup or the service), shared by both, closed exactly once, before a response's bytes stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import Message, Scope
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault import MediaVault
from mediavault.db.engine import create_engine
from mediavault.db.models import User
from mediavault.http.session import RequestSession
from mediavault.runtime import VaultRuntime
from tests.conftest import PREFIX, Account, make_config


class Sessions:
    """Counts the sessions a runtime opens and how often each is closed, and the pooled connections held while a
    response is sent (read at every ``http.response.*`` message by an app-level ``before_send`` hook)."""

    def __init__(self, runtime: VaultRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runtime = runtime
        self.opened: list[AsyncSession] = []
        self.closes: list[int] = []  # per opened session, how many times it was closed
        self.held_while_sending: list[int] = []
        original = runtime.session

        def session() -> AsyncSession:
            s = original()
            index = len(self.opened)
            self.opened.append(s)
            self.closes.append(0)
            close = s.close

            async def counted_close() -> None:
                self.closes[index] += 1
                await close()

            monkeypatch.setattr(s, "close", counted_close)
            return s

        monkeypatch.setattr(runtime, "session", session)

    def reset(self) -> None:
        self.opened.clear()
        self.closes.clear()
        self.held_while_sending.clear()

    @property
    def checked_out(self) -> int:
        """Pooled connections not returned (a session left open holds one)."""
        return self.runtime.engine.pool.checkedout()  # type: ignore[attr-defined,no-any-return]

    async def before_send(self, message: Message, _scope: Scope) -> None:
        self.held_while_sending.append(self.checked_out)

    def assert_one_session_closed_once(self) -> None:
        assert len(self.opened) == 1 and self.closes == [1], self.closes
        assert self.checked_out == 0
        assert self.held_while_sending and set(self.held_while_sending) == {0}


def _client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Iterator[tuple[TestClient, Sessions]]:
    vault = MediaVault(make_config(tmp_path, webhook_worker=False, **overrides))  # no background sessions
    sessions = Sessions(vault.runtime, monkeypatch)  # before the app is built: the router takes the factory
    with TestClient(Litestar(plugins=[vault], before_send=[sessions.before_send])) as client:
        yield client, sessions


@pytest.fixture(params=[True, False], ids=["rate-limited", "no-rate-limit"])
def vault(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # With the limiter, public routes are looked up too (the limiter picks a tier by the principal).
    yield from _client(tmp_path, monkeypatch, rate_limit_enabled=request.param)


def test_authenticated_request_uses_one_session_and_closes_it_once(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    alice = Account(client, "alice@example.com")
    for headers in (alice.headers, {"X-API-Key": _api_key(client, alice)}):
        sessions.reset()
        response = client.get(f"{PREFIX}/users/me", headers=headers)
        assert response.status_code == 200, response.text
        sessions.assert_one_session_closed_once()
    # a write: the principal lookup and the service share the session, and the service's commit holds
    sessions.reset()
    response = client.patch(f"{PREFIX}/users/me", headers=alice.headers, json={"display_name": "Alice"})
    assert response.status_code == 200, response.text
    sessions.assert_one_session_closed_once()
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).json()["data"]["display_name"] == "Alice"


def test_a_download_holds_no_connection_while_its_bytes_stream(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    alice = Account(client, "alice@example.com")
    content = bytes(range(256)) * 4096  # 1 MiB: sent as many body messages
    media = alice.upload(content, "big.bin")
    sessions.reset()
    response = client.get(media["content_url"], headers=alice.headers)
    assert response.status_code == 200 and response.content == content
    assert len(sessions.held_while_sending) > 2  # the start and several body messages, each saw no connection held
    sessions.assert_one_session_closed_once()


def test_a_route_that_needs_no_session_opens_none(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    sessions.reset()
    assert client.get(f"{PREFIX}/health").status_code == 200  # public, not counted: no principal lookup either
    assert sessions.opened == [] and sessions.checked_out == 0


def test_session_is_closed_once_when_the_request_fails(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    alice = Account(client, "alice@example.com")
    # the handler raises (404 from the service)
    sessions.reset()
    assert client.get(f"{PREFIX}/media/00000000-0000-0000-0000-000000000000", headers=alice.headers).status_code == 404
    sessions.assert_one_session_closed_once()
    # the request is rejected before any service is built (bad body)
    sessions.reset()
    assert client.patch(f"{PREFIX}/users/me", headers=alice.headers, content=b"{not json").status_code == 400
    sessions.assert_one_session_closed_once()
    # a sibling dependency (the shared media query) rejects its parameters while the service is being built
    for bad in ("per_page=0", "sort=bogus", "type=nope"):
        sessions.reset()
        assert client.get(f"{PREFIX}/media?{bad}", headers=alice.headers).status_code == 400
        sessions.assert_one_session_closed_once()
    # the guard rejects a credential the lookup found revoked
    assert client.post(f"{PREFIX}/auth/logout", headers=alice.headers).status_code == 204
    sessions.reset()
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).status_code == 401
    sessions.assert_one_session_closed_once()
    # no credential at all: the lookup ran, nobody queried, the session is still closed once
    sessions.reset()
    assert client.get(f"{PREFIX}/users/me").status_code == 401
    sessions.assert_one_session_closed_once()


def _api_key(client: TestClient, account: Account) -> str:
    response = client.post(f"{PREFIX}/users/me/api-keys", headers=account.headers, json={"name": "k"})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["key"])


# ----------------------------------------------------------------------------- engine


def test_pool_defaults_and_overrides(tmp_path: Path) -> None:
    sqlite = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    assert (sqlite.pool.size(), sqlite.pool._max_overflow) == (20, 20)  # type: ignore[attr-defined]
    postgres = create_engine("postgresql+asyncpg://u@localhost/db")
    assert (postgres.pool.size(), postgres.pool._max_overflow) == (5, 10)  # type: ignore[attr-defined]
    custom = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", pool_size=3, max_overflow=0)
    assert (custom.pool.size(), custom.pool._max_overflow) == (3, 0)  # type: ignore[attr-defined]
    create_engine("sqlite+aiosqlite://", pool_size=3)  # in memory: one static connection, the sizes are ignored


def test_pool_settings_from_the_environment(tmp_path: Path) -> None:
    from mediavault.config import MediaVaultConfig

    env = {"MEDIAVAULT_DATABASE_POOL_SIZE": "7", "MEDIAVAULT_DATABASE_MAX_OVERFLOW": "0"}
    config = MediaVaultConfig.from_env(env, secret_key="k" * 32)
    assert (config.database_pool_size, config.database_max_overflow) == (7, 0)
    assert MediaVaultConfig(secret_key="k" * 32).database_pool_size is None
    with pytest.raises(ValueError, match="database_pool_size"):
        MediaVaultConfig(secret_key="k" * 32, database_pool_size=0)
    with pytest.raises(ValueError, match="database_max_overflow"):
        MediaVaultConfig(secret_key="k" * 32, database_max_overflow=-1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_session_cannot_be_reopened_after_its_owner_closed_it(tmp_path: Path) -> None:
    runtime = VaultRuntime(make_config(tmp_path))
    try:
        slot = RequestSession(runtime.session)
        opened = slot.get()
        assert slot.get() is opened  # one session per request
        await opened.scalar(select(1))
        await slot.close()
        assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="closed"):
            slot.get()  # a late user would otherwise open a second session that nobody closes
    finally:
        await runtime.dispose()


@pytest.mark.anyio
async def test_sqlite_uncommitted_writes_are_still_rolled_back(tmp_path: Path) -> None:
    runtime = VaultRuntime(make_config(tmp_path))
    await runtime.migrate()
    try:
        async with runtime.session() as session:
            session.add(User(email="ghost@example.com", password_hash="x"))
            await session.flush()  # in a transaction now; closing without commit must roll it back
        async with runtime.session() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 0
            session.add(User(email="kept@example.com", password_hash="x"))
            await session.commit()
        async with runtime.session() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        await runtime.dispose()
