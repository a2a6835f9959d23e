"""The host's users (``MediaVaultConfig.host_identity``; ``examples/host_users.py``, shown verbatim in
docs/embedding.md): a Litestar host whose own session cookie authenticates its users, each mapped to a vault user
created on first sight, over HTTP and on ``/realtime``; the realtime handshake's own identity only from an allowed
origin (cross-site WebSocket hijacking, docs/security.md)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketDisconnect
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient, WebSocketTestSession
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from examples.host_users import SESSIONS, Account, SessionAuth, create_app, vault_identity
from mediavault import AuthProvider, HostIdentity, MediaVault, MediaVaultConfig, hookimpl
from mediavault.auth.host import PLACEHOLDER_DOMAIN, request_user
from mediavault.db.engine import create_engine
from mediavault.realtime.socket import CLOSE_UNAUTHORIZED
from tests.api._checks import error, success
from tests.backends import query
from tests.conftest import PREFIX, make_config
from tests.conftest import Account as VaultAccount
from tests.files import make_png

ADA = {"Cookie": "session=s3cr3t-ada"}  # the host's session cookie
SAME_ORIGIN = {"Origin": "http://testserver.local"}  # Litestar's TestClient talks to testserver.local


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, webhook_worker=False)


@pytest.fixture
def host(config: MediaVaultConfig) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(config)) as client:
        yield client


def registered(config: MediaVaultConfig) -> list[str]:
    rows = query(config, "SELECT event FROM mediavault_outbox_event WHERE event = 'user.registered'")
    return [event for (event,) in rows]


def closed_with(ws: WebSocketTestSession) -> int:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            ws.receive_json(timeout=10)
    except WebSocketDisconnect as exc:
        return int(exc.code or 0)


def test_the_hosts_user_is_a_vault_user_created_on_first_sight(
    host: TestClient[Litestar], config: MediaVaultConfig
) -> None:
    me = success(host.get(f"{PREFIX}/users/me", headers=ADA))
    assert (me["email"], me["display_name"], me["role"]) == ("ada@example.com", "Ada", "user")
    assert success(host.get(f"{PREFIX}/users/me", headers=ADA))["id"] == me["id"]  # found, not created again
    assert registered(config) == ["user.registered"]
    assert query(config, "SELECT external_id FROM mediavault_user") == [("1",)]

    media = success(host.post(f"{PREFIX}/media/upload", headers=ADA, files={"file": ("a.png", make_png())}), 201)
    assert media["owner_id"] == me["id"]
    assert host.get(f"{PREFIX}/media/{media['id']}/content", headers=ADA).status_code == 200

    error(host.get(f"{PREFIX}/users/me"), 401, "unauthorized")  # no host session: nobody
    error(host.get(f"{PREFIX}/users/me", headers={"Cookie": "session=forged"}), 401, "unauthorized")
    # the host user has no vault password: password login never matches
    login = host.post(f"{PREFIX}/auth/login", json={"username": "ada@example.com", "password": ""})
    assert login.status_code in (400, 401)


def test_a_vault_credential_decides_before_the_hosts_user(host: TestClient[Litestar]) -> None:
    bob = VaultAccount(host, "bob@example.com")
    me = success(host.get(f"{PREFIX}/users/me", headers={**bob.headers, **ADA}))
    assert me["id"] == bob.id
    error(host.get(f"{PREFIX}/users/me", headers={"Authorization": "Bearer junk", **ADA}), 401, "unauthorized")


def test_an_email_another_vault_account_has_is_not_taken_over(
    host: TestClient[Litestar], config: MediaVaultConfig
) -> None:
    owner = VaultAccount(host, "ada@example.com")  # registered with the vault before Ada came through the host
    me = success(host.get(f"{PREFIX}/users/me", headers=ADA))
    assert me["id"] != owner.id
    assert me["email"].endswith(f"@{PLACEHOLDER_DOMAIN}")
    assert success(host.get(f"{PREFIX}/users/me", headers=owner.headers))["email"] == "ada@example.com"
    assert registered(config) == ["user.registered", "user.registered"]


def test_two_first_requests_at_once_make_one_user(config: MediaVaultConfig) -> None:
    at_once = 6
    arrived: list[asyncio.Event] = []

    async def identify(connection: ASGIConnection[Any, Any, Any, Any]) -> HostIdentity | None:
        # every request waits here until all have arrived: then they all look Ada up, find nobody, and create her
        arrived.append(asyncio.Event())
        if len(arrived) == at_once:
            for event in arrived:
                event.set()
        await arrived[-1].wait()
        return vault_identity(connection)

    app = Litestar(
        middleware=[DefineMiddleware(SessionAuth)],
        plugins=[MediaVault(replace(config, host_identity=identify))],
    )
    with TestClient(app) as client, concurrent.futures.ThreadPoolExecutor(at_once) as pool:
        answers = list(pool.map(lambda _: client.get(f"{PREFIX}/users/me", headers=ADA), range(at_once)))
    assert {success(answer)["id"] for answer in answers} == {answers[0].json()["data"]["id"]}
    assert query(config, "SELECT count(*) FROM mediavault_user") == [(1,)]
    assert registered(config) == ["user.registered"]


def test_realtime_takes_the_hosts_user_from_a_handshake_of_the_same_origin(host: TestClient[Litestar]) -> None:
    with host.websocket_connect("/realtime", headers={**SAME_ORIGIN, **ADA}) as ws:
        ws.send_json({"type": "auth"})
        assert ws.receive_json(timeout=10) == {"type": "auth_ok"}
        ws.send_json({"type": "subscribe", "channel": "media_updates"})
        assert ws.receive_json(timeout=10)["type"] == "subscribed"
        media = success(host.post(f"{PREFIX}/media/upload", headers=ADA, files={"file": ("a.png", make_png())}), 201)
        event = ws.receive_json(timeout=10)
        assert (event["event"], event["resource_id"]) == ("media.uploaded", media["id"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "https://evil.example"}, id="another-site"),
        pytest.param({"Origin": "https://testserver.local"}, id="another-scheme"),
        pytest.param({"Origin": "null"}, id="opaque-origin"),
        pytest.param({}, id="no-origin"),
    ],
)
def test_realtime_refuses_the_handshakes_identity_from_another_origin(
    host: TestClient[Litestar], headers: dict[str, str]
) -> None:
    # a page of another site opening the socket in Ada's browser sends her cookie: it must not get her events
    with host.websocket_connect("/realtime", headers={**headers, **ADA}) as ws:
        ws.send_json({"type": "auth"})
        answer = ws.receive_json(timeout=10)
        assert answer["error"]["code"] == "unauthorized" and "Origin" in answer["error"]["message"]
        assert closed_with(ws) == CLOSE_UNAUTHORIZED


def test_a_token_never_falls_back_to_the_handshakes_identity(host: TestClient[Litestar]) -> None:
    with host.websocket_connect("/realtime", headers={**SAME_ORIGIN, **ADA}) as ws:
        ws.send_json({"type": "auth", "token": "not-a-token"})
        assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
        assert closed_with(ws) == CLOSE_UNAUTHORIZED


class SeenPlugin:
    """A plugin provider that records what the realtime token path shows it of the host's identity."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, Any, Any]] = []

    @hookimpl
    def mediavault_auth_providers(self, config: MediaVaultConfig) -> list[AuthProvider]:
        plugin = self

        class Seen(AuthProvider):
            async def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any], session: Any) -> None:
                scope = connection.scope
                plugin.seen.append((scope.get("user"), scope.get("auth"), connection.headers.get("cookie")))

        return [Seen()]


