"""The envelope, error codes and X-Request-ID on every kind of response."""

from __future__ import annotations

import uuid
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from mediavault.auth.providers import AuthProvider
from mediavault.hookspecs import hookimpl
from tests.api._checks import error, fields, success
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png


def test_success_shape(client: TestClient[Litestar], alice: Account) -> None:
    data = success(client.get(f"{PREFIX}/users/me", headers=alice.headers))
    assert data["email"] == "alice@example.com"


def test_list_has_pagination_meta(client: TestClient[Litestar], alice: Account) -> None:
    response = client.get(f"{PREFIX}/media", headers=alice.headers)
    assert success(response) == []
    assert response.json()["meta"]["pagination"] == {
        "total": 0,
        "count": 0,
        "per_page": 20,
        "current_page": 1,
        "total_pages": 0,
        "links": {"next": None, "prev": None},
    }


def test_400_malformed_json(client: TestClient[Litestar]) -> None:
    response = client.post(
        f"{PREFIX}/auth/login",
        content=b'{"username": "a@b.c", "password":',
        headers={"Content-Type": "application/json"},
    )
    error(response, 400, "validation_error")


def test_400_json_of_wrong_shape(client: TestClient[Litestar]) -> None:
    err = error(client.post(f"{PREFIX}/auth/login", json=["not", "an", "object"]), 400, "validation_error")
    assert err["details"]


def test_400_missing_body(client: TestClient[Litestar]) -> None:
    error(client.post(f"{PREFIX}/auth/login"), 400, "validation_error")


def test_400_missing_required_field(client: TestClient[Litestar]) -> None:
    err = error(client.post(f"{PREFIX}/auth/register", json={"email": "x@example.com"}), 400, "validation_error")
    assert "password" in fields(err) or "password" in err["message"]


def test_401_without_token(client: TestClient[Litestar]) -> None:
    error(client.get(f"{PREFIX}/users/me"), 401, "unauthorized")
    error(client.get(f"{PREFIX}/media"), 401, "unauthorized")


def test_403_registration_disabled(tmp_path: Path) -> None:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, allow_registration=False))])
    with TestClient(app) as client:
        response = client.post(f"{PREFIX}/auth/register", json={"email": "a@example.com", "password": "p" * 12})
        error(response, 403, "forbidden")


def test_404_unknown_route_under_prefix(client: TestClient[Litestar]) -> None:
    response = client.get(f"{PREFIX}/no/such/route", headers={"X-Request-ID": "trace-404"})
    error(response, 404, "not_found")
    assert response.headers["x-request-id"] == "trace-404"


def test_404_unknown_media(client: TestClient[Litestar], alice: Account) -> None:
    error(client.get(f"{PREFIX}/media/{uuid.uuid4()}", headers=alice.headers), 404, "not_found")


def test_405_wrong_method(client: TestClient[Litestar], alice: Account) -> None:
    response = client.delete(f"{PREFIX}/users/me", headers=alice.headers)
    error(response, 405, "method_not_allowed")
    assert "GET" in response.headers.get("allow", "")
    error(client.put(f"{PREFIX}/auth/login", json={}), 405, "method_not_allowed")
    error(client.get(f"{PREFIX}/auth/login"), 405, "method_not_allowed")


def test_409_duplicate(client: TestClient[Litestar], alice: Account) -> None:
    response = client.post(f"{PREFIX}/auth/register", json={"email": alice.email, "password": "p" * 12})
    error(response, 409, "conflict")


def test_failed_statement_is_not_a_conflict(tmp_path: Path) -> None:
    # A database the deploy forgot to migrate: advanced-alchemy reports the missing table as its IntegrityError,
    # which once answered 409 "conflicts with an existing one" and logged nothing.
    config = make_config(tmp_path, auto_migrate=False, webhook_worker=False)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        response = client.post(f"{PREFIX}/auth/register", json={"email": "a@example.com", "password": "p" * 12})
        error(response, 500, "internal_error")


def test_413_json_body_too_large(tmp_path: Path) -> None:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, max_json_body_size=200))])
    with TestClient(app) as client:
        response = client.post(f"{PREFIX}/auth/login", json={"username": "a@example.com", "password": "p" * 500})
        error(response, 413, "payload_too_large")


