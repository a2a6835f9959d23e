"""Guest uploads through share links: collection shares made with allow_upload take POST /s/{token}/upload from
anyone holding the link (and its password): the media is the collection owner's, in the collection."""

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
from mediavault_sdk import SharedMedia
from sqlalchemy import update

from mediavault import MediaVault, MediaVaultConfig
from mediavault.db.models import Share, utcnow
from mediavault.domain.media.controllers import DEDUPLICATED_HEADER
from tests.api._checks import error, fields, success
from tests.backends import query, stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png

LIMIT = 100_000
ANONYMOUS_LIMIT = 40
BOUNDARY = "guestboundary42"
SHARED_MEDIA_FIELDS = set(SharedMedia.__struct_fields__)


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    # an hour's window: the sliding window's previous-window weight falls as time passes, so a run of uploads that
    # crosses a one-minute boundary on a slow machine could be let through once more (an hour makes that ~60x rarer)
    return make_config(
        tmp_path, max_upload_size=LIMIT, dedup=True, rate_limit_anonymous=ANONYMOUS_LIMIT, rate_limit_period=3600
    )


@pytest.fixture
def client(config: MediaVaultConfig) -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(plugins=[MediaVault(config)])) as test_client:
        yield test_client


def _collection(account: Account) -> str:
    response = account.client.post(f"{PREFIX}/collections", headers=account.headers, json={"name": "Party"})
    return str(success(response, 201)["id"])


def _share(account: Account, status: int = 201, **body: Any) -> Any:
    response = account.client.post(f"{PREFIX}/shares", headers=account.headers, json=body)
    return success(response, status) if status < 400 else response


def _upload(client: TestClient[Litestar], token: str, content: bytes, password: str | None = None, **data: str) -> Any:
    headers = {"X-Share-Password": password} if password is not None else {}
    return client.post(f"{PREFIX}/s/{token}/upload", headers=headers, files={"file": ("guest.bin", content)}, data=data)


def _assert_owned_by(client: TestClient[Litestar], owner: Account, media: dict[str, Any]) -> None:
    """``media``, a guest upload's answer, says nothing of its owner, and ``owner`` sees it as theirs."""
    assert "owner_id" not in media
    assert success(client.get(f"{PREFIX}/media/{media['id']}", headers=owner.headers))["owner_id"] == owner.id


def _kept(config: MediaVaultConfig) -> tuple[int, int]:
    """(media rows, stored objects) of the vault."""
    return query(config, "SELECT count(*) FROM mediavault_media")[0][0], len(stored_objects(config))


# ----------------------------------------------------------------------------- the owner's side


def test_allow_upload_on_a_collection_share(alice: Account) -> None:
    share = _share(alice, collection_id=_collection(alice), allow_upload=True)
    assert share["allow_upload"] is True
    listed = success(alice.client.get(f"{PREFIX}/shares", headers=alice.headers))
    assert [s["allow_upload"] for s in listed] == [True]
    assert _share(alice, collection_id=_collection(alice))["allow_upload"] is False  # the default


def test_allow_upload_on_a_media_share_is_refused(alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(b"one file")
    response = _share(alice, 400, media_id=media["id"], allow_upload=True)
    assert fields(error(response, 400, "validation_error")) == {"allow_upload"}
    assert query(config, "SELECT count(*) FROM mediavault_share") == [(0,)]


# ----------------------------------------------------------------------------- uploading


def test_guest_upload(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    collection_id = _collection(alice)
    token = _share(alice, collection_id=collection_id, allow_upload=True)["token"]
    png = make_png(10, 7)
    response = client.post(
        f"{PREFIX}/s/{token}/upload", files={"file": ("C:\\party\\me.png", png)}, data={"title": "Me", "tags": "A"}
    )
    media = success(response, 201)
    assert set(media) == SHARED_MEDIA_FIELDS  # the link's shape: nothing of the owner (no owner_id), no version
    assert media["filename"] == "me.png" and media["content_type"] == "image/png"
    assert media["title"] == "Me" and media["tags"] == ["a"] and (media["width"], media["height"]) == (10, 7)
    assert (media["size"], media["checksum_sha256"]) == (len(png), hashlib.sha256(png).hexdigest())
    assert media["content_url"] == f"{PREFIX}/s/{token}/media/{media['id']}/content"
    assert client.get(media["content_url"]).status_code == 200  # the link serves the item it took
    assert DEDUPLICATED_HEADER not in response.headers  # a guest learns nothing of what the owner already has
    owned = success(client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers))
    assert owned["owner_id"] == alice.id and owned["checksum_sha256"] == media["checksum_sha256"]
    members = success(client.get(f"{PREFIX}/collections/{collection_id}/media", headers=alice.headers))
    assert [m["id"] for m in members] == [media["id"]]
    assert [m["id"] for m in success(client.get(f"{PREFIX}/s/{token}"))["media"]] == [media["id"]]
    assert client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers).content == png
    events = query(config, "SELECT payload FROM mediavault_outbox_event WHERE event = 'media.uploaded'")
    assert len(events) == 1 and media["id"] in str(events[0][0]) and alice.id in str(events[0][0])