def test_the_token_path_shows_providers_nothing_of_the_handshake(config: MediaVaultConfig) -> None:
    plugin = SeenPlugin()
    with (
        TestClient(create_app(replace(config, plugins=(plugin,)))) as host,
        host.websocket_connect("/realtime", headers={**SAME_ORIGIN, **ADA}) as ws,
    ):
        ws.send_json({"type": "auth", "token": "not-a-token"})
        assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
    assert plugin.seen == [(None, None, None)]  # not Ada (the host's middleware set her at the handshake)


def test_an_origin_of_cors_allow_origins_may_use_the_handshake(config: MediaVaultConfig) -> None:
    allowed = replace(config, cors_allow_origins=("https://app.example.com",))
    with TestClient(create_app(allowed)) as host:
        with host.websocket_connect("/realtime", headers={"Origin": "https://app.example.com", **ADA}) as ws:
            ws.send_json({"type": "auth"})
            assert ws.receive_json(timeout=10) == {"type": "auth_ok"}
        with host.websocket_connect("/realtime", headers={"Origin": "https://app.example.com"}) as ws:
            ws.send_json({"type": "auth"})  # an allowed origin, but no host session
            assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
            assert closed_with(ws) == CLOSE_UNAUTHORIZED


def test_request_user_reads_litestars_request_user(config: MediaVaultConfig) -> None:
    app = Litestar(
        middleware=[DefineMiddleware(SessionAuth)],
        plugins=[MediaVault(replace(config, host_identity=request_user))],  # the ready-made host_identity
    )
    with TestClient(app) as client:
        me = success(client.get(f"{PREFIX}/users/me", headers=ADA))
        assert (me["email"], me["display_name"]) == ("ada@example.com", "Ada")  # Account's id, email and name
    assert query(config, "SELECT external_id FROM mediavault_user") == [("1",)]


def test_a_host_identity_is_checked() -> None:
    for bad in ({"external_id": ""}, {"external_id": "x" * 256}, {"external_id": "1", "email": "no-at-sign"}):
        with pytest.raises(ValueError, match="HostIdentity"):
            HostIdentity(**bad)
    assert SESSIONS["s3cr3t-ada"] == Account(1, "ada@example.com", "Ada")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_in_process_calls_act_for_the_hosts_user(config: MediaVaultConfig, anyio_backend: str) -> None:
    ada = HostIdentity(external_id="1", email="ada@example.com", display_name="Ada")
    grace = HostIdentity(external_id="2", email="grace@example.com")
    async with MediaVault(config).running() as vault:
        me = await vault.api(user=ada).users.me()  # created on first sight, on the vault's own session
        assert (me.email, me.display_name) == ("ada@example.com", "Ada")
        assert (await vault.api(user=ada).users.me()).id == me.id

        engine = create_engine(config.database_url, poolclass=NullPool)  # the host's, on the vault's database
        try:
            async with AsyncSession(engine) as session:  # in the host's transaction: undone with it
                await vault.api(user=grace, session=session).media.upload(b"draft", filename="a.txt")
                await session.rollback()
            assert query(config, "SELECT external_id FROM mediavault_user") == [("1",)]
            async with AsyncSession(engine) as session:  # ... and kept with it
                media = await vault.api(user=grace, session=session).media.upload(b"final", filename="a.txt")
                await session.commit()
        finally:
            await engine.dispose()
        assert sorted(query(config, "SELECT external_id FROM mediavault_user")) == [("1",), ("2",)]
        assert (await vault.api(user=grace).media.get(media.id)).filename == "a.txt"
    assert registered(config) == ["user.registered", "user.registered"]
