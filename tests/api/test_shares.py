"""/shares and the public /s/{token} links: tokens, expiry, passwords, downloads, revocation."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import select

from mediavault import MediaVault, MediaVaultConfig
from mediavault.db.models import OutboxEvent
from tests.api._checks import concurrently, error, fields, success
from tests.backends import query, snapshot
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_jpeg, make_photo, make_png

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SHARE_FIELDS = {
    "id",
    "token",
    "url",
    "expires_at",
    "allow_download",
    "allow_upload",
    "has_password",
    "media_id",
    "collection_id",
    "created_at",
}


@pytest.fixture(scope="module")
def shared_client(shared_dir: Path) -> Iterator[TestClient[Litestar]]:
    """The module's vault; public links are anonymous requests, so that tier's rate limit is lifted here."""
    config = make_config(shared_dir, rate_limit_anonymous=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


def _share(account: Account, **body: Any) -> dict[str, Any]:
    return success(account.client.post(f"{PREFIX}/shares", headers=account.headers, json=body), 201)


def _collection(account: Account, media_ids: list[str], name: str = "Shared") -> dict[str, Any]:
    created = success(account.client.post(f"{PREFIX}/collections", headers=account.headers, json={"name": name}), 201)
    if media_ids:
        success(
            account.client.post(
                f"{PREFIX}/collections/{created['id']}/media", headers=account.headers, json={"media_ids": media_ids}
            )
        )
    return created


def _open(client: TestClient[Litestar], token: str, suffix: str = "", **kwargs: Any) -> Any:
    return client.get(f"{PREFIX}/s/{token}{suffix}", **kwargs)


# ----------------------------------------------------------------------------- owner side


def test_create_media_share(shared_alice: Account) -> None:
    media = shared_alice.upload(make_png(), "p.png", title="Sunset")
    share = _share(shared_alice, media_id=media["id"])
    assert set(share) == SHARE_FIELDS
    assert share["media_id"] == media["id"] and share["collection_id"] is None
    assert share["expires_at"] is None and share["allow_download"] is True and share["has_password"] is False
    assert share["url"] == f"{PREFIX}/s/{share['token']}"
    assert len(share["token"]) >= 43  # secrets.token_urlsafe(32): 256 bits
    assert set(share["token"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_create_collection_share_with_options(shared_alice: Account) -> None:
    collection = _collection(shared_alice, [])
    before = time.time()
    share = _share(
        shared_alice, collection_id=collection["id"], expires_in=3600, password="open sesame", allow_download=False
    )
    assert share["collection_id"] == collection["id"] and share["media_id"] is None
    assert share["has_password"] is True and share["allow_download"] is False
    expires = share["expires_at"]
    assert expires.endswith("Z")
    import datetime as dt

    stamp = dt.datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
    assert before + 3600 - 5 <= stamp <= time.time() + 3600 + 5
    assert "open sesame" not in json.dumps(share)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "media_id"),
        ({"media_id": "MEDIA", "collection_id": "COLLECTION"}, "collection_id"),
        ({"media_id": "MEDIA", "expires_in": 0}, "expires_in"),
        ({"media_id": "MEDIA", "expires_in": -5}, "expires_in"),
        ({"media_id": "MEDIA", "expires_in": "soon"}, "expires_in"),
        ({"media_id": "MEDIA", "password": "short"}, "password"),
        ({"media_id": "MEDIA", "allow_download": "yes"}, "allow_download"),
        ({"media_id": "MEDIA", "token": "mine"}, "token"),
    ],
)
def test_create_validation(shared_alice: Account, body: dict[str, Any], field: str) -> None:
    media = shared_alice.upload(make_png(), "v.png")
    collection = _collection(shared_alice, [])
    body = {k: media["id"] if v == "MEDIA" else collection["id"] if v == "COLLECTION" else v for k, v in body.items()}
    response = shared_alice.client.post(f"{PREFIX}/shares", headers=shared_alice.headers, json=body)
    assert field in fields(error(response, 400, "validation_error"))


def test_a_share_racing_the_deletion_of_its_target_is_201_or_404(shared_alice: Account) -> None:
    """Never 500 (a foreign key refusing the share): created first (then gone with its target), or 404."""
    alice = shared_alice
    for round_ in range(4):
        media = alice.upload(f"shared then deleted {round_}".encode(), "s.txt")
        collection = success(alice.client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "c"}), 201)
        target = {"media_id": media["id"]} if round_ % 2 else {"collection_id": collection["id"]}
        gone = f"/media/{media['id']}" if round_ % 2 else f"/collections/{collection['id']}"
        requests = [("POST", "/shares", {"json": target}), ("DELETE", gone, {})]
        requests = [(m, p, {**kw, "headers": alice.headers}) for m, p, kw in requests]
        created, deleted = alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
        assert deleted.status_code == 204
        assert created.status_code in (201, 404), created.text
        if created.status_code == 201:
            error(alice.client.get(f"{PREFIX}/s/{created.json()['data']['token']}"), 404, "not_found")


def test_concurrent_deletes_of_a_share_one_wins(shared_alice: Account) -> None:
    """One 204 (one ``share.deleted`` audit line), the others 404; they all used to answer 204."""
    media = shared_alice.upload(b"shared once", "s.txt")
    share = _share(shared_alice, media_id=media["id"])
    requests = [("DELETE", f"/shares/{share['id']}", {"headers": shared_alice.headers})] * 3
    answers = shared_alice.client.blocking_portal.call(concurrently, shared_alice.client.app, requests)
    assert sorted(a.status_code for a in answers) == [204, 404, 404]


def test_create_for_others_or_unknown_target_is_404(shared_alice: Account, shared_bob: Account) -> None:
    bobs_media = shared_bob.upload(make_png(), "b.png")
    bobs_collection = _collection(shared_bob, [])
    for body in (
        {"media_id": bobs_media["id"]},
        {"collection_id": bobs_collection["id"]},
        {"media_id": UNKNOWN},
        {"collection_id": "garbage"},
    ):
        error(shared_alice.client.post(f"{PREFIX}/shares", headers=shared_alice.headers, json=body), 404, "not_found")
    error(shared_alice.client.post(f"{PREFIX}/shares", json={"media_id": bobs_media["id"]}), 401, "unauthorized")


def test_list_and_delete(account_factory: Any) -> None:
    erin = account_factory("erin@example.com")
    media = erin.upload(make_png(), "e.png")
    made = [_share(erin, media_id=media["id"]) for _ in range(3)]
    response = erin.client.get(f"{PREFIX}/shares", headers=erin.headers, params={"per_page": 2})
    listed = success(response)
    pagination = response.json()["meta"]["pagination"]
    assert pagination["total"] == 3 and pagination["links"]["next"] == "/shares?page=2&per_page=2"
    assert [s["id"] for s in listed] == [s["id"] for s in made[::-1][:2]]
    for item in listed:
        assert set(item) == SHARE_FIELDS and item["token"] is None and item["url"] is None
    gone = made[0]
    response = erin.client.delete(f"{PREFIX}/shares/{gone['id']}", headers=erin.headers)
    assert response.status_code == 204 and response.content == b""
    error(_open(erin.client, gone["token"]), 404, "not_found")  # dead at once
    success(_open(erin.client, made[1]["token"]))
    error(erin.client.delete(f"{PREFIX}/shares/{gone['id']}", headers=erin.headers), 404, "not_found")
    error(erin.client.delete(f"{PREFIX}/shares/not-an-id", headers=erin.headers), 404, "not_found")


def test_other_users_share_is_404(shared_alice: Account, shared_bob: Account) -> None:
    media = shared_alice.upload(make_png(), "keep.png")
    share = _share(shared_alice, media_id=media["id"])
    error(shared_bob.client.delete(f"{PREFIX}/shares/{share['id']}", headers=shared_bob.headers), 404, "not_found")
    listed = success(shared_bob.client.get(f"{PREFIX}/shares", headers=shared_bob.headers, params={"per_page": 100}))
    assert share["id"] not in {s["id"] for s in listed}
    success(_open(shared_alice.client, share["token"]))


def test_only_a_hash_of_the_token_is_stored(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig
) -> None:
    media = alice.upload(make_png(), "h.png")
    share = _share(alice, media_id=media["id"], password="a good password")
    dump = repr(snapshot(config))
    [(token_hash, password_hash)] = query(config, "SELECT token_hash, password_hash FROM mediavault_share")
    outbox = query(config, select(OutboxEvent.payload).where(OutboxEvent.event == "share.created"))
    assert share["token"] not in dump
    assert token_hash == hashlib.sha256(share["token"].encode()).hexdigest()
    assert password_hash.startswith("$argon2id$") and "a good password" not in dump
    assert len(outbox) == 1
    [(event,)] = outbox
    assert event["event"] == "share.created"
    assert event["data"]["id"] == share["id"] and event["data"]["user_id"] == alice.id
    assert event["data"]["media_id"] == media["id"] and share["token"] not in json.dumps(event)


# ----------------------------------------------------------------------------- public side


def test_open_media_share_without_auth(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    jpeg = make_jpeg()
    media = shared_alice.upload(jpeg, "photo.jpg", title="Public photo", tags="trip")
    share = _share(shared_alice, media_id=media["id"])
    data = success(_open(shared_client, share["token"]))
    assert set(data) == {"type", "media"} and data["type"] == "media"
    # a JPEG without metadata is served as it is: the link's media object is the owner's, less the owner and the
    # owner's own records (custom metadata, version count)
    expected = {**media, "content_url": f"{PREFIX}/s/{share['token']}/content"}
    for private in ("owner_id", "metadata", "version"):
        del expected[private]
    assert data["media"] == expected
    body = _open(shared_client, share["token"]).text
    assert shared_alice.email not in body and "storage_key" not in body and "media/" + shared_alice.id not in body

    content = _open(shared_client, share["token"], "/content")
    assert content.status_code == 200 and content.content == jpeg
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["etag"] == f'"{media["checksum_sha256"]}"'
    assert content.headers["accept-ranges"] == "bytes" and "last-modified" in content.headers
    ranged = _open(shared_client, share["token"], "/content", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == jpeg[:10]
    assert ranged.headers["content-range"] == f"bytes 0-9/{len(jpeg)}"
    unsatisfiable = _open(shared_client, share["token"], "/content", headers={"Range": f"bytes={len(jpeg)}-"})
    error(unsatisfiable, 416, "range_not_satisfiable")
    cached = _open(shared_client, share["token"], "/content", headers={"If-None-Match": content.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    head = shared_client.head(f"{PREFIX}/s/{share['token']}/content")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(jpeg))
    # a media link has no members
    error(_open(shared_client, share["token"], f"/media/{media['id']}/content"), 404, "not_found")


def test_public_objects_say_nothing_of_the_owner_nor_of_the_original(
    shared_client: TestClient[Litestar], shared_alice: Account
) -> None:
    """The contract's Sharing section: no ``owner_id``, the sanitised filename only, ``size``/``checksum_sha256``
    of the bytes the link serves (the metadata-free copy), and ``Content-Disposition`` with that filename."""
    photo = make_photo(gps=(48.8584, 2.2945), camera=("Canon", "EOS R5"))
    media = shared_alice.upload(photo, "../home/IMG_0001.jpg")
    assert media["filename"] == "IMG_0001.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, "TIFF")
    scan = shared_alice.upload(buf.getvalue(), "scan.tiff")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)  # no Pillow plugin decodes it
    phone = shared_alice.upload(heic, "phone.heic")

    def check(item: dict[str, Any], content_path: str, original: dict[str, Any]) -> bytes:
        assert "owner_id" not in item and set(item) == set(original) - {"owner_id", "metadata", "version"}
        served = _open(shared_client, content_path)
        assert served.status_code == 200
        assert item["size"] == len(served.content) != original["size"]
        assert item["checksum_sha256"] == hashlib.sha256(served.content).hexdigest() != original["checksum_sha256"]
        assert item["content_type"] == served.headers["content-type"]
        assert f'filename="{item["filename"]}"' in served.headers["content-disposition"]
        assert served.headers["etag"] == f'"{item["checksum_sha256"]}"'
        return served.content

    token = _share(shared_alice, media_id=media["id"])["token"]
    response = _open(shared_client, token)
    item = success(response)["media"]
    served = check(item, f"{token}/content", media)
    assert item["filename"] == "IMG_0001.jpg" and (item["width"], item["height"]) == (120, 80)
    assert b"Canon" not in served and shared_alice.id not in response.text

    token = _share(shared_alice, media_id=scan["id"])["token"]
    item = success(_open(shared_client, token))["media"]
    check(item, f"{token}/content", scan)
    assert (item["filename"], item["content_type"], item["width"]) == ("scan.png", "image/png", 30)

    collection = _collection(shared_alice, [media["id"], scan["id"], phone["id"]], name="Trip")
    token = _share(shared_alice, collection_id=collection["id"])["token"]
    response = _open(shared_client, token)
    data = success(response)
    assert shared_alice.id not in response.text
    assert set(data["collection"]) == set(collection) - {"owner_id"}
    by_id = {m["id"]: m for m in data["media"]}
    check(by_id[media["id"]], f"{token}/media/{media['id']}/content", media)
    check(by_id[scan["id"]], f"{token}/media/{scan['id']}/content", scan)
    # an image that cannot be shown without its metadata is never served: no bytes, so no size nor checksum
    assert (by_id[phone["id"]]["size"], by_id[phone["id"]]["checksum_sha256"]) == (None, None)
    error(_open(shared_client, token, f"/media/{phone['id']}/content"), 403, "forbidden")


def test_active_content_is_an_attachment(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    media = shared_alice.upload(html, "page.html")
    share = _share(shared_alice, media_id=media["id"])
    content = _open(shared_client, share["token"], "/content")
    assert content.status_code == 200 and content.content == html
    assert content.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in content.headers["content-security-policy"]


def test_unknown_tokens_are_404(shared_client: TestClient[Litestar]) -> None:
    for token in ("nope", "A" * 43, "' OR 1=1 --", "%00"):
        error(_open(shared_client, token), 404, "not_found")
        error(_open(shared_client, token, "/content"), 404, "not_found")
        error(_open(shared_client, token, f"/media/{UNKNOWN}/content"), 404, "not_found")


def test_collection_share(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    member_bytes = make_png(10, 10)
    member = shared_alice.upload(member_bytes, "member.png")
    second = shared_alice.upload(make_png(11, 11), "second.png")
    outsider = shared_alice.upload(make_png(12, 12), "outsider.png")
    collection = _collection(shared_alice, [member["id"], second["id"]], name="Album")
    share = _share(shared_alice, collection_id=collection["id"])
    token = share["token"]

    response = _open(shared_client, token, params={"per_page": 1})
    data = success(response)
    assert set(data) == {"type", "collection", "media"} and data["type"] == "collection"
    assert data["collection"]["id"] == collection["id"] and data["collection"]["name"] == "Album"
    assert data["collection"]["media_count"] == 2
    assert [m["id"] for m in data["media"]] == [second["id"]]
    assert data["media"][0]["content_url"] == f"{PREFIX}/s/{token}/media/{second['id']}/content"
    pagination = response.json()["meta"]["pagination"]
    assert pagination["total"] == 2 and pagination["count"] == 1 and pagination["total_pages"] == 2
    assert pagination["links"] == {"next": f"/s/{token}?page=2&per_page=1", "prev": None}
    page2 = success(_open(shared_client, token, params={"page": 2, "per_page": 1}))
    assert [m["id"] for m in page2["media"]] == [member["id"]]
    assert shared_alice.email not in response.text

    served = _open(shared_client, token, f"/media/{member['id']}/content")
    assert served.status_code == 200 and served.content == member_bytes
    assert served.headers["x-content-type-options"] == "nosniff"
    error(_open(shared_client, token, f"/media/{outsider['id']}/content"), 404, "not_found")
    error(_open(shared_client, token, f"/media/{UNKNOWN}/content"), 404, "not_found")
    error(_open(shared_client, token, "/media/garbage/content"), 404, "not_found")
    error(_open(shared_client, token, "/content"), 404, "not_found")  # a collection link has no single content

    # removing a member from the collection stops serving it at once
    remove = shared_alice.client.delete(
        f"{PREFIX}/collections/{collection['id']}/media/{member['id']}", headers=shared_alice.headers
    )
    assert remove.status_code == 204
    error(_open(shared_client, token, f"/media/{member['id']}/content"), 404, "not_found")


def test_collection_share_of_another_users_media_id(
    shared_client: TestClient[Litestar], shared_alice: Account, shared_bob: Account
) -> None:
    bobs = shared_bob.upload(make_png(), "bob.png")
    collection = _collection(shared_alice, [shared_alice.upload(make_png(), "a.png")["id"]])
    share = _share(shared_alice, collection_id=collection["id"])
    error(_open(shared_client, share["token"], f"/media/{bobs['id']}/content"), 404, "not_found")


def test_password(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    png = make_png()
    media = shared_alice.upload(png, "secret.png")
    share = _share(shared_alice, media_id=media["id"], password="correct horse")
    token = share["token"]
    for suffix in ("", "/content"):
        missing = error(_open(shared_client, token, suffix), 401, "unauthorized")
        assert "X-Share-Password" in missing["message"]
        error(_open(shared_client, token, suffix, headers={"X-Share-Password": "wrong horse"}), 401, "unauthorized")
        error(_open(shared_client, token, suffix, headers={"X-Share-Password": ""}), 401, "unauthorized")
    good = {"X-Share-Password": "correct horse"}
    assert success(_open(shared_client, token, headers=good))["media"]["id"] == media["id"]
    assert _open(shared_client, token, "/content", headers=good).content == png
    # a bearer token of the owner is no substitute for the password
    error(_open(shared_client, token, headers=shared_alice.headers), 401, "unauthorized")


def test_collection_share_password(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    png = make_png(5, 5)
    media = shared_alice.upload(png, "m.png")
    collection = _collection(shared_alice, [media["id"]])
    share = _share(shared_alice, collection_id=collection["id"], password="album password")
    member = f"/media/{media['id']}/content"
    error(_open(shared_client, share["token"]), 401, "unauthorized")
    error(_open(shared_client, share["token"], member), 401, "unauthorized")
    headers = {"X-Share-Password": "album password"}
    assert _open(shared_client, share["token"], member, headers=headers).content == png


def test_allow_download_false(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    media = shared_alice.upload(make_png(), "view-only.png")
    share = _share(shared_alice, media_id=media["id"], allow_download=False, password="view only pw")
    headers = {"X-Share-Password": "view only pw"}
    assert success(_open(shared_client, share["token"], headers=headers))["media"]["id"] == media["id"]
    error(_open(shared_client, share["token"], "/content", headers=headers), 403, "forbidden")
    assert shared_client.head(f"{PREFIX}/s/{share['token']}/content", headers=headers).status_code == 403
    # without the password it is still a 401 first
    error(_open(shared_client, share["token"], "/content"), 401, "unauthorized")

    collection = _collection(shared_alice, [media["id"]])
    album = _share(shared_alice, collection_id=collection["id"], allow_download=False)
    success(_open(shared_client, album["token"]))
    error(_open(shared_client, album["token"], f"/media/{media['id']}/content"), 403, "forbidden")


def test_expiry_with_real_waiting(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    png = make_png()
    media = shared_alice.upload(png, "brief.png")
    collection = _collection(shared_alice, [media["id"]])
    brief = _share(shared_alice, media_id=media["id"], expires_in=1)
    brief_album = _share(shared_alice, collection_id=collection["id"], expires_in=1)
    lasting = _share(shared_alice, media_id=media["id"], expires_in=3600)
    assert _open(shared_client, brief["token"], "/content").content == png
    success(_open(shared_client, brief_album["token"]))
    time.sleep(1.2)
    error(_open(shared_client, brief["token"]), 404, "not_found")
    error(_open(shared_client, brief["token"], "/content"), 404, "not_found")
    error(_open(shared_client, brief_album["token"]), 404, "not_found")
    error(_open(shared_client, brief_album["token"], f"/media/{media['id']}/content"), 404, "not_found")
    assert _open(shared_client, lasting["token"], "/content").content == png
    # expired links stay listed for their owner (they can be deleted)
    listed = success(
        shared_alice.client.get(f"{PREFIX}/shares", headers=shared_alice.headers, params={"per_page": 100})
    )
    assert brief["id"] in {s["id"] for s in listed}


def test_deleting_the_media_kills_the_link(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    media = shared_alice.upload(make_png(), "doomed.png")
    share = _share(shared_alice, media_id=media["id"])
    success(_open(shared_client, share["token"]))
    assert shared_alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=shared_alice.headers).status_code == 204
    error(_open(shared_client, share["token"]), 404, "not_found")
    error(_open(shared_client, share["token"], "/content"), 404, "not_found")
    listed = success(
        shared_alice.client.get(f"{PREFIX}/shares", headers=shared_alice.headers, params={"per_page": 100})
    )
    assert share["id"] not in {s["id"] for s in listed}


def test_deleting_the_collection_kills_the_link(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    media = shared_alice.upload(make_png(), "kept.png")
    collection = _collection(shared_alice, [media["id"]])
    share = _share(shared_alice, collection_id=collection["id"])
    success(_open(shared_client, share["token"]))
    deleted = shared_alice.client.delete(f"{PREFIX}/collections/{collection['id']}", headers=shared_alice.headers)
    assert deleted.status_code == 204
    error(_open(shared_client, share["token"]), 404, "not_found")
    error(_open(shared_client, share["token"], f"/media/{media['id']}/content"), 404, "not_found")
    success(shared_alice.client.get(f"{PREFIX}/media/{media['id']}", headers=shared_alice.headers))


def test_public_pagination_validation(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    collection = _collection(shared_alice, [])
    share = _share(shared_alice, collection_id=collection["id"])
    error(_open(shared_client, share["token"], params={"per_page": 0}), 400, "validation_error")
    response = _open(shared_client, share["token"])
    assert success(response)["media"] == [] and response.json()["meta"]["pagination"]["total"] == 0
