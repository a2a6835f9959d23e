"""Signed upload URLs: POST /uploads/signed (the owner signs) and POST /uploads/signed/{token} (anyone uploads once,
without credentials): limits, single use under concurrency, expiry, collections, nothing kept on refusal."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from mediavault import MediaVault, MediaVaultConfig
from mediavault.db.models import SignedUpload, utcnow
from tests.api._checks import RFC3339_UTC, concurrently, error, fields, success
from tests.backends import query, stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png

LIMIT = 100_000
SIGNED_FIELDS = {"url", "token", "expires_at", "max_size", "collection_id"}
BOUNDARY = "signedboundary42"


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, max_upload_size=LIMIT)


@pytest.fixture
def client(config: MediaVaultConfig) -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(plugins=[MediaVault(config)])) as test_client:
        yield test_client


def _sign(account: Account, status: int = 201, **body: Any) -> Any:
    response = account.client.post(f"{PREFIX}/uploads/signed", headers=account.headers, json=body)
    return success(response, status) if status < 400 else response


def _upload(client: TestClient[Litestar], token: str, content: bytes, filename: str = "f.bin", **data: str) -> Any:
    return client.post(f"{PREFIX}/uploads/signed/{token}", files={"file": (filename, content)}, data=data)


def _body(content: bytes, filename: str = "f.bin") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def _kept(config: MediaVaultConfig) -> tuple[int, int]:
    """(media rows, stored objects) of the vault."""
    return query(config, "SELECT count(*) FROM mediavault_media")[0][0], len(stored_objects(config))


# ----------------------------------------------------------------------------- signing


def test_signing_for_a_collection_being_deleted_is_201_or_404(alice: Account) -> None:
    """Never 500 (a foreign key refusing the URL): signed first (then the URL dies with the collection), or 404."""
    for _ in range(4):
        collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "c"}), 201)
        requests = [
            ("POST", "/uploads/signed", {"headers": alice.headers, "json": {"collection_id": collection["id"]}}),
            ("DELETE", f"/collections/{collection['id']}", {"headers": alice.headers}),
        ]
        signed, deleted = alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
        assert deleted.status_code == 204
        assert signed.status_code in (201, 404), signed.text
        if signed.status_code == 201:
            error(alice.client.post(signed.json()["data"]["url"], files={"file": ("a.txt", b"a")}), 404, "not_found")


def test_sign_defaults(alice: Account) -> None:
    before = utcnow()
    signed = _sign(alice)
    assert set(signed) == SIGNED_FIELDS
    assert signed["url"] == f"{PREFIX}/uploads/signed/{signed['token']}"
    assert len(signed["token"]) >= 43  # secrets.token_urlsafe(32): 256 bits
    assert signed["max_size"] == LIMIT and signed["collection_id"] is None
    assert RFC3339_UTC.match(signed["expires_at"])
    expires = dt.datetime.fromisoformat(signed["expires_at"])
    assert before + dt.timedelta(seconds=3599) <= expires <= utcnow() + dt.timedelta(seconds=3601)


def test_sign_with_options(alice: Account) -> None:
    collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "In"}), 201)
    signed = _sign(alice, expires_in=60, max_size=10, collection_id=collection["id"])
    assert signed["max_size"] == 10 and signed["collection_id"] == collection["id"]
    expires = dt.datetime.fromisoformat(signed["expires_at"])
    assert expires <= utcnow() + dt.timedelta(seconds=61)


def test_the_token_is_stored_hashed(alice: Account, config: MediaVaultConfig) -> None:
    token = _sign(alice)["token"]
    rows = query(config, "SELECT token_hash FROM mediavault_signed_upload")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": 59}, "expires_in"),
        ({"expires_in": 86_401}, "expires_in"),
        ({"expires_in": "60"}, "expires_in"),
        ({"max_size": 0}, "max_size"),
        ({"max_size": LIMIT + 1}, "max_size"),
        ({"owner_id": "x"}, "owner_id"),
    ],
)
def test_sign_refuses_bad_input(alice: Account, config: MediaVaultConfig, body: dict[str, Any], field: str) -> None:
    assert field in fields(error(_sign(alice, 400, **body), 400, "validation_error"))
    assert query(config, "SELECT count(*) FROM mediavault_signed_upload") == [(0,)]


@pytest.mark.parametrize("foreign", [True, False])
def test_sign_into_a_collection_not_the_callers(alice: Account, bob: Account, foreign: bool) -> None:
    collection_id = "not-an-id"
    if foreign:
        created = bob.client.post(f"{PREFIX}/collections", headers=bob.headers, json={"name": "Bob's"})
        collection_id = success(created, 201)["id"]
    error(_sign(alice, 404, collection_id=collection_id), 404, "not_found")


def test_signing_needs_a_principal(client: TestClient[Litestar]) -> None:
    error(client.post(f"{PREFIX}/uploads/signed", json={}), 401, "unauthorized")


def test_signing_prunes_expired_urls(alice: Account, config: MediaVaultConfig) -> None:
    _sign(alice)
    query(config, update(SignedUpload).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    _sign(alice)
    assert query(config, "SELECT count(*) FROM mediavault_signed_upload") == [(1,)]


# ----------------------------------------------------------------------------- uploading


def test_upload_without_credentials(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    png = make_png(12, 9)
    token = _sign(alice)["token"]
    media = success(_upload(client, token, png, "../../holiday.png", title="Beach", tags="Sea,sun"), 201)
    assert media["owner_id"] == alice.id
    assert media["filename"] == "holiday.png" and media["content_type"] == "image/png"
    assert (media["width"], media["height"]) == (12, 9) and media["size"] == len(png)
    assert media["title"] == "Beach" and media["tags"] == ["sea", "sun"]
    assert success(client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)) == media
    assert client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers).content == png
    events = query(config, "SELECT payload FROM mediavault_outbox_event WHERE event = 'media.uploaded'")
    assert len(events) == 1 and media["id"] in str(events[0][0]) and alice.id in str(events[0][0])
    assert query(config, "SELECT count(*) FROM mediavault_signed_upload") == [(0,)]  # spent


def test_upload_lands_in_the_collection(client: TestClient[Litestar], alice: Account) -> None:
    collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "In"}), 201)
    token = _sign(alice, collection_id=collection["id"])["token"]
    media = success(_upload(client, token, b"into the collection"), 201)
    members = success(client.get(f"{PREFIX}/collections/{collection['id']}/media", headers=alice.headers))
    assert [m["id"] for m in members] == [media["id"]]


def test_single_use(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    token = _sign(alice)["token"]
    success(_upload(client, token, b"first"), 201)
    error(_upload(client, token, b"second"), 404, "not_found")
    assert _kept(config) == (1, 1)


def test_unknown_token(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    _sign(alice)
    error(_upload(client, "x" * 43, b"guess"), 404, "not_found")
    assert _kept(config) == (0, 0)


def test_expired(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    token = _sign(alice)["token"]
    query(config, update(SignedUpload).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    error(_upload(client, token, b"late"), 404, "not_found")
    assert _kept(config) == (0, 0)


def test_collection_deleted_after_signing(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig
) -> None:
    collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "In"}), 201)
    token = _sign(alice, collection_id=collection["id"])["token"]
    alice.client.delete(f"{PREFIX}/collections/{collection['id']}", headers=alice.headers)
    error(_upload(client, token, b"nowhere to go"), 404, "not_found")
    assert _kept(config) == (0, 0)


@pytest.mark.parametrize("chunked", [False, True])
def test_over_max_size_keeps_nothing_and_the_url_stays_usable(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, chunked: bool
) -> None:
    token = _sign(alice, max_size=1000)["token"]
    body = _body(b"y" * 1001)
    content: Any = body
    if chunked:
        content = iter([body[i : i + 300] for i in range(0, len(body), 300)])
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    response = client.post(f"{PREFIX}/uploads/signed/{token}", content=content, headers=headers)
    error(response, 413, "payload_too_large")
    assert _kept(config) == (0, 0)
    media = success(_upload(client, token, b"z" * 1000), 201)  # exactly max_size
    assert media["size"] == 1000


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [("multipart/form-data", 400, "validation_error"), ("application/json", 415, "unsupported_media_type")],
)
def test_malformed_body_keeps_the_url(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, content_type: str, status: int, code: str
) -> None:
    token = _sign(alice)["token"]
    response = client.post(f"{PREFIX}/uploads/signed/{token}", content=b"{}", headers={"Content-Type": content_type})
    error(response, status, code)
    assert _kept(config) == (0, 0)
    success(_upload(client, token, b"now a proper one"), 201)


def test_a_principal_is_ignored(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    """The URL decides whose media it is, whoever sends it."""
    token = _sign(alice)["token"]
    media = success(client.post(f"{PREFIX}/uploads/signed/{token}", headers=bob.headers, files={"file": b"x"}), 201)
    assert media["owner_id"] == alice.id
    error(client.get(f"{PREFIX}/media/{media['id']}", headers=bob.headers), 404, "not_found")


# ----------------------------------------------------------------------------- two uploads, one URL


async def _race(app: Any, token: str, release_together: bool) -> list[httpx.Response]:
    """Two uploads through one URL, both past the URL check (their first body chunk read) before either ends. With
    ``release_together`` both then finish at once; otherwise the second runs to its end while the first waits."""
    gate = asyncio.Event()
    started = [asyncio.Event(), asyncio.Event()]

    async def body(index: int, content: bytes) -> AsyncIterator[bytes]:
        data = _body(content)
        yield data[:50]
        started[index].set()
        if index == 0 or release_together:
            await gate.wait()
        yield data[50:]

    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    path = f"{PREFIX}/uploads/signed/{token}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        first = asyncio.ensure_future(http.post(path, content=body(0, b"first" * 100), headers=headers))
        await started[0].wait()
        second = asyncio.ensure_future(http.post(path, content=body(1, b"second" * 100), headers=headers))
        await started[1].wait()
        if not release_together:
            await asyncio.wait_for(asyncio.shield(second), 60)
        gate.set()
        return list(await asyncio.gather(first, second))


@pytest.mark.parametrize("release_together", [True, False])
def test_two_concurrent_uploads_exactly_one_wins(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, release_together: bool
) -> None:
    token = _sign(alice)["token"]
    responses = client.blocking_portal.call(_race, client.app, token, release_together)
    assert sorted(r.status_code for r in responses) == [201, 404], [r.text for r in responses]
    if not release_together:
        assert [r.status_code for r in responses] == [404, 201]  # the one that finished first won
    winner = next(r for r in responses if r.status_code == 201).json()["data"]
    listed = success(client.get(f"{PREFIX}/media", headers=alice.headers))
    assert [m["id"] for m in listed] == [winner["id"]]
    assert _kept(config) == (1, 1)  # the loser's bytes were deleted
