"""tus 1.0.0 on ``/uploads`` through the real app (both legs: SQLite + local files, PostgreSQL + S3 on moto):
discovery, creation (with upload), offsets, checksums, termination, expiry, and the media the last byte makes
(the same as ``POST /media/upload``'s)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, update

from mediavault import MediaVault
from mediavault.db.models import Media, Upload
from mediavault.domain.tus.services import completion_key, expire_uploads
from mediavault.fsck import fsck
from mediavault.storage.base import write_stream
from mediavault.storage.s3 import S3Storage
from mediavault.testing import EventRecorder
from tests.api._checks import concurrently
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_photo

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {"Content-Type": "application/offset+octet-stream"}
MIB = 1024 * 1024


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    config = make_config(tmp_path, max_upload_size=64 * MIB, rate_limit_authenticated=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


@pytest.fixture
def alice(vault: TestClient[Litestar]) -> Account:
    return Account(vault, "alice@example.com")


def create(account: Account, length: int, body: bytes | None = None, **meta: str) -> Any:
    headers = {**account.headers, **TUS, "Upload-Length": str(length)}
    if meta:
        headers["Upload-Metadata"] = metadata(**meta)
    if body is not None:
        headers.update(OCTETS)
    return account.client.post(f"{PREFIX}/uploads", headers=headers, content=body)


def append(account: Account, location: str, offset: int, data: bytes, **extra: str) -> Any:
    headers = {**account.headers, **TUS, **OCTETS, "Upload-Offset": str(offset), **extra}
    return account.client.patch(location, headers=headers, content=data)


def offset_of(account: Account, location: str) -> int:
    answer = account.client.head(location, headers={**account.headers, **TUS})
    assert answer.status_code == 200, answer.text
    return int(answer.headers["Upload-Offset"])


def runtime(client: TestClient[Litestar]) -> Any:
    return client.app.plugins.get(MediaVault).runtime


def stored_keys(client: TestClient[Litestar]) -> list[str]:
    async def scan() -> list[str]:
        return sorted(o.key for o in await runtime(client).storage.scan())

    return client.blocking_portal.call(scan)


def multipart_uploads(client: TestClient[Litestar]) -> int | None:
    """S3 multipart uploads in progress under the vault's prefix (``None`` on other storage)."""
    storage = runtime(client).storage
    if not isinstance(storage, S3Storage):
        return None

    async def count() -> int:
        answer = await storage._call("list_multipart_uploads", Bucket=storage.bucket, Prefix=storage.prefix)
        return len(answer.get("Uploads", []))

    return client.blocking_portal.call(count)


def test_options_says_what_is_served_without_a_principal(vault: TestClient[Litestar]) -> None:
    answer = vault.options(f"{PREFIX}/uploads")
    assert answer.status_code == 204
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert answer.headers["Tus-Extension"] == "creation,creation-with-upload,expiration,termination,checksum"
    assert answer.headers["Tus-Max-Size"] == str(64 * MIB)
    assert answer.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"


def test_every_answer_on_a_tus_path_says_tus_resumable(alice: Account, vault: TestClient[Litestar]) -> None:
    """``OPTIONS`` on an upload and a wrong method on either tus path (answered by Litestar's router, before any
    handler) carry ``Tus-Resumable`` too; a wrong method on the signed upload URLs below ``/uploads`` does not."""
    location = create(alice, 10).headers["Location"]
    options = vault.options(location)
    assert options.status_code == 204
    assert options.headers["Tus-Resumable"] == "1.0.0"
    assert options.headers["Tus-Version"] == "1.0.0"
    assert options.headers["Allow"] == "DELETE, HEAD, OPTIONS, PATCH"
    for method, path in [("PUT", location), ("GET", location), ("GET", f"{PREFIX}/uploads")]:
        refused = alice.client.request(method, path, headers={**alice.headers, **TUS})
        assert refused.status_code == 405, (method, path)
        assert refused.json()["error"]["code"] == "method_not_allowed"
        assert refused.headers["Tus-Resumable"] == "1.0.0", (method, path)
    signed = alice.client.put(f"{PREFIX}/uploads/signed/abc", headers=alice.headers)
    assert signed.status_code == 405
    assert "tus-resumable" not in signed.headers


