"""Embedding in a host app: host responses untouched, several vaults (HTTP, realtime, rate limits, start-up
checks), health, OpenAPI, migrate CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import ImproperlyConfiguredException, NotFoundException, WebSocketDisconnect
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath, JSONBody
from litestar.testing import TestClient
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from mediavault import MediaVault, MediaVaultConfig
from mediavault.auth.providers import PRINCIPAL_SCOPE_KEY
from mediavault.hookspecs import hookimpl
from mediavault.realtime.socket import CLOSE_UNAUTHORIZED
from mediavault.storage.fsspec import FsspecStorage
from tests.api._checks import error, success
from tests.backends import stored_objects, table_names
from tests.conftest import Account, make_config
from tests.files import make_png

VAULT_TABLES = {
    "mediavault_user",
    "mediavault_token_family",
    "mediavault_refresh_token",
    "mediavault_media",
    "mediavault_media_tag",
    "mediavault_outbox_event",
}


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@get("/items/{item_id:int}")
async def item(item_id: FromPath[int]) -> dict[str, int]:
    if item_id > 10:
        raise NotFoundException("no such item")
    return {"id": item_id}


@post("/echo")
async def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return data


def host_404(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return Response({"host_error": "nothing here", "path": request.url.path}, status_code=404)


@pytest.fixture
def host(tmp_path: Path) -> Any:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    app = Litestar(
        route_handlers=[hello, item, echo],
        exception_handlers={404: host_404},
        plugins=[
            MediaVault(make_config(tmp_path / "a", path_prefix="/api/v1")),
            MediaVault(make_config(tmp_path / "b", path_prefix="/vault2")),
        ],
    )
    with TestClient(app) as client:
        yield client


def test_host_routes_unchanged(host: TestClient[Litestar]) -> None:
    response = host.get("/hello", headers={"X-Request-ID": "host-req"})
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert "x-request-id" not in response.headers
    response = host.post("/echo", json={"a": 1})
    assert response.status_code == 201 and response.json() == {"a": 1}
    assert "x-request-id" not in response.headers


def test_host_404_keeps_host_format(host: TestClient[Litestar]) -> None:
    for path in ("/nope", "/items/11", "/api/v10/media", "/vault2x/health", "/api"):
        response = host.get(path)
        assert response.status_code == 404
        assert response.json() == {"host_error": "nothing here", "path": path}
        assert "x-request-id" not in response.headers


def test_host_405_keeps_litestar_format(host: TestClient[Litestar]) -> None:
    response = host.delete("/hello")
    assert response.status_code == 405
    body = response.json()
    assert "success" not in body and body["status_code"] == 405
    assert "x-request-id" not in response.headers


def test_host_validation_error_keeps_litestar_format(host: TestClient[Litestar]) -> None:
    response = host.post("/echo", content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "success" not in response.json()


def test_vault_errors_still_enveloped_in_host(host: TestClient[Litestar]) -> None:
    error(host.get("/api/v1/nope"), 404, "not_found")
    error(host.get("/vault2/nope"), 404, "not_found")
    error(host.delete("/vault2/health"), 405, "method_not_allowed")
    error(host.get("/vault2/users/me"), 401, "unauthorized")


def test_two_vaults_independent(host: TestClient[Litestar], tmp_path: Path) -> None:
    one = Account(host, "same@example.com")
    # the same email registers separately in the second vault (own database)
    registered = host.post("/vault2/auth/register", json={"email": "same@example.com", "password": "other password"})
    assert success(registered, 201)["id"] != one.id
    login = host.post("/vault2/auth/login", json={"username": "same@example.com", "password": "other password"})
    two_token = success(login)["token"]
    two = {"Authorization": f"Bearer {two_token}"}

    # tokens do not cross vaults (same secret in both configs here, but the other database knows no such login)
    error(host.get("/vault2/users/me", headers=one.headers), 401, "unauthorized")
    error(host.get("/api/v1/users/me", headers=two), 401, "unauthorized")

    media = one.upload(make_png(), "one.png")
    assert media["content_url"].startswith("/api/v1/media/")
    uploaded = host.post("/vault2/media/upload", headers=two, files={"file": ("two.txt", b"second vault")})
    media2 = success(uploaded, 201)
    assert media2["content_url"] == f"/vault2/media/{media2['id']}/content"
    assert host.get(media2["content_url"], headers=two).content == b"second vault"

    listed = host.get("/vault2/media", headers=two)
    assert [m["id"] for m in success(listed)] == [media2["id"]]
    assert listed.json()["meta"]["pagination"]["links"] == {"next": None, "prev": None}
    assert [m["id"] for m in success(host.get("/api/v1/media", headers=one.headers))] == [media["id"]]
    error(host.get(f"/vault2/media/{media['id']}", headers=two), 404, "not_found")

    assert table_names(make_config(tmp_path / "a")) >= VAULT_TABLES
    assert table_names(make_config(tmp_path / "b")) >= VAULT_TABLES
    assert list(stored_objects(make_config(tmp_path / "b")).values()) == [b"second vault"]


def _login(host: TestClient[Litestar], prefix: str, email: str) -> dict[str, str]:
    password = "correct horse battery"
    success(host.post(f"{prefix}/auth/register", json={"email": email, "password": password}), 201)
    login = host.post(f"{prefix}/auth/login", json={"username": email, "password": password})
    return {"Authorization": f"Bearer {success(login)['token']}"}


def _subscribed(ws: Any, headers: dict[str, str]) -> None:
    ws.send_json({"type": "auth", "token": headers["Authorization"].removeprefix("Bearer ")})
    assert ws.receive_json(timeout=10) == {"type": "auth_ok"}
    ws.send_json({"type": "subscribe", "channel": "media_updates"})
    assert ws.receive_json(timeout=10)["type"] == "subscribed"


def test_two_vaults_each_own_realtime_socket(host: TestClient[Litestar]) -> None:
    one = _login(host, "/api/v1", "one@example.com")
    two = _login(host, "/vault2", "two@example.com")
    # each socket knows only its own vault's logins
    for path, stranger in (("/realtime", two), ("/vault2/realtime", one)):
        with host.websocket_connect(path) as ws:
            ws.send_json({"type": "auth", "token": stranger["Authorization"].removeprefix("Bearer ")})
            assert ws.receive_json(timeout=10)["error"]["code"] == "unauthorized"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json(timeout=10)
            assert closed.value.code == CLOSE_UNAUTHORIZED

    with host.websocket_connect("/realtime") as ws_one, host.websocket_connect("/vault2/realtime") as ws_two:
        _subscribed(ws_one, one)
        _subscribed(ws_two, two)
        first = success(host.post("/api/v1/media/upload", headers=one, files={"file": ("a.txt", b"one")}), 201)
        second = success(host.post("/vault2/media/upload", headers=two, files={"file": ("b.txt", b"two")}), 201)
        # each socket's first event is its own vault's upload: the other vault's never reached it
        assert ws_two.receive_json(timeout=10)["resource_id"] == second["id"]
        assert ws_one.receive_json(timeout=10)["resource_id"] == first["id"]


def test_two_vaults_each_own_rate_limit(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    vaults = [
        MediaVault(make_config(tmp_path / "a", rate_limit_anonymous=2)),
        MediaVault(make_config(tmp_path / "b", path_prefix="/vault2", rate_limit_anonymous=3)),
    ]
    with TestClient(Litestar(plugins=vaults)) as client:
        for _ in range(2):  # anonymous 401s spend the budget too
            error(client.get("/api/v1/users/me"), 401, "unauthorized")
        error(client.get("/api/v1/users/me"), 429, "rate_limited")
        for _ in range(3):  # the first vault's spent budget is not the second's
            response = client.get("/vault2/users/me")
            error(response, 401, "unauthorized")
            assert response.headers["x-ratelimit-limit"] == "3"
        error(client.get("/vault2/users/me"), 429, "rate_limited")


def test_realtime_path_follows_the_prefix() -> None:
    key = {"secret_key": "k" * 32}
    assert MediaVaultConfig(**key).realtime_path == "/realtime"  # the contract's default, outside /api/v1
    assert MediaVaultConfig(**key, path_prefix="/").realtime_path == "/realtime"
    assert MediaVaultConfig(**key, path_prefix="/photos/").realtime_path == "/photos/realtime"
    assert MediaVaultConfig(**key, path_prefix="/photos", realtime_path="/ws").realtime_path == "/ws"


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({}, {}, "path_prefix='/api/v1'"),
        ({"path_prefix": "/vault2"}, {"path_prefix": "/vault2/"}, "path_prefix='/vault2'"),
        ({}, {"path_prefix": "/"}, "realtime_path='/realtime'"),  # both default to /realtime
        ({"realtime_path": "/ws"}, {"path_prefix": "/vault2", "realtime_path": "/ws"}, "realtime_path='/ws'"),
    ],
)
def test_colliding_vaults_refused_at_start_up(
    tmp_path: Path, first: dict[str, Any], second: dict[str, Any], field: str
) -> None:
    vaults = [MediaVault(make_config(tmp_path, **first)), MediaVault(make_config(tmp_path, **second))]
    with pytest.raises(ImproperlyConfiguredException, match=f"#1 and #2 of this app both have {field}"):
        Litestar(plugins=vaults)


def test_request_id_only_on_vault_routes(host: TestClient[Litestar]) -> None:
    response = host.get("/vault2/health", headers={"X-Request-ID": "v2"})
    success(response)
    assert response.headers["x-request-id"] == "v2"


def test_health(host: TestClient[Litestar]) -> None:
    for prefix in ("/api/v1", "/vault2"):
        data = success(host.get(f"{prefix}/health"))
        assert data == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


class _BrokenStorage(FsspecStorage):
    async def check(self) -> None:
        raise OSError("disk on fire")


class _BrokenStoragePlugin:
    def __init__(self, url: str) -> None:
        self.url = url

    @hookimpl
    def mediavault_storage_backend(self, config):  # type: ignore[no-untyped-def]
        return _BrokenStorage(self.url)


def test_health_503(tmp_path: Path) -> None:
    plugin = _BrokenStoragePlugin((tmp_path / "media").as_uri())
    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path, plugins=[plugin]))])) as client:
        response = client.get("/api/v1/health")
        assert response.status_code == 503
        body = response.json()
        assert body["data"]["checks"] == {"database": "ok", "storage": "error"}
        assert body["data"]["status"] != "ok"
        assert "disk on fire" not in response.text
        assert body["meta"]["request_id"] == response.headers["x-request-id"]


VAULT_ENDPOINTS = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("get", "/users/me"),
    ("patch", "/users/me"),
    ("post", "/media/upload"),
    ("get", "/media"),
    ("get", "/media/{media_id}"),
    ("patch", "/media/{media_id}"),
    ("delete", "/media/{media_id}"),
    ("get", "/media/{media_id}/content"),
    ("head", "/media/{media_id}/content"),
    ("get", "/health"),
}


def _operations(document: dict[str, Any], prefix: str) -> set[tuple[str, str]]:
    ops = set()
    for path, item in document["paths"].items():
        assert path.startswith(prefix + "/"), path
        for method in item:
            if method in {"get", "post", "put", "patch", "delete", "head"}:
                ops.add((method, path.removeprefix(prefix).rstrip("/") or "/"))
    return ops


def test_openapi(host: TestClient[Litestar]) -> None:
    for prefix in ("/api/v1", "/vault2"):
        response = host.get(f"{prefix}/schema/openapi.json")
        assert response.status_code == 200
        document = response.json()
        assert "success" not in document
        assert document["openapi"].startswith("3.")
        assert _operations(document, prefix) >= VAULT_ENDPOINTS
        assert "/hello" not in document["paths"]


def test_litestar_migrate_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from litestar.cli.main import litestar_group

    monkeypatch.setenv("MV_TEST_DIR", str(tmp_path))
    monkeypatch.delenv("LITESTAR_APP", raising=False)
    result = CliRunner().invoke(
        litestar_group, ["--app", "tests.api._cli_app:create_app", "mediavault", "migrate"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "/one" in result.output and "/two" in result.output
    assert table_names(make_config(tmp_path / "one")) >= VAULT_TABLES
    assert table_names(make_config(tmp_path / "two")) >= VAULT_TABLES
    # idempotent
    again = CliRunner().invoke(litestar_group, ["--app", "tests.api._cli_app:create_app", "mediavault", "migrate"])
    assert again.exit_code == 0, again.output


def test_mediavault_migrate_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediavault.cli import main

    for name in ("MEDIAVAULT_DATABASE_URL", "MEDIAVAULT_STORAGE_URL", "MEDIAVAULT_SECRET_KEY", "MEDIAVAULT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(main, ["migrate", "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # the data dir's own SQLite file, whatever the leg: this is about the CLI's embedded default
    assert table_names(make_config(data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'mediavault.db'}")) >= (
        VAULT_TABLES
    )
    assert (data_dir / "secret_key").exists()


def test_host_media_type_text_route_untouched(tmp_path: Path) -> None:
    @get("/plain", media_type=MediaType.TEXT)
    async def plain() -> str:
        return "plain text"

    with TestClient(Litestar(route_handlers=[plain], plugins=[MediaVault(make_config(tmp_path))])) as client:
        response = client.get("/plain")
        assert response.text == "plain text" and "x-request-id" not in response.headers
        missing = client.get("/missing")
        assert missing.status_code == 404 and "success" not in missing.json()
        assert "x-request-id" not in missing.headers


class HostAuthMiddleware(ASGIMiddleware):
    """A host's own authentication: it keeps its user in ``scope["user"]`` and ``scope["auth"]``, as Litestar's does."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = "host-user"
        scope["auth"] = "host-auth"
        await next_app(scope, receive, send)


def test_vault_authentication_leaves_the_hosts_user_and_auth_alone(tmp_path: Path) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def record(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            seen.append((scope.get("user"), scope.get("auth"), scope.get(PRINCIPAL_SCOPE_KEY)))

    vault = MediaVault(make_config(tmp_path))
    app = Litestar(route_handlers=[hello], plugins=[vault], middleware=[HostAuthMiddleware()], before_send=[record])
    with TestClient(app) as client:
        alice = Account(client, "alice@example.com")
        seen.clear()
        assert client.get("/api/v1/users/me", headers=alice.headers).status_code == 200
        [(user, auth, principal)] = seen
        assert (user, auth) == ("host-user", "host-auth")  # the vault's principal lives under its own key
        assert str(principal.user_id) == alice.id and principal.method == "jwt"
