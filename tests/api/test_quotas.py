"""Storage quotas: ``GET /users/me/usage``, the default quota and an admin's override, usage counted once per stored
blob (dedup), and uploads over the quota refused with 413 ``quota_exceeded`` (before streaming when the length is
declared, cut off mid-stream otherwise) leaving nothing behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVaultConfig
from mediavault.http.multipart import FRAMING_ALLOWANCE
from tests.api._admin import make_admin, stored_keys
from tests.api._checks import error, success
from tests.conftest import PREFIX, Account, make_config

QUOTA = 10_000
BOUNDARY = "----mvquotaboundary"


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, default_quota_bytes=QUOTA, dedup=True)


def usage(account: Account) -> dict[str, int | None]:
    return success(account.client.get(f"{PREFIX}/users/me/usage", headers=account.headers))  # type: ignore[no-any-return]


def _upload(account: Account, content: bytes) -> httpx.Response:
    return account.client.post(f"{PREFIX}/media/upload", headers=account.headers, files={"file": ("f.bin", content)})


def _file_part_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def test_usage_counts_each_stored_blob_once(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    assert usage(alice) == {"used_bytes": 0, "quota_bytes": QUOTA, "media_count": 0}
    same = os.urandom(3000)
    alice.upload(same, "a.bin")
    alice.upload(same, "b.bin")  # deduplicated: stored once
    alice.upload(os.urandom(1000), "c.bin")
    assert usage(alice) == {"used_bytes": 4000, "quota_bytes": QUOTA, "media_count": 3}
    assert usage(bob)["used_bytes"] == 0
    media = success(client.get(f"{PREFIX}/media", headers=alice.headers, params={"sort": "filename"}))
    client.delete(f"{PREFIX}/media/{media[0]['id']}", headers=alice.headers)  # a.bin: b.bin keeps the blob
    assert usage(alice) == {"used_bytes": 4000, "quota_bytes": QUOTA, "media_count": 2}
    client.delete(f"{PREFIX}/media/{media[1]['id']}", headers=alice.headers)
    assert usage(alice) == {"used_bytes": 1000, "quota_bytes": QUOTA, "media_count": 1}


def test_an_upload_over_the_quota_is_refused_and_leaves_nothing(client: TestClient[Litestar], alice: Account) -> None:
    alice.upload(os.urandom(6000))
    keys = stored_keys(client)
    err = error(_upload(alice, os.urandom(5000)), 413, "quota_exceeded")
    assert "quota" in err["message"]
    assert usage(alice) == {"used_bytes": 6000, "quota_bytes": QUOTA, "media_count": 1}
    assert stored_keys(client) == keys
    alice.upload(os.urandom(4000))  # exactly up to the quota
    error(_upload(alice, b"x"), 413, "quota_exceeded")
    assert usage(alice)["used_bytes"] == QUOTA


def test_a_declared_length_over_the_quota_is_refused_before_streaming(
    client: TestClient[Litestar], alice: Account
) -> None:
    # Content-Length declares far more than the room left, the body itself holds a small file: refused from the
    # declaration alone (a server that streamed first would have stored those 10 bytes)
    body = _file_part_head() + b"0123456789" + f"\r\n--{BOUNDARY}--\r\n".encode()
    headers = {
        **alice.headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(QUOTA + FRAMING_ALLOWANCE + 1),
    }

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post(f"{PREFIX}/media/upload", headers=headers, content=body)

    keys = stored_keys(client)
    response = client.blocking_portal.call(send)
    err = error(response, 413, "quota_exceeded")  # the least the file can be: the declared length less the margin
    assert err["message"] == f"The upload of at least {QUOTA + 1} bytes exceeds your storage quota ({QUOTA} bytes left)"
    assert stored_keys(client) == keys and usage(alice)["media_count"] == 0


def test_an_undeclared_length_is_cut_off_mid_stream(client: TestClient[Litestar], alice: Account) -> None:
    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length
        yield _file_part_head()
        for _ in range(8):
            yield os.urandom(4096)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    keys = stored_keys(client)
    response = client.post(
        f"{PREFIX}/media/upload",
        headers={**alice.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        content=chunks(),
    )
    error(response, 413, "quota_exceeded")
    assert stored_keys(client) == keys and usage(alice)["media_count"] == 0


# ----------------------------------------------------------------------------- every other upload path

UPLOAD_PATHS = ("replace", "signed", "guest")


def _upload_target(client: TestClient[Litestar], alice: Account, path: str) -> tuple[str, str, dict[str, str]]:
    """(method, URL, headers) of an upload of ``path`` into alice's account: ``PUT /media/{id}/content`` of an item
    of hers (1000 bytes), her signed upload URL, or a guest upload through her collection's share link."""
    if path == "replace":
        media = alice.upload(os.urandom(1000), "kept.bin")
        return "PUT", f"{PREFIX}/media/{media['id']}/content", dict(alice.headers)
    if path == "signed":
        signed = success(client.post(f"{PREFIX}/uploads/signed", headers=alice.headers, json={}), 201)
        return "POST", signed["url"], {}
    collection = success(client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "c"}), 201)
    share = client.post(
        f"{PREFIX}/shares", headers=alice.headers, json={"collection_id": collection["id"], "allow_upload": True}
    )
    return "POST", f"{PREFIX}/s/{success(share, 201)['token']}/upload", {}