def test_upload_in_chunks_makes_the_media_upload_would(alice: Account) -> None:
    photo = make_photo(width=40, height=30)
    data = photo + os.urandom(12 * MIB)  # more than one S3 part (8 MiB), and a tail
    created = create(alice, len(data), filename="../holiday photo.jpg", title="Beach", tags="Sea, sun")
    assert created.status_code == 201, created.text
    assert created.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in created.headers
    location = created.headers["Location"]
    assert location.startswith(f"{PREFIX}/uploads/")
    assert offset_of(alice, location) == 0
    offset = 0
    for size in (MIB, 5, 9 * MIB):
        answer = append(alice, location, offset, data[offset : offset + size])
        assert answer.status_code == 204, answer.text
        offset += size
        assert int(answer.headers["Upload-Offset"]) == offset
        assert "X-Media-Id" not in answer.headers
    last = append(alice, location, offset, data[offset:])
    assert last.status_code == 204, last.text
    assert int(last.headers["Upload-Offset"]) == len(data)
    media_id = last.headers["X-Media-Id"]
    head = alice.client.head(location, headers={**alice.headers, **TUS})
    assert head.headers["X-Media-Id"] == media_id
    assert head.headers["Cache-Control"] == "no-store"
    media = alice.client.get(f"{PREFIX}/media/{media_id}", headers=alice.headers).json()["data"]
    assert media["filename"] == "holiday photo.jpg"
    assert media["content_type"] == "image/jpeg"
    assert (media["width"], media["height"]) == (40, 30)
    assert media["size"] == len(data)
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert media["title"] == "Beach"
    assert media["tags"] == ["sea", "sun"]
    content = alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers)
    assert content.content == data


def test_creation_with_upload_and_a_single_patch(alice: Account) -> None:
    data = b"%PDF-1.4\n" + os.urandom(1000)
    created = create(alice, len(data), body=data[:100], filename="doc.pdf")
    assert created.status_code == 201, created.text
    assert created.headers["Upload-Offset"] == "100"
    last = append(alice, created.headers["Location"], 100, data[100:])
    assert last.status_code == 204
    media = alice.client.get(f"{PREFIX}/media/{last.headers['X-Media-Id']}", headers=alice.headers).json()["data"]
    assert media["content_type"] == "application/pdf"
    whole = create(alice, len(data), body=data, filename="whole.pdf")
    assert whole.status_code == 201
    assert whole.headers["Upload-Offset"] == str(len(data))
    assert "X-Media-Id" in whole.headers


def test_answers_without_a_body_carry_no_body_headers(alice: Account, vault: TestClient[Litestar]) -> None:
    """``HEAD`` (200) and the 201 and 204 answers have no body: no ``Content-Type`` (a serialized ``null`` was
    announced as ``application/json``, 4 bytes), and the 201/204 ones no body bytes either."""

    def bodiless(answer: Any, status: int) -> None:
        assert answer.status_code == status, answer.text
        assert "content-type" not in answer.headers, answer.headers
        assert answer.headers.get("content-length", "0") == "0", answer.headers
        assert answer.content == b""

    bodiless(vault.options(f"{PREFIX}/uploads"), 204)
    created = create(alice, 10)
    bodiless(created, 201)
    location = created.headers["Location"]
    bodiless(alice.client.head(location, headers={**alice.headers, **TUS}), 200)
    bodiless(append(alice, location, 0, b"01234"), 204)
    bodiless(create(alice, 10, body=b"01234"), 201)
    bodiless(alice.client.delete(location, headers={**alice.headers, **TUS}), 204)
    finished = create(alice, 5, filename="a.txt").headers["Location"]
    bodiless(append(alice, finished, 0, b"01234"), 204)
    bodiless(alice.client.head(finished, headers={**alice.headers, **TUS}), 200)


