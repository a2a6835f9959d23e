"""POST /media/upload: sniffing, metadata, sanitised names, malformed bodies, size limit with nothing kept."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from tests.api._checks import RFC3339_UTC, error, fields, success
from tests.backends import query, stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_jpeg, make_pdf, make_png

UPLOAD = f"{PREFIX}/media/upload"
BOUNDARY = "----mvtestboundary7MA4YWxkTrZu0gW"


def _multipart(parts: list[tuple[str, str | None, str | None, bytes]], *, close: bool = True) -> bytes:
    """Build a multipart body from ``(name, filename, content_type, data)`` parts."""
    out = b""
    for name, filename, content_type, data in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    if close:
        out += f"--{BOUNDARY}--\r\n".encode()
    return out


def _post_raw(client: TestClient[Litestar], account: Account, body: bytes | Any, content_type: str | None) -> Any:
    headers = dict(account.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(UPLOAD, headers=headers, content=body)


def _files(root: Path) -> list[bytes]:
    """What the vault rooted at ``root`` stored (its media folder, or its S3 prefix on the full leg)."""
    return list(stored_objects(make_config(root)).values())


def _rows(root: Path, table: str = "mediavault_media") -> int:
    return query(make_config(root), f"SELECT count(*) FROM {table}")[0][0]


# ----------------------------------------------------------------------------- real files


@pytest.mark.parametrize(
    ("maker", "name", "content_type", "kind", "dims"),
    [
        (lambda: make_png(64, 48), "photo.png", "image/png", "image", (64, 48)),
        (lambda: make_jpeg(80, 60), "photo.jpg", "image/jpeg", "image", (80, 60)),
        (make_pdf, "doc.pdf", "application/pdf", "document", (None, None)),
    ],
)
def test_upload_real_files(
    alice: Account, tmp_path: Path, maker: Any, name: str, content_type: str, kind: str, dims: Any
) -> None:
    content = maker()
    response = alice.client.post(
        UPLOAD, headers=alice.headers, files={"file": (name, content, "application/octet-stream")}
    )
    media = success(response, 201)
    assert set(media) == {
        "id", "filename", "content_type", "type", "size", "checksum_sha256", "width", "height",
        "title", "description", "tags", "owner_id", "created_at", "updated_at", "content_url", "version", "metadata",
    }  # fmt: skip
    assert media["filename"] == name
    assert media["content_type"] == content_type
    assert media["type"] == kind
    assert (media["width"], media["height"]) == dims
    assert media["size"] == len(content)
    assert media["checksum_sha256"] == hashlib.sha256(content).hexdigest()
    assert media["owner_id"] == alice.id
    assert media["tags"] == [] and media["title"] is None and media["description"] is None
    assert media["content_url"] == f"{PREFIX}/media/{media['id']}/content"
    assert RFC3339_UTC.match(media["created_at"]) and media["updated_at"] == media["created_at"]
    stored = _files(tmp_path)
    assert stored == [content]
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)) == media


def test_client_content_type_is_ignored(alice: Account) -> None:
    png = make_png()
    media = success(alice.client.post(UPLOAD, headers=alice.headers, files={"file": ("x.html", png, "text/html")}), 201)
    assert (media["content_type"], media["type"]) == ("image/png", "image")

    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    media = success(alice.client.post(UPLOAD, headers=alice.headers, files={"file": ("x.png", html, "image/png")}), 201)
    assert media["content_type"] == "text/html"
    assert media["type"] != "image"
    assert media["width"] is None and media["height"] is None


def test_text_file(alice: Account) -> None:
    media = alice.upload(b"just some words\n", "notes.txt")
    assert (media["content_type"], media["type"]) == ("text/plain", "document")


def test_binary_blob(alice: Account) -> None:
    media = alice.upload(bytes(range(256)) * 4, "blob.bin")
    assert (media["content_type"], media["type"]) == ("application/octet-stream", "other")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\evil\\x.png", "x.png"),
        ("/abs/path/y.png", "y.png"),
        ("фото отпуск 😀.png", "фото отпуск 😀.png"),
        ("..", "file"),
        ("bad\u202eng.exe", "badng.exe"),
    ],
)
def test_filename_sanitised(alice: Account, tmp_path: Path, sent: str, stored: str) -> None:
    media = alice.upload(make_png(4, 4), sent)
    assert media["filename"] == stored
    assert "/" not in media["filename"] and "\\" not in media["filename"]
    # the bytes stay inside the storage root, under a server-made key
    [key] = stored_objects(make_config(tmp_path))
    assert key.split("/")[:2] == ["media", alice.id] and ".." not in key and stored not in key
    assert not (tmp_path / "etc").exists()


def test_rfc8187_filename(alice: Account) -> None:
    body = (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="fallback.png"; '
            "filename*=UTF-8''%E2%82%AC%20rate.png\r\n"
            "\r\n"
        ).encode()
        + make_png(4, 4)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    media = success(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 201)
    assert media["filename"] == "€ rate.png"


def test_fields_after_file_and_quoted_boundary(alice: Account) -> None:
    body = _multipart([("file", "a.png", "image/png", make_png(4, 4)), ("title", None, None, "Après".encode())])
    media = success(_post_raw(alice.client, alice, body, f'multipart/form-data; boundary="{BOUNDARY}"'), 201)
    assert media["title"] == "Après"


def test_too_many_parts(alice: Account, tmp_path: Path) -> None:
    parts = [(f"extra{i}", None, None, b"x") for i in range(30)]
    body = _multipart([("file", "a.png", None, make_png(4, 4)), *parts])
    error(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error")
    assert _files(tmp_path) == []


def test_fields_stored(alice: Account) -> None:
    media = alice.upload(
        make_png(), "a.png", title="Sunset", description="Over the sea", tags=" Beach, SUMMER,,beach ,2024"
    )
    assert media["title"] == "Sunset"
    assert media["description"] == "Over the sea"
    assert media["tags"] == ["beach", "summer", "2024"]
    again = success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers))
    assert (again["title"], again["description"], again["tags"]) == (
        "Sunset",
        "Over the sea",
        ["beach", "summer", "2024"],
    )


def test_unicode_fields(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png", title="Café ☕", tags="été,日本")
    assert media["title"] == "Café ☕"
    assert media["tags"] == ["été", "日本"]


def test_upload_requires_auth(client: TestClient[Litestar], tmp_path: Path) -> None:
    error(client.post(UPLOAD, files={"file": ("a.png", make_png())}), 401, "unauthorized")
    assert _files(tmp_path) == []


def test_upload_emits_event(alice: Account, config: MediaVaultConfig) -> None:
    media = alice.upload(make_png(), "a.png")
    rows = query(config, "SELECT payload FROM mediavault_outbox_event WHERE event = 'media.uploaded'")
    assert len(rows) == 1
    assert media["id"] in str(rows[0][0]) and alice.id in str(rows[0][0])


# ----------------------------------------------------------------------------- bad bodies


def test_empty_file(alice: Account, tmp_path: Path) -> None:
    err = error(
        alice.client.post(UPLOAD, headers=alice.headers, files={"file": ("e.png", b"")}), 400, "validation_error"
    )
    assert "file" in fields(err)
    assert _files(tmp_path) == []
    assert _rows(tmp_path) == 0


def test_missing_file_part(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("title", None, None, b"no file here")])
    err = error(
        _post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error"
    )
    assert "file" in fields(err)
    assert _rows(tmp_path) == 0


def test_file_under_other_name(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("upload", "a.png", "image/png", make_png())])
    error(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error")
    assert _files(tmp_path) == []


def test_no_boundary(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("file", "a.png", "image/png", make_png())])
    error(_post_raw(alice.client, alice, body, "multipart/form-data"), 400, "validation_error")
    assert _files(tmp_path) == []


def test_no_closing_boundary(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("file", "a.png", "image/png", make_png())], close=False)
    error(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error")
    assert _files(tmp_path) == []
    assert _rows(tmp_path) == 0


def test_wrong_boundary(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("file", "a.png", "image/png", make_png())])
    error(_post_raw(alice.client, alice, body, "multipart/form-data; boundary=somethingelse"), 400, "validation_error")
    assert _files(tmp_path) == []


def test_garbage_body(alice: Account) -> None:
    body = b"this is not multipart at all" * 10
    error(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error")


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "image/png"]
)
def test_not_multipart(alice: Account, tmp_path: Path, content_type: str | None) -> None:
    error(_post_raw(alice.client, alice, make_png(), content_type), 415, "unsupported_media_type")
    assert _files(tmp_path) == []


def test_file_sent_twice(alice: Account, tmp_path: Path) -> None:
    body = _multipart([("file", "a.png", None, make_png()), ("file", "b.png", None, make_png())])
    error(_post_raw(alice.client, alice, body, f"multipart/form-data; boundary={BOUNDARY}"), 400, "validation_error")
    assert _files(tmp_path) == []


def test_too_many_tags(alice: Account, tmp_path: Path) -> None:
    tags = ",".join(f"t{i}" for i in range(51))
    err = error(
        alice.client.post(UPLOAD, headers=alice.headers, files={"file": ("a.png", make_png())}, data={"tags": tags}),
        400,
        "validation_error",
    )
    assert "tags" in fields(err)
    assert _files(tmp_path) == []
    assert _rows(tmp_path) == 0


# ----------------------------------------------------------------------------- size limit

LIMIT = 1000


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, max_upload_size=LIMIT))])
    with TestClient(app) as client:
        yield client


def _nothing_kept(client: TestClient[Litestar], account: Account, tmp_path: Path) -> None:
    listed = client.get(f"{PREFIX}/media", headers=account.headers)
    assert success(listed) == [] and listed.json()["meta"]["pagination"]["total"] == 0
    assert _rows(tmp_path) == 0
    assert _rows(tmp_path, "mediavault_outbox_event WHERE event = 'media.uploaded'") == 0
    assert _files(tmp_path) == []
    local = [Path(d) / f for d, _, names in os.walk(tmp_path) for f in names]  # no spooled temporary either
    leftovers = [p for p in local if p.name not in {"vault.db", "vault.db-wal", "vault.db-shm"}]
    assert leftovers == []


def test_exactly_at_limit_accepted(small_client: TestClient[Litestar], tmp_path: Path) -> None:
    account = Account(small_client, "s@example.com")
    media = account.upload(b"x" * LIMIT, "full.bin")
    assert media["size"] == LIMIT


@pytest.mark.parametrize("size", [LIMIT + 1, 5 * LIMIT, 200_000])
def test_over_limit_with_content_length(small_client: TestClient[Litestar], tmp_path: Path, size: int) -> None:
    account = Account(small_client, "s@example.com")
    body = _multipart([("file", "big.bin", "application/octet-stream", b"y" * size)])
    response = _post_raw(small_client, account, body, f"multipart/form-data; boundary={BOUNDARY}")
    error(response, 413, "payload_too_large")
    _nothing_kept(small_client, account, tmp_path)
    account.upload(b"fine", "ok.bin")  # the server still works afterwards


@pytest.mark.parametrize("size", [LIMIT + 1, 200_000])
def test_over_limit_chunked(small_client: TestClient[Litestar], tmp_path: Path, size: int) -> None:
    account = Account(small_client, "s@example.com")
    body = _multipart([("file", "big.bin", "application/octet-stream", b"z" * size)])

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 700):
            yield body[i : i + 700]

    response = _post_raw(small_client, account, chunks(), f"multipart/form-data; boundary={BOUNDARY}")
    error(response, 413, "payload_too_large")
    _nothing_kept(small_client, account, tmp_path)


def test_chunked_under_limit_accepted(small_client: TestClient[Litestar], tmp_path: Path) -> None:
    account = Account(small_client, "s@example.com")
    png = make_png(8, 8)
    assert len(png) < LIMIT
    body = _multipart([("file", "c.png", "image/png", png), ("title", None, None, b"chunked")])

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    media = success(_post_raw(small_client, account, chunks(), f"multipart/form-data; boundary={BOUNDARY}"), 201)
    assert media["size"] == len(png)
    assert media["checksum_sha256"] == hashlib.sha256(png).hexdigest()
    assert media["title"] == "chunked"
    assert (media["width"], media["height"]) == (8, 8)
