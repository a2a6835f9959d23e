"""Several ``mediavault serve`` processes of one deployment: PostgreSQL + Redis + S3 (moto), always.

These tests are about the shared engines, so they use them on both legs of the test matrix: each test gets its
own PostgreSQL schema, Redis key prefix and S3 prefix (``tests/backends.py``), and two servers, A (one process) and
B (``--workers 2``), each with its own port and data dir, share them and one ``MEDIAVAULT_SECRET_KEY``, exactly as a
deployment's processes do. The module's tests share the pair; each registers its own users.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mediavault.cli import main
from tests.backends import BACKENDS
from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer
from tests.e2e.test_realtime import authed, recv, subscribe
from tests.webhooks.receiver import Receiver

SECRET_KEY = "scale-out-test-secret-" + "k" * 32
WEBHOOK_SECRET = "whsec_c2NhbGUtb3V0LXRlc3Qtc2VjcmV0LWtleQ=="
ROOMY = {
    "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "100000",
    "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": "100000",
    "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": "100000",
}


def deployment_env(root: Path, **extra: str) -> dict[str, str]:
    """``MEDIAVAULT_*`` of one deployment rooted at ``root``: its PostgreSQL schema, Redis prefix, S3 prefix."""
    return {
        "MEDIAVAULT_DATABASE_URL": BACKENDS.postgres_url(root),
        **BACKENDS.redis_env(root),
        **BACKENDS.s3_env(root),
        "MEDIAVAULT_SECRET_KEY": SECRET_KEY,
        **ROOMY,
        **extra,
    }


def start_together(factory: ServerFactory, env: dict[str, str], workers: tuple[int, ...]) -> list[VaultServer]:
    """Start one server per entry of ``workers`` (its ``--workers``) at once, so they migrate the same database
    at the same time, and wait for all."""
    servers = [
        VaultServer(factory.tmp / f"node-{i}", env=env, log_dir=factory.tmp / "logs", workers=n)
        for i, n in enumerate(workers)
    ]
    factory.servers.extend(servers)
    for server in servers:
        server.wait_ready(timeout=90)  # several processes import and start on a machine shared with other runs
    return servers


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A webhook receiver, the host-level endpoint of :func:`pair` for ``media.uploaded``."""
    with Receiver() as started:
        yield started


@pytest.fixture(scope="module")
def pair(module_servers: ServerFactory, receiver: Receiver) -> tuple[VaultServer, VaultServer]:
    """Servers A (one process) and B (``--workers 2``: three processes in all) of one deployment, shared by this
    module's tests (each test has its own users)."""
    hook = [{"url": receiver.url, "secret": WEBHOOK_SECRET, "events": ["media.uploaded"]}]
    env = deployment_env(
        module_servers.tmp / "deployment",
        MEDIAVAULT_WEBHOOKS=json.dumps(hook),
        MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS="true",
        MEDIAVAULT_WEBHOOK_POLL_INTERVAL="0.2",
    )
    a, b = start_together(module_servers, env, workers=(1, 2))
    return a, b


def login(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def register(client: httpx.Client) -> str:
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['token']}"}


