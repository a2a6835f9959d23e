"""Encryption at rest: the storage contract (:class:`mediavault.testing.storage.StorageBackendContract`), the format
and the backend on real files, then inside a real vault over HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mediavault_encrypted
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from mediavault_encrypted import (
    DecryptionError,
    EncryptedStorage,
    EncryptedStoragePlugin,
    Keyring,
    UnknownKeyError,
    generate_key,
)
from mediavault_encrypted.format import HEADER_SIZE, TAG_SIZE
from PIL import Image

from mediavault import MediaVault, MediaVaultConfig
from mediavault._plugins import get_plugin_manager
from mediavault.storage.fsspec import FsspecStorage
from mediavault.testing.storage import StorageBackendContract
from tests.s3 import MotoS3, moto_server

PREFIX = "/api/v1"
CHUNK = 1024  # small chunks: many chunks from small test files
KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
STRIDE = CHUNK + TAG_SIZE


def storage(root: Path, *keys: bytes, chunk_size: int = CHUNK) -> EncryptedStorage:
    return EncryptedStorage(FsspecStorage(root.as_uri()), Keyring(keys or (KEY,)), chunk_size)


async def put(backend: EncryptedStorage, key: str, data: bytes, piece: int = 700) -> None:
    writer = await backend.open_writer(key)
    for offset in range(0, len(data), piece):
        await writer.write(data[offset : offset + piece])
    await writer.close()


async def get(backend: EncryptedStorage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in backend.read(key, start, end, chunk_size=500)])


class TestEncryptedStorageContract(StorageBackendContract):
    """The whole contract, on local files, in chunks of 1 KiB (ranges cross many chunk boundaries)."""

    @pytest.fixture
    def storage(self, tmp_path: Path) -> EncryptedStorage:
        return storage(tmp_path)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
def test_round_trip_ranges_and_stored_size(tmp_path: Path, size: int) -> None:
    backend = storage(tmp_path)
    data = random.Random(size).randbytes(size)
    asyncio.run(put(backend, "media/u/a", data))

    stored = (tmp_path / "media/u/a").read_bytes()
    chunks = max(1, -(-size // CHUNK))
    assert len(stored) == HEADER_SIZE + size + chunks * TAG_SIZE
    assert asyncio.run(get(backend, "media/u/a")) == data
    bounds = random.Random(1)
    for _ in range(20):
        start = bounds.randrange(size + 1)
        end = bounds.randrange(start, size + 1)
        assert asyncio.run(get(backend, "media/u/a", start, end)) == data[start:end]
    assert asyncio.run(get(backend, "media/u/a", size // 2, size + 1000)) == data[size // 2 :]

    with backend.open_sync("media/u/a") as fp:  # seekable plaintext, full reads across chunk boundaries
        assert fp.seek(0, io.SEEK_END) == size
        fp.seek(max(0, size - CHUNK - 5))
        assert fp.read(CHUNK + 3) == data[max(0, size - CHUNK - 5) :][: CHUNK + 3]
        fp.seek(0)
        assert fp.read() == data


def test_equal_plaintexts_give_unrelated_ciphertexts(tmp_path: Path) -> None:
    backend = storage(tmp_path)
    data = b"A" * (4 * CHUNK)
    asyncio.run(put(backend, "media/u/a", data))
    asyncio.run(put(backend, "media/u/b", data))
    a, b = (tmp_path / "media/u/a").read_bytes(), (tmp_path / "media/u/b").read_bytes()
    assert b"A" * 32 not in a
    assert a[HEADER_SIZE:] != b[HEADER_SIZE:] and a[HEADER_SIZE : HEADER_SIZE + 64] != a[STRIDE : STRIDE + 64]


def _flip(stored: bytes) -> bytes:
    body = bytearray(stored)
    body[HEADER_SIZE + 2 * STRIDE + 10] ^= 0x01
    return bytes(body)


def _swap(stored: bytes) -> bytes:
    chunk = [stored[HEADER_SIZE + i * STRIDE : HEADER_SIZE + (i + 1) * STRIDE] for i in range(4)]
    return stored[:HEADER_SIZE] + chunk[1] + chunk[0] + stored[HEADER_SIZE + 2 * STRIDE :]


TAMPERING = {
    "bit flipped in chunk 2": _flip,
    "chunks 0 and 1 swapped": _swap,
    "final chunk dropped": lambda s: s[: HEADER_SIZE + 4 * STRIDE],
    "cut inside the final chunk": lambda s: s[:-3],
    "a chunk appended": lambda s: s + s[HEADER_SIZE : HEADER_SIZE + STRIDE],
    "header salt changed": lambda s: s[:20] + bytes([s[20] ^ 1]) + s[21:],
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampered_objects_fail_instead_of_giving_wrong_bytes(tmp_path: Path, tamper) -> None:
    backend = storage(tmp_path)
    asyncio.run(put(backend, "media/u/a", os.urandom(4 * CHUNK + 100)))
    path = tmp_path / "media/u/a"
    path.write_bytes(tamper(path.read_bytes()))
    with pytest.raises(DecryptionError):
        asyncio.run(get(backend, "media/u/a"))


def test_range_reads_decrypt_only_the_chunks_they_need(tmp_path: Path) -> None:
    backend = storage(tmp_path)
    data = os.urandom(4 * CHUNK + 100)
    asyncio.run(put(backend, "media/u/a", data))
    path = tmp_path / "media/u/a"
    path.write_bytes(_flip(path.read_bytes()))  # chunk 2 is damaged
    assert asyncio.run(get(backend, "media/u/a", 10, 2 * CHUNK)) == data[10 : 2 * CHUNK]  # chunks 0-1
    assert asyncio.run(get(backend, "media/u/a", 3 * CHUNK + 1)) == data[3 * CHUNK + 1 :]  # chunks 3-4
    with pytest.raises(DecryptionError, match="chunk 2"):
        asyncio.run(get(backend, "media/u/a", 2 * CHUNK - 1, 2 * CHUNK + 1))


def test_an_object_moved_to_another_key_does_not_decrypt(tmp_path: Path) -> None:
    backend = storage(tmp_path)
    asyncio.run(put(backend, "media/alice/a", os.urandom(2 * CHUNK)))
    (tmp_path / "media/bob").mkdir(parents=True)
    (tmp_path / "media/bob/b").write_bytes((tmp_path / "media/alice/a").read_bytes())
    with pytest.raises(DecryptionError):
        asyncio.run(get(backend, "media/bob/b"))


def test_wrong_key_fails_and_rotation_keeps_old_objects_readable(tmp_path: Path) -> None:
    asyncio.run(put(storage(tmp_path, KEY), "media/u/old", b"written with the old key" * 100))
    with pytest.raises(UnknownKeyError, match="not configured"):
        asyncio.run(get(storage(tmp_path, OTHER_KEY), "media/u/old"))

    rotated = storage(tmp_path, OTHER_KEY, KEY)  # new key first, old key kept for reading
    asyncio.run(put(rotated, "media/u/new", b"written with the new key"))
    assert asyncio.run(get(rotated, "media/u/old")) == b"written with the old key" * 100
    assert asyncio.run(get(storage(tmp_path, OTHER_KEY), "media/u/new")) == b"written with the new key"


def test_plaintext_objects(tmp_path: Path) -> None:
    backend = storage(tmp_path)
    (tmp_path / "media").mkdir()
    (tmp_path / "media/plain").write_bytes(b"not encrypted at all, but long enough for a header" * 3)
    with pytest.raises(DecryptionError, match="not an encrypted object"):
        asyncio.run(get(backend, "media/plain"))


def test_abort_leaves_no_ciphertext_behind(tmp_path: Path) -> None:
    backend = storage(tmp_path)

    async def abandon() -> None:
        writer = await backend.open_writer("media/u/a")
        await writer.write(os.urandom(5 * CHUNK))
        await writer.abort()

    asyncio.run(abandon())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "text",
    ["not base64!", "c2hvcnQ=", generate_key() + "," + "A" * 43],
    ids=["not base64", "16 bytes", "second key truncated"],
)
def test_bad_keys_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(ValueError) as error:
        Keyring.from_text(text)
    assert text.split(",")[-1] not in str(error.value)


def test_entry_point_module_answers_only_for_encrypted_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def backend_for(url: str):
        config = MediaVaultConfig(
            secret_key="k" * 32, storage_url=url, load_entry_points=False, plugins=(mediavault_encrypted,)
        )
        return get_plugin_manager(config).hook.mediavault_storage_backend(config=config)

    monkeypatch.delenv("MEDIAVAULT_ENCRYPTION_KEYS", raising=False)
    assert type(backend_for(tmp_path.as_uri())) is FsspecStorage  # not ours: the built-in backend
    with pytest.raises(ValueError, match="MEDIAVAULT_ENCRYPTION_KEYS"):
        backend_for("encrypted+" + tmp_path.as_uri())
    monkeypatch.setenv("MEDIAVAULT_ENCRYPTION_KEYS", generate_key())
    backend = backend_for("encrypted+" + tmp_path.as_uri())
    assert isinstance(backend, EncryptedStorage) and isinstance(backend.inner, FsspecStorage)


# --- inside a real vault ---------------------------------------------------------------------------------


def make_app(tmp_path: Path, key: bytes, **overrides: Any) -> Litestar:
    config = MediaVaultConfig(
        **{
            "secret_key": "k" * 32,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}",
            "storage_url": "encrypted+" + (tmp_path / "media").as_uri(),
            "load_entry_points": False,
            "plugins": (EncryptedStoragePlugin([key], chunk_size=4096),),
            "argon2_time_cost": 1,
            "argon2_memory_cost": 8,
            "argon2_parallelism": 1,
            "processing_worker": False,  # no thumbnails: each test knows every stored object
            **overrides,
        }
    )
    return Litestar(plugins=[MediaVault(config)])


def signed_in(client: TestClient[Litestar]) -> dict[str, str]:
    credentials = {"email": "eve@example.com", "password": "correct horse battery"}
    assert client.post(f"{PREFIX}/auth/register", json=credentials).status_code == 201
    login = client.post(
        f"{PREFIX}/auth/login", json={"username": credentials["email"], "password": "correct horse battery"}
    )
    return {"Authorization": f"Bearer {login.json()['data']['token']}"}


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], dict[str, str]]]:
    with TestClient(make_app(tmp_path, KEY)) as client:
        yield client, signed_in(client)


def stored_file(tmp_path: Path) -> Path:
    (path,) = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    return path


def noise_png(width: int, height: int) -> bytes:
    """A real PNG that does not compress: ``width * height`` bytes of noise and a little more."""
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 64).save(buffer, "PNG")
    return buffer.getvalue()


def test_vault_upload_download_range_and_delete(tmp_path: Path, vault) -> None:
    client, auth = vault
    data = noise_png(400, 250)
    upload = client.post(f"{PREFIX}/media/upload", headers=auth, files={"file": ("noise.png", data)})
    assert upload.status_code == 201, upload.text
    media = upload.json()["data"]
    assert (media["width"], media["height"]) == (400, 250)  # Pillow read the header through the decrypting file

    on_disk = stored_file(tmp_path).read_bytes()
    assert len(on_disk) == HEADER_SIZE + len(data) + -(-len(data) // 4096) * TAG_SIZE  # chunks of 4 KiB
    assert data[5000:5064] not in on_disk

    url = f"{PREFIX}/media/{media['id']}/content"
    content = client.get(url, headers=auth)
    assert content.status_code == 200 and content.content == data
    partial = client.get(url, headers={**auth, "Range": "bytes=4090-12300"})
    assert partial.status_code == 206 and partial.content == data[4090:12301]
    assert partial.headers["content-range"] == f"bytes 4090-12300/{len(data)}"
    assert client.get(f"{PREFIX}/health").json()["data"]["checks"]["storage"] == "ok"

    assert client.delete(f"{PREFIX}/media/{media['id']}", headers=auth).status_code == 204
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


def test_vault_tampered_chunk_and_wrong_key_give_errors_not_bytes(tmp_path: Path, vault) -> None:
    client, auth = vault
    data = os.urandom(20_000)
    media_id = client.post(f"{PREFIX}/media/upload", headers=auth, files={"file": ("d.bin", data)}).json()["data"]["id"]
    url = f"{PREFIX}/media/{media_id}/content"
    path = stored_file(tmp_path)
    stored = bytearray(path.read_bytes())
    stored[HEADER_SIZE + (4096 + TAG_SIZE) * 2 + 7] ^= 0x80  # one bit of chunk 2 (bytes 8192-12287)
    path.write_bytes(bytes(stored))

    assert client.get(url, headers={**auth, "Range": "bytes=0-8191"}).content == data[:8192]  # chunks 0-1 intact
    damaged = client.get(url, headers={**auth, "Range": "bytes=8192-9000"})
    assert damaged.status_code == 500 and damaged.json()["error"]["code"] == "internal_error"
    assert b"chunk" not in damaged.content  # the envelope does not leak the storage error

    with TestClient(make_app(tmp_path, OTHER_KEY)) as other:  # same database and storage, another key
        wrong = other.get(url, headers={**auth, "Range": "bytes=0-100"})
        assert wrong.status_code == 500 and wrong.json()["error"]["code"] == "internal_error"


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoS3]:
    with moto_server() as server:
        yield server


def test_vault_on_s3_stores_ciphertext_and_never_redirects_to_it(tmp_path: Path, s3: MotoS3) -> None:
    bucket = s3.create_bucket()
    app = make_app(
        tmp_path,
        KEY,
        storage_url=f"encrypted+s3://{bucket}/media",
        storage_options=s3.storage_options,
        storage_presigned_downloads=True,  # S3 could redirect downloads to itself: not for ciphertext
    )
    data = noise_png(600, 400)  # ~240 KB: 60 chunks of 4 KiB
    with TestClient(app) as client:
        auth = signed_in(client)
        upload = client.post(f"{PREFIX}/media/upload", headers=auth, files={"file": ("noise.png", data)})
        assert upload.status_code == 201, upload.text
        media = upload.json()["data"]
        assert (media["width"], media["height"]) == (600, 400)  # Pillow read the header through S3 + decryption

        url = f"{PREFIX}/media/{media['id']}/content"
        content = client.get(url, headers=auth, follow_redirects=False)
        assert content.status_code == 200 and content.content == data
        partial = client.get(url, headers={**auth, "Range": "bytes=100000-150000"}, follow_redirects=False)
        assert partial.status_code == 206 and partial.content == data[100000:150001]

    (key,) = s3.keys(bucket)
    stored = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored.startswith(b"MVE1") and len(stored) == HEADER_SIZE + len(data) + -(-len(data) // 4096) * TAG_SIZE
    assert data[1000:1064] not in stored


def test_chunk_size_and_seek_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        storage(tmp_path, chunk_size=100)
    backend = storage(tmp_path)
    asyncio.run(put(backend, "media/u/a", b"x" * 10))
    with backend.open_sync("media/u/a") as fp:
        with pytest.raises(ValueError):
            fp.seek(-1)
        with pytest.raises(ValueError):
            fp.seek(0, 7)
        assert fp.seek(100) == 100 and fp.read() == b""


def test_thumbnails_and_share_copies_are_encrypted_too(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((1200, 800), 64).convert("RGB").save(buffer, "JPEG")
    with TestClient(make_app(tmp_path, KEY, processing_worker=True)) as client:
        auth = signed_in(client)
        media = client.post(f"{PREFIX}/media/upload", headers=auth, files={"file": ("p.jpg", buffer.getvalue())})
        media_id = media.json()["data"]["id"]
        deadline = time.monotonic() + 30
        while (thumb := client.get(f"{PREFIX}/media/{media_id}/thumbnail?size=256", headers=auth)).status_code != 200:
            assert time.monotonic() < deadline, thumb.text
            time.sleep(0.05)
        assert Image.open(io.BytesIO(thumb.content)).size == (256, 171)
        share = client.post(f"{PREFIX}/shares", headers=auth, json={"media_id": media_id}).json()["data"]
        shared = client.get(f"{PREFIX}/s/{share['token']}/content")
        assert shared.status_code == 200 and Image.open(io.BytesIO(shared.content)).size == (1200, 800)
    stored = [p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(stored) >= 3 and all(data.startswith(b"MVE1") for data in stored)  # original, thumbnails, share copy