def test_413_upload_too_large(tmp_path: Path) -> None:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, max_upload_size=100))])
    with TestClient(app) as client:
        alice = Account(client, "alice@example.com")
        response = client.post(f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("a.bin", b"a" * 101)})
        error(response, 413, "payload_too_large")


def test_415_not_multipart(client: TestClient[Litestar], alice: Account) -> None:
    response = client.post(f"{PREFIX}/media/upload", headers=alice.headers, json={"file": "x"})
    error(response, 415, "unsupported_media_type")


def test_416_range(client: TestClient[Litestar], alice: Account) -> None:
    media = alice.upload(make_png(), "a.png")
    response = client.get(media["content_url"], headers={**alice.headers, "Range": "bytes=999999-"})
    error(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{media['size']}"


class _Exploding(AuthProvider):
    async def authenticate(self, connection, session):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail /etc/shadow")


class _ExplodingPlugin:
    @hookimpl
    def mediavault_auth_providers(self, config):  # type: ignore[no-untyped-def]
        return [_Exploding()]


def test_500_no_leak(tmp_path: Path) -> None:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, plugins=[_ExplodingPlugin()]))])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"{PREFIX}/users/me", headers={"Authorization": "Bearer x", "X-Request-ID": "boom-1"})
        err = error(response, 500, "internal_error")
        assert err["details"] == []
        assert response.headers["x-request-id"] == "boom-1"
        for leak in ("secret internal detail", "RuntimeError", "Traceback", "shadow", 'File "'):
            assert leak not in response.text
        # Public routes are not affected by the broken provider.
        success(client.get(f"{PREFIX}/health"))


def test_request_id_echoed(client: TestClient[Litestar]) -> None:
    rid = "abc.DEF_123:-x"
    response = client.get(f"{PREFIX}/health", headers={"X-Request-ID": rid})
    success(response)
    assert response.headers["x-request-id"] == rid == response.json()["meta"]["request_id"]
    longest = "a" * 128
    assert client.get(f"{PREFIX}/health", headers={"X-Request-ID": longest}).headers["x-request-id"] == longest


def test_request_id_generated_when_invalid_or_absent(client: TestClient[Litestar]) -> None:
    seen = set()
    for incoming in (None, "", "a" * 129, "has space", "semi;colon", "slash/no", 'quote"s'):
        headers = {} if incoming is None else {"X-Request-ID": incoming}
        response = client.get(f"{PREFIX}/health", headers=headers)
        success(response)
        rid = response.headers["x-request-id"]
        assert rid != incoming
        assert rid == response.json()["meta"]["request_id"]
        seen.add(rid)
    assert len(seen) == 7  # a fresh one every time


def test_request_id_on_errors(client: TestClient[Litestar]) -> None:
    response = client.get(f"{PREFIX}/users/me", headers={"X-Request-ID": "err-1"})
    error(response, 401, "unauthorized")
    assert response.headers["x-request-id"] == "err-1"
    response = client.post(f"{PREFIX}/auth/login", content=b"{", headers={"Content-Type": "application/json"})
    error(response, 400, "validation_error")


def test_request_id_on_binary_download_and_204(client: TestClient[Litestar], alice: Account) -> None:
    media = alice.upload(make_png(), "a.png")
    response = client.get(media["content_url"], headers={**alice.headers, "X-Request-ID": "dl-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "dl-1"
    assert response.content == client.get(media["content_url"], headers=alice.headers).content
    generated = client.get(media["content_url"], headers=alice.headers).headers["x-request-id"]
    assert generated.startswith("req_")

    deleted = client.delete(f"{PREFIX}/media/{media['id']}", headers={**alice.headers, "X-Request-ID": "del-1"})
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert deleted.headers["x-request-id"] == "del-1"


def test_204_logout_has_empty_body(client: TestClient[Litestar], alice: Account) -> None:
    response = client.post(f"{PREFIX}/auth/logout", headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers or not response.content


def test_400_deeply_nested_json(client: TestClient[Litestar], alice: Account) -> None:
    nested = b"[" * 50_000 + b"]" * 50_000  # 100 kB, under max_json_body_size: msgspec's decoder recurses per level
    for path, headers in ((f"{PREFIX}/auth/login", {}), (f"{PREFIX}/collections", alice.headers)):
        response = client.post(path, content=nested, headers={**headers, "Content-Type": "application/json"})
        body = error(response, 400, "validation_error")
        assert "nested" in body["message"]