def _state(client: TestClient[Litestar], alice: Account) -> tuple[object, ...]:
    """What an upload refused by the quota must leave as it was: alice's usage, her items (id, version, checksum)
    and every stored object."""
    media = success(client.get(f"{PREFIX}/media", headers=alice.headers))
    items = sorted((m["id"], m["version"], m["checksum_sha256"]) for m in media)
    return usage(alice), items, stored_keys(client)


def _assert_message(message: str, path: str, owners: str) -> None:
    """The owner (``replace``) is told how her bytes stand (``owners`` starts the message); the caller of a signed
    URL or a share link is not the owner and is told nothing of her usage: not one digit."""
    if path == "replace":
        assert message.startswith(owners), message
    else:
        assert message == "This upload does not fit in the owner's storage quota"
        assert not any(c.isdigit() for c in message)


@pytest.mark.parametrize("path", UPLOAD_PATHS)
def test_every_path_refuses_a_declared_length_over_the_quota_before_streaming(
    client: TestClient[Litestar], alice: Account, path: str
) -> None:
    method, url, headers = _upload_target(client, alice, path)
    before = _state(client, alice)
    # the body holds 10 bytes, its Content-Length declares more than the quota: refused from the declaration
    body = _file_part_head() + b"0123456789" + f"\r\n--{BOUNDARY}--\r\n".encode()
    headers |= {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(QUOTA + FRAMING_ALLOWANCE + 1),
    }

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.request(method, url, headers=headers, content=body)

    err = error(client.blocking_portal.call(send), 413, "quota_exceeded")
    _assert_message(err["message"], path, f"The upload of at least {QUOTA + 1} bytes exceeds your storage quota")
    assert _state(client, alice) == before
    # the same 10 bytes, honestly declared, fit: the link was not spent by the refusal
    response = client.request(method, url, headers=headers | {"Content-Length": str(len(body))}, content=body)
    assert success(response, 200 if path == "replace" else 201)["size"] == 10


