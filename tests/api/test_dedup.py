"""Dedup by checksum (``dedup=True``): concurrent identical uploads of one user end with one stored blob, on SQLite
and on PostgreSQL; bytes go only with the last item using them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from mediavault import MediaVault
from mediavault.db.models import Blob, Media, media_blob
from tests.api._checks import concurrently, success
from tests.backends import BACKENDS
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_photo

UPLOADS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    def run(**overrides: Any) -> Iterator[TestClient[Litestar]]:
        config = make_config(tmp_path, dedup=True, rate_limit_authenticated=100_000, **overrides)
        with TestClient(Litestar(plugins=[MediaVault(config)])) as test_client:
            yield test_client

    if request.param == "sqlite":
        yield from run(database_url=f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}")
    else:
        yield from run(database_url=BACKENDS.postgres_url(tmp_path))


def _runtime(client: TestClient[Litestar]) -> Any:
    return client.app.plugins.get(MediaVault).runtime


async def _stored(client: TestClient[Litestar], owner_id: str) -> dict[str, Any]:
    """The owner's blobs and links in the database, and which of their storage keys hold bytes."""
    runtime = _runtime(client)
    async with runtime.session() as session:
        blobs = list(await session.scalars(select(Blob.storage_key).where(Blob.owner_id == owner_id)))
        links = await session.scalar(
            select(func.count()).select_from(media_blob).join(Media, Media.id == media_blob.c.media_id)
        )
        own_keys = list(await session.scalars(select(Media.storage_key).where(Media.owner_id == owner_id)))
    exists = {key: await runtime.storage.exists(key) for key in {*blobs, *own_keys}}
    return {"blobs": blobs, "links": links, "with_bytes": sorted(k for k, there in exists.items() if there)}


def _upload(account: Account, data: bytes, title: str) -> tuple[str, str, dict[str, Any]]:
    return (
        "POST",
        "/media/upload",
        {"headers": account.headers, "files": {"file": ("same.jpg", data)}, "data": {"title": title}},
    )


def test_concurrent_identical_uploads_share_one_blob(client: TestClient[Litestar]) -> None:
    alice, bob = Account(client, "alice@example.com"), Account(client, "bob@example.com")
    photo = make_photo(gps=(1.0, 2.0))
    portal = client.blocking_portal
    responses = portal.call(concurrently, client.app, [_upload(alice, photo, f"copy {i}") for i in range(UPLOADS)])
    assert [r.status_code for r in responses] == [201] * UPLOADS
    flags = sorted(r.headers["x-mediavault-deduplicated"] for r in responses)
    assert flags == ["false"] + ["true"] * (UPLOADS - 1)
    items = [r.json()["data"] for r in responses]
    assert len({m["id"] for m in items}) == UPLOADS
    assert sorted(m["title"] for m in items) == sorted(f"copy {i}" for i in range(UPLOADS))
    stored = portal.call(_stored, client, alice.id)
    assert len(stored["blobs"]) == 1 and stored["links"] == UPLOADS
    assert stored["with_bytes"] == stored["blobs"]  # one copy of the bytes; the duplicates' own were deleted
    for item in items:
        assert client.get(f"{PREFIX}/media/{item['id']}/content", headers=alice.headers).content == photo

    # Per user: Bob's identical upload is stored for him.
    bobs = client.post(f"{PREFIX}/media/upload", headers=bob.headers, files={"file": ("b.jpg", photo)})
    assert bobs.status_code == 201 and bobs.headers["x-mediavault-deduplicated"] == "false"

    # Deleting never takes bytes another item still uses; the last one takes them.
    for item in items[:-1]:
        assert client.delete(f"{PREFIX}/media/{item['id']}", headers=alice.headers).status_code == 204
    last = items[-1]["id"]
    assert client.get(f"{PREFIX}/media/{last}/content", headers=alice.headers).content == photo
    assert portal.call(_stored, client, alice.id)["with_bytes"] == stored["blobs"]
    assert client.delete(f"{PREFIX}/media/{last}", headers=alice.headers).status_code == 204
    assert portal.call(_stored, client, alice.id) == {"blobs": [], "links": 1, "with_bytes": []}  # Bob's link stays
    assert client.get(f"{PREFIX}/media/{bobs.json()['data']['id']}/content", headers=bob.headers).content == photo


def test_deleting_the_last_copy_while_uploading_it_again_loses_nothing(client: TestClient[Litestar]) -> None:
    alice = Account(client, "alice@example.com")
    photo = make_photo(orientation=3)
    current = alice.upload(photo, "first.jpg")["id"]
    for round_ in range(6):
        delete = ("DELETE", f"/media/{current}", {"headers": alice.headers})
        deleted, uploaded = client.blocking_portal.call(
            concurrently, client.app, [delete, _upload(alice, photo, f"round {round_}")]
        )
        assert deleted.status_code == 204 and uploaded.status_code == 201
        current = uploaded.json()["data"]["id"]
        assert client.get(f"{PREFIX}/media/{current}/content", headers=alice.headers).content == photo
        stored = client.blocking_portal.call(_stored, client, alice.id)
        assert len(stored["blobs"]) == 1 and stored["with_bytes"] == stored["blobs"]
    assert success(client.get(f"{PREFIX}/media", headers=alice.headers))[0]["id"] == current
