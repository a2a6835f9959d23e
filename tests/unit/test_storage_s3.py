"""S3Storage against a real S3 API: moto's server on loopback (``tests/s3.py``), a fresh bucket per test: the
storage contract (:class:`mediavault.testing.storage.StorageBackendContract`), then what is particular to S3."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
from typing import Any

import anyio
import httpx
import pytest

from mediavault import MediaVaultConfig
from mediavault.storage.s3 import DEFAULT_PART_SIZE, MIN_PART_SIZE, S3Storage, part_size_for
from mediavault.testing.storage import DATA, StorageBackendContract
from mediavault.testing.storage import collect as _collect
from mediavault.testing.storage import put as _put
from tests.s3 import MotoS3

MIB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.create_bucket()


@pytest.fixture
def storage(moto_s3: MotoS3, bucket: str) -> S3Storage:
    return S3Storage(f"s3://{bucket}/root", part_size=MIN_PART_SIZE, **moto_s3.storage_options)


class TestS3StorageContract(StorageBackendContract):
    """The whole contract, with an object of more than one 5 MiB part."""

    large_size = MIN_PART_SIZE + 12345

    @pytest.fixture
    def storage(self, storage: S3Storage) -> S3Storage:  # the module's fixture
        return storage


def _etag(moto_s3: MotoS3, bucket: str, key: str) -> str:
    return str(moto_s3.client().head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')


# --- construction -------------------------------------------------------------------------------------------------


def test_url_and_part_size_are_checked(moto_s3: MotoS3) -> None:
    for url in ["s3://", "s3:///prefix", "file:///tmp/x", "bucket/prefix"]:
        with pytest.raises(ValueError):
            S3Storage(url, **moto_s3.storage_options)
    with pytest.raises(ValueError, match="part_size"):
        S3Storage("s3://b", part_size=MIN_PART_SIZE - 1, **moto_s3.storage_options)
    storage = S3Storage("s3://b/a/b/", **moto_s3.storage_options)
    assert (storage.bucket, storage.prefix) == ("b", "a/b")
    assert storage.object_key("media/x") == "a/b/media/x"
    assert S3Storage("s3://b", **moto_s3.storage_options).object_key("media/x") == "media/x"
    with pytest.raises(ValueError):
        storage.object_key("../x")


def test_part_size_grows_only_past_s3s_part_limit() -> None:
    assert part_size_for(1024**3) == DEFAULT_PART_SIZE  # 1 GiB: 128 parts of 8 MiB
    assert part_size_for(10_000 * DEFAULT_PART_SIZE) == DEFAULT_PART_SIZE
    assert part_size_for(1024**4) == 105 * MIB  # 1 TiB / 10,000 parts, rounded up to whole MiB
    assert part_size_for(1024**4) * 10_000 >= 1024**4
    with pytest.raises(ValueError):
        part_size_for(0)


def test_storage_settings_from_the_environment() -> None:
    env = {
        "MEDIAVAULT_SECRET_KEY": "k" * 32,
        "MEDIAVAULT_STORAGE_URL": "s3://bucket/prefix",
        "MEDIAVAULT_STORAGE_OPTIONS": '{"endpoint_url": "http://127.0.0.1:9", "client_kwargs": {"region_name": "x"}}',
        "MEDIAVAULT_STORAGE_PRESIGNED_DOWNLOADS": "true",
        "MEDIAVAULT_STORAGE_PRESIGNED_TTL": "60",
    }
    config = MediaVaultConfig.from_env(env)
    assert config.storage_options == {"endpoint_url": "http://127.0.0.1:9", "client_kwargs": {"region_name": "x"}}
    assert (config.storage_presigned_downloads, config.storage_presigned_ttl) == (True, 60)
    assert "endpoint_url" not in repr(config)  # options may hold credentials
    for name, value in [("STORAGE_OPTIONS", "[1]"), ("STORAGE_OPTIONS", "{oops"), ("STORAGE_PRESIGNED_TTL", "0")]:
        with pytest.raises(ValueError, match=f"(?i){name}"):
            MediaVaultConfig.from_env({**env, f"MEDIAVAULT_{name}": value})
    with pytest.raises(ValueError, match="storage_presigned_ttl"):
        MediaVaultConfig(secret_key="k" * 32, storage_presigned_ttl=604_801)


# --- writes -------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_multipart_upload_is_byte_identical_and_invisible_until_close(
    storage: S3Storage, moto_s3: MotoS3, bucket: str
) -> None:
    data = os.urandom(12 * MIB + 12345)  # two full 5 MiB parts and a short last one
    writer = await storage.open_writer("media/owner/big")
    for i in range(0, len(data), 64 * 1024):
        await writer.write(data[i : i + 64 * 1024])
    assert len(moto_s3.multipart_uploads(bucket)) == 1  # parts are on S3 already
    assert not await storage.exists("media/owner/big")  # ... but no object until close
    await writer.close()
    await writer.close()  # a second close is a no-op
    assert moto_s3.multipart_uploads(bucket) == []
    assert moto_s3.keys(bucket) == ["root/media/owner/big"]
    assert _etag(moto_s3, bucket, "root/media/owner/big").endswith("-3")  # S3's ETag of a 3-part upload
    assert b"".join(await _collect(storage.read("media/owner/big"))) == data


@pytest.mark.anyio
async def test_object_smaller_than_a_part_is_one_put(storage: S3Storage, moto_s3: MotoS3, bucket: str) -> None:
    await _put(storage, "media/owner/small", DATA, chunk=1000)
    assert "-" not in _etag(moto_s3, bucket, "root/media/owner/small")  # not a multipart object
    assert b"".join(await _collect(storage.read("media/owner/small"))) == DATA


@pytest.mark.anyio
async def test_exact_multiple_of_the_part_size(storage: S3Storage) -> None:
    data = os.urandom(2 * MIN_PART_SIZE)
    await _put(storage, "media/owner/exact", data, chunk=MIN_PART_SIZE)  # whole parts, nothing left at close
    assert b"".join(await _collect(storage.read("media/owner/exact"))) == data


@pytest.mark.anyio
async def test_abort_leaves_no_object_and_no_multipart_upload(storage: S3Storage, moto_s3: MotoS3, bucket: str) -> None:
    writer = await storage.open_writer("media/owner/aborted")
    await writer.write(os.urandom(2 * MIN_PART_SIZE + 10))  # one part uploaded, one in flight, 10 bytes buffered
    assert len(moto_s3.multipart_uploads(bucket)) == 1
    await writer.abort()
    await writer.abort()  # idempotent
    assert moto_s3.multipart_uploads(bucket) == []
    assert moto_s3.keys(bucket) == []
    with pytest.raises(RuntimeError):
        await writer.write(b"more")
    with pytest.raises(RuntimeError):
        await writer.close()


@pytest.mark.anyio
@pytest.mark.parametrize("parts_before", [0, 1])
async def test_write_cancelled_mid_call_then_abort_leaves_nothing(
    storage: S3Storage, moto_s3: MotoS3, bucket: str, parts_before: int
) -> None:
    """An upload's pipeline task is cancelled (413, dropped client) while ``write`` waits for S3: creating the
    upload (0) or the previous part (1). The call goes on; ``abort`` waits for it and aborts what it made."""
    writer = await storage.open_writer("media/owner/cancelled")
    for _ in range(parts_before):
        await writer.write(os.urandom(MIN_PART_SIZE))
    task = asyncio.get_running_loop().create_task(writer.write(os.urandom(MIN_PART_SIZE)))
    await asyncio.sleep(0)  # the task runs up to its first wait on S3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await writer.abort()
    assert moto_s3.multipart_uploads(bucket) == []
    assert moto_s3.keys(bucket) == []


@pytest.mark.anyio
async def test_abort_before_any_part_sends_nothing(storage: S3Storage, moto_s3: MotoS3, bucket: str) -> None:
    writer = await storage.open_writer("media/owner/tiny")
    await writer.write(b"abc")
    await writer.abort()
    assert moto_s3.keys(bucket) == []
    assert moto_s3.multipart_uploads(bucket) == []


@pytest.mark.anyio
async def test_failed_close_aborts_and_raises(moto_s3: MotoS3, bucket: str) -> None:
    # moto answers 500 (not NoSuchUpload) to completing an aborted upload; botocore would retry that for seconds.
    options = {**moto_s3.storage_options, "config_kwargs": {"retries": {"mode": "standard", "max_attempts": 1}}}
    storage = S3Storage(f"s3://{bucket}/root", part_size=MIN_PART_SIZE, **options)
    writer = await storage.open_writer("media/owner/lost")
    await writer.write(os.urandom(MIN_PART_SIZE))  # one whole part, sent at once; nothing left for close
    (upload,) = moto_s3.multipart_uploads(bucket)
    params = {"Bucket": bucket, "Key": upload["Key"], "UploadId": upload["UploadId"]}
    while not moto_s3.client().list_parts(**params).get("Parts"):  # noqa: ASYNC110 - polling S3, not our state
        await anyio.sleep(0.01)  # the part is uploaded in the background
    # Someone else (a lifecycle rule, an operator) aborts the upload: completing it must fail cleanly.
    moto_s3.client().abort_multipart_upload(**params)
    with pytest.raises(OSError):
        await writer.close()
    assert moto_s3.keys(bucket) == []
    assert moto_s3.multipart_uploads(bucket) == []
    await writer.abort()  # safe after a failed close
    with pytest.raises(RuntimeError):
        await writer.close()


async def _peak_bytes_writing(storage: S3Storage, key: str, size: int) -> int:
    """Peak of bytes allocated (every thread, s3fs's event loop included) while writing ``size`` bytes."""
    chunk = os.urandom(256 * 1024)
    tracemalloc.start()
    try:
        writer = await storage.open_writer(key)
        for _ in range(size // len(chunk)):
            await writer.write(chunk)
        await writer.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.anyio
async def test_write_memory_does_not_grow_with_the_object(storage: S3Storage) -> None:
    small = await _peak_bytes_writing(storage, "media/owner/15", 15 * MIB)
    large = await _peak_bytes_writing(storage, "media/owner/45", 45 * MIB)
    assert large < 7 * MIN_PART_SIZE, large  # a few parts (ours and botocore's copies), not the 45 MiB
    assert large - small < MIN_PART_SIZE, (small, large)  # three times the bytes, the same memory


# --- reads --------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("start", "end", "chunk_size"), [(0, None, 1000), (10, 20, 4), (100, 9999, 333)])
async def test_reads_give_full_chunks(storage: S3Storage, start: int, end: int | None, chunk_size: int) -> None:
    await _put(storage, "media/owner/ranges", DATA)
    chunks = await _collect(storage.read("media/owner/ranges", start, end, chunk_size=chunk_size))
    assert b"".join(chunks) == DATA[start:end]
    assert all(len(c) == chunk_size for c in chunks[:-1])  # full chunks, however the network split them


@pytest.mark.anyio
async def test_reads_ask_s3_for_exactly_the_range(storage: S3Storage) -> None:
    data = os.urandom(MIN_PART_SIZE + 4096)
    await _put(storage, "media/owner/ranged", data, chunk=64 * 1024)
    sent: list[dict[str, Any]] = []
    s3 = await storage._on_loop(storage.fs.set_session())
    handler = lambda request, **_: sent.append(dict(request.headers))  # noqa: E731
    s3.meta.events.register("before-send.s3.GetObject", handler)
    try:
        got = b"".join(await _collect(storage.read("media/owner/ranged", MIN_PART_SIZE - 10, MIN_PART_SIZE + 20)))
        whole = b"".join(await _collect(storage.read("media/owner/ranged")))
    finally:
        s3.meta.events.unregister("before-send.s3.GetObject", handler)
    assert got == data[MIN_PART_SIZE - 10 : MIN_PART_SIZE + 20]  # across the boundary of two parts
    assert whole == data
    ranges = [headers.get("Range") for headers in sent]
    assert ranges == [f"bytes={MIN_PART_SIZE - 10}-{MIN_PART_SIZE + 19}".encode(), None]


# --- delete, health, presigned URLs -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_check_fails_without_the_bucket(storage: S3Storage, moto_s3: MotoS3) -> None:
    await storage.check()  # the bucket exists; the prefix need not
    with pytest.raises(FileNotFoundError):
        await S3Storage("s3://no-such-bucket/media", **moto_s3.storage_options).check()


@pytest.mark.anyio
async def test_presigned_url_serves_the_bytes_with_our_headers(storage: S3Storage) -> None:
    await _put(storage, "media/owner/signed", DATA)
    url = await storage.download_url(
        "media/owner/signed",
        expires_in=60,
        content_type="image/png",
        content_disposition="inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png",
        cache_control="private, no-cache",
    )
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url  # Signature Version 4
    async with httpx.AsyncClient() as client:
        whole = await client.get(url)
        part = await client.get(url, headers={"Range": "bytes=10-19"})
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["content-disposition"] == "inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png"
    assert whole.headers["cache-control"] == "private, no-cache"
    assert part.status_code == 206 and part.content == DATA[10:20]
    # (moto does not check signatures; botocore signs the response-* parameters along with the rest.)