@pytest.mark.parametrize("path", UPLOAD_PATHS)
def test_every_path_cuts_an_undeclared_length_off_mid_stream(
    client: TestClient[Litestar], alice: Account, path: str
) -> None:
    method, url, headers = _upload_target(client, alice, path)
    before = _state(client, alice)

    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length; 32 KiB against 10,000 bytes of quota
        yield _file_part_head()
        for _ in range(8):
            yield os.urandom(4096)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    headers |= {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    response = client.request(method, url, headers=headers, content=chunks())
    assert "content-length" not in response.request.headers
    err = error(response, 413, "quota_exceeded")
    room = QUOTA - usage(alice)["used_bytes"]  # type: ignore[operator]
    # the stream's cap, not the transaction's count, refused it
    _assert_message(err["message"], path, f"The upload exceeds your storage quota ({room} bytes left)")
    assert _state(client, alice) == before


def test_a_replacement_counts_the_bytes_it_replaces(client: TestClient[Litestar], alice: Account) -> None:
    # the current bytes stay as a version: 6000 kept + 6000 new is over 10,000, though either alone fits
    media = alice.upload(os.urandom(6000), "v.bin")
    url = f"{PREFIX}/media/{media['id']}/content"
    error(client.put(url, headers=alice.headers, files={"file": ("v.bin", os.urandom(6000))}), 413, "quota_exceeded")
    assert usage(alice)["used_bytes"] == 6000
    assert success(client.put(url, headers=alice.headers, files={"file": ("v.bin", os.urandom(4000))}))["version"] == 2
    assert usage(alice)["used_bytes"] == QUOTA


def test_an_admin_override_replaces_the_default(
    client: TestClient[Litestar], alice: Account, account_factory: object
) -> None:
    admin = make_admin(Account(client, "root@example.com"))

    def set_quota(value: int | None) -> None:
        response = client.patch(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers, json={"quota_bytes": value})
        assert success(response)["quota_bytes"] == value

    set_quota(100)
    assert usage(alice)["quota_bytes"] == 100
    error(_upload(alice, os.urandom(101)), 413, "quota_exceeded")
    set_quota(None)  # unlimited, whatever the default
    alice.upload(os.urandom(QUOTA * 2))
    assert usage(alice) == {"used_bytes": QUOTA * 2, "quota_bytes": None, "media_count": 1}


def test_without_a_quota_usage_is_still_reported(tmp_path: Path) -> None:
    from mediavault import MediaVault

    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path))])) as client:
        alice = Account(client, "alice@example.com")
        alice.upload(b"x" * 123)
        assert usage(alice) == {"used_bytes": 123, "quota_bytes": None, "media_count": 1}


def test_a_resumable_upload_over_the_quota_is_refused_at_creation(client: TestClient[Litestar], alice: Account) -> None:
    headers = {**alice.headers, "Tus-Resumable": "1.0.0"}
    over = client.post(f"{PREFIX}/uploads", headers={**headers, "Upload-Length": str(QUOTA + 1)})
    err = error(over, 413, "quota_exceeded")  # the caller is the owner: told the exact length and her room
    assert err["message"] == f"The upload of {QUOTA + 1} bytes exceeds your storage quota ({QUOTA} bytes left)"
    within = client.post(f"{PREFIX}/uploads", headers={**headers, "Upload-Length": str(QUOTA)})
    assert within.status_code == 201, within.text


def test_trashed_media_count_in_bytes_not_in_media_count(tmp_path: Path) -> None:
    from mediavault import MediaVault

    config = make_config(tmp_path, default_quota_bytes=QUOTA, trash_retention_days=30)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        kept = alice.upload(os.urandom(1000), "kept.bin")
        trashed = alice.upload(os.urandom(3000), "trashed.bin")
        assert client.delete(f"{PREFIX}/media/{trashed['id']}", headers=alice.headers).status_code == 204
        # the item is gone from what alice has (as GET /media counts it), its bytes are still stored
        assert usage(alice) == {"used_bytes": 4000, "quota_bytes": QUOTA, "media_count": 1}
        listed = client.get(f"{PREFIX}/media", headers=alice.headers)
        assert [m["id"] for m in success(listed)] == [kept["id"]]
        restore = client.post(f"{PREFIX}/trash/{trashed['id']}/restore", headers=alice.headers)
        assert success(restore)["id"] == trashed["id"]
        assert usage(alice) == {"used_bytes": 4000, "quota_bytes": QUOTA, "media_count": 2}
        client.delete(f"{PREFIX}/media/{trashed['id']}", headers=alice.headers)
        assert client.delete(f"{PREFIX}/trash/{trashed['id']}", headers=alice.headers).status_code == 204
        assert usage(alice) == {"used_bytes": 1000, "quota_bytes": QUOTA, "media_count": 1}


def test_previous_versions_count_until_they_are_purged(client: TestClient[Litestar], alice: Account) -> None:
    media = alice.upload(os.urandom(1000), "v.bin")
    replaced = client.put(
        f"{PREFIX}/media/{media['id']}/content", headers=alice.headers, files={"file": ("v.bin", os.urandom(500))}
    )
    assert success(replaced)["version"] == 2
    assert usage(alice) == {"used_bytes": 1500, "quota_bytes": QUOTA, "media_count": 1}
    client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers)
    assert usage(alice)["used_bytes"] == 0
