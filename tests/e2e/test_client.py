"""The Python SDK (``mediavault_sdk``) against a REAL ``mediavault serve`` process: every endpoint group with the
blocking and the asyncio client, typed errors, token refresh on 401 (2-second access tokens), streamed uploads and
downloads with progress, page iterators."""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import json
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mediavault_sdk import (
    AsyncClient,
    Client,
    Conflict,
    Forbidden,
    Health,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RateLimited,
    SharedMedia,
    Unauthorized,
    ValidationError,
    VaultError,
)
from mediavault_sdk._core import Call, data_of, no_content
from mediavault_sdk._resumable import ResumeFile
from PIL import Image

from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer
from tests.files import make_jpeg, make_pdf, make_png

TTL = 2  # seconds an access token lives on this module's server
MAX_UPLOAD = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> VaultServer:
    return module_servers.start(
        env={
            "MEDIAVAULT_ACCESS_TOKEN_TTL": str(TTL),
            "MEDIAVAULT_MAX_UPLOAD_SIZE": str(MAX_UPLOAD),
            "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "100000",
            "MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
        }
    )


def _login(server: VaultServer, email: str) -> Client:
    client = Client(server.base_url)
    client.register(email, PASSWORD)
    client.login(email, PASSWORD)
    return client


@pytest.fixture
def vault(server: VaultServer, request: pytest.FixtureRequest) -> Iterator[Client]:
    with _login(server, f"{request.node.name.replace('[', '-').strip(']')}@example.com") as client:
        yield client


def _wait_for_expiry() -> None:
    """Wait until every access token issued so far has expired on the server (``exp`` has whole seconds)."""
    time.sleep(TTL + 1.1)


# ----------------------------------------------------------------------------------------------- auth & users


def test_auth_and_users(server: VaultServer) -> None:
    with Client(server.base_url) as vault:
        assert vault.health().checks == {"database": "ok", "storage": "ok"}
        user = vault.register("Auth@Example.com", PASSWORD, display_name="Ada")
        assert (user.email, user.display_name, user.role) == ("auth@example.com", "Ada", "user")
        with pytest.raises(Conflict) as taken:
            vault.register("auth@example.com", PASSWORD)
        assert taken.value.request_id and taken.value.status_code == 409
        with pytest.raises(ValidationError) as short:
            vault.register("other@example.com", "short")
        assert [d["field"] for d in short.value.details] == ["password"]
        with pytest.raises(Unauthorized):
            vault.me()  # not logged in yet
        with pytest.raises(Unauthorized):
            vault.login("auth@example.com", "wrong password")
        pair = vault.login("auth@example.com", PASSWORD)
        assert pair.expires_in == TTL and vault.credentials.token == pair.token
        assert vault.me().id == user.id
        assert vault.update_me(display_name="Lovelace").display_name == "Lovelace"
        with pytest.raises(ValidationError) as wrong:
            vault.update_me(password="a new password", current_password="not it")
        assert wrong.value.details == [{"field": "current_password", "message": "is incorrect"}]
        vault.update_me(password="a new password", current_password=PASSWORD)
        vault.logout()
        assert vault.credentials.token is None
        with pytest.raises(Unauthorized):
            vault.me()
        with pytest.raises(Unauthorized):
            vault.login("auth@example.com", PASSWORD)  # the password changed
        vault.login("auth@example.com", "a new password")
        assert vault.me().display_name == "Lovelace"


def test_api_keys(vault: Client, server: VaultServer) -> None:
    created = [vault.create_api_key(f"key {i}") for i in range(3)]
    assert all(k.key.startswith("mvk_") and k.prefix == k.key[:12] for k in created)
    page = vault.list_api_keys(per_page=2)
    assert page.pagination.total == 3 and len(page.items) == 2
    assert [k.id for k in vault.iter_api_keys(per_page=2)] == [k.id for k in reversed(created)]
    with Client(server.base_url, api_key=created[0].key) as keyed:
        assert keyed.me().id == vault.me().id
        with pytest.raises(Forbidden):
            keyed.create_api_key("a key cannot mint keys")
        vault.delete_api_key(created[0].id)
        with pytest.raises(Unauthorized):
            keyed.me()
    with pytest.raises(NotFound):
        vault.delete_api_key(created[0].id)


# ----------------------------------------------------------------------------------------------- media


