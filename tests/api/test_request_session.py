"""One database session per request: opened by the principal lookup, reused by the service, always closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault import MediaVault
from mediavault.db.engine import create_engine
from mediavault.db.models import User
from mediavault.runtime import VaultRuntime
from tests.conftest import PREFIX, Account, make_config


class Sessions:
    """Counts the sessions a runtime opens."""

    def __init__(self, runtime: VaultRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runtime = runtime
        self.opened: list[AsyncSession] = []
        original = runtime.session

        def session() -> AsyncSession:
            s = original()
            self.opened.append(s)
            return s

        monkeypatch.setattr(runtime, "session", session)

    def reset(self) -> None:
        self.opened.clear()

    @property
    def checked_out(self) -> int:
        """Pooled connections not returned (a session left open holds one)."""
        return self.runtime.engine.pool.checkedout()  # type: ignore[attr-defined,no-any-return]


def _client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Iterator[tuple[TestClient, Sessions]]:
    vault = MediaVault(make_config(tmp_path, webhook_worker=False, **overrides))  # no background sessions
    with TestClient(Litestar(plugins=[vault])) as client:
        yield client, Sessions(vault.runtime, monkeypatch)


@pytest.fixture(params=[True, False], ids=["rate-limited", "no-rate-limit"])
def vault(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # With the limiter the principal is looked up by its middleware, without it by the guard.
    yield from _client(tmp_path, monkeypatch, rate_limit_enabled=request.param)


def test_authenticated_request_uses_one_session_and_closes_it(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    alice = Account(client, "alice@example.com")
    for headers in (alice.headers, {"X-API-Key": _api_key(client, alice)}):
        sessions.reset()
        response = client.get(f"{PREFIX}/users/me", headers=headers)
        assert response.status_code == 200, response.text
        assert len(sessions.opened) == 1
        assert sessions.checked_out == 0


def test_session_is_closed_when_the_request_fails(vault: tuple[TestClient, Sessions]) -> None:
    client, sessions = vault
    alice = Account(client, "alice@example.com")
    # the handler raises (404 from the service)
    sessions.reset()
    assert client.get(f"{PREFIX}/media/00000000-0000-0000-0000-000000000000", headers=alice.headers).status_code == 404
    assert len(sessions.opened) == 1 and sessions.checked_out == 0
    # the request is rejected before any service is built (bad body)
    sessions.reset()
    assert client.patch(f"{PREFIX}/users/me", headers=alice.headers, content=b"{not json").status_code == 400
    assert len(sessions.opened) <= 1 and sessions.checked_out == 0
    # a sibling dependency (the shared media query) rejects its parameters while the service is being built
    for bad in ("per_page=0", "sort=bogus", "type=nope"):
        sessions.reset()
        assert client.get(f"{PREFIX}/media?{bad}", headers=alice.headers).status_code == 400
        assert len(sessions.opened) == 1 and sessions.checked_out == 0, bad
    # the guard rejects a credential the lookup found revoked
    assert client.post(f"{PREFIX}/auth/logout", headers=alice.headers).status_code == 204
    sessions.reset()
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).status_code == 401
    assert sessions.checked_out == 0
    # no credential at all
    assert client.get(f"{PREFIX}/users/me").status_code == 401
    assert sessions.checked_out == 0


def test_writes_of_the_shared_session_are_committed(vault: tuple[TestClient, Sessions]) -> None:
    client, _ = vault
    alice = Account(client, "alice@example.com")
    response = client.patch(f"{PREFIX}/users/me", headers=alice.headers, json={"display_name": "Alice"})
    assert response.status_code == 200, response.text
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).json()["data"]["display_name"] == "Alice"


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