def test_protocol_errors(alice: Account, vault: TestClient[Litestar]) -> None:
    no_version = alice.client.post(f"{PREFIX}/uploads", headers={**alice.headers, "Upload-Length": "5"})
    assert no_version.status_code == 412
    assert no_version.headers["Tus-Version"] == "1.0.0"
    assert no_version.json()["error"]["code"] == "precondition_failed"
    anonymous = vault.post(f"{PREFIX}/uploads", headers={**TUS, "Upload-Length": "5"})
    assert anonymous.status_code == 401
    assert anonymous.headers["Tus-Resumable"] == "1.0.0"
    assert create(alice, 64 * MIB + 1).status_code == 413
    assert create(alice, 0).status_code == 400
    missing = alice.client.post(f"{PREFIX}/uploads", headers={**alice.headers, **TUS})
    assert missing.status_code == 400
    bad_meta = alice.client.post(
        f"{PREFIX}/uploads", headers={**alice.headers, **TUS, "Upload-Length": "5", "Upload-Metadata": "title %%%"}
    )
    assert bad_meta.status_code == 400
    not_ascii = alice.client.post(
        f"{PREFIX}/uploads",
        headers={**alice.headers, **TUS, "Upload-Length": "5", "Upload-Metadata": b"filename \xff\xfe"},
    )
    assert not_ascii.status_code == 400
    assert not_ascii.json()["error"]["details"][0]["field"] == "Upload-Metadata"
    assert create(alice, 5, tags=",".join(f"t{i}" for i in range(51))).status_code == 400
    location = create(alice, 10).headers["Location"]
    assert append(alice, location, 3, b"abc").status_code == 409
    wrong_type = alice.client.patch(
        location, headers={**alice.headers, **TUS, "Upload-Offset": "0", "Content-Type": "text/plain"}, content=b"a"
    )
    assert wrong_type.status_code == 415
    too_long = append(alice, location, 0, b"x" * 11)
    assert too_long.status_code == 400
    assert offset_of(alice, location) == 0
    assert append(alice, location, 0, b"abc", **{"Upload-Checksum": "md5 AAAA"}).status_code == 400
    wrong_sum = base64.b64encode(hashlib.sha1(b"abd").digest()).decode()
    mismatch = append(alice, location, 0, b"abc", **{"Upload-Checksum": f"sha1 {wrong_sum}"})
    assert mismatch.status_code == 460
    assert mismatch.json()["error"]["code"] == "checksum_mismatch"
    assert offset_of(alice, location) == 0
    right_sum = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    good = append(alice, location, 0, b"abc", **{"Upload-Checksum": f"sha256 {right_sum}"})
    assert good.status_code == 204
    assert good.headers["Upload-Offset"] == "3"