def test_media_crud_pagination_and_downloads(vault: Client, tmp_path: Path) -> None:
    png, pdf = make_png(), make_pdf()
    path = tmp_path / "holiday photo.png"
    path.write_bytes(png)
    from_path = vault.upload(path, title="Holiday", tags=["Beach", "2026"])
    assert (from_path.filename, from_path.type, from_path.size) == ("holiday photo.png", "image", len(png))
    assert from_path.tags == ["beach", "2026"] and from_path.width == 64
    from_file = vault.upload(io.BytesIO(pdf), filename="report.pdf", description="numbers")
    assert from_file.content_type == "application/pdf"
    from_iter = vault.upload(iter([b"plain ", b"text"]), filename="notes.txt")
    assert from_iter.size == 10
    for i in range(22):
        vault.upload(io.BytesIO(f"file {i}".encode()), filename=f"f{i:02}.txt")

    first = vault.list_media(per_page=10, sort="filename")
    assert first.pagination.total == 25 and first.pagination.total_pages == 3 and len(first.items) == 10
    walked = list(vault.iter_media(per_page=10, sort="filename"))
    assert len(walked) == 25 and len({m.id for m in walked}) == 25
    assert [m.filename for m in walked] == sorted(m.filename for m in walked)
    assert [m.id for m in vault.iter_media(type="image")] == [from_path.id]
    assert [m.id for m in vault.iter_media(tag="beach")] == [from_path.id]
    by_checksum = vault.list_media(checksum_sha256=hashlib.sha256(pdf).hexdigest())
    assert [m.id for m in by_checksum.items] == [from_file.id]
    with pytest.raises(ValidationError) as bad:
        vault.list_media(checksum_sha256="xyz")
    assert "checksum_sha256" in bad.value.message

    assert vault.get_media(from_file.id) == from_file
    updated = vault.update_media(from_file.id, title="Q3", tags=["Work"])
    assert (updated.title, updated.description, updated.tags) == ("Q3", "numbers", ["work"])
    assert vault.update_media(from_file.id, description=None).description is None

    target = tmp_path / "out" / "copy.png"
    target.parent.mkdir()
    assert vault.download(from_path.id, target) == len(png)
    assert target.read_bytes() == png
    buffer = io.BytesIO()
    vault.download(from_file.id, buffer)
    assert buffer.getvalue() == pdf
    for byte_range, expected in [((0, 9), png[:10]), ((10, None), png[10:]), ((-7, None), png[-7:])]:
        part = io.BytesIO()
        assert vault.download(from_path.id, part, byte_range=byte_range) == len(expected)
        assert part.getvalue() == expected
    with pytest.raises(RangeNotSatisfiable):
        vault.download(from_path.id, tmp_path / "past-the-end.bin", byte_range=(len(png), None))
    assert not (tmp_path / "past-the-end.bin").exists()
    with pytest.raises(ValueError, match="comes before"):
        vault.download(from_path.id, io.BytesIO(), byte_range=(5, 4))

    vault.delete_media(from_path.id)
    with pytest.raises(NotFound):
        vault.get_media(from_path.id)
    with pytest.raises(NotFound):
        vault.download(from_path.id, tmp_path / "gone.png")
    assert not (tmp_path / "gone.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday photo.png", "out"]  # no .part left behind


def test_download_under_the_longest_name_the_vault_keeps(vault: Client, tmp_path: Path) -> None:
    # The vault keeps file names of up to 255 bytes of UTF-8, which is also what a file system takes (NAME_MAX):
    # the temporary file a download is written to first must not need a longer name.
    name = "é" * 125 + "x.pdf"
    assert len(name.encode()) == 255
    pdf = make_pdf()
    media = vault.upload(io.BytesIO(pdf), filename=name)
    assert media.filename == name
    target = tmp_path / media.filename
    assert vault.download(media.id, target) == len(pdf)
    assert target.read_bytes() == pdf
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no .part left behind


