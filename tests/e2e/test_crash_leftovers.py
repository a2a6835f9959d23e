"""What a crash leaves behind is found and removed (issue 13, finding 2): an upload whose server is killed with
SIGKILL mid-body leaves its hidden ``.part-<hex>`` temporary file; the next start-up removes it once it has not been
written to for ``temporary_file_max_age`` seconds (a younger one may belong to a live upload of another process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PREFIX
from tests.e2e.conftest import ServerFactory, process_env, register_and_login

BOUNDARY = "mediavault-crash-test"


def _part_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".part-" in p.name]


def _start_upload(port: int, token: str, body_size: int) -> socket.socket:
    """Send a multipart upload's head and most of its body, never its end."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    request = (
        f"POST {PREFIX}/media/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + body_size + 100}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request + head + b"x" * (body_size - 1024))
    return sock


def test_sigkill_mid_upload_leaves_no_temporary_file_after_a_restart(
    vault_servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "vault"
    media = data_dir / "media"
    env = {"MEDIAVAULT_STORAGE_URL": media.as_uri()}  # temporary files are local storage's (S3: multipart uploads)
    first = vault_servers.start(data_dir, env=env)
    with first.client() as client:
        token = register_and_login(client, "owner@example.com")["Authorization"].split()[1]
    sock = _start_upload(first.port, token, 4 * 1024 * 1024)
    try:
        deadline = time.monotonic() + 30  # a bound for a hang only
        while not _part_files(media):
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.05)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(5)
    finally:
        sock.close()
    assert first.stop() == -signal.SIGKILL
    [left] = _part_files(media)

    young = media / "young.bin.part-0123456789abcdef0123456789abcdef"  # as if another process were writing it now
    young.write_bytes(b"in flight")
    hours_ago = time.time() - 7200  # not written to for two hours: no live upload's
    os.utime(left, (hours_ago, hours_ago))

    second = vault_servers.start(data_dir, env=env)
    try:
        assert _part_files(media) == [young]  # the start-up sweep ran before the server answered
        checked = _fsck(data_dir, env)  # while the server runs
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "0 temporary files, 0 objects without rows, 0 rows without bytes" in checked.stdout

        orphan = media / "media" / "nobody" / "left-by-a-killed-delete"
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"bytes no row points at")
        os.utime(orphan, (hours_ago, hours_ago))
        found = _fsck(data_dir, env)
        assert found.returncode == 1, found.stdout + found.stderr
        assert "bytes without a row (found): media/nobody/left-by-a-killed-delete" in found.stdout
        repaired = _fsck(data_dir, env, "--repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert not orphan.exists()
        assert _fsck(data_dir, env).returncode == 0
    finally:
        second.stop()


def _fsck(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from mediavault.cli import main; main()", "fsck", "--data-dir", str(data_dir)]
    return subprocess.run(
        [*command, *args], env=process_env(data_dir, env), capture_output=True, text=True, timeout=120
    )


def test_worker_process_runs_the_periodic_fsck(tmp_path: Path) -> None:
    """``mediavault worker`` with ``MEDIAVAULT_FSCK_INTERVAL`` runs the same periodic fsck as app processes: bytes
    without a row (and a stale temporary file) are removed while no ``serve`` runs at all."""
    data_dir = tmp_path / "vault"
    media = data_dir / "media"
    orphan = media / "media" / "nobody" / "left-by-a-killed-delete"
    stale = media / "big.bin.part-0123456789abcdef0123456789abcdef"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"bytes no row points at")
    stale.write_bytes(b"a killed upload's")
    hours_ago = time.time() - 7200
    for path in (orphan, stale):
        os.utime(path, (hours_ago, hours_ago))
    env = {"MEDIAVAULT_STORAGE_URL": media.as_uri(), "MEDIAVAULT_FSCK_INTERVAL": "3600"}
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-c", "from mediavault.cli import main; main()", "worker", "--data-dir", str(data_dir)],
            env=process_env(data_dir, env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60  # a bound for a hang only
            while orphan.exists() or stale.exists():
                assert worker.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the worker's periodic fsck did not run: " + log_path.read_text()
                time.sleep(0.05)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0, log_path.read_text()
    assert "fsck removed bytes without a row: media/nobody/left-by-a-killed-delete" in log_path.read_text()