async def _cut_off_patch(app: Any, location: str, headers: dict[str, str], data: bytes) -> int:
    """Send ``PATCH location`` announcing twice ``len(data)`` bytes straight to the ASGI ``app``: the body's first
    half, then ``http.disconnect`` (the client hung up, or the server's ``client_body_timeout`` cut it off). Returns
    the answer's status (which no real client would read)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": data[i : i + 256 * 1024], "more_body": True}
        for i in range(0, len(data), 256 * 1024)
    ]
    messages.append({"type": "http.disconnect"})
    raw = [(k.lower().encode(), v.encode()) for k, v in {**headers, "Content-Length": str(2 * len(data))}.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": location,
        "raw_path": location.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_patch_cut_off_mid_body_keeps_what_arrived(alice: Account, vault: TestClient[Litestar]) -> None:
    data = os.urandom(20 * MIB + 7)
    before = stored_keys(vault)
    location = create(alice, len(data), filename="cut.bin").headers["Location"]
    assert append(alice, location, 0, data[: 3 * MIB]).status_code == 204  # on S3: a 3 MiB tail object
    headers = {**alice.headers, **TUS, **OCTETS, "Upload-Offset": str(3 * MIB)}
    half = data[3 * MIB : 9 * MIB]  # on S3: fills the first 8 MiB part, leaves a 1 MiB tail
    vault.blocking_portal.call(_cut_off_patch, vault.app, location, headers, half)
    assert offset_of(alice, location) == 9 * MIB  # tus: "store as much of the received data as possible"

    digest = base64.b64encode(hashlib.sha256(data[9 * MIB : 13 * MIB]).digest()).decode()
    checked = {**headers, "Upload-Offset": str(9 * MIB), "Upload-Checksum": f"sha256 {digest}"}
    vault.blocking_portal.call(_cut_off_patch, vault.app, location, checked, data[9 * MIB : 11 * MIB])
    assert offset_of(alice, location) == 9 * MIB  # a cut-off body cannot match its checksum: nothing kept

    vault.blocking_portal.call(_cut_off_patch, vault.app, location, {**headers, "Upload-Offset": str(9 * MIB)}, b"")
    assert offset_of(alice, location) == 9 * MIB  # nothing arrived, nothing changes

    last = append(alice, location, 9 * MIB, data[9 * MIB :])
    assert last.status_code == 204, last.text
    media_id = last.headers["X-Media-Id"]
    assert alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers).content == data
    assert len([k for k in stored_keys(vault) if k not in before]) == 1  # the media's bytes; no piece is left
    assert multipart_uploads(vault) in (None, 0)


def test_another_user_and_unknown_ids_get_404(alice: Account, vault: TestClient[Litestar]) -> None:
    bob = Account(vault, "bob@example.com")
    location = create(alice, 10).headers["Location"]
    assert bob.client.head(location, headers={**bob.headers, **TUS}).status_code == 404
    assert append(bob, location, 0, b"abc").status_code == 404
    assert bob.client.delete(location, headers={**bob.headers, **TUS}).status_code == 404
    assert offset_of(alice, location) == 0
    for bad in ("nope", "00000000-0000-0000-0000-000000000000"):
        assert alice.client.head(f"{PREFIX}/uploads/{bad}", headers={**alice.headers, **TUS}).status_code == 404


def test_of_two_appends_at_the_same_offset_one_wins(alice: Account, vault: TestClient[Litestar]) -> None:
    data = os.urandom(2 * MIB)
    location = create(alice, len(data), filename="raced.bin").headers["Location"].removeprefix(PREFIX)
    headers = {**alice.headers, **TUS, **OCTETS, "Upload-Offset": "0"}
    first = [("PATCH", location, {"headers": headers, "content": data[:MIB]})] * 2
    answers = vault.blocking_portal.call(concurrently, vault.app, first)
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    assert offset_of(alice, PREFIX + location) == MIB
    last = [("PATCH", location, {"headers": {**headers, "Upload-Offset": str(MIB)}, "content": data[MIB:]})] * 2
    answers = vault.blocking_portal.call(concurrently, vault.app, last)
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    [done] = [a for a in answers if a.status_code == 204]
    media_id = done.headers["X-Media-Id"]
    assert alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers).content == data
    listed = alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()["data"]
    assert [m["id"] for m in listed] == [media_id]  # one media, not two


def test_the_loser_of_a_race_leaves_no_multipart_upload(alice: Account, vault: TestClient[Litestar]) -> None:
    data = os.urandom(12 * MIB)
    before = stored_keys(vault)
    location = create(alice, len(data), filename="raced.bin").headers["Location"].removeprefix(PREFIX)
    headers = {**alice.headers, **TUS, **OCTETS, "Upload-Offset": "0"}
    first = [("PATCH", location, {"headers": headers, "content": data[: 9 * MIB]})] * 2  # on S3: each starts one
    answers = vault.blocking_portal.call(concurrently, vault.app, first)
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    last = append(alice, PREFIX + location, 9 * MIB, data[9 * MIB :])
    assert last.status_code == 204, last.text
    content = alice.client.get(f"{PREFIX}/media/{last.headers['X-Media-Id']}/content", headers=alice.headers)
    assert content.content == data
    assert multipart_uploads(vault) in (None, 0)  # the loser's was aborted, the winner's completed
    assert len([k for k in stored_keys(vault) if k not in before]) == 1


def test_termination_removes_the_upload_and_its_bytes(alice: Account, vault: TestClient[Litestar]) -> None:
    before = stored_keys(vault)
    location = create(alice, 20 * MIB).headers["Location"]
    assert append(alice, location, 0, os.urandom(9 * MIB)).status_code == 204
    assert stored_keys(vault) != before
    on_s3 = isinstance(runtime(vault).storage, S3Storage)
    assert multipart_uploads(vault) == (1 if on_s3 else None)  # on S3: one part of 8 MiB sent, and a tail object
    assert alice.client.delete(location, headers={**alice.headers, **TUS}).status_code == 204
    assert alice.client.head(location, headers={**alice.headers, **TUS}).status_code == 404
    assert stored_keys(vault) == before
    assert multipart_uploads(vault) == (0 if on_s3 else None)  # aborted


def test_expired_uploads_and_their_bytes_are_removed(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit_authenticated=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice = Account(vault, "alice@example.com")
        before = stored_keys(vault)
        done = create(alice, 5, body=b"hello", filename="done.txt")
        media_id = done.headers["X-Media-Id"]
        location = create(alice, 20 * MIB).headers["Location"]
        assert append(alice, location, 0, os.urandom(9 * MIB)).status_code == 204
        rt = runtime(vault)

        async def expire_all() -> None:  # their upload_expiry has passed (no sleeping: a loaded machine is slow)
            async with rt.session() as session, session.begin():
                past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
                await session.execute(update(Upload).values(expires_at=past))

        vault.blocking_portal.call(expire_all)
        assert alice.client.head(location, headers={**alice.headers, **TUS}).status_code == 404
        assert append(alice, location, 9 * MIB, b"more").status_code == 404
        on_s3 = isinstance(rt.storage, S3Storage)
        assert multipart_uploads(vault) == (1 if on_s3 else None)
        assert vault.blocking_portal.call(expire_uploads, rt.storage, rt.session) == 2
        assert multipart_uploads(vault) == (0 if on_s3 else None)  # aborted

        async def rows() -> tuple[int, int]:
            async with rt.session() as session:
                uploads = await session.scalar(select(func.count()).select_from(Upload))
                media = await session.scalar(select(func.count()).select_from(Media))
            return uploads or 0, media or 0

        assert vault.blocking_portal.call(rows) == (0, 1)
        assert alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers).content == b"hello"
        media_keys = [k for k in stored_keys(vault) if k not in before]
        assert len(media_keys) == 1  # the finished upload's media, nothing of the expired one
        report = vault.blocking_portal.call(lambda: fsck(rt.storage, rt.session, max_age=0))
        assert report.consistent, report.summary()


def test_objects_of_a_completion_that_failed_or_crashed_are_the_uploads_to_remove(tmp_path: Path) -> None:
    config = make_config(tmp_path, default_quota_bytes=12 * MIB, rate_limit_authenticated=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice = Account(vault, "alice@example.com")
        rt = runtime(vault)
        before = stored_keys(vault)
        big, small = os.urandom(9 * MIB), os.urandom(2 * MIB)  # on S3: a multipart upload, and a copied tail
        uploads = [create(alice, len(data), filename=f"{len(data)}.bin").headers["Location"] for data in (big, small)]
        for location, data in zip(uploads, (big, small), strict=True):
            assert append(alice, location, 0, data[:MIB]).status_code == 204
        other = alice.client.post(
            f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("other.bin", os.urandom(11 * MIB))}
        )
        assert other.status_code == 201, other.text
        for location, data in zip(uploads, (big, small), strict=True):  # refused before the object is made
            last = append(alice, location, MIB, data[MIB:])
            assert last.status_code == 413, last.text
            assert last.json()["error"]["code"] == "quota_exceeded"
            assert offset_of(alice, location) == MIB

        async def rows() -> list[Upload]:
            async with rt.session() as session:
                return list(await session.scalars(select(Upload).order_by(Upload.length.desc())))

        retried, abandoned = vault.blocking_portal.call(rows)
        assert (retried.completions, abandoned.completions) == (0, 0)
        assert multipart_uploads(vault) in (None, 0)  # the refused PATCH's multipart upload was aborted

        async def crash(upload: Upload) -> None:
            """What a SIGKILL between the finished object and the media's commit leaves: the attempt counted (it is
            committed before the object is written) and its object."""
            async with rt.session() as session, session.begin():
                await session.execute(update(Upload).where(Upload.id == upload.id).values(completions=1))
            await write_stream(await rt.storage.open_writer(completion_key(upload, 1)), _one(b"left by a crash"))

        for upload in (abandoned, retried):
            vault.blocking_portal.call(crash, upload)
        other_id = other.json()["data"]["id"]
        assert alice.client.delete(f"{PREFIX}/media/{other_id}", headers=alice.headers).status_code == 204
        done = append(alice, uploads[0], MIB, big[MIB:])  # the client retries once there is room: attempt 2
        assert done.status_code == 204, done.text
        media_id = done.headers["X-Media-Id"]

        async def expire_all() -> None:
            async with rt.session() as session, session.begin():
                past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
                await session.execute(update(Upload).values(expires_at=past))

        vault.blocking_portal.call(expire_all)
        assert vault.blocking_portal.call(expire_uploads, rt.storage, rt.session) == 2
        assert vault.blocking_portal.call(rows) == []
        assert multipart_uploads(vault) in (None, 0)
        media = alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()["data"]
        assert [m["id"] for m in media] == [media_id]
        assert alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers).content == big
        assert len([k for k in stored_keys(vault) if k not in before]) == 1  # its bytes; nothing of the rest
        report = vault.blocking_portal.call(lambda: fsck(rt.storage, rt.session, max_age=0))
        assert report.consistent, report.summary()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_an_upload_naming_a_media_item_replaces_its_bytes(tmp_path: Path) -> None:
    recorder = EventRecorder()
    config = make_config(tmp_path, default_quota_bytes=40 * MIB, rate_limit_authenticated=100_000, plugins=(recorder,))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice, bob = Account(vault, "alice@example.com"), Account(vault, "bob@example.com")
        old = make_photo(width=40, height=30)
        media = alice.upload(old, "photo.jpg", title="Old", tags="a")
        for who, target in ((bob, media["id"]), (alice, str(uuid.uuid4())), (alice, "nope")):
            refused = create(who, 5, filename="x.bin", media_id=target)
            assert refused.status_code == 404, refused.text  # someone else's or unknown: nothing created
        over = create(alice, 40 * MIB - len(old) + 1, media_id=media["id"])  # the current bytes count, as for PUT
        assert over.status_code == 413, over.text
        assert over.json()["error"]["code"] == "quota_exceeded"

        new = b"%PDF-1.4\n" + os.urandom(10 * MIB)  # on S3: a multipart upload
        created = create(alice, len(new), filename="scan.pdf", title="New", media_id=media["id"])
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        head = alice.client.head(location, headers={**alice.headers, **TUS})
        assert f"media_id {base64.b64encode(media['id'].encode()).decode()}" in head.headers["Upload-Metadata"]
        assert append(alice, location, 0, new[: 9 * MIB]).status_code == 204
        last = append(alice, location, 9 * MIB, new[9 * MIB :])
        assert last.status_code == 204, last.text
        assert last.headers["X-Media-Id"] == media["id"]

        replaced = alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers).json()["data"]
        assert replaced["version"] == 2
        assert (replaced["filename"], replaced["content_type"], replaced["size"]) == (
            "scan.pdf",
            "application/pdf",
            len(new),
        )
        assert (replaced["title"], replaced["tags"]) == ("New", ["a"])  # fields sent replace, others stay
        assert alice.client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers).content == new
        versions = alice.client.get(f"{PREFIX}/media/{media['id']}/versions", headers=alice.headers).json()["data"]
        assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
        assert versions[1]["checksum_sha256"] == hashlib.sha256(old).hexdigest()
        old_bytes = alice.client.get(f"{PREFIX}/media/{media['id']}/versions/1/content", headers=alice.headers)
        assert old_bytes.content == old
        assert recorder.wait_for("media.updated").data["id"] == media["id"]
        listed = alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()["data"]
        assert [m["id"] for m in listed] == [media["id"]]  # no new item

        gone = alice.upload(b"bye", "gone.txt")
        location = create(alice, 4, filename="late.txt", media_id=gone["id"]).headers["Location"]
        assert alice.client.delete(f"{PREFIX}/media/{gone['id']}", headers=alice.headers).status_code == 204
        late = append(alice, location, 0, b"late")
        assert late.status_code == 404, late.text  # the item went meanwhile: nothing is made
        assert offset_of(alice, location) == 0
        listed = alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()["data"]
        assert [m["id"] for m in listed] == [media["id"]]


def test_a_completion_refused_by_the_quota_can_be_retried(tmp_path: Path) -> None:
    config = make_config(tmp_path, default_quota_bytes=30 * MIB, rate_limit_authenticated=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice = Account(vault, "alice@example.com")
        before = stored_keys(vault)
        data = os.urandom(20 * MIB)
        location = create(alice, len(data), filename="big.bin").headers["Location"]
        assert append(alice, location, 0, data[: 9 * MIB]).status_code == 204  # on S3: the multipart upload begins
        other = alice.client.post(
            f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("other.bin", os.urandom(15 * MIB))}
        )
        assert other.status_code == 201, other.text
        refused = append(alice, location, 9 * MIB, data[9 * MIB :])  # before the object (on S3: the multipart
        assert refused.status_code == 413, refused.text  # upload is not spent: completed, it could not go on)
        assert offset_of(alice, location) == 9 * MIB
        other_id = other.json()["data"]["id"]
        assert alice.client.delete(f"{PREFIX}/media/{other_id}", headers=alice.headers).status_code == 204
        done = append(alice, location, 9 * MIB, data[9 * MIB :])
        assert done.status_code == 204, done.text
        media_id = done.headers["X-Media-Id"]
        assert alice.client.get(f"{PREFIX}/media/{media_id}/content", headers=alice.headers).content == data
        media = alice.client.get(f"{PREFIX}/media/{media_id}", headers=alice.headers).json()["data"]
        assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
        assert multipart_uploads(vault) in (None, 0)
        assert len([k for k in stored_keys(vault) if k not in before]) == 1


def test_browsers_may_speak_tus_when_cors_is_configured(tmp_path: Path) -> None:
    origin = "https://app.example.com"
    config = make_config(tmp_path, cors_allow_origins=(origin,))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice = Account(vault, "alice@example.com")
        requested = "authorization, tus-resumable, upload-length, upload-offset, upload-metadata, upload-checksum"
        preflight = vault.options(
            f"{PREFIX}/uploads/some-id",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": requested + ", content-type",
            },
        )
        assert preflight.status_code in (200, 204)
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert all(name in allowed for name in requested.split(", "))
        created = alice.client.post(
            f"{PREFIX}/uploads", headers={**alice.headers, **TUS, "Origin": origin, "Upload-Length": "3"}
        )
        exposed = created.headers["access-control-expose-headers"].lower()
        for name in ("location", "upload-offset", "upload-length", "upload-expires", "tus-resumable", "x-media-id"):
            assert name in exposed


def test_the_app_sweeps_expired_uploads_by_itself(tmp_path: Path) -> None:
    config = make_config(tmp_path, upload_expiry=1, upload_expiry_interval=0.2, processing_worker=True)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as vault:
        alice = Account(vault, "alice@example.com")
        before = stored_keys(vault)
        # creation-with-upload: one request, so its bytes are stored before the 1 s expiry can run out
        assert create(alice, 10 * MIB, body=os.urandom(MIB)).headers["Upload-Offset"] == str(MIB)
        rt = runtime(vault)

        async def uploads() -> int:
            async with rt.session() as session:
                return await session.scalar(select(func.count()).select_from(Upload)) or 0

        for _ in range(600):  # a bound for a hang only (the row goes first, then the bytes)
            if vault.blocking_portal.call(uploads) == 0 and stored_keys(vault) == before:
                break
            time.sleep(0.05)
        assert vault.blocking_portal.call(uploads) == 0
        assert stored_keys(vault) == before