def test_upload_on_a_is_downloadable_from_b(pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = pair
    content = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: several reads, not one buffer
    with a.client() as on_a, b.client() as on_b:
        auth = bearer(login(on_a, register(on_a)))
        media = on_a.post("/media/upload", headers=auth, files={"file": ("blob.bin", content)})
        assert media.status_code == 201, media.text
        media_id = media.json()["data"]["id"]

        whole = on_b.get(f"/media/{media_id}/content", headers=auth)
        assert whole.status_code == 200 and whole.content == content
        part = on_b.get(f"/media/{media_id}/content", headers={**auth, "Range": "bytes=1048570-"})
        assert part.status_code == 206 and part.content == content[1048570:]
        assert on_b.delete(f"/media/{media_id}", headers=auth).status_code == 204
        assert on_a.get(f"/media/{media_id}/content", headers=auth).status_code == 404


def test_logout_on_a_kills_the_token_on_b_at_once(pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email = register(on_a)
        tokens, other = login(on_a, email), login(on_b, email)
        assert on_b.get("/users/me", headers=bearer(tokens)).status_code == 200  # B has seen the token alive

        assert on_a.post("/auth/logout", headers=bearer(tokens)).status_code == 204
        # The very next request, on the other process: no window.
        dead = on_b.get("/users/me", headers=bearer(tokens))
        assert dead.status_code == 401 and dead.json()["error"]["code"] == "unauthorized"
        refreshed = on_b.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401
        assert on_a.get("/users/me", headers=bearer(other)).status_code == 200  # only that login ended


def test_refresh_token_reuse_on_b_revokes_the_family_on_a(pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        tokens = login(on_a, register(on_a))
        rotated = on_a.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200
        new_access = bearer(rotated.json()["data"])
        assert on_a.get("/users/me", headers=new_access).status_code == 200

        replay = on_b.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # a stolen copy
        assert replay.status_code == 401
        assert on_a.get("/users/me", headers=new_access).status_code == 401


def test_realtime_event_raised_on_a_reaches_a_socket_on_b(pair: tuple[VaultServer, VaultServer]) -> None:
    a, b = pair
    with a.client() as on_a:
        tokens = login(on_a, register(on_a))
        with authed(b, tokens["token"]) as ws:
            assert subscribe(ws, "media_updates")["type"] == "subscribed"
            media = on_a.post("/media/upload", headers=bearer(tokens), files={"file": ("a.txt", b"hello")})
            assert media.status_code == 201
            event = recv(ws, timeout=10)
            assert event["type"] == "event" and event["event"] == "media.uploaded"
            assert event["resource_id"] == media.json()["data"]["id"]


def test_a_webhook_is_delivered_exactly_once_by_both_servers_workers(
    pair: tuple[VaultServer, VaultServer], receiver: Receiver
) -> None:
    a, b = pair
    events = 12
    with a.client() as on_a, b.client() as on_b:
        email = register(on_a)
        clients = [(on_a, bearer(login(on_a, email))), (on_b, bearer(login(on_b, email)))]
        uploaded = set()
        for i in range(events):  # alternate: both processes raise events and both workers compete for them
            client, auth = clients[i % 2]
            response = client.post("/media/upload", headers=auth, files={"file": (f"{i}.txt", b"x%d" % i)})
            assert response.status_code == 201, response.text
            uploaded.add(response.json()["data"]["id"])

    def deliveries() -> list[str]:
        """``webhook-id`` of every delivery of this test's uploads received so far."""
        return [r.id for r in list(receiver.requests) if r.json["data"]["id"] in uploaded]

    deadline = time.monotonic() + 30
    while len(set(deliveries())) < events and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # five poll intervals of both workers: a second delivery would have arrived by now
    ids = deliveries()
    assert len(set(ids)) == events and len(ids) == events, ids


def test_serve_with_several_workers_serves_one_port_from_every_worker(pair: tuple[VaultServer, VaultServer]) -> None:
    _, b = pair
    assert len(b.worker_pids()) == 2, b.worker_pids()
    with b.client() as client:
        tokens = login(client, register(client))
    # New connections each time: the kernel spreads them over both workers, and every one knows the token
    # (one secret key) and then its revocation.
    for _ in range(12):
        with b.client() as fresh:
            assert fresh.get("/users/me", headers=bearer(tokens)).status_code == 200
    with b.client() as client:
        assert client.post("/auth/logout", headers=bearer(tokens)).status_code == 204
    for _ in range(12):
        with b.client() as fresh:
            assert fresh.get("/users/me", headers=bearer(tokens)).status_code == 401


def test_serve_refuses_several_workers_without_shared_state(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    # serve sets MEDIAVAULT_DATA_DIR for its workers: naming it here makes CliRunner restore it afterwards
    env = {"MEDIAVAULT_REDIS_URL": "", "MEDIAVAULT_DATA_DIR": data_dir}
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--data-dir", data_dir], env=env)
    assert result.exit_code == 2
    assert "--workers 2 needs state shared by every process" in result.output
    assert "redis_url is not set" in result.output
