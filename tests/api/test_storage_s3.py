"""The real app on ``storage_url=s3://<bucket>/vault``: moto's S3 server on loopback, a fresh bucket per test."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from tests.api._checks import error
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png
from tests.s3 import MotoS3

MIB = 1024 * 1024


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.create_bucket()


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Any, moto_s3: MotoS3, bucket: str) -> MediaVaultConfig:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return make_config(
        tmp_path,
        storage_url=f"s3://{bucket}/vault",
        storage_options=moto_s3.storage_options,
        processing_worker=False,  # only the bytes the tests put there
        **overrides,
    )


PRESIGNED = pytest.mark.parametrize("config", [{"storage_presigned_downloads": True}], indirect=True)


def _object_key(media: dict[str, Any], moto_s3: MotoS3, bucket: str) -> str:
    (key,) = [k for k in moto_s3.keys(bucket) if k.startswith(f"vault/media/{media['owner_id']}/")]
    return key


def test_large_upload_is_a_multipart_upload_and_byte_identical(alice: Account, moto_s3: MotoS3, bucket: str) -> None:
    data = os.urandom(12 * MIB + 7)  # two 8 MiB parts
    media = alice.upload(data, "big.bin")
    assert media["size"] == len(data)
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    key = _object_key(media, moto_s3, bucket)
    assert moto_s3.client().head_object(Bucket=bucket, Key=key)["ETag"].strip('"').endswith("-2")
    assert moto_s3.multipart_uploads(bucket) == []
    response = alice.client.get(media["content_url"], headers=alice.headers)
    assert response.status_code == 200
    assert response.content == data
    ranged = alice.client.get(media["content_url"], headers={**alice.headers, "Range": f"bytes={8 * MIB - 5}-"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes {8 * MIB - 5}-{len(data) - 1}/{len(data)}"
    assert ranged.content == data[8 * MIB - 5 :]


def test_image_dimensions_are_read_from_s3(alice: Account) -> None:
    media = alice.upload(make_png(120, 45), "wide.png")
    assert (media["width"], media["height"]) == (120, 45)


def _multipart(boundary: str, data: bytes, *, close: bool = True) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    return head + data + (f"\r\n--{boundary}--\r\n".encode() if close else b"")


def _chunks(body: bytes, size: int = 256 * 1024) -> Any:
    """The body as a generator: sent chunked, without Content-Length, so the limit is only found mid-stream."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


@pytest.mark.parametrize("config", [{"max_upload_size": 10 * MIB}], indirect=True)
def test_413_mid_stream_leaves_nothing(alice: Account, moto_s3: MotoS3, bucket: str) -> None:
    response = alice.client.post(
        f"{PREFIX}/media/upload",
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=_chunks(_multipart("xyz", os.urandom(12 * MIB))),
    )
    error(response, 413, "payload_too_large")
    assert moto_s3.keys(bucket) == []  # the first 8 MiB part had been uploaded: its upload was aborted
    assert moto_s3.multipart_uploads(bucket) == []
    assert alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()["meta"]["pagination"]["total"] == 0


def test_malformed_body_after_a_part_leaves_nothing(alice: Account, moto_s3: MotoS3, bucket: str) -> None:
    response = alice.client.post(
        f"{PREFIX}/media/upload",
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=_chunks(_multipart("xyz", os.urandom(9 * MIB), close=False)),  # no closing boundary
    )
    error(response, 400, "validation_error")
    assert moto_s3.keys(bucket) == []
    assert moto_s3.multipart_uploads(bucket) == []


def test_delete_removes_the_object(alice: Account, moto_s3: MotoS3, bucket: str) -> None:
    media = alice.upload(b"some bytes to delete", "gone.txt")
    key = _object_key(media, moto_s3, bucket)
    assert alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
    assert key not in moto_s3.keys(bucket)


def test_health_is_503_when_the_bucket_is_missing(tmp_path: Any, moto_s3: MotoS3) -> None:
    config = make_config(tmp_path, storage_url="s3://no-such-bucket/vault", storage_options=moto_s3.storage_options)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        response = client.get(f"{PREFIX}/health")
    assert response.status_code == 503
    assert response.json()["data"]["checks"] == {"database": "ok", "storage": "error"}


def test_health_is_ok_with_the_bucket(client: TestClient[Litestar]) -> None:
    response = client.get(f"{PREFIX}/health")
    assert response.status_code == 200
    assert response.json()["data"]["checks"]["storage"] == "ok"


def test_downloads_stream_by_default(alice: Account) -> None:
    media = alice.upload(make_png(), "photo.png")
    response = alice.client.get(media["content_url"], headers=alice.headers, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{media["checksum_sha256"]}"'


@PRESIGNED
def test_presigned_redirect_followed_with_httpx(alice: Account) -> None:
    png = make_png(30, 20)
    media = alice.upload(png, "café photo.png")
    response = alice.client.get(media["content_url"], headers=alice.headers, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    followed = httpx.get(location)
    assert followed.status_code == 200
    assert followed.content == png
    assert followed.headers["content-type"] == "image/png"
    disposition = followed.headers["content-disposition"]
    assert disposition.startswith("inline;") and "filename*=UTF-8''caf%C3%A9%20photo.png" in disposition
    assert followed.headers["cache-control"] == "private, no-cache"
    ranged = httpx.get(location, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.content == png[:8]


@PRESIGNED
def test_presigned_keeps_conditional_head_and_auth_in_the_app(alice: Account, bob: Account) -> None:
    media = alice.upload(make_png(), "photo.png")
    url = media["content_url"]
    etag = f'"{media["checksum_sha256"]}"'
    not_modified = alice.client.get(url, headers={**alice.headers, "If-None-Match": etag}, follow_redirects=False)
    assert not_modified.status_code == 304
    head = alice.client.head(url, headers=alice.headers, follow_redirects=False)
    assert head.status_code == 200 and head.headers["etag"] == etag
    assert alice.client.get(url, follow_redirects=False).status_code == 401  # no token: no URL
    other = bob.client.get(url, headers=bob.headers, follow_redirects=False)
    assert other.status_code == 404  # someone else's media: no URL either
    assert "location" not in other.headers


@PRESIGNED
def test_presigned_never_for_active_types_or_share_links(alice: Account) -> None:
    html = alice.upload(b"<!doctype html><html><script>alert(1)</script></html>", "page.html")
    streamed = alice.client.get(html["content_url"], headers=alice.headers, follow_redirects=False)
    assert streamed.status_code == 200  # S3 could not send nosniff + the CSP sandbox
    assert streamed.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in streamed.headers["content-security-policy"]

    png = make_png()
    media = alice.upload(png, "photo.png")
    share = alice.client.post(f"{PREFIX}/shares", headers=alice.headers, json={"media_id": media["id"]})
    assert share.status_code == 201, share.text
    public = alice.client.get(f"{share.json()['data']['url']}/content", follow_redirects=False)
    assert public.status_code == 200  # share links always stream: a presigned URL would outlive DELETE /shares
    assert public.headers["content-type"] == "image/png"
