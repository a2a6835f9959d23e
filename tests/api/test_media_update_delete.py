"""PATCH and DELETE /media/{id}; the outbox rows of media and user events."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from mediavault import MediaVaultConfig
from mediavault.db.models import OutboxEvent
from tests.api._checks import concurrently, error, fields, success
from tests.backends import query, stored_objects
from tests.conftest import PREFIX, Account
from tests.files import make_png


def _files(config: MediaVaultConfig) -> list[bytes]:
    return list(stored_objects(config).values())


def _outbox(config: MediaVaultConfig) -> list[tuple[str, dict[str, Any], str | None]]:
    columns = (OutboxEvent.event, OutboxEvent.payload, OutboxEvent.user_id)
    rows = query(config, select(*columns).order_by(OutboxEvent.created_at))
    return [(event, payload, str(user_id) if user_id else None) for event, payload, user_id in rows]


def _patch(account: Account, media_id: str, body: Any) -> Any:
    return account.client.patch(f"{PREFIX}/media/{media_id}", headers=account.headers, json=body)


# ----------------------------------------------------------------------------- update


def test_patch(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png", title="old", description="old d", tags="x")
    updated = success(_patch(alice, media["id"], {"title": "New", "description": "New d", "tags": ["B", " a ", "b"]}))
    assert (updated["title"], updated["description"], updated["tags"]) == ("New", "New d", ["b", "a"])
    assert updated["updated_at"] > media["updated_at"] == media["created_at"]
    for key in ("id", "filename", "content_type", "size", "checksum_sha256", "owner_id", "created_at", "content_url"):
        assert updated[key] == media[key]
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)) == updated


def test_patch_partial_and_clear(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png", title="keep", description="drop", tags="t1,t2")
    updated = success(_patch(alice, media["id"], {"description": None}))
    assert (updated["title"], updated["description"], updated["tags"]) == ("keep", None, ["t1", "t2"])
    assert success(_patch(alice, media["id"], {"tags": []}))["tags"] == []
    listed = success(alice.client.get(f"{PREFIX}/media", headers=alice.headers, params={"tag": "t1"}))
    assert listed == []


def test_patch_tags_findable(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png")
    success(_patch(alice, media["id"], {"tags": ["Fresh"]}))
    listed = success(alice.client.get(f"{PREFIX}/media", headers=alice.headers, params={"tag": "fresh"}))
    assert [m["id"] for m in listed] == [media["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner_id": "00000000-0000-0000-0000-000000000000"}, "owner_id"),
        ({"filename": "evil.html"}, "filename"),
        ({"content_type": "text/html"}, "content_type"),
        ({"size": 1}, "size"),
        ({"checksum_sha256": "00"}, "checksum_sha256"),
        ({"title": "ok", "id": "x"}, "id"),
        ({"tags": "not-a-list"}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"tags": ["x" * 101]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"title": 5}, "title"),
    ],
)
def test_patch_rejected(alice: Account, body: dict[str, Any], field: str) -> None:
    media = alice.upload(make_png(), "a.png", title="orig")
    err = error(_patch(alice, media["id"], body), 400, "validation_error")
    assert field in fields(err) or field in err["message"]
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)) == media


def test_patch_malformed_json(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png")
    response = alice.client.patch(
        f"{PREFIX}/media/{media['id']}", headers={**alice.headers, "Content-Type": "application/json"}, content=b"{"
    )
    error(response, 400, "validation_error")


def test_patch_emits_event(alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(make_png(), "a.png")
    success(_patch(alice, media["id"], {"title": "t"}))
    assert [e for e, _, _ in _outbox(config)][-1] == "media.updated"


# ----------------------------------------------------------------------------- delete


def test_delete(alice: Account, config: MediaVaultConfig) -> None:
    keep = alice.upload(b"keep me", "keep.txt")
    png = make_png()
    media = alice.upload(png, "a.png")
    assert len(_files(config)) == 2
    response = alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers)
    assert response.status_code == 204 and response.content == b""
    remaining = _files(config)
    assert remaining == [b"keep me"]
    error(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers), 404, "not_found")
    error(alice.client.get(media["content_url"], headers=alice.headers), 404, "not_found")
    error(alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers), 404, "not_found")
    error(_patch(alice, media["id"], {"title": "x"}), 404, "not_found")
    listed = alice.client.get(f"{PREFIX}/media", headers=alice.headers)
    assert [m["id"] for m in success(listed)] == [keep["id"]]
    assert listed.json()["meta"]["pagination"]["total"] == 1


def test_concurrent_deletes_one_wins(alice: Account, config: MediaVaultConfig) -> None:
    """Of DELETEs racing on one item one answers 204 and the others 404 (each used to purge it again: several
    204s and ``media.deleted`` events for one item)."""
    media = alice.upload(b"deleted thrice", "d.txt")
    requests = [("DELETE", f"/media/{media['id']}", {"headers": alice.headers})] * 3
    answers = alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
    assert sorted(a.status_code for a in answers) == [204, 404, 404], [a.text for a in answers]
    assert _files(config) == []


def test_delete_requires_auth(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(make_png(), "a.png")
    error(client.delete(f"{PREFIX}/media/{media['id']}"), 401, "unauthorized")
    assert len(_files(config)) == 1


def test_outbox_rows(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(make_png(), "a.png")
    assert client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
    events = _outbox(config)
    assert [e for e, _, _ in events] == ["user.registered", "media.uploaded", "media.deleted"]
    for event, payload, _ in events:
        assert payload["event"] == event
        assert payload["id"] and payload["timestamp"].endswith("Z")
    registered, uploaded, deleted = (p["data"] for _, p, _ in events)
    assert registered == {"id": alice.id, "user_id": alice.id}
    for data in (uploaded, deleted):
        assert data["id"] == media["id"]
        assert data["type"] == "image"
        assert data["user_id"] == alice.id
    assert len({p["id"] for _, p, _ in events}) == 3


def test_failed_operations_emit_nothing(
    client: TestClient[Litestar], alice: Account, bob: Account, config: MediaVaultConfig
) -> None:
    media = alice.upload(make_png(), "a.png")
    before = len(_outbox(config))
    error(client.delete(f"{PREFIX}/media/{media['id']}", headers=bob.headers), 404, "not_found")
    error(client.post(f"{PREFIX}/auth/register", json={"email": alice.email, "password": "p" * 10}), 409, "conflict")
    error(
        client.post(f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("e", b"")}),
        400,
        "validation_error",
    )
    assert len(_outbox(config)) == before
