"""Realtime WebSocket, and rate limits across processes, against real ``mediavault serve`` processes.

A real client (``websockets``) over real sockets. The two-process tests share the machine's Redis
(127.0.0.1:6379, as in CI; they never skip) and one SQLite file; every test uses its own Redis key prefix,
so parallel runs never share counters or channels, and nothing is ever flushed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer, register_and_login

REDIS_URL = "redis://127.0.0.1:6379/0"
# Generous budgets for the protocol tests: every request of this module comes from 127.0.0.1.
ROOMY = {
    "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "100000",
    "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": "100000",
    "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": "100000",
    "MEDIAVAULT_REALTIME_AUTH_TIMEOUT": "1",
}


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


class User:
    """A registered user of a server, with an HTTP client and its access token."""

    def __init__(self, server: VaultServer, tag: str) -> None:
        self.server = server
        self.http = server.client()
        self.email = unique_email(tag)
        self.headers = register_and_login(self.http, self.email)
        self.token = self.headers["Authorization"].removeprefix("Bearer ")

    def upload(self, content: bytes = b"hello", name: str = "a.txt") -> dict[str, Any]:
        response = self.http.post("/media/upload", headers=self.headers, files={"file": (name, content)})
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def patch(self, media_id: str, **fields: Any) -> None:
        assert self.http.patch(f"/media/{media_id}", headers=self.headers, json=fields).status_code == 200


def open_socket(server: VaultServer) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}/realtime", open_timeout=10, close_timeout=2)


def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def send(ws: ClientConnection, **message: Any) -> None:
    ws.send(json.dumps(message))


@contextmanager
def authed(server: VaultServer, token: str) -> Iterator[ClientConnection]:
    with open_socket(server) as ws:
        send(ws, type="auth", token=token)
        assert recv(ws) == {"type": "auth_ok"}
        yield ws


def subscribe(ws: ClientConnection, channel: str, resource_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "subscribe", "channel": channel}
    if resource_id is not None:
        message["resource_id"] = resource_id
    send(ws, **message)
    return recv(ws)


def expect_close(ws: ClientConnection, code: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Read until the server closes; return the frames read before, check the close code."""
    frames = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frames.append(json.loads(ws.recv(timeout=timeout)))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code, closed.value
    return frames


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> VaultServer:
    return module_servers.start(env=ROOMY)


# --------------------------------------------------------------------------- protocol


def test_full_flow_subscribe_event_unsubscribe(server: VaultServer) -> None:
    alice = User(server, "flow")
    first = alice.upload(b"one", "one.txt")
    with authed(server, alice.token) as ws:
        assert subscribe(ws, "media_updates", first["id"]) == {
            "type": "subscribed",
            "channel": "media_updates",
            "resource_id": first["id"],
        }
        alice.patch(first["id"], title="renamed")
        event = recv(ws)
        assert event["type"] == "event"
        assert (event["channel"], event["resource_id"], event["event"]) == (
            "media_updates",
            first["id"],
            "media.updated",
        )
        assert event["data"]["id"] == first["id"]
        assert event["data"]["user_id"]
        assert event["timestamp"].endswith("Z")

        # A subscription to one media only: another media's events are not sent.
        second = alice.upload(b"two", "two.txt")
        alice.patch(first["id"], title="again")
        assert recv(ws)["data"]["id"] == first["id"]

        # Without resource_id: all the caller's media, one socket holding several subscriptions.
        assert subscribe(ws, "media_updates")["resource_id"] is None
        alice.patch(second["id"], title="second")
        event = recv(ws)
        assert (event["resource_id"], event["event"]) == (second["id"], "media.updated")

        send(ws, type="unsubscribe", channel="media_updates")
        assert recv(ws) == {"type": "unsubscribed", "channel": "media_updates", "resource_id": None}
        alice.patch(second["id"], title="unseen")  # only the per-id subscription of `first` is left
        assert alice.http.delete(f"/media/{first['id']}", headers=alice.headers).status_code == 204
        event = recv(ws)
        assert (event["resource_id"], event["event"]) == (first["id"], "media.deleted")

        send(ws, type="unsubscribe", channel="media_updates", resource_id=first["id"])
        assert recv(ws)["type"] == "unsubscribed"
        alice.patch(second["id"], title="also unseen")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_new_uploads_reach_an_all_media_subscription(server: VaultServer) -> None:
    alice = User(server, "uploads")
    with authed(server, alice.token) as ws:
        subscribe(ws, "media_updates")
        media = alice.upload(b"fresh", "fresh.txt")
        event = recv(ws)
        assert (event["event"], event["resource_id"], event["data"]["type"]) == (
            "media.uploaded",
            media["id"],
            media["type"],
        )


