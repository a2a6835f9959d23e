"""A real ``mediavault serve`` on S3 (moto on loopback): limits found mid-stream and dropped connections abort the
multipart upload. The server finds its endpoint and credentials in botocore's ``AWS_*`` variables alone."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ServerFactory, VaultServer, register_and_login
from tests.s3 import MotoS3

MIB = 1024 * 1024
BOUNDARY = "e2e-boundary"


def _head(filename: str = "big.bin") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def _chunked(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """A multipart body sent as a generator: chunked transfer, no Content-Length."""
    yield _head()
    for i in range(0, len(data), size):
        yield data[i : i + size]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture(scope="module")
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.create_bucket()


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory, moto_s3: MotoS3, bucket: str) -> VaultServer:
    """A server whose S3 endpoint and credentials come from botocore's ``AWS_*`` variables alone (the API tests
    pass them in ``storage_options``)."""
    return module_servers.start(
        env={
            "MEDIAVAULT_STORAGE_URL": f"s3://{bucket}/vault",
            "MEDIAVAULT_STORAGE_OPTIONS": "{}",
            "MEDIAVAULT_MAX_UPLOAD_SIZE": str(20 * MIB),
            "MEDIAVAULT_PROCESSING_WORKER": "false",
            **moto_s3.env(),  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL
        }
    )


def _wait_for_no_uploads(moto_s3: MotoS3, bucket: str, timeout: float = 20.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while (uploads := moto_s3.multipart_uploads(bucket)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return uploads


def test_upload_over_the_limit_found_mid_stream_leaves_nothing(
    server: VaultServer, moto_s3: MotoS3, bucket: str
) -> None:
    with server.client() as client:
        assert client.get("/health").json()["data"]["checks"]["storage"] == "ok"  # the endpoint from AWS_*
        headers = register_and_login(client, "limit@example.com")
        response = client.post(
            "/media/upload",
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            content=_chunked(os.urandom(24 * MIB)),  # the upload (and a part or two) exist when 20 MiB is crossed
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "payload_too_large"
        ok = client.post("/media/upload", headers=headers, files={"file": ("ok.bin", os.urandom(9 * MIB))})
        assert ok.status_code == 201, ok.text  # 9 MiB: one full part and a short last one
    assert moto_s3.multipart_uploads(bucket) == []
    owner = ok.json()["data"]["owner_id"]
    (key,) = [k for k in moto_s3.keys(bucket) if k.startswith(f"vault/media/{owner}/")]  # only the accepted one
    assert moto_s3.client().head_object(Bucket=bucket, Key=key)["ContentLength"] == 9 * MIB


def test_dropped_connection_aborts_the_multipart_upload(server: VaultServer, moto_s3: MotoS3, bucket: str) -> None:
    with server.client() as client:
        headers = register_and_login(client, "dropped@example.com")
    before = set(moto_s3.keys(bucket))
    request = (
        f"POST /api/v1/media/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {headers['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {9 * MIB + 1000}\r\n\r\n"
    ).encode()
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request + _head())
        chunk = os.urandom(256 * 1024)
        for _ in range(36):  # 9 MiB of the promised body: the first part goes to S3
            sock.sendall(chunk)
        deadline = time.monotonic() + 20
        while not moto_s3.multipart_uploads(bucket) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(moto_s3.multipart_uploads(bucket)) == 1  # the upload had started
    assert _wait_for_no_uploads(moto_s3, bucket) == []  # ... and was aborted when the client went away
    assert set(moto_s3.keys(bucket)) == before
