"""A full disk (issue 13, finding 4): uploads answer 507 ``insufficient_storage`` and keep nothing; ``GET /health``
says storage ``error`` while the free space is under ``storage_min_free_space``.

The disk is a real 1 MiB tmpfs mounted by the test (root is needed: the CI runs as root). If mounting fails the test
fails: it is never skipped."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from tests.conftest import PREFIX, Account, make_config


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs (the test needs root): {done.stderr.decode()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_upload_onto_a_full_disk_is_507_and_keeps_nothing(tmp_path: Path, tiny_disk: Path) -> None:
    config = make_config(tmp_path, storage_url=tiny_disk.as_uri(), storage_min_free_space=64 * 1024)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        small = alice.upload(b"fits on the disk", "small.txt")
        before = _files(tiny_disk)

        response = client.post(
            f"{PREFIX}/media/upload", headers=alice.headers, files={"file": ("big.bin", os.urandom(2 * 1024 * 1024))}
        )
        assert response.status_code == 507, response.text
        error = response.json()["error"]
        assert error["code"] == "insufficient_storage"
        assert "storage" in error["message"].lower()
        assert _files(tiny_disk) == before  # no partial file left
        listed = client.get(f"{PREFIX}/media", headers=alice.headers).json()["data"]
        assert [m["id"] for m in listed] == [small["id"]]  # no row for the failed upload
        assert client.get(f"{PREFIX}/health").status_code == 200


def test_health_reports_storage_error_while_the_disk_is_full(tmp_path: Path, tiny_disk: Path) -> None:
    config = make_config(tmp_path, storage_url=tiny_disk.as_uri(), storage_min_free_space=64 * 1024, health_cache_ttl=0)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        assert client.get(f"{PREFIX}/health").json()["data"]["checks"]["storage"] == "ok"
        filler = tiny_disk / "filler"
        with filler.open("wb") as f, pytest.raises(OSError):
            f.write(b"\0" * (2 * 1024 * 1024))
            f.flush()
        response = client.get(f"{PREFIX}/health")
        assert response.status_code == 503
        assert response.json()["data"]["checks"] == {"database": "ok", "storage": "error"}
        filler.unlink()
        assert client.get(f"{PREFIX}/health").status_code == 200


@pytest.mark.parametrize(("ttl", "second"), [(3600, 200), (0, 503)])
def test_health_checks_are_reused_for_health_cache_ttl(tmp_path: Path, ttl: float, second: int) -> None:
    """Finding 15: a public, never rate-limited probe does not reach the storage (or the database) on every call."""
    media = tmp_path / "media"
    config = make_config(tmp_path, storage_url=media.as_uri(), health_cache_ttl=ttl)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        assert client.get(f"{PREFIX}/health").status_code == 200
        media.rmdir()
        media.write_bytes(b"not a directory: the storage probe fails from now on")
        assert client.get(f"{PREFIX}/health").status_code == second
