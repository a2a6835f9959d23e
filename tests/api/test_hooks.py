"""Every hookspec works end to end through a real app (one test per hook at least)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault import AuthProvider, MediaVault, MediaVaultConfig, Principal, StorageBackend, hookimpl
from mediavault.db.models import User
from mediavault.errors import Unauthorized
from mediavault.events import Event
from mediavault.realtime.socket import CLOSE_UNAUTHORIZED
from mediavault.storage.fsspec import FsspecStorage
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png


class CountingStorage(FsspecStorage):
    """A real fsspec backend that also records which keys were written."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.opened: list[str] = []

    async def open_writer(self, key: str) -> Any:
        self.opened.append(key)
        return await super().open_writer(key)


class StoragePlugin:
    def __init__(self) -> None:
        self.backend: CountingStorage | None = None

    @hookimpl
    def mediavault_storage_backend(self, config: MediaVaultConfig) -> StorageBackend | None:
        if not config.storage_url.startswith("counting+"):
            return None
        self.backend = CountingStorage(config.storage_url.removeprefix("counting+"))
        return self.backend


def test_storage_backend_hook_replaces_the_builtin(tmp_path: Path) -> None:
    plugin = StoragePlugin()
    config = make_config(tmp_path, storage_url="counting+memory://hooks-test", plugins=(plugin,))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        png = make_png()
        media = alice.upload(png, "p.png")
        assert plugin.backend is not None and len(plugin.backend.opened) == 1
        assert plugin.backend.opened[0].startswith(f"media/{alice.id}/")
        assert client.get(media["content_url"], headers=alice.headers).content == png
    assert not (tmp_path / "media").exists()  # the built-in local backend was never used


class RemoteUserProvider(AuthProvider):
    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        email = connection.headers.get("x-remote-user")
        if not email:
            return None
        user = await session.scalar(select(User).where(User.email == email))
        return None if user is None else Principal(user_id=user.id, role=user.role, method="remote_user")


class AuthPlugin:
    @hookimpl
    def mediavault_auth_providers(self, config: MediaVaultConfig) -> list[AuthProvider]:
        return [RemoteUserProvider()]


def test_auth_provider_hook_adds_a_principal_source(tmp_path: Path) -> None:
    config = make_config(tmp_path, plugins=(AuthPlugin(),))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        me = client.get(f"{PREFIX}/users/me", headers={"X-Remote-User": "alice@example.com"})
        assert me.status_code == 200 and me.json()["data"]["id"] == alice.id
        # the built-in Bearer provider still works next to it
        assert client.get(f"{PREFIX}/users/me", headers=alice.headers).status_code == 200
        # an unknown remote user falls through to "no credentials"
        assert client.get(f"{PREFIX}/users/me", headers={"X-Remote-User": "eve@example.com"}).status_code == 401


class TicketProvider(AuthProvider):
    """A plugin's own token format: ``Authorization: Bearer ticket:<email>``, until the ticket is revoked."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        header = connection.headers.get("authorization", "")
        if not header.startswith("Bearer ticket:"):
            return None  # not ours: the built-in providers decide
        email = header.removeprefix("Bearer ticket:")
        user = await session.scalar(select(User).where(User.email == email))
        if user is None or email in self.revoked:
            raise Unauthorized("Unknown or revoked ticket")
        return Principal(user_id=user.id, role=user.role, method="ticket")


class TicketPlugin:
    def __init__(self) -> None:
        self.provider = TicketProvider()

    @hookimpl
    def mediavault_auth_providers(self, config: MediaVaultConfig) -> list[AuthProvider]:
        return [self.provider]


def _closed_with(ws: WebSocketTestSession) -> int:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            ws.receive_json(timeout=10)
    except WebSocketDisconnect as exc:
        return int(exc.code or 0)


def test_auth_provider_hook_authenticates_realtime(tmp_path: Path) -> None:
    plugin = TicketPlugin()
    config = make_config(tmp_path, plugins=(plugin,), webhook_worker=False)  # no background sessions
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        ticket = "ticket:alice@example.com"
        me = client.get(f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {ticket}"})
        assert me.status_code == 200 and me.json()["data"]["id"] == alice.id
        with client.websocket_connect("/realtime") as ws:
            ws.send_json({"type": "auth", "token": ticket})  # the plugin's token, in the message
            assert ws.receive_json(timeout=10) == {"type": "auth_ok"}
            ws.send_json({"type": "subscribe", "channel": "media_updates"})
            assert ws.receive_json(timeout=10)["type"] == "subscribed"
            media = alice.upload(b"hello", "a.txt")
            event = ws.receive_json(timeout=10)
            assert (event["event"], event["resource_id"]) == ("media.uploaded", media["id"])
            # nothing cached: the provider is asked again (as at every re-check), and its revocation closes the socket
            plugin.provider.revoked.add("alice@example.com")
            ws.send_json({"type": "auth", "token": ticket})
            assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
            assert _closed_with(ws) == CLOSE_UNAUTHORIZED
        with client.websocket_connect("/realtime") as ws:  # the plugin rejects: 4401, as for a bad JWT
            ws.send_json({"type": "auth", "token": "ticket:eve@example.com"})
            assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
            assert _closed_with(ws) == CLOSE_UNAUTHORIZED
        with client.websocket_connect("/realtime") as ws:  # the built-in providers still answer after it
            ws.send_json({"type": "auth", "token": alice.tokens["token"]})
            assert ws.receive_json(timeout=10) == {"type": "auth_ok"}


def test_realtime_providers_see_only_the_message_credential(tmp_path: Path) -> None:
    # A provider trusting a header of the handshake would let any site's page open a socket as its visitor
    # (browsers send cookies and such with cross-site WebSocket handshakes): providers see the message's token only.
    config = make_config(tmp_path, plugins=(AuthPlugin(),))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        Account(client, "alice@example.com")
        with client.websocket_connect("/realtime", headers={"X-Remote-User": "alice@example.com"}) as ws:
            ws.send_json({"type": "auth", "token": "not-a-token"})
            assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
            assert _closed_with(ws) == CLOSE_UNAUTHORIZED


class EventPlugin:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    async def mediavault_on_event(self, event: Event) -> None:
        self.seen.append((event.name, event.payload))


def test_on_event_hook_sees_committed_events_only(tmp_path: Path) -> None:
    plugin = EventPlugin()
    config = make_config(tmp_path, plugins=(plugin,), max_upload_size=100)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(b"hello world", "a.txt")
        too_big = client.post(f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("b.txt", b"x" * 500)})
        assert too_big.status_code == 413
        assert client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
    # the lifespan drained every dispatch before the client closed
    assert [name for name, _ in plugin.seen] == ["user.registered", "media.uploaded", "media.deleted"]
    uploaded = plugin.seen[1][1]
    assert uploaded["event"] == "media.uploaded" and uploaded["data"]["id"] == media["id"]
    assert uploaded["data"]["user_id"] == alice.id and uploaded["data"]["type"] == "document"
    assert set(uploaded) == {"id", "event", "data", "timestamp"}
