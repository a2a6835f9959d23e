"""Versions: ``PUT /media/{id}/content`` replaces the bytes keeping the id, collections and shares; previous
versions are listed, downloaded and restored; at most ``max_versions`` are kept, older ones purged with their bytes
(dedup-aware); processing is redone for the new bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from mediavault.fsck import fsck
from mediavault.testing import EventRecorder
from tests.api._checks import concurrently, error, fields, processed, success
from tests.backends import stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_jpeg, make_png


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def config(tmp_path: Path, recorder: EventRecorder) -> MediaVaultConfig:
    return make_config(tmp_path, max_versions=2, plugins=(recorder,))


def _put(account: Account, media_id: str, content: bytes, name: str = "new.bin", **form: str) -> Any:
    return account.client.put(
        f"{PREFIX}/media/{media_id}/content", headers=account.headers, files={"file": (name, content)}, data=form
    )


def _versions(account: Account, media_id: str) -> list[dict[str, Any]]:
    return success(account.client.get(f"{PREFIX}/media/{media_id}/versions", headers=account.headers))  # type: ignore[no-any-return]


def _version_bytes(account: Account, media_id: str, version: int) -> Any:
    return account.client.get(f"{PREFIX}/media/{media_id}/versions/{version}/content", headers=account.headers)


def test_replace_keeps_id_collections_and_shares(alice: Account, recorder: EventRecorder) -> None:
    png, jpeg = make_png(), make_jpeg()
    media = alice.upload(png, "photo.png", title="photo", tags="a")
    collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "c"}), 201)
    alice.client.post(
        f"{PREFIX}/collections/{collection['id']}/media", headers=alice.headers, json={"media_ids": [media["id"]]}
    )
    share = success(alice.client.post(f"{PREFIX}/shares", headers=alice.headers, json={"media_id": media["id"]}), 201)
    old_etag = alice.client.get(media["content_url"], headers=alice.headers).headers["etag"]

    replaced = success(_put(alice, media["id"], jpeg, "photo.jpg"))
    assert replaced["id"] == media["id"] and replaced["version"] == 2
    assert replaced["content_type"] == "image/jpeg" and replaced["size"] == len(jpeg)
    assert replaced["checksum_sha256"] == hashlib.sha256(jpeg).hexdigest()
    assert (replaced["width"], replaced["height"]) == (80, 60)
    assert replaced["title"] == "photo" and replaced["tags"] == ["a"]  # parts not sent stay
    assert recorder.wait_for("media.updated").data["id"] == media["id"]
    content = alice.client.get(media["content_url"], headers=alice.headers)
    assert content.content == jpeg and content.headers["etag"] != old_etag
    assert (
        alice.client.get(media["content_url"], headers={**alice.headers, "If-None-Match": old_etag}).status_code == 200
    )
    members = success(alice.client.get(f"{PREFIX}/collections/{collection['id']}/media", headers=alice.headers))
    assert [m["id"] for m in members] == [media["id"]] and members[0]["version"] == 2
    assert alice.client.get(f"{PREFIX}/s/{share['token']}/content").status_code == 200
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers))["version"] == 2


def test_versions_list_download_and_restore(alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(b"version one", "notes.txt")
    success(_put(alice, media["id"], b"version two", "notes.txt"))
    versions = _versions(alice, media["id"])
    assert [(v["version"], v["size"], v["current"]) for v in versions] == [(2, 11, True), (1, 11, False)]
    assert versions[1]["checksum_sha256"] == hashlib.sha256(b"version one").hexdigest()
    assert set(versions[0]) == {"version", "size", "checksum_sha256", "content_type", "created_at", "current"}
    old = _version_bytes(alice, media["id"], 1)
    assert old.content == b"version one" and old.headers["etag"] == f'"{versions[1]["checksum_sha256"]}"'
    assert _version_bytes(alice, media["id"], 2).content == b"version two"
    ranged = alice.client.get(
        f"{PREFIX}/media/{media['id']}/versions/1/content", headers={**alice.headers, "Range": "bytes=0-6"}
    )
    assert ranged.status_code == 206 and ranged.content == b"version"
    for missing in ("3", "0", "x", "-1", "01x", "2147483648", "99999999999999999999999"):
        error(_version_bytes(alice, media["id"], missing), 404, "not_found")  # type: ignore[arg-type]
        error(
            alice.client.post(f"{PREFIX}/media/{media['id']}/versions/{missing}/restore", headers=alice.headers),
            404,
            "not_found",
        )

    restored = success(alice.client.post(f"{PREFIX}/media/{media['id']}/versions/1/restore", headers=alice.headers))
    assert restored["version"] == 3 and restored["checksum_sha256"] == versions[1]["checksum_sha256"]
    assert restored["filename"] == "notes.txt"  # of the same type: the name kept
    assert alice.client.get(media["content_url"], headers=alice.headers).content == b"version one"
    assert [v["version"] for v in _versions(alice, media["id"])] == [3, 2, 1]
    assert sorted(stored_objects(config).values()) == [b"version one", b"version one", b"version two"]


def test_a_version_of_another_type_comes_back_under_its_types_extension(alice: Account) -> None:
    """The item is named after its current bytes: a JPEG version of ``beach.png`` is downloaded and restored as
    ``beach.jpg`` (the stem kept), and the PNG version then as ``beach.png`` again."""
    jpeg, png = make_jpeg(), make_png()
    media = alice.upload(jpeg, "beach.jpg")
    assert success(_put(alice, media["id"], png, "beach.png"))["filename"] == "beach.png"
    old = _version_bytes(alice, media["id"], 1)
    assert old.content == jpeg and old.headers["content-type"] == "image/jpeg"
    assert 'filename="beach.jpg"' in old.headers["content-disposition"]

    restored = success(alice.client.post(f"{PREFIX}/media/{media['id']}/versions/1/restore", headers=alice.headers))
    assert (restored["version"], restored["filename"], restored["content_type"]) == (3, "beach.jpg", "image/jpeg")
    content = alice.client.get(media["content_url"], headers=alice.headers)
    assert content.content == jpeg and 'filename="beach.jpg"' in content.headers["content-disposition"]
    assert 'filename="beach.png"' in _version_bytes(alice, media["id"], 2).headers["content-disposition"]
    again = success(alice.client.post(f"{PREFIX}/media/{media['id']}/versions/2/restore", headers=alice.headers))
    assert (again["filename"], again["content_type"]) == ("beach.png", "image/png")


def test_at_most_max_versions_are_kept(alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(b"v1", "a.txt")
    for n in range(2, 6):
        success(_put(alice, media["id"], f"v{n}".encode(), "a.txt"))
    assert [v["version"] for v in _versions(alice, media["id"])] == [5, 4, 3]
    assert sorted(stored_objects(config).values()) == [b"v3", b"v4", b"v5"]  # the purged versions' bytes are gone
    error(_version_bytes(alice, media["id"], 2), 404, "not_found")
    # deleting the item removes every version's bytes
    assert alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
    assert stored_objects(config) == {}


def test_concurrent_replacements_each_make_a_version(alice: Account, config: MediaVaultConfig) -> None:
    """Replacements of one item racing each other take turns: each answers 200 with its own version and bytes (they
    used to push the same previous version twice: 500), and what is kept is the newest bytes and ``max_versions``
    before."""
    media = alice.upload(b"version one", "v.txt")
    bodies = [f"racing replacement {i}".encode() for i in range(8)]
    requests = [
        ("PUT", f"/media/{media['id']}/content", {"headers": alice.headers, "files": {"file": ("v.txt", body)}})
        for body in bodies
    ]
    answers = [success(a) for a in alice.client.blocking_portal.call(concurrently, alice.client.app, requests)]
    # each answer is the state its own replacement committed (it used to be read again after the commit: a later
    # replacement's version and bytes when one had committed meanwhile)
    assert sorted(a["version"] for a in answers) == list(range(2, 10))
    assert [a["checksum_sha256"] for a in answers] == [hashlib.sha256(b).hexdigest() for b in bodies]
    last = bodies[next(i for i, a in enumerate(answers) if a["version"] == 9)]
    assert alice.client.get(media["content_url"], headers=alice.headers).content == last
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers))["version"] == 9
    assert [v["version"] for v in _versions(alice, media["id"])] == [9, 8, 7]
    kept = sorted(stored_objects(config).values())
    assert len(kept) == 3 and set(kept) <= set(bodies)


def test_bad_replacements_change_nothing(alice: Account, bob: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(b"original", "a.txt")
    error(_put(alice, media["id"], b""), 400, "validation_error")
    assert fields(error(_put(alice, media["id"], b"x", bogus="1"), 400, "validation_error")) == {"bogus"}
    error(_put(alice, media["id"], b"x", metadata="[1]"), 400, "validation_error")
    error(_put(bob, media["id"], b"bob's"), 404, "not_found")
    error(_put(alice, "not-an-id", b"x"), 404, "not_found")
    assert list(stored_objects(config).values()) == [b"original"]
    assert [v["version"] for v in _versions(alice, media["id"])] == [1]
    error(bob.client.get(f"{PREFIX}/media/{media['id']}/versions", headers=bob.headers), 404, "not_found")
    error(_version_bytes(bob, media["id"], 1), 404, "not_found")


def test_replace_sets_fields_that_are_sent(alice: Account) -> None:
    media = alice.upload(b"one", "a.txt", title="old", metadata='{"k": "v"}')
    replaced = success(_put(alice, media["id"], b"two", "b.txt", title="new", tags="x,y", metadata='{"n": 1}'))
    assert (replaced["title"], replaced["tags"], replaced["metadata"]) == ("new", ["x", "y"], {"n": 1})
    assert replaced["filename"] == "b.txt"
    found = success(alice.client.get(f"{PREFIX}/media", headers=alice.headers, params={"metadata.n": "1"}))
    assert [m["id"] for m in found] == [media["id"]]


def test_over_the_size_limit_is_413_and_nothing_changes(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_upload_size=10)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(b"small", "a.txt")
        error(_put(alice, media["id"], b"x" * 100), 413, "payload_too_large")
        assert list(stored_objects(config).values()) == [b"small"]


@pytest.fixture
def dedup_client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    config = make_config(tmp_path, dedup=True, max_versions=1)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


def test_versions_share_deduplicated_bytes(dedup_client: TestClient[Litestar], tmp_path: Path) -> None:
    alice = Account(dedup_client, "alice@example.com")
    other = alice.upload(b"shared bytes", "other.txt")
    media = alice.upload(b"shared bytes", "a.txt")
    success(_put(alice, media["id"], b"new bytes", "a.txt"))  # version 1 keeps the shared blob
    success(_put(alice, media["id"], b"newer bytes", "a.txt"))  # version 1 is purged: the blob stays for `other`
    stored = sorted(stored_objects(make_config(tmp_path)).values())
    assert stored == [b"new bytes", b"newer bytes", b"shared bytes"]
    assert alice.client.get(other["content_url"], headers=alice.headers).content == b"shared bytes"
    restored = success(alice.client.post(f"{PREFIX}/media/{media['id']}/versions/2/restore", headers=alice.headers))
    assert restored["version"] == 4  # a copy of version 2's bytes, stored once
    assert sorted(stored_objects(make_config(tmp_path)).values()) == [b"new bytes", b"newer bytes", b"shared bytes"]


def test_processing_is_redone_for_the_new_bytes(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=True, processing_poll_interval=0.1)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(make_png(64, 48), "a.png")
        assert processed(alice, media["id"])["metadata"]["image"]["width"] == 64
        success(_put(alice, media["id"], make_png(30, 20), "a.png"))
        assert processed(alice, media["id"])["metadata"]["image"]["width"] == 30
        thumb = alice.client.get(f"{PREFIX}/media/{media['id']}/thumbnail", headers=alice.headers)
        assert thumb.status_code == 200


def test_fsck_counts_versions_bytes_as_referenced(tmp_path: Path) -> None:
    vault = MediaVault(make_config(tmp_path))
    runtime = vault.runtime
    with TestClient(Litestar(plugins=[vault])) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(b"first", "a.txt")
        success(_put(alice, media["id"], b"second", "a.txt"))

        async def scenario() -> None:
            report = await fsck(runtime.storage, runtime.session, max_age=0, repair=True)
            assert (report.orphaned, report.missing) == ([], []), report.summary()

        client.blocking_portal.call(scenario)
        assert _version_bytes(alice, media["id"], 1).content == b"first"