def test_streamed_upload_and_download_of_a_large_file(vault: Client, tmp_path: Path) -> None:
    size = 12 * 1024 * 1024 + 123
    path = tmp_path / "big.bin"
    with path.open("wb") as fh:
        for _ in range(size // (1024 * 1024)):
            fh.write(os.urandom(1024 * 1024))
        fh.write(os.urandom(size % (1024 * 1024)))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sent: list[tuple[int, int | None]] = []
    tracemalloc.start()
    try:
        media = vault.upload(path, progress=lambda done, total: sent.append((done, total)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size // 4, f"the upload held {peak} bytes of a {size}-byte file in memory"
    assert (media.size, media.checksum_sha256) == (size, digest)
    assert len(sent) > 10 and sent[-1] == (size, size)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(sent))

    received: list[tuple[int, int | None]] = []
    copy = tmp_path / "copy.bin"
    assert vault.download(media.id, copy, progress=lambda done, total: received.append((done, total))) == size
    assert received[-1] == (size, size) and len(received) > 1
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest


def test_processing_metadata_and_thumbnails(vault: Client, tmp_path: Path) -> None:
    photo = vault.upload(io.BytesIO(make_jpeg(640, 480)), filename="wide.jpg")
    text = vault.upload(io.BytesIO(b"no pictures here"), filename="plain.txt")
    deadline = time.monotonic() + 30
    while (processed := vault.get_metadata(photo.id)).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)  # the server's processing worker runs after the upload
    assert processed.status == "done", processed
    assert processed.metadata["image"]["width"] == 640
    thumbs = {v.name: v for v in processed.variants if v.url}
    assert thumbs and all(v.url and v.url.startswith("/api/v1/media/") for v in thumbs.values())
    out = tmp_path / "thumb.img"
    assert vault.download_thumbnail(photo.id, out, size=256) == thumbs["thumb-256"].size
    with Image.open(out) as image:
        assert max(image.size) == 256
    with pytest.raises(ValidationError) as bad:
        vault.download_thumbnail(photo.id, tmp_path / "no.img", size=13)
    assert bad.value.details[0]["field"] == "size"
    with pytest.raises(NotFound):
        vault.download_thumbnail(text.id, tmp_path / "no.img")
    assert not (tmp_path / "no.img").exists()


def test_upload_errors(vault: Client, tmp_path: Path) -> None:
    big = tmp_path / "too-big.bin"
    with big.open("wb") as fh:
        fh.truncate(MAX_UPLOAD + 1)
    with pytest.raises(PayloadTooLarge):
        vault.upload(big)
    with pytest.raises(ValidationError):
        vault.upload(io.BytesIO(b""), filename="empty.txt")
    with pytest.raises(FileNotFoundError):
        vault.upload(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="comma"):
        vault.upload(io.BytesIO(b"x"), filename="x.txt", tags=["a,b"])

    growing = tmp_path / "growing.log"
    growing.write_bytes(b"0" * 1024 * 1024)

    def append(_sent: int, _total: int | None) -> None:
        with growing.open("ab") as fh:  # the file grows while it is being sent
            fh.write(b"more")

    with pytest.raises(ValueError, match="changed size"):
        vault.upload(growing, progress=append)
    assert vault.list_media().pagination.total == 0  # nothing half-uploaded was kept

    tricky = vault.upload(io.BytesIO(b"header games"), filename='a"b\r\nX-Injected: 1\r\n.txt')
    assert "\n" not in tricky.filename and "\r" not in tricky.filename
    assert tricky.size == 12


# ------------------------------------------------------------------------------- collections, shares, search


def test_collections_shares_and_search(vault: Client, server: VaultServer, tmp_path: Path) -> None:
    jpeg = make_jpeg()
    photo = vault.upload(io.BytesIO(jpeg), filename="Sunset_at_sea.jpg", title="Evening", tags=["sea"])
    doc = vault.upload(io.BytesIO(make_pdf()), filename="minutes.pdf")

    album = vault.create_collection("Trip", description="summer")
    assert (album.name, album.media_count) == ("Trip", 0)
    assert vault.add_to_collection(album.id, [photo.id, doc.id]).media_count == 2
    with pytest.raises(NotFound):
        vault.add_to_collection(album.id, [photo.id, "00000000-0000-4000-8000-000000000000"])
    assert [m.id for m in vault.iter_collection_media(album.id, per_page=1, sort="filename")] == [photo.id, doc.id]
    assert vault.list_collection_media(album.id, type="image").items == [photo]
    assert vault.update_collection(album.id, name="Trip 2026", description=None).description is None
    assert [c.id for c in vault.iter_collections()] == [album.id]
    assert vault.get_collection(album.id).name == "Trip 2026"

    assert [m.id for m in vault.iter_search("sunset sea")] == [photo.id]
    assert vault.search("minutes").pagination.total == 1
    with pytest.raises(ValidationError):
        vault.search(" ")

    link = vault.create_share(media_id=photo.id, password="open sesame", expires_in=3600)
    assert link.token and link.has_password and link.url and link.url.endswith(link.token)
    with Client(server.base_url) as anonymous:
        with pytest.raises(Unauthorized):
            anonymous.open_share(link.token)
        opened = anonymous.open_share(link.token, password="open sesame")
        assert opened.type == "media" and opened.media is not None and opened.media.id == photo.id
        out = tmp_path / "shared.jpg"
        anonymous.download_shared(link.token, out, password="open sesame")
        assert out.read_bytes() == jpeg
        assert anonymous.download_shared(link.token, out, password="open sesame", byte_range=(0, 1)) == 2
        assert out.read_bytes() == jpeg[:2]  # a JPEG's start-of-image marker, FF D8

        view_only = vault.create_share(collection_id=album.id, allow_download=False)
        assert view_only.token
        opened = anonymous.open_share(view_only.token, per_page=1)
        assert opened.type == "collection" and opened.collection is not None
        assert len(opened.items) == 1 and opened.pagination is not None and opened.pagination.total == 2
        with pytest.raises(Forbidden):
            anonymous.download_shared(view_only.token, tmp_path / "no.jpg", media_id=photo.id)
        assert not (tmp_path / "no.jpg").exists()

        listed = vault.list_shares()
        assert listed.pagination.total == 2 and all(s.token is None for s in listed.items)
        assert {s.id for s in vault.iter_shares(per_page=1)} == {link.id, view_only.id}
        vault.delete_share(link.id)
        with pytest.raises(NotFound):
            anonymous.open_share(link.token, password="open sesame")

    vault.remove_from_collection(album.id, doc.id)
    assert vault.get_collection(album.id).media_count == 1
    vault.delete_collection(album.id)
    with pytest.raises(NotFound):
        vault.get_collection(album.id)
    assert vault.get_media(photo.id).id == photo.id  # media stay


def test_signed_and_guest_uploads(vault: Client, server: VaultServer) -> None:
    album = vault.create_collection("Drop box")
    signed = vault.sign_upload(expires_in=600, max_size=1000, collection_id=album.id)
    assert signed.url.endswith(f"/uploads/signed/{signed.token}") and signed.max_size == 1000
    guests = vault.create_share(collection_id=album.id, allow_upload=True, password="open sesame")
    assert guests.allow_upload and guests.token
    with Client(server.base_url) as anonymous:
        with pytest.raises(PayloadTooLarge):
            anonymous.upload_signed(signed.token, io.BytesIO(b"x" * 1001), filename="big.bin")
        sent: list[int] = []
        media = anonymous.upload_signed(
            signed.token,
            io.BytesIO(make_png()),
            filename="signed.png",
            tags=["in"],
            progress=lambda n, _t: sent.append(n),
        )
        assert media.content_type == "image/png" and media.tags == ["in"] and sent[-1] == media.size
        with pytest.raises(NotFound):
            anonymous.upload_signed(signed.token, io.BytesIO(b"again"))
        with pytest.raises(Unauthorized):
            anonymous.upload_to_share(guests.token, io.BytesIO(b"guest"), filename="guest.txt")
        guest = anonymous.upload_to_share(
            guests.token, io.BytesIO(b"guest"), filename="guest.txt", password="open sesame"
        )
        assert isinstance(guest, SharedMedia)  # the link's view of the item: nothing of the owner
        assert guest.content_url.endswith(f"/s/{guests.token}/media/{guest.id}/content")
        view_only = vault.create_share(collection_id=album.id)
        with pytest.raises(Forbidden):
            anonymous.upload_to_share(view_only.token, io.BytesIO(b"no"))
    assert {m.id for m in vault.iter_collection_media(album.id)} == {media.id, guest.id}
    assert vault.get_media(guest.id).owner_id == media.owner_id == vault.me().id


class _Stop(Exception):
    """Raised from a progress callback: the process "dies" mid-upload."""


def test_resumable_upload_continues_where_the_server_got(vault: Client, server: VaultServer, tmp_path: Path) -> None:
    data = os.urandom(1_000_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    store = tmp_path / "state" / "uploads.json"

    def die_half_way(done: int, total: int | None) -> None:
        assert total == len(data)
        if done >= len(data) // 2:
            raise _Stop

    options = {"resumable": True, "chunk_size": 100_000, "resume_file": store}
    with pytest.raises(_Stop):  # after the PATCH of bytes 400,000-500,000 was sent: the server may have it all
        vault.upload(path, title="Big", progress=die_half_way, **options)
    (upload_id,) = json.loads(store.read_text()).values()
    seen: list[int] = []
    with Client(server.base_url, api_key=vault.create_api_key("another process").key) as fresh:
        media = fresh.upload(path, title="Big", progress=lambda done, _total: seen.append(done), **options)
    assert seen[0] in (400_000, 500_000) and seen[-1] == len(data)  # continued from the server's offset
    assert (media.size, media.checksum_sha256, media.title) == (len(data), hashlib.sha256(data).hexdigest(), "Big")
    assert vault.list_media(checksum_sha256=media.checksum_sha256).pagination.total == 1
    assert json.loads(store.read_text()) == {}

    # Finished, but the client died before it heard so: the server names the media, nothing is sent again.
    store.write_text(json.dumps({ResumeFile.key(path): upload_id}))
    seen.clear()
    assert vault.upload(path, progress=lambda done, _total: seen.append(done), **options).id == media.id
    assert seen == [len(data)]

    # An upload the server no longer has (expired, deleted) is started again from byte 0.
    store.write_text(json.dumps({ResumeFile.key(path): "00000000-0000-4000-8000-000000000000"}))
    seen.clear()
    again = vault.upload(path, progress=lambda done, _total: seen.append(done), **options)
    assert seen[0] == 0 and again.checksum_sha256 == media.checksum_sha256 and again.id != media.id
    small = vault.upload(path, resumable=False)  # one POST /media/upload
    assert small.size == len(data)


def test_resumable_replacement_continues_where_the_server_got(
    vault: Client, server: VaultServer, tmp_path: Path
) -> None:
    data = os.urandom(1_000_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    store = tmp_path / "state" / "uploads.json"
    first, other = (vault.upload(io.BytesIO(b"version one"), filename=name) for name in ("a.txt", "b.txt"))

    def die_half_way(done: int, _total: int | None) -> None:
        if done >= len(data) // 2:
            raise _Stop

    options = {"resumable": True, "chunk_size": 100_000, "resume_file": store}
    with pytest.raises(_Stop):  # the same file half sent as a new item, and half sent as `first`'s new bytes
        vault.upload(path, progress=die_half_way, **options)
    with pytest.raises(_Stop):
        vault.replace_content(first.id, path, title="Big", progress=die_half_way, **options)
    entries = json.loads(store.read_text())
    assert set(entries) == {ResumeFile.key(path), ResumeFile.key(path, first.id)}  # kept apart
    assert len(set(entries.values())) == 2

    seen: list[int] = []
    with Client(server.base_url, api_key=vault.create_api_key("another process").key) as fresh:
        # Another item's replacement never continues either upload: it starts from byte 0.
        assert fresh.replace_content(other.id, path, progress=lambda done, _: seen.append(done), **options).version == 2
        assert seen[0] == 0
        seen.clear()
        replaced = fresh.replace_content(
            first.id, path, title="Big", progress=lambda done, _: seen.append(done), **options
        )
    assert seen[0] in (400_000, 500_000) and seen[-1] == len(data)  # continued from the server's offset
    assert (replaced.id, replaced.version, replaced.size, replaced.title) == (first.id, 2, len(data), "Big")
    assert replaced.checksum_sha256 == hashlib.sha256(data).hexdigest() and replaced.filename == "big.bin"
    copy = io.BytesIO()
    vault.download(first.id, copy)
    assert copy.getvalue() == data
    assert [(v.version, v.size) for v in vault.list_versions(first.id)] == [(2, len(data)), (1, len(b"version one"))]
    assert json.loads(store.read_text()) == {ResumeFile.key(path): entries[ResumeFile.key(path)]}  # the new item's
    # The plain upload continues as a new item, not as a replacement.
    new = vault.upload(path, **options)
    assert new.id not in (first.id, other.id) and new.version == 1 and json.loads(store.read_text()) == {}
    assert vault.list_media(checksum_sha256=new.checksum_sha256).pagination.total == 3

    # Under the threshold (and with custom metadata) a replacement is one PUT, as before; an unknown item: 404.
    small = vault.replace_content(first.id, path, metadata={"k": "v"})
    assert (small.version, small.metadata) == (3, {"k": "v"})
    with pytest.raises(NotFound):
        vault.replace_content("00000000-0000-4000-8000-000000000000", path, **options)
    assert json.loads(store.read_text()) == {}
    # The item deleted while its new bytes were on the way: the last PATCH's 404, and nothing left to continue.
    with pytest.raises(_Stop):
        vault.replace_content(other.id, path, progress=die_half_way, **options)
    vault.delete_media(other.id)
    with pytest.raises(NotFound):
        vault.replace_content(other.id, path, **options)
    assert json.loads(store.read_text()) == {}


def test_webhooks(vault: Client) -> None:
    hook = vault.create_webhook("http://127.0.0.1:9/hook", ["media.uploaded"], description="local")
    assert hook.secret.startswith("whsec_") and hook.active
    with pytest.raises(ValidationError) as bad:
        vault.create_webhook("ftp://example.com/", ["media.uploaded"])
    assert bad.value.details[0]["field"] == "url"
    vault.upload(io.BytesIO(b"an event"), filename="event.txt")
    assert vault.get_webhook(hook.id).url == "http://127.0.0.1:9/hook"
    paused = vault.update_webhook(hook.id, active=False, events=["media.uploaded", "media.deleted"])
    assert not paused.active and paused.events == ["media.uploaded", "media.deleted"]
    assert [w.id for w in vault.iter_webhooks()] == [hook.id]
    deliveries = vault.list_deliveries(hook.id)
    assert deliveries.pagination.total == len(list(vault.iter_deliveries(hook.id)))
    assert all(d.event == "media.uploaded" for d in deliveries.items)
    vault.delete_webhook(hook.id)
    with pytest.raises(NotFound):
        vault.list_deliveries(hook.id)


# ----------------------------------------------------------------------------------------------- errors and tokens


def test_typed_errors(vault: Client, server: VaultServer) -> None:
    with pytest.raises(NotFound) as missing:
        vault.get_media("../../etc/passwd")
    assert missing.value.code == "not_found" and missing.value.request_id
    with pytest.raises(ValidationError) as bad:
        vault.list_media(per_page=1000)
    assert bad.value.details and bad.value.details[0]["field"] == "per_page"
    with pytest.raises(MethodNotAllowed):
        vault.send(Call("DELETE", "/health", no_content, 204))
    with pytest.raises(VaultError, match="unexpected body"):  # JSON, but not the envelope of a Health
        vault.send(Call("GET", "/schema/openapi.json", data_of(Health)))
    with Client(server.base_url, prefix="") as outside, pytest.raises(NotFound) as foreign:
        outside.health()  # /health outside the prefix: Litestar's own 404, not the vault's envelope
    assert foreign.value.message.startswith("HTTP 404 from ") and foreign.value.request_id is None
    with Client(server.base_url) as anonymous:
        anonymous.register("limited@example.com", PASSWORD)
        with pytest.raises(RateLimited) as limited:  # the per-account budget of failed logins is 5
            for _ in range(10):
                with pytest.raises(Unauthorized):
                    anonymous.login("limited@example.com", "wrong password")
        assert 1 <= limited.value.retry_after <= 120  # sliding window: at most two periods of 60 s


def test_expired_token_is_refreshed_once_then_retried(server: VaultServer) -> None:
    with _login(server, "refresh@example.com") as first:
        user = first.me()
        stale, refresh = first.credentials.token, first.credentials.refresh_token
    _wait_for_expiry()
    # A client resuming from stored tokens does not know the expiry: the 401 triggers the refresh.
    with Client(server.base_url, token=stale, refresh_token=refresh) as resumed:
        results: list[str] = []
        errors: list[BaseException] = []

        def call() -> None:
            try:
                results.append(resumed.me().id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Two refreshes with the same refresh token would revoke the login and fail the other threads.
        assert errors == [] and results == [user.id] * 8
        assert resumed.credentials.token != stale and resumed.credentials.refresh_token != refresh
        assert resumed.me().id == user.id
    with Client(server.base_url) as other, pytest.raises(Unauthorized):
        other.refresh(refresh)  # the old refresh token was spent (exactly once)


def test_refresh_before_a_streamed_upload(server: VaultServer) -> None:
    with _login(server, "stream-refresh@example.com") as vault:
        _wait_for_expiry()
        stale = vault.credentials.token
        # An iterator cannot be sent twice: the client refreshes first, as it knows the token's expiry.
        media = vault.upload(iter([b"sent once ", b"and never replayed"]), filename="once.txt")
        assert media.size == 28 and vault.credentials.token != stale
        with Client(server.base_url, token=stale, refresh_token="not-a-token") as broken:
            with pytest.raises(Unauthorized):
                broken.me()
            assert broken.credentials.token is None  # the refused login is forgotten


# ----------------------------------------------------------------------------------------------- asyncio


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


async def _async_flow(server: VaultServer, tmp_path: Path) -> None:
    async with AsyncClient(server.base_url) as vault:
        assert (await vault.health()).status == "ok"
        user = await vault.register("async@example.com", PASSWORD)
        await vault.login("async@example.com", PASSWORD)
        assert (await vault.update_me(display_name="Async")).display_name == "Async"
        key = await vault.create_api_key("async key")
        assert [k.id async for k in vault.iter_api_keys()] == [key.id]

        data = os.urandom(3 * 1024 * 1024)
        progress: list[int] = []
        streamed = await vault.upload(
            _chunks(data, 100_000), filename="stream.bin", progress=lambda done, _total: progress.append(done)
        )
        assert streamed.size == len(data) and progress[-1] == len(data) and len(progress) > 10
        path = tmp_path / "async.png"
        path.write_bytes(make_png())
        threads: set[int] = set()
        from_path = await vault.upload(path, tags=["async"], progress=lambda *_: threads.add(threading.get_ident()))
        assert from_path.type == "image"
        assert threads == {threading.get_ident()}  # progress runs on the event loop, file reads in a worker thread
        uploads = await asyncio.gather(
            *(vault.upload(io.BytesIO(f"n{i}".encode()), filename=f"n{i}.txt") for i in range(6))
        )
        assert len({m.id for m in uploads}) == 6
        assert len([m async for m in vault.iter_media(per_page=3)]) == 8
        assert (await vault.list_media(checksum_sha256=streamed.checksum_sha256)).items == [streamed]
        assert [m.id async for m in vault.iter_search("stream")] == [streamed.id]
        copy = tmp_path / "stream.copy"
        assert await vault.download(streamed.id, copy) == len(data)
        assert copy.read_bytes() == data
        assert (await vault.update_media(from_path.id, title="A")).title == "A"
        assert (await vault.get_media(from_path.id)).title == "A"
        assert (await vault.get_metadata(from_path.id)).media_id == from_path.id

        album = await vault.create_collection("Async album")
        await vault.add_to_collection(album.id, [from_path.id, streamed.id])
        assert [m.id async for m in vault.iter_collection_media(album.id, type="image")] == [from_path.id]
        share = await vault.create_share(collection_id=album.id, password="async pass")
        assert share.token
        opened = await vault.open_share(share.token, password="async pass")
        assert opened.collection is not None and opened.collection.id == album.id
        buffer = io.BytesIO()
        await vault.download_shared(share.token, buffer, media_id=from_path.id, password="async pass")
        assert buffer.getvalue() == make_png()
        assert [s.id async for s in vault.iter_shares()] == [share.id]
        await vault.delete_share(share.id)
        await vault.remove_from_collection(album.id, streamed.id)
        assert (await vault.update_collection(album.id, name="Renamed")).media_count == 1
        assert [c.name async for c in vault.iter_collections()] == ["Renamed"]
        await vault.delete_collection(album.id)

        big = tmp_path / "async-big.bin"
        big.write_bytes(os.urandom(300_000))
        resumed = await vault.upload(big, resumable=True, chunk_size=64 * 1024, resume_file=tmp_path / "async.json")
        assert resumed.checksum_sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
        big.write_bytes(os.urandom(200_000))
        options = {"resumable": True, "chunk_size": 64 * 1024, "resume_file": tmp_path / "async.json"}
        replaced = await vault.replace_content(resumed.id, big, **options)
        assert (replaced.id, replaced.version, replaced.size) == (resumed.id, 2, 200_000)

        signed = await vault.sign_upload()
        drop = await vault.create_collection("Async drop")
        guests = await vault.create_share(collection_id=drop.id, allow_upload=True)
        assert guests.token
        async with AsyncClient(server.base_url) as anonymous:
            by_url = await anonymous.upload_signed(signed.token, _chunks(b"signed " * 1000, 1000), filename="s.txt")
            by_guest = await anonymous.upload_to_share(guests.token, io.BytesIO(b"guest"), filename="g.txt")
        assert isinstance(by_guest, SharedMedia) and by_guest.size == len(b"guest")
        assert by_url.owner_id == (await vault.get_media(by_guest.id)).owner_id == user.id
        assert [m.id async for m in vault.iter_collection_media(drop.id)] == [by_guest.id]
        await vault.delete_collection(drop.id)

        hook = await vault.create_webhook("http://127.0.0.1:9/async", ["media.deleted"])
        assert (await vault.get_webhook(hook.id)).events == ["media.deleted"]
        await vault.update_webhook(hook.id, description="async")
        assert [w.id async for w in vault.iter_webhooks()] == [hook.id]
        await vault.delete_media(streamed.id)
        # the unreachable endpoint's first attempt may have failed and been retried already (a slow machine)
        assert {d.event async for d in vault.iter_deliveries(hook.id)} <= {"media.deleted"}
        await vault.delete_webhook(hook.id)
        with pytest.raises(NotFound):
            await vault.get_media(streamed.id)

        # Many tasks meet an expired token at once: one refresh, every request retried and answered.
        stale = vault.credentials.token
        vault.credentials.expires_at = None  # behave like a client resumed from stored tokens
        await asyncio.sleep(TTL + 1.1)
        answers = await asyncio.gather(*(vault.me() for _ in range(8)))
        assert {u.id for u in answers} == {user.id} and vault.credentials.token != stale

        await vault.delete_api_key(key.id)
        await vault.logout()
        with pytest.raises(Unauthorized):
            await vault.me()


def test_async_client_every_endpoint_group(server: VaultServer, tmp_path: Path) -> None:
    asyncio.run(_async_flow(server, tmp_path))


# ----------------------------------------------------------------------------------------------- realtime


async def _realtime_flow(server: VaultServer) -> None:
    async with AsyncClient(server.base_url) as vault:
        await vault.register("live@example.com", PASSWORD)
        await vault.login("live@example.com", PASSWORD)
        key = await vault.create_api_key("live")
        photo = await vault.upload(io.BytesIO(make_png()), filename="live.png")

        async with AsyncClient(server.base_url, api_key=key.key) as keyed, keyed.realtime() as live:
            await live.subscribe("media_updates")  # all of the caller's media, new ones included
            with pytest.raises(NotFound):
                await live.subscribe("media_updates", "00000000-0000-4000-8000-000000000000")
            await vault.update_media(photo.id, title="Now live")
            new = await vault.upload(io.BytesIO(b"fresh bytes"), filename="fresh.txt")
            received = []
            async for event in live:  # each event once, in the order the changes committed
                received.append(event)
                if event.event == "media.uploaded":
                    break
            assert [(e.event, e.resource_id, e.channel) for e in received] == [
                ("media.updated", photo.id, "media_updates"),
                ("media.uploaded", new.id, "media_updates"),
            ]
            assert received[0].data["title"] == "Now live" and received[0].id != received[1].id

        with pytest.raises(Unauthorized):
            async with AsyncClient(server.base_url, token="not-a-token").realtime():
                pass
        with pytest.raises(Unauthorized):
            AsyncClient(server.base_url).realtime()  # no credential yet

        # An access token that expired meanwhile is refreshed before the socket authenticates with it.
        stale = vault.credentials.token
        await asyncio.sleep(TTL + 1.1)
        # The socket of a login ends with that login: logout closes it with 4401, which the iteration raises.
        async with vault.realtime() as live:
            assert vault.credentials.token != stale
            await live.subscribe("collection_updates")
            await vault.logout()
            with pytest.raises(Unauthorized):
                async for _event in live:
                    pass


def test_realtime_client(server: VaultServer) -> None:
    asyncio.run(_realtime_flow(server))
