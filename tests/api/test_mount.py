"""The vault mounted in a Starlette and in a FastAPI app (``mediavault.asgi``; ``examples/*_mount.py``, shown
verbatim in docs/embedding.md): through their own TestClient, the vault's lifespan run by the host's, every path
under the mount."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from examples import fastapi_mount, starlette_mount
from mediavault import MediaVaultConfig
from tests.api._checks import error, success
from tests.backends import table_names
from tests.conftest import make_config
from tests.files import make_png

HOSTS: dict[str, Callable[[MediaVaultConfig], Any]] = {
    "starlette": starlette_mount.create_app,
    "fastapi": fastapi_mount.create_app,
}
VAULT = "/media/api/v1"


@pytest.fixture(params=sorted(HOSTS))
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    # auto_migrate on an empty database: the tables exist only if the host ran the vault's lifespan
    config = make_config(tmp_path, auto_migrate=False)
    config.auto_migrate = True
    config.processing_worker = True
    with TestClient(HOSTS[request.param](config)) as client:
        yield client


def test_host_route_and_vault_side_by_side(host: TestClient, tmp_path: Path) -> None:
    assert host.get("/hello").json() == {"hello": "world"}
    assert success(host.get(f"{VAULT}/health"))["status"] == "ok"
    assert table_names(make_config(tmp_path)) >= {"mediavault_user", "mediavault_media"}  # migrations ran


def test_register_login_upload_download_range(host: TestClient) -> None:
    password = "correct horse battery"
    success(host.post(f"{VAULT}/auth/register", json={"email": "a@example.com", "password": password}), 201)
    login = host.post(f"{VAULT}/auth/login", json={"username": "a@example.com", "password": password})
    headers = {"Authorization": f"Bearer {success(login)['token']}"}
    assert success(host.get(f"{VAULT}/users/me", headers=headers))["email"] == "a@example.com"

    content = bytes(range(256)) * 40
    media = success(host.post(f"{VAULT}/media/upload", headers=headers, files={"file": ("a.bin", content)}), 201)
    # URLs in answers are paths of the vault app: the mount path goes in front
    assert media["content_url"] == f"/api/v1/media/{media['id']}/content"
    part = host.get("/media" + media["content_url"], headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(content)}"
    assert part.headers["x-request-id"]

    # the vault's errors keep their envelope under the mount, the host's 404 stays the host's
    error(host.get(f"{VAULT}/no/such/route"), 404, "not_found")
    error(host.delete(f"{VAULT}/health"), 405, "method_not_allowed")
    error(host.get(f"{VAULT}/users/me"), 401, "unauthorized")
    assert "success" not in host.get("/nowhere").text


def test_realtime_socket_under_the_mount(host: TestClient) -> None:
    password = "correct horse battery"
    success(host.post(f"{VAULT}/auth/register", json={"email": "b@example.com", "password": password}), 201)
    token = success(host.post(f"{VAULT}/auth/login", json={"username": "b@example.com", "password": password}))
    headers = {"Authorization": f"Bearer {token['token']}"}
    with host.websocket_connect("/media/realtime") as ws:
        ws.send_json({"type": "auth", "token": token["token"]})
        assert ws.receive_json() == {"type": "auth_ok"}
        ws.send_json({"type": "subscribe", "channel": "media_updates"})
        assert ws.receive_json()["type"] == "subscribed"
        media = success(host.post(f"{VAULT}/media/upload", headers=headers, files={"file": ("a.png", make_png())}), 201)
        event = ws.receive_json()
        assert (event["event"], event["resource_id"]) == ("media.uploaded", media["id"])
    # the processing worker started with the host's lifespan: the upload gets processed (polled, no timing asserted)
    for _ in range(400):
        state = success(host.get(f"{VAULT}/media/{media['id']}/metadata", headers=headers))
        if state["status"] != "pending":
            break
        time.sleep(0.025)
    assert state["status"] == "done", state