def test_foreign_and_unknown_resources_are_not_found(server: VaultServer) -> None:
    alice, bob = User(server, "owner"), User(server, "intruder")
    secret = alice.upload(b"alice only", "secret.txt")
    with authed(server, bob.token) as ws:
        for channel, resource_id in (
            ("media_updates", secret["id"]),
            ("media_updates", str(uuid.uuid4())),
            ("media_updates", "not-an-id"),
            ("collection_updates", str(uuid.uuid4())),
        ):
            answer = subscribe(ws, channel, resource_id)
            assert answer["type"] == "error", answer
            assert answer["error"]["code"] == "not_found"
        # Bob's all-media subscription never carries Alice's events.
        subscribe(ws, "media_updates")
        alice.patch(secret["id"], title="private")
        mine = bob.upload(b"bob's", "bob.txt")
        event = recv(ws)
        assert event["resource_id"] == mine["id"]  # the first event bob sees is his own


def test_collection_events(server: VaultServer) -> None:
    alice = User(server, "collections")
    created = alice.http.post("/collections", headers=alice.headers, json={"name": "trip"})
    if created.status_code == 404:  # collections not mounted in this build
        pytest.fail("collections endpoints missing")
    assert created.status_code == 201, created.text
    collection = created.json()["data"]
    with authed(server, alice.token) as ws:
        assert subscribe(ws, "collection_updates", collection["id"])["type"] == "subscribed"
        subscribe(ws, "collection_updates")
        other = alice.http.post("/collections", headers=alice.headers, json={"name": "other"}).json()["data"]
        event = recv(ws)
        assert (event["channel"], event["event"], event["resource_id"]) == (
            "collection_updates",
            "collection.created",
            other["id"],
        )


def test_malformed_messages_keep_the_socket(server: VaultServer) -> None:
    alice = User(server, "malformed")
    with authed(server, alice.token) as ws:
        for raw in ("not json", json.dumps({"type": "dance"}), json.dumps({"type": "subscribe", "channel": "x"})):
            ws.send(raw)
            answer = recv(ws)
            assert answer["type"] == "error"
            assert answer["error"]["code"] == "validation_error"
        assert subscribe(ws, "media_updates")["type"] == "subscribed"


# --------------------------------------------------------------------------- 4401


