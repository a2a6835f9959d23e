"""/collections: CRUD, membership (all-or-nothing, idempotent), the media list, media_count, events."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from mediavault import MediaVaultConfig
from mediavault.db.models import OutboxEvent
from tests.api._checks import concurrently, error, fields, serial, success
from tests.backends import query
from tests.conftest import PREFIX, Account
from tests.files import make_pdf, make_png

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _create(account: Account, name: str = "Holiday", **extra: Any) -> dict[str, Any]:
    response = account.client.post(f"{PREFIX}/collections", headers=account.headers, json={"name": name, **extra})
    return success(response, 201)


def _add(account: Account, collection_id: str, media_ids: list[str]) -> Any:
    return account.client.post(
        f"{PREFIX}/collections/{collection_id}/media", headers=account.headers, json={"media_ids": media_ids}
    )


def _members(account: Account, collection_id: str, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = account.client.get(f"{PREFIX}/collections/{collection_id}/media", headers=account.headers, params=params)
    return success(response), response.json()["meta"]["pagination"]


def _get(account: Account, collection_id: str) -> dict[str, Any]:
    return success(account.client.get(f"{PREFIX}/collections/{collection_id}", headers=account.headers))


# ----------------------------------------------------------------------------- CRUD


def test_create_shape(shared_alice: Account) -> None:
    data = _create(shared_alice, "  Trip to Lisbon ", description="Summer 2024")
    assert set(data) == {"id", "name", "description", "owner_id", "media_count", "created_at", "updated_at"}
    assert data["name"] == "Trip to Lisbon"
    assert data["description"] == "Summer 2024"
    assert data["owner_id"] == shared_alice.id
    assert data["media_count"] == 0
    assert data["created_at"] == data["updated_at"]
    assert _get(shared_alice, data["id"]) == data
    assert _create(shared_alice, "No description")["description"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "description": "d" * 10_001}, "description"),
        ({"name": "ok", "owner_id": "someone"}, "owner_id"),
        ({"name": "ok", "media_count": 3}, "media_count"),
    ],
)
def test_create_validation(shared_alice: Account, body: dict[str, Any], field: str) -> None:
    response = shared_alice.client.post(f"{PREFIX}/collections", headers=shared_alice.headers, json=body)
    assert field in fields(error(response, 400, "validation_error"))


def test_create_needs_auth_and_json(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    error(shared_client.post(f"{PREFIX}/collections", json={"name": "x"}), 401, "unauthorized")
    malformed = shared_client.post(
        f"{PREFIX}/collections",
        headers={**shared_alice.headers, "Content-Type": "application/json"},
        content=b'{"name": ',
    )
    error(malformed, 400, "validation_error")


def test_list_paginated_newest_first(account_factory: Any) -> None:
    carol = account_factory("carol@example.com")
    made = [_create(carol, f"c{i}")["id"] for i in range(5)]
    response = carol.client.get(f"{PREFIX}/collections", headers=carol.headers, params={"per_page": 2})
    data = success(response)
    pagination = response.json()["meta"]["pagination"]
    assert [c["id"] for c in data] == made[::-1][:2]
    assert pagination["total"] == 5 and pagination["total_pages"] == 3 and pagination["count"] == 2
    assert pagination["links"] == {"next": "/collections?page=2&per_page=2", "prev": None}
    last = carol.client.get(f"{PREFIX}/collections", headers=carol.headers, params={"page": 3, "per_page": 2})
    assert [c["id"] for c in success(last)] == made[:1]
    beyond = carol.client.get(f"{PREFIX}/collections", headers=carol.headers, params={"page": 9, "per_page": 2})
    assert success(beyond) == [] and beyond.json()["meta"]["pagination"]["total"] == 5
    for bad in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "x"}):
        error(carol.client.get(f"{PREFIX}/collections", headers=carol.headers, params=bad), 400, "validation_error")


def test_list_shows_only_own(shared_alice: Account, shared_bob: Account) -> None:
    mine = _create(shared_alice, "alice only")
    listed = success(
        shared_bob.client.get(f"{PREFIX}/collections", headers=shared_bob.headers, params={"per_page": 100})
    )
    assert mine["id"] not in {c["id"] for c in listed}


def test_update(shared_alice: Account) -> None:
    created = _create(shared_alice, "Old", description="old text")
    url = f"{PREFIX}/collections/{created['id']}"
    renamed = success(shared_alice.client.patch(url, headers=shared_alice.headers, json={"name": "New"}))
    assert renamed["name"] == "New" and renamed["description"] == "old text"
    assert renamed["updated_at"] > created["updated_at"] and renamed["created_at"] == created["created_at"]
    cleared = success(shared_alice.client.patch(url, headers=shared_alice.headers, json={"description": None}))
    assert cleared["description"] is None and cleared["name"] == "New"
    assert _get(shared_alice, created["id"]) == cleared
    for body, field in (({"name": ""}, "name"), ({"name": None}, "name"), ({"owner_id": "x"}, "owner_id")):
        response = shared_alice.client.patch(url, headers=shared_alice.headers, json=body)
        assert field in fields(error(response, 400, "validation_error"))


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", UNKNOWN])
def test_unknown_or_malformed_id_is_404(shared_alice: Account, bad: str) -> None:
    client, headers = shared_alice.client, shared_alice.headers
    url = f"{PREFIX}/collections/{bad}"
    error(client.get(url, headers=headers), 404, "not_found")
    error(client.patch(url, headers=headers, json={"name": "x"}), 404, "not_found")
    error(client.delete(url, headers=headers), 404, "not_found")
    error(client.get(f"{url}/media", headers=headers), 404, "not_found")
    error(client.post(f"{url}/media", headers=headers, json={"media_ids": []}), 400, "validation_error")
    error(client.delete(f"{url}/media/{UNKNOWN}", headers=headers), 404, "not_found")


def test_other_users_collection_is_404(shared_alice: Account, shared_bob: Account) -> None:
    media = shared_alice.upload(make_png(), "p.png")
    collection = _create(shared_alice, "private")
    success(_add(shared_alice, collection["id"], [media["id"]]))
    bobs = shared_bob.upload(make_png(), "b.png")
    client, headers = shared_bob.client, shared_bob.headers
    url = f"{PREFIX}/collections/{collection['id']}"
    error(client.get(url, headers=headers), 404, "not_found")
    error(client.patch(url, headers=headers, json={"name": "pwned"}), 404, "not_found")
    error(client.get(f"{url}/media", headers=headers), 404, "not_found")
    error(_add(shared_bob, collection["id"], [bobs["id"]]), 404, "not_found")
    error(client.delete(f"{url}/media/{media['id']}", headers=headers), 404, "not_found")
    error(client.delete(url, headers=headers), 404, "not_found")
    after = _get(shared_alice, collection["id"])
    assert after["name"] == "private" and after["media_count"] == 1
    assert [m["id"] for m in _members(shared_alice, collection["id"])[0]] == [media["id"]]


# ----------------------------------------------------------------------------- membership


def test_add_media_idempotent(shared_alice: Account) -> None:
    a = shared_alice.upload(make_png(), "a.png")
    b = shared_alice.upload(make_pdf(), "b.pdf")
    collection = _create(shared_alice)
    first = success(_add(shared_alice, collection["id"], [a["id"], b["id"], a["id"]]))
    assert first["media_count"] == 2 and first["id"] == collection["id"]
    again = success(_add(shared_alice, collection["id"], [b["id"], a["id"]]))
    assert again["media_count"] == 2
    items, pagination = _members(shared_alice, collection["id"])
    assert [m["id"] for m in items] == [b["id"], a["id"]] and pagination["total"] == 2
    assert items[1] == success(shared_alice.client.get(f"{PREFIX}/media/{a['id']}", headers=shared_alice.headers))


def test_adding_media_while_the_collection_or_a_media_is_deleted_is_404(shared_alice: Account) -> None:
    """An add racing the deletion of its collection or of one of its media answers 200 (it came first) or 404,
    never 500 (a foreign key refusing the membership), and adds nothing then."""
    for round_ in range(4):
        media = [shared_alice.upload(f"member {round_} {i}".encode(), f"m{i}.txt") for i in range(3)]
        collection = _create(shared_alice)
        add = ("POST", f"/collections/{collection['id']}/media", {"json": {"media_ids": [m["id"] for m in media]}})
        gone = f"/collections/{collection['id']}" if round_ % 2 else f"/media/{media[0]['id']}"
        requests = [add, ("DELETE", gone, {})]
        requests = [(m, p, {**kw, "headers": shared_alice.headers}) for m, p, kw in requests]
        added, deleted = shared_alice.client.blocking_portal.call(concurrently, shared_alice.client.app, requests)
        assert deleted.status_code == 204
        assert added.status_code in (200, 404), added.text
        if round_ % 2 == 0:  # the collection stays: its members are those added, less the deleted one
            expected = 2 if added.status_code == 200 else 0
            assert _get(shared_alice, collection["id"])["media_count"] == expected


def test_concurrent_patches_apply_one_after_the_other(shared_alice: Account) -> None:
    """Renames and new descriptions racing on one collection each apply to what the previous one left: in order,
    every answer shows all the changes before it and its own, and the collection keeps the last of each."""
    collection = _create(shared_alice, "start", description="start")
    changes = [{"name": f"name {i}"} if i % 2 else {"description": f"text {i}"} for i in range(8)]
    path = f"/collections/{collection['id']}"
    requests = [("PATCH", path, {"headers": shared_alice.headers, "json": change}) for change in changes]
    answers = shared_alice.client.blocking_portal.call(concurrently, shared_alice.client.app, requests)
    last = serial({"name": "start", "description": "start"}, changes, [success(a) for a in answers])
    kept = _get(shared_alice, collection["id"])
    assert {"name": kept["name"], "description": kept["description"]} == last


def test_concurrent_deletes_of_a_collection_one_wins(shared_alice: Account) -> None:
    """One 204 (one ``collection.deleted`` event), the others 404; they all used to answer 204."""
    collection = _create(shared_alice)
    requests = [("DELETE", f"/collections/{collection['id']}", {"headers": shared_alice.headers})] * 3
    answers = shared_alice.client.blocking_portal.call(concurrently, shared_alice.client.app, requests)
    assert sorted(a.status_code for a in answers) == [204, 404, 404]


def test_add_media_all_or_nothing(shared_alice: Account, shared_bob: Account) -> None:
    mine = shared_alice.upload(make_png(), "mine.png")
    theirs = shared_bob.upload(make_png(), "theirs.png")
    collection = _create(shared_alice)
    for ids in ([mine["id"], theirs["id"]], [mine["id"], UNKNOWN], [mine["id"], "garbage"]):
        error(_add(shared_alice, collection["id"], ids), 404, "not_found")
        assert _get(shared_alice, collection["id"])["media_count"] == 0
    assert _members(shared_alice, collection["id"])[0] == []


@pytest.mark.parametrize(
    "body", [{}, {"media_ids": []}, {"media_ids": "x"}, {"media_ids": [1]}, {"media_ids": ["a"] * 1001}]
)
def test_add_media_validation(shared_alice: Account, body: dict[str, Any]) -> None:
    collection = _create(shared_alice)
    response = shared_alice.client.post(
        f"{PREFIX}/collections/{collection['id']}/media", headers=shared_alice.headers, json=body
    )
    assert any(f.startswith("media_ids") for f in fields(error(response, 400, "validation_error")))


def test_remove_media(shared_alice: Account) -> None:
    a = shared_alice.upload(make_png(), "a.png")
    b = shared_alice.upload(make_png(), "b.png")
    collection = _create(shared_alice)
    success(_add(shared_alice, collection["id"], [a["id"], b["id"]]))
    url = f"{PREFIX}/collections/{collection['id']}/media/{a['id']}"
    response = shared_alice.client.delete(url, headers=shared_alice.headers)
    assert response.status_code == 204 and response.content == b""
    assert [m["id"] for m in _members(shared_alice, collection["id"])[0]] == [b["id"]]
    assert _get(shared_alice, collection["id"])["media_count"] == 1
    # the media itself stays
    success(shared_alice.client.get(f"{PREFIX}/media/{a['id']}", headers=shared_alice.headers))
    # not a member (any more), unknown, malformed → 404
    error(shared_alice.client.delete(url, headers=shared_alice.headers), 404, "not_found")
    for bad in (UNKNOWN, "nope"):
        missing = f"{PREFIX}/collections/{collection['id']}/media/{bad}"
        error(shared_alice.client.delete(missing, headers=shared_alice.headers), 404, "not_found")


def test_media_list_filters_sort_pagination(account_factory: Any) -> None:
    dave = account_factory("dave@example.com")
    png = dave.upload(make_png(), "zebra.png", title="Beach", tags="sea,sun")
    pdf = dave.upload(make_pdf(), "alpha.pdf", title="Menu", tags="food")
    big = dave.upload(make_png(400, 300), "middle.png", title="Beach party", tags="sea")
    outside = dave.upload(make_png(), "outside.png", title="Beach")
    collection = _create(dave)
    success(_add(dave, collection["id"], [png["id"], pdf["id"], big["id"]]))
    cid = collection["id"]

    def ids(**params: Any) -> list[str]:
        return [m["id"] for m in _members(dave, cid, **params)[0]]

    assert ids() == [big["id"], pdf["id"], png["id"]]
    assert ids(sort="created_at") == [png["id"], pdf["id"], big["id"]]
    assert ids(sort="filename") == [pdf["id"], big["id"], png["id"]]
    assert ids(sort="-size")[0] == big["id"]
    assert ids(type="document") == [pdf["id"]]
    assert ids(tag="SEA") == [big["id"], png["id"]]
    assert ids(q="beach") == [big["id"], png["id"]] and outside["id"] not in ids(q="beach")
    items, pagination = _members(dave, cid, per_page=2, tag="sea", page=1)
    assert len(items) == 2 and pagination["total"] == 2 and pagination["links"]["next"] is None
    items, pagination = _members(dave, cid, per_page=1, q="beach")
    assert pagination["links"]["next"] == f"/collections/{cid}/media?page=2&per_page=1&q=beach"
    assert pagination["total"] == 2 and pagination["total_pages"] == 2
    beyond, pagination = _members(dave, cid, page=50)
    assert beyond == [] and pagination["total"] == 3
    for bad in ({"sort": "name"}, {"type": "pictures"}, {"per_page": 101}):
        response = dave.client.get(f"{PREFIX}/collections/{cid}/media", headers=dave.headers, params=bad)
        error(response, 400, "validation_error")


def test_deleting_media_leaves_collection_and_fixes_count(shared_alice: Account) -> None:
    a = shared_alice.upload(make_png(), "a.png")
    b = shared_alice.upload(make_png(), "b.png")
    collection = _create(shared_alice)
    success(_add(shared_alice, collection["id"], [a["id"], b["id"]]))
    assert shared_alice.client.delete(f"{PREFIX}/media/{a['id']}", headers=shared_alice.headers).status_code == 204
    assert _get(shared_alice, collection["id"])["media_count"] == 1
    items, pagination = _members(shared_alice, collection["id"])
    assert [m["id"] for m in items] == [b["id"]] and pagination["total"] == 1
    listed = success(shared_alice.client.get(f"{PREFIX}/collections", headers=shared_alice.headers))
    assert next(c for c in listed if c["id"] == collection["id"])["media_count"] == 1


def test_delete_collection_keeps_media(shared_alice: Account) -> None:
    a = shared_alice.upload(make_png(), "a.png")
    collection = _create(shared_alice)
    other = _create(shared_alice, "other")
    success(_add(shared_alice, collection["id"], [a["id"]]))
    success(_add(shared_alice, other["id"], [a["id"]]))
    response = shared_alice.client.delete(f"{PREFIX}/collections/{collection['id']}", headers=shared_alice.headers)
    assert response.status_code == 204 and response.content == b""
    error(
        shared_alice.client.get(f"{PREFIX}/collections/{collection['id']}", headers=shared_alice.headers),
        404,
        "not_found",
    )
    success(shared_alice.client.get(f"{PREFIX}/media/{a['id']}", headers=shared_alice.headers))
    assert _get(shared_alice, other["id"])["media_count"] == 1
    error(
        shared_alice.client.delete(f"{PREFIX}/collections/{collection['id']}", headers=shared_alice.headers),
        404,
        "not_found",
    )


# ----------------------------------------------------------------------------- events


def test_events_in_outbox(client: TestClient[Litestar], alice: Account, config: MediaVaultConfig) -> None:
    collection = _create(alice, "Evented")
    assert client.delete(f"{PREFIX}/collections/{collection['id']}", headers=alice.headers).status_code == 204
    statement = (
        select(OutboxEvent.event, OutboxEvent.payload)
        .where(OutboxEvent.event.like("collection.%"))
        .order_by(OutboxEvent.created_at)
    )
    rows = query(config, statement)
    assert [event for event, _ in rows] == ["collection.created", "collection.deleted"]
    for _, body in rows:
        assert body["data"] == {"id": collection["id"], "user_id": alice.id, "name": "Evented"}
        assert set(body) == {"id", "event", "data", "timestamp"}


@pytest.fixture(scope="module")
def seven(shared_alice: Account) -> str:
    """A collection of 7 media with repeated sizes (so the id tie-breaker decides some places)."""
    sizes = [3, 1, 4, 1, 5, 9, 2]
    ids = [shared_alice.upload(make_png(w, 2), f"{'gcadbfe'[i]}.png")["id"] for i, w in enumerate(sizes)]
    collection = _create(shared_alice, "pages")
    success(_add(shared_alice, collection["id"], ids))
    return str(collection["id"])


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "filename", "-filename", "size", "-size"])
def test_pages_in_the_second_half_match_the_full_order(shared_alice: Account, seven: str, sort: str) -> None:
    """Pages past the middle are picked walking the index from the other end; they must be the same rows."""
    full = [m["id"] for m in _members(shared_alice, seven, sort=sort, per_page=100)[0]]
    assert len(full) == 7
    for per_page in (1, 2, 3):
        paged = []
        for page in range(1, 8):
            items, pagination = _members(shared_alice, seven, sort=sort, per_page=per_page, page=page)
            assert pagination["total"] == 7
            paged += [m["id"] for m in items]
        assert paged == full, (sort, per_page)
