"""The trash (``trash_retention_days`` > 0): a delete that can be undone; purged with its bytes after the retention
by the worker, at once by ``DELETE /trash/{id}`` and ``DELETE /trash``; dedup-aware."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from mediavault.testing import EventRecorder
from tests.api._checks import concurrently, error, success
from tests.backends import stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def config(tmp_path: Path, recorder: EventRecorder) -> MediaVaultConfig:
    return make_config(tmp_path, trash_retention_days=30, plugins=(recorder,))


def _get(account: Account, path: str, **params: Any) -> Any:
    return account.client.get(f"{PREFIX}{path}", headers=account.headers, params=params)


def _delete(account: Account, path: str) -> Any:
    return account.client.delete(f"{PREFIX}{path}", headers=account.headers)


def _post(account: Account, path: str, body: Any = None) -> Any:
    return account.client.post(f"{PREFIX}{path}", headers=account.headers, json=body)


def test_deleted_media_is_gone_everywhere_until_restored(
    alice: Account, config: MediaVaultConfig, recorder: EventRecorder
) -> None:
    keep = alice.upload(b"keep me", "keep.txt")
    media = alice.upload(make_png(), "holiday.png", title="holiday", tags="sea")
    collection = success(_post(alice, "/collections", {"name": "c"}), 201)
    success(_post(alice, f"/collections/{collection['id']}/media", {"media_ids": [media["id"]]}))
    share = success(_post(alice, "/shares", {"media_id": media["id"]}), 201)
    collection_share = success(_post(alice, "/shares", {"collection_id": collection["id"]}), 201)

    assert _delete(alice, f"/media/{media['id']}").status_code == 204
    assert recorder.wait_for("media.trashed").data["id"] == media["id"]
    assert len(stored_objects(config)) == 2  # the bytes stay while it is in the trash
    error(_get(alice, f"/media/{media['id']}"), 404, "not_found")
    error(alice.client.get(media["content_url"], headers=alice.headers), 404, "not_found")
    error(alice.client.patch(f"{PREFIX}/media/{media['id']}", headers=alice.headers, json={}), 404, "not_found")
    error(_delete(alice, f"/media/{media['id']}"), 404, "not_found")
    assert [m["id"] for m in success(_get(alice, "/media"))] == [keep["id"]]
    assert _get(alice, "/media").json()["meta"]["pagination"]["total"] == 1
    assert success(_get(alice, "/search", q="holiday")) == []
    assert success(_get(alice, f"/collections/{collection['id']}/media")) == []
    assert success(_get(alice, f"/collections/{collection['id']}"))["media_count"] == 0
    error(_post(alice, f"/collections/{collection['id']}/media", {"media_ids": [media["id"]]}), 404, "not_found")
    error(_post(alice, "/shares", {"media_id": media["id"]}), 404, "not_found")
    assert [s["id"] for s in success(_get(alice, "/shares"))] == [collection_share["id"]]
    error(alice.client.get(f"{PREFIX}/s/{share['token']}"), 404, "not_found")
    error(alice.client.get(f"{PREFIX}/s/{share['token']}/content"), 404, "not_found")
    assert success(alice.client.get(f"{PREFIX}/s/{collection_share['token']}"))["media"] == []

    trash = _get(alice, "/trash")
    [item] = success(trash)
    assert trash.json()["meta"]["pagination"]["total"] == 1
    assert item["id"] == media["id"] and item["title"] == "holiday" and item["tags"] == ["sea"]
    deleted_at = dt.datetime.fromisoformat(item["deleted_at"])
    assert dt.datetime.fromisoformat(item["purge_at"]) - deleted_at == dt.timedelta(days=30)

    restored = success(_post(alice, f"/trash/{media['id']}/restore"))
    assert restored["id"] == media["id"] and restored["checksum_sha256"] == media["checksum_sha256"]
    assert recorder.wait_for("media.restored").data["id"] == media["id"]
    assert success(_get(alice, "/trash")) == []
    assert alice.client.get(media["content_url"], headers=alice.headers).content == make_png()
    assert [m["id"] for m in success(_get(alice, f"/collections/{collection['id']}/media"))] == [media["id"]]
    assert success(alice.client.get(f"{PREFIX}/s/{share['token']}"))["media"]["id"] == media["id"]
    error(_post(alice, f"/trash/{media['id']}/restore"), 404, "not_found")  # no longer in the trash


def test_purge_one_and_empty_remove_rows_and_bytes(
    alice: Account, config: MediaVaultConfig, recorder: EventRecorder
) -> None:
    keep = alice.upload(b"keep me", "keep.txt")
    one, two, three = (alice.upload(f"bytes {i}".encode(), f"{i}.txt") for i in range(3))
    for media in (one, two, three):
        assert _delete(alice, f"/media/{media['id']}").status_code == 204
    assert _delete(alice, f"/trash/{one['id']}").status_code == 204
    assert recorder.wait_for("media.deleted").data["id"] == one["id"]
    assert sorted(stored_objects(config).values()) == [b"bytes 1", b"bytes 2", b"keep me"]
    error(_delete(alice, f"/trash/{one['id']}"), 404, "not_found")
    error(_post(alice, f"/trash/{one['id']}/restore"), 404, "not_found")
    assert _delete(alice, "/trash").status_code == 204
    assert list(stored_objects(config).values()) == [b"keep me"]
    assert success(_get(alice, "/trash")) == []
    assert [m["id"] for m in success(_get(alice, "/media"))] == [keep["id"]]
    # a media that is not in the trash cannot be purged through it
    error(_delete(alice, f"/trash/{keep['id']}"), 404, "not_found")


def test_a_restore_racing_a_purge_either_wins_or_is_404(alice: Account, config: MediaVaultConfig) -> None:
    """A restore answered 200 leaves the item back (never purged by a purge that read it in the trash before);
    the purge answered 204 leaves it gone; never both."""
    for round_ in range(6):
        media = alice.upload(f"raced {round_}".encode(), "raced.txt")
        assert _delete(alice, f"/media/{media['id']}").status_code == 204
        requests = [
            ("POST", f"/trash/{media['id']}/restore", {"headers": alice.headers}),
            ("DELETE", f"/trash/{media['id']}", {"headers": alice.headers}),
        ]
        if round_ % 2:
            requests.reverse()
        answers = {
            r.request.method: r.status_code
            for r in alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
        }
        assert sorted(answers.values()) in ([200, 404], [204, 404]), answers
        found = _get(alice, f"/media/{media['id']}").status_code
        assert found == (200 if answers["POST"] == 200 else 404), answers
        assert (f"raced {round_}".encode() in stored_objects(config).values()) == (answers["POST"] == 200)


def test_concurrent_deletes_of_one_item_one_wins(alice: Account, config: MediaVaultConfig) -> None:
    """Of DELETEs racing on one item one answers 204 (one media.deleted audit line, one trash row) and the others
    404 (they used to hit the trash row's primary key: 500)."""
    for round_ in range(3):
        media = alice.upload(f"deleted thrice {round_}".encode(), "d.txt")
        requests = [("DELETE", f"/media/{media['id']}", {"headers": alice.headers})] * 3
        answers = alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
        assert sorted(a.status_code for a in answers) == [204, 404, 404], [a.text for a in answers]
        assert [m["id"] for m in success(_get(alice, "/trash"))].count(media["id"]) == 1


def test_one_users_trash_is_theirs(alice: Account, bob: Account) -> None:
    media = alice.upload(b"alice's", "a.txt")
    assert _delete(alice, f"/media/{media['id']}").status_code == 204
    assert success(_get(bob, "/trash")) == []
    error(_post(bob, f"/trash/{media['id']}/restore"), 404, "not_found")
    error(_delete(bob, f"/trash/{media['id']}"), 404, "not_found")
    assert _delete(bob, "/trash").status_code == 204
    assert [m["id"] for m in success(_get(alice, "/trash"))] == [media["id"]]


def test_trash_pagination(alice: Account) -> None:
    ids = [alice.upload(f"{i}".encode(), f"{i}.txt")["id"] for i in range(3)]
    for media_id in ids:
        _delete(alice, f"/media/{media_id}")
    first = _get(alice, "/trash", per_page=2)
    assert [m["id"] for m in success(first)] == ids[::-1][:2]
    assert first.json()["meta"]["pagination"]["links"]["next"] == "/trash?page=2&per_page=2"
    assert [m["id"] for m in success(_get(alice, "/trash", page=2, per_page=2))] == ids[:1]


def test_without_retention_delete_is_immediate(tmp_path: Path) -> None:
    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path))])) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(b"gone", "a.txt")
        assert _delete(alice, f"/media/{media['id']}").status_code == 204
        assert success(_get(alice, "/trash")) == []
        error(_post(alice, f"/trash/{media['id']}/restore"), 404, "not_found")
        assert stored_objects(make_config(tmp_path)) == {}