def _expired_token(server: VaultServer, user: User) -> str:
    secret = (server.data_dir / "secret_key").read_text().strip()
    claims = jwt.decode(user.token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    return jwt.encode(claims, secret, algorithm="HS256")


def test_4401_cases(server: VaultServer) -> None:
    alice = User(server, "closes")
    login = alice.http.post("/auth/login", json={"username": alice.email, "password": PASSWORD}).json()["data"]
    forged = jwt.encode({"sub": str(uuid.uuid4()), "type": "access"}, "wrong-key-" * 4, algorithm="HS256")
    cases: dict[str, str] = {
        "garbage token": "abc",
        "forged token": forged,
        "expired token": _expired_token(server, alice),
        "refresh token": login["refresh_token"],
        "unknown api key": "mvk_" + "A" * 43,
    }
    for name, token in cases.items():
        with open_socket(server) as ws:
            send(ws, type="auth", token=token)
            frames = expect_close(ws, 4401)
            assert [f["error"]["code"] for f in frames] == ["unauthorized"], name

    with open_socket(server) as ws:  # something else first
        send(ws, type="subscribe", channel="media_updates")
        assert [f["error"]["code"] for f in expect_close(ws, 4401)] == ["unauthorized"]

    with open_socket(server) as ws:  # nothing within MEDIAVAULT_REALTIME_AUTH_TIMEOUT (1 s here)
        started = time.monotonic()
        expect_close(ws, 4401)
        assert 0.8 < time.monotonic() - started < 4


def test_logout_closes_the_socket_with_4401(server: VaultServer) -> None:
    alice = User(server, "logout")
    media = alice.upload()
    other_login = register_login_again(alice)
    with authed(server, alice.token) as ws, authed(server, other_login) as survivor:
        subscribe(ws, "media_updates")
        subscribe(survivor, "media_updates")
        assert alice.http.post("/auth/logout", headers=alice.headers).status_code == 204
        frames = expect_close(ws, 4401)
        assert frames[-1]["error"]["code"] == "unauthorized"
        # The same user's other login keeps its socket and its events.
        other_headers = {"Authorization": f"Bearer {other_login}"}
        assert alice.http.patch(f"/media/{media['id']}", headers=other_headers, json={"title": "t"}).status_code == 200
        assert recv(survivor)["event"] == "media.updated"
    with open_socket(server) as ws:  # the logged-out token cannot open a new socket either
        send(ws, type="auth", token=alice.token)
        expect_close(ws, 4401)


def register_login_again(user: User) -> str:
    login = user.http.post("/auth/login", json={"username": user.email, "password": PASSWORD})
    assert login.status_code == 200
    return login.json()["data"]["token"]


def test_api_key_authenticates_a_socket_and_revocation_closes_it_on_recheck(vault_servers: ServerFactory) -> None:
    server = vault_servers.start(env={**ROOMY, "MEDIAVAULT_REALTIME_RECHECK_INTERVAL": "0.5"})
    alice = User(server, "apikey")
    created = alice.http.post("/users/me/api-keys", headers=alice.headers, json={"name": "ws"}).json()["data"]
    with authed(server, created["key"]) as ws:
        subscribe(ws, "media_updates")
        alice.upload()
        assert recv(ws)["event"] == "media.uploaded"
        assert alice.http.delete(f"/users/me/api-keys/{created['id']}", headers=alice.headers).status_code == 204
        expect_close(ws, 4401, timeout=5)


# --------------------------------------------------------------------------- two processes sharing Redis


@pytest.fixture
def redis_pair(vault_servers: ServerFactory, tmp_path: Path) -> Iterator[tuple[VaultServer, VaultServer]]:
    """Two servers on one SQLite file and one Redis, under a key prefix of their own."""
    prefix = f"mvtest-{uuid.uuid4().hex}"
    env = {
        "MEDIAVAULT_REDIS_URL": REDIS_URL,
        "MEDIAVAULT_REDIS_KEY_PREFIX": prefix,
        "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "10",
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": "100",
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": "100",
    }
    shared = tmp_path / "shared-data"
    a = vault_servers.start(shared, env=env)
    b = vault_servers.start(shared, env=env)
    assert a.port != b.port and a.pid != b.pid
    yield a, b


def test_event_raised_on_a_reaches_a_socket_on_b(redis_pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = redis_pair
    alice = User(a, "cross")
    media = alice.upload()
    with authed(b, alice.token) as ws:
        subscribe(ws, "media_updates", media["id"])  # authorised by B against the shared database
        alice.patch(media["id"], title="from A")  # the request goes to A
        event = recv(ws)
        assert (event["event"], event["resource_id"], event["data"]["id"]) == (
            "media.updated",
            media["id"],
            media["id"],
        )
        # Logging out on A closes the socket held by B at once (no waiting for the re-check interval).
        assert alice.http.post("/auth/logout", headers=alice.headers).status_code == 204
        expect_close(ws, 4401, timeout=3)


def test_budget_spent_on_a_is_spent_on_b(redis_pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = redis_pair
    with httpx.Client(base_url=a.base_url + "/api/v1") as on_a, httpx.Client(base_url=b.base_url + "/api/v1") as on_b:
        left = [int(on_a.get("/nothing").headers["x-ratelimit-remaining"]) for _ in range(6)]
        assert left == [9, 8, 7, 6, 5, 4]
        left = [int(on_b.get("/nothing").headers["x-ratelimit-remaining"]) for _ in range(4)]
        assert left == [3, 2, 1, 0]
        blocked = on_b.get("/nothing")
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert int(blocked.headers["retry-after"]) >= 1
        assert on_a.get("/users/me").status_code == 429
        assert on_a.get("/health").status_code == 200  # never limited


# --------------------------------------------------------------------------- client address behind proxies


def _spend_with_forwarded_for(server: VaultServer, count: int) -> list[int]:
    with httpx.Client(base_url=server.base_url + "/api/v1") as client:
        return [client.get("/nothing", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(count)]


def test_forwarded_for_from_an_untrusted_peer_is_ignored(vault_servers: ServerFactory) -> None:
    server = vault_servers.start(env={"MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "3"})
    assert _spend_with_forwarded_for(server, 5) == [404, 404, 404, 429, 429]


def test_forwarded_for_from_a_trusted_proxy_is_the_client(vault_servers: ServerFactory) -> None:
    server = vault_servers.start(
        env={"MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "3", "MEDIAVAULT_TRUSTED_PROXIES": "127.0.0.1"}
    )
    assert _spend_with_forwarded_for(server, 5) == [404] * 5  # five different clients
    with httpx.Client(base_url=server.base_url + "/api/v1") as client:
        same = [client.get("/nothing", headers={"X-Forwarded-For": "198.51.100.9"}).status_code for _ in range(4)]
    assert same == [404, 404, 404, 429]
