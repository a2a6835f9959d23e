"""tus with the reference Python client (tuspy) against a real ``mediavault serve`` (both legs: SQLite + local files,
PostgreSQL + S3 on moto): chunked uploads with checksums, an interrupted upload resumed by a fresh client process,
and an upload resumed after the server was killed with SIGKILL in the middle of a ``PATCH``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client

from tests.backends import BACKENDS
from tests.conftest import PREFIX, make_config
from tests.e2e.conftest import ServerFactory, VaultServer, process_env, register_and_login, stored_files

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _fsck(server: VaultServer) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from mediavault.cli import main; main()", "fsck", "--data-dir"]
    return subprocess.run(
        [*command, str(server.data_dir)], env=process_env(server.data_dir), capture_output=True, text=True, timeout=120
    )


def _open_multipart_uploads(data_dir: Path) -> list[str]:
    """Keys of the S3 multipart uploads begun under the server's prefix and neither completed nor aborted (none
    off S3)."""
    storage_url = make_config(data_dir).storage_url
    if not storage_url.startswith("s3://"):
        return []
    bucket, prefix = storage_url.removeprefix("s3://").split("/", 1)
    return [upload["Key"] for upload in BACKENDS.s3.multipart_uploads(bucket) if upload["Key"].startswith(f"{prefix}/")]


def _content(server: VaultServer, headers: dict[str, str], media_id: str) -> bytes:
    with server.client(headers=headers) as client:
        media = client.get(f"/media/{media_id}")
        assert media.status_code == 200, media.text
        return client.get(f"/media/{media_id}/content").content


def test_tuspy_uploads_in_chunks_with_checksums(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start()
    with server.client() as client:
        headers = register_and_login(client, "tuspy@example.com")
    data = os.urandom(12 * MIB + 123)
    path = tmp_path / "clip.bin"
    path.write_bytes(data)
    tus = tus_client.TusClient(f"{server.base_url}{PREFIX}/uploads", headers=headers)
    uploader = tus.uploader(
        str(path), chunk_size=3 * MIB, metadata={"filename": "clip.bin", "title": "A clip"}, upload_checksum=True
    )
    uploader.upload()
    assert uploader.offset == len(data)
    media_id = uploader.request.response_headers["x-media-id"]
    assert _content(server, headers, media_id) == data
    with server.client(headers=headers) as client:
        media = client.get(f"/media/{media_id}").json()["data"]
    assert (media["filename"], media["title"]) == ("clip.bin", "A clip")
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()


CLIENT = textwrap.dedent(
    """
    import sys, time
    from tusclient import client
    from tusclient.storage.filestorage import FileStorage

    url, token, path, store, stop_at = sys.argv[1:6]
    tus = client.TusClient(url, headers={"Authorization": "Bearer " + token})
    uploader = tus.uploader(path, chunk_size=1024 * 1024, metadata={"filename": "big.bin"},
                            store_url=True, url_storage=FileStorage(store))
    print("resumed at", uploader.offset, flush=True)
    if int(stop_at):
        uploader.upload(stop_at=int(stop_at))
        print("stopped at", uploader.offset, flush=True)
        time.sleep(600)  # killed here: an interrupted client
    uploader.upload()
    print("media", uploader.request.response_headers["x-media-id"], flush=True)
    """
)


def _client(server: VaultServer, token: str, path: Path, store: Path, stop_at: int) -> subprocess.Popen[str]:
    url = f"{server.base_url}{PREFIX}/uploads"
    command = [sys.executable, "-c", CLIENT, url, token, str(path), str(store), str(stop_at)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def test_a_fresh_client_process_resumes_an_interrupted_upload(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start()
    with server.client() as client:
        token = register_and_login(client, "resume@example.com")["Authorization"].split()[1]
    data = os.urandom(10 * MIB)
    path, store = tmp_path / "big.bin", tmp_path / "tus-urls.json"
    path.write_bytes(data)

    first = _client(server, token, path, store, 6 * MIB)
    try:
        assert first.stdout is not None
        assert first.stdout.readline().split() == ["resumed", "at", "0"]
        assert first.stdout.readline().split() == ["stopped", "at", str(6 * MIB)]
    finally:
        first.kill()  # mid-upload, as a closed laptop lid would
        first.wait(10)
    assert json.loads(store.read_text())  # the client remembered its upload's URL

    second = _client(server, token, path, store, 0)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["resumed", "at", str(6 * MIB)]  # the server's offset, not 0
    media_id = lines[-1].split()[1]
    assert _content(server, {"Authorization": f"Bearer {token}"}, media_id) == data


def _patch_head(
    port: int, location: str, token: str, offset: int, length: int, half: bytes | None = None
) -> socket.socket:
    """Start a ``PATCH`` that announces ``length`` bytes and send only ``half`` (random bytes, by default half of
    ``length``)."""
    request = (
        f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request + (os.urandom(length // 2) if half is None else half))
    return sock


def test_an_upload_resumes_after_the_server_was_killed_mid_patch(vault_servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "vault"
    first = vault_servers.start(data_dir)
    with first.client() as client:
        headers = register_and_login(client, "crash@example.com")
    token = headers["Authorization"].split()[1]
    data = os.urandom(20 * MIB)
    path = tmp_path / "movie.bin"
    path.write_bytes(data)
    tus = tus_client.TusClient(f"{first.base_url}{PREFIX}/uploads", headers=headers)
    uploader = tus.uploader(str(path), chunk_size=3 * MIB, metadata={"filename": "movie.bin"})
    uploader.upload(stop_at=9 * MIB)  # three chunks stored (on S3: one 8 MiB part and a tail)
    assert uploader.offset == 9 * MIB
    location = uploader.url.removeprefix(first.base_url)

    sock = _patch_head(first.port, location, token, 9 * MIB, 8 * MIB)
    try:
        time.sleep(1)  # the server is writing the half it got
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        sock.close()
    assert first.stop() == -signal.SIGKILL

    second = vault_servers.start(data_dir)
    with httpx.Client(base_url=second.base_url) as client:
        head = client.head(location, headers={**headers, **TUS})
    assert head.status_code == 200, head.text
    assert head.headers["Upload-Offset"] == str(9 * MIB)  # only what was stored before the crash counts

    tus = tus_client.TusClient(f"{second.base_url}{PREFIX}/uploads", headers=headers)
    resumed = tus.uploader(str(path), url=f"{second.base_url}{location}", chunk_size=5 * MIB)
    assert resumed.offset == 9 * MIB
    resumed.upload()
    media_id = resumed.request.response_headers["x-media-id"]
    assert _content(second, headers, media_id) == data
    checked = _fsck(second)  # nothing of the killed PATCH is left behind
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert stored_files(data_dir) == [data]  # on the leg's storage (S3 on the full leg): the file, nothing else
    assert _open_multipart_uploads(data_dir) == []


@pytest.mark.parametrize("cut_off", ["hang-up", "stall"])
def test_a_patch_cut_off_keeps_what_arrived(vault_servers: ServerFactory, tmp_path: Path, cut_off: str) -> None:
    """The client hangs up after half the announced body, or stalls until ``client_body_timeout`` (1 s here) and
    the server answers 408 and closes the connection: either way the half that arrived is kept."""
    server = vault_servers.start(env={"MEDIAVAULT_CLIENT_BODY_TIMEOUT": "1"} if cut_off == "stall" else None)
    with server.client() as client:
        headers = register_and_login(client, "hangup@example.com")
    token = headers["Authorization"].split()[1]
    data = os.urandom(20 * MIB)
    path = tmp_path / "movie.bin"
    path.write_bytes(data)
    tus = tus_client.TusClient(f"{server.base_url}{PREFIX}/uploads", headers=headers)
    uploader = tus.uploader(str(path), chunk_size=3 * MIB, metadata={"filename": "movie.bin"})
    uploader.upload(stop_at=3 * MIB)  # on S3: a 3 MiB tail object
    location = uploader.url.removeprefix(server.base_url)

    sock = _patch_head(server.port, location, token, 3 * MIB, 12 * MIB, data[3 * MIB : 9 * MIB])
    with sock:  # half the announced body sent (on S3: an 8 MiB part and a 1 MiB tail), then
        if cut_off == "stall":  # nothing more: the server gives up on the body and closes the connection
            sock.settimeout(120)  # a bound for a hang only
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    with httpx.Client(base_url=server.base_url, headers={**headers, **TUS}) as client:
        for _ in range(600):  # a bound for a hang only: the server stores the half after it saw the hang-up
            head = client.head(location)
            if head.headers.get("Upload-Offset") != str(3 * MIB):
                break
            time.sleep(0.05)
    assert head.status_code == 200, head.text
    assert head.headers["Upload-Offset"] == str(9 * MIB)  # every byte that arrived counts

    resumed = tus.uploader(str(path), url=f"{server.base_url}{location}", chunk_size=5 * MIB)
    assert resumed.offset == 9 * MIB
    resumed.upload()
    media_id = resumed.request.response_headers["x-media-id"]
    assert _content(server, headers, media_id) == data
    assert stored_files(server.data_dir) == [data]  # the media's bytes, no piece left
    assert _open_multipart_uploads(server.data_dir) == []