@pytest.fixture
def purging_client(tmp_path: Path, recorder: EventRecorder) -> Iterator[TestClient[Litestar]]:
    # a retention of ~0.1 s, looked at every 0.2 s by the worker (processing_worker runs the purge)
    config = make_config(
        tmp_path,
        trash_retention_days=0.1 / 86400,
        trash_purge_interval=0.2,
        processing_worker=True,
        dedup=True,
        plugins=(recorder,),
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


def test_the_worker_purges_after_the_retention_and_keeps_shared_bytes(
    purging_client: TestClient[Litestar], tmp_path: Path, recorder: EventRecorder
) -> None:
    alice = Account(purging_client, "alice@example.com")
    same = b"the same bytes twice"
    kept = alice.upload(same, "kept.txt")
    trashed = alice.upload(same, "trashed.txt")  # deduplicated: one blob for both
    assert _delete(alice, f"/media/{trashed['id']}").status_code == 204
    assert recorder.wait_for("media.deleted").data["id"] == trashed["id"]
    deadline = time.monotonic() + 30
    while success(_get(alice, "/trash")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert success(_get(alice, "/trash")) == []
    # the bytes another media uses stay
    assert list(stored_objects(make_config(tmp_path)).values()) == [same]
    assert alice.client.get(kept["content_url"], headers=alice.headers).content == same
