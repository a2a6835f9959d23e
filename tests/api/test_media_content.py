"""GET/HEAD /media/{id}/content: bytes, validators, ranges, download safety headers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVaultConfig
from tests.api._checks import error
from tests.backends import delete_object, stored_objects
from tests.conftest import Account
from tests.files import make_jpeg, make_pdf, make_png

BLOB = bytes(range(256)) * 8 + b"tail-bytes"  # 2058 bytes, every position distinct enough


@pytest.fixture(scope="module")
def blob(shared_alice: Account) -> dict[str, Any]:
    return shared_alice.upload(BLOB, "blob.bin")


def _get(account: Account, media: dict[str, Any], **headers: str) -> Any:
    return account.client.get(media["content_url"], headers={**account.headers, **headers})


def test_full_download(shared_alice: Account) -> None:
    png = make_png(100, 80)
    media = shared_alice.upload(png, "photo.png")
    response = _get(shared_alice, media)
    assert response.status_code == 200
    assert response.content == png
    assert hashlib.sha256(response.content).hexdigest() == media["checksum_sha256"]
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(png))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"] == f'"{media["checksum_sha256"]}"'
    assert response.headers["last-modified"].endswith(" GMT")
    assert response.headers["content-disposition"].startswith("inline")
    assert "photo.png" in response.headers["content-disposition"]
    assert "sandbox" in response.headers["content-security-policy"]
    assert not response.content.startswith(b'{"success"')


def test_large_download_is_exact(shared_alice: Account) -> None:
    data = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB: several storage chunks
    media = shared_alice.upload(data, "big.bin")
    assert _get(shared_alice, media).content == data


def test_if_none_match(shared_alice: Account, blob: dict[str, Any]) -> None:
    etag = _get(shared_alice, blob).headers["etag"]
    response = _get(shared_alice, blob, **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert _get(shared_alice, blob, **{"If-None-Match": f"W/{etag}"}).status_code == 304
    assert _get(shared_alice, blob, **{"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert _get(shared_alice, blob, **{"If-None-Match": "*"}).status_code == 304
    other = _get(shared_alice, blob, **{"If-None-Match": '"0000"'})
    assert other.status_code == 200 and other.content == BLOB


def test_if_modified_since(shared_alice: Account, blob: dict[str, Any]) -> None:
    last_modified = _get(shared_alice, blob).headers["last-modified"]
    response = _get(shared_alice, blob, **{"If-Modified-Since": last_modified})
    assert response.status_code == 304 and response.content == b""
    older = _get(shared_alice, blob, **{"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})
    assert older.status_code == 200 and older.content == BLOB
    # If-None-Match wins over If-Modified-Since
    both = _get(shared_alice, blob, **{"If-Modified-Since": last_modified, "If-None-Match": '"other"'})
    assert both.status_code == 200 and both.content == BLOB


def test_etag_depends_on_bytes(shared_alice: Account) -> None:
    a, b = shared_alice.upload(b"one", "a.txt"), shared_alice.upload(b"two", "b.txt")
    same = shared_alice.upload(b"one", "c.txt")
    assert _get(shared_alice, a).headers["etag"] != _get(shared_alice, b).headers["etag"]
    assert _get(shared_alice, a).headers["etag"] == _get(shared_alice, same).headers["etag"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=-5", len(BLOB) - 5, len(BLOB)),
        ("bytes=5-", 5, len(BLOB)),
        ("bytes=100-199", 100, 200),
        ("bytes=2000-999999", 2000, len(BLOB)),
        ("bytes=-999999", 0, len(BLOB)),
        (f"bytes={len(BLOB) - 1}-", len(BLOB) - 1, len(BLOB)),
    ],
)
def test_range(shared_alice: Account, blob: dict[str, Any], header: str, start: int, end: int) -> None:
    response = _get(shared_alice, blob, Range=header)
    assert response.status_code == 206
    assert response.content == BLOB[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(BLOB)}"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["etag"] == f'"{blob["checksum_sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "header", ["bytes=9999-", f"bytes={len(BLOB)}-", "bytes=-0", f"bytes={len(BLOB)}-{len(BLOB) + 5}"]
)
def test_range_not_satisfiable(shared_alice: Account, blob: dict[str, Any], header: str) -> None:
    response = _get(shared_alice, blob, Range=header, **{"X-Request-ID": "range-416"})
    err = error(response, 416, "range_not_satisfiable")
    assert err["message"]
    assert response.headers["content-range"] == f"bytes */{len(BLOB)}"
    assert response.headers["x-request-id"] == "range-416"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "items=0-5", "bytes=0-1,5-6", "garbage", "bytes="])
def test_unusable_range_serves_everything(shared_alice: Account, blob: dict[str, Any], header: str) -> None:
    response = _get(shared_alice, blob, Range=header)
    assert response.status_code == 200
    assert response.content == BLOB
    assert "content-range" not in response.headers


def test_if_range(shared_alice: Account, blob: dict[str, Any]) -> None:
    etag = _get(shared_alice, blob).headers["etag"]
    assert _get(shared_alice, blob, Range="bytes=0-3", **{"If-Range": etag}).content == BLOB[:4]
    stale = _get(shared_alice, blob, Range="bytes=0-3", **{"If-Range": '"stale"'})
    assert stale.status_code == 200 and stale.content == BLOB


def test_head(shared_alice: Account, blob: dict[str, Any]) -> None:
    response = shared_alice.client.head(blob["content_url"], headers=shared_alice.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(BLOB))
    assert response.headers["etag"] == f'"{blob["checksum_sha256"]}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-request-id"]


def test_head_ignores_range(shared_alice: Account, blob: dict[str, Any]) -> None:
    response = shared_alice.client.head(blob["content_url"], headers={**shared_alice.headers, "Range": "bytes=0-9"})
    assert response.status_code in (200, 206)
    assert response.content == b""
    if response.status_code == 206:
        assert response.headers["content-length"] == "10"
    else:
        assert response.headers["content-length"] == str(len(BLOB))


def test_content_requires_auth(shared_client: TestClient[Litestar], blob: dict[str, Any]) -> None:
    error(shared_client.get(blob["content_url"]), 401, "unauthorized")


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "page.png", "text/html"),
        (b"<html><body onload=alert(1)>x</body></html>", "x.jpg", "text/html"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "icon.svg",
            "image/svg+xml",
        ),
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
            "icon.png",
            "image/svg+xml",
        ),
        (b'<?xml version="1.0"?><root/>', "data.xml", "application/xml"),
    ],
)
def test_active_types_are_attachments(shared_alice: Account, content: bytes, name: str, content_type: str) -> None:
    media = shared_alice.upload(content, name)
    assert media["content_type"] == content_type
    response = _get(shared_alice, media)
    assert response.status_code == 200 and response.content == content
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["content-disposition"].startswith("attachment")
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("maker", "content_type"),
    [(make_png, "image/png"), (make_jpeg, "image/jpeg"), (make_pdf, "application/pdf")],
)
def test_passive_types_inline(shared_alice: Account, maker: Any, content_type: str) -> None:
    media = shared_alice.upload(maker(), "f")
    response = _get(shared_alice, media)
    assert response.headers["content-type"] == content_type
    assert response.headers["content-disposition"].startswith("inline")


def test_content_disposition_filename_is_safe(shared_alice: Account) -> None:
    media = shared_alice.upload(make_png(), 'ré"sumé\r\nX-Evil: 1.png')
    disposition = _get(shared_alice, media).headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "x-evil" not in {k.lower() for k in _get(shared_alice, media).headers}
    assert "filename*=UTF-8''" in disposition


def test_missing_bytes_answer_with_an_error_envelope_not_a_cut_stream(config: MediaVaultConfig, alice: Account) -> None:
    media = alice.upload(make_png(), "gone.png")
    [key] = stored_objects(config)
    delete_object(config, key)
    response = alice.client.get(media["content_url"], headers=alice.headers)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "media/" not in response.text  # no internal path leaks