def test_bytes_the_owner_has_are_deduplicated_silently(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig
) -> None:
    alice.upload(b"the same bytes")
    token = _share(alice, collection_id=_collection(alice), allow_upload=True)["token"]
    response = _upload(client, token, b"the same bytes")
    _assert_owned_by(client, alice, success(response, 201))
    assert DEDUPLICATED_HEADER not in response.headers
    assert _kept(config) == (2, 1)


def test_a_principal_is_ignored(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    token = _share(alice, collection_id=_collection(alice), allow_upload=True)["token"]
    response = client.post(f"{PREFIX}/s/{token}/upload", headers=bob.headers, files={"file": b"from bob"})
    media = success(response, 201)
    _assert_owned_by(client, alice, media)
    error(client.get(f"{PREFIX}/media/{media['id']}", headers=bob.headers), 404, "not_found")


@pytest.mark.parametrize("target", ["collection", "media"])
def test_a_link_without_allow_upload_is_403(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, target: str
) -> None:
    body = {"collection_id": _collection(alice)} if target == "collection" else {"media_id": alice.upload(b"x")["id"]}
    token = _share(alice, **body)["token"]
    before = _kept(config)
    error(_upload(client, token, b"not welcome"), 403, "forbidden")
    assert _kept(config) == before


def test_password(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    token = _share(alice, collection_id=_collection(alice), allow_upload=True, password="open sesame")["token"]
    error(_upload(client, token, b"no password"), 401, "unauthorized")
    error(_upload(client, token, b"wrong password", password="open says me"), 401, "unauthorized")
    assert _kept(config) == (0, 0)
    success(_upload(client, token, b"right password", password="open sesame"), 201)


def test_expired_or_deleted_or_unknown(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    expired = _share(alice, collection_id=_collection(alice), allow_upload=True)
    query(config, update(Share).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    error(_upload(client, expired["token"], b"late"), 404, "not_found")
    deleted = _share(alice, collection_id=_collection(alice), allow_upload=True)
    assert alice.client.delete(f"{PREFIX}/shares/{deleted['id']}", headers=alice.headers).status_code == 204
    error(_upload(client, deleted["token"], b"gone"), 404, "not_found")
    error(_upload(client, "x" * 43, b"guess"), 404, "not_found")
    assert _kept(config) == (0, 0)


def test_over_the_size_limit(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    token = _share(alice, collection_id=_collection(alice), allow_upload=True)["token"]
    error(_upload(client, token, b"y" * (LIMIT + 1)), 413, "payload_too_large")
    assert _kept(config) == (0, 0)


def test_counts_against_the_anonymous_limit(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig
) -> None:
    token = _share(alice, collection_id=_collection(alice), allow_upload=True)["token"]
    first = _upload(client, token, b"0")
    assert first.status_code == 201 and first.headers["X-RateLimit-Limit"] == str(ANONYMOUS_LIMIT)
    remaining = int(first.headers["X-RateLimit-Remaining"])
    for i in range(remaining):
        assert _upload(client, token, str(i + 1).encode()).status_code == 201
    kept = _kept(config)
    refused = _upload(client, token, b"one too many")
    error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert _kept(config) == kept


async def _delete_mid_upload(app: Any, token: str, delete: str, headers: dict[str, str]) -> httpx.Response:
    """A guest upload during which its link's owner sends ``DELETE <delete>``: after the upload started (its first
    body chunk was read), before it ends."""
    started, deleted = asyncio.Event(), asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="late.bin"\r\n\r\n'.encode()
        yield head + b"first half "
        started.set()
        await deleted.wait()
        yield b"second half" + f"\r\n--{BOUNDARY}--\r\n".encode()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        upload = asyncio.ensure_future(
            http.post(
                f"{PREFIX}/s/{token}/upload",
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
        )
        await started.wait()
        gone = await http.delete(f"{PREFIX}{delete}", headers=headers)
        assert gone.status_code == 204, gone.text
        deleted.set()
        return await upload


@pytest.mark.parametrize("deleted", ["share", "collection"])
def test_link_deleted_during_the_upload(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, deleted: str
) -> None:
    """Deleting the link (or its collection, which deletes its links) stops the uploads in flight: nothing kept."""
    collection_id = _collection(alice)
    share = _share(alice, collection_id=collection_id, allow_upload=True)
    path = f"/shares/{share['id']}" if deleted == "share" else f"/collections/{collection_id}"
    response = client.blocking_portal.call(_delete_mid_upload, client.app, share["token"], path, alice.headers)
    error(response, 404, "not_found")
    assert _kept(config) == (0, 0)
