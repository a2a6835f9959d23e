"""End to end against a real ``mediavault serve`` process over real sockets (uvicorn + h11)."""

from __future__ import annotations

import hashlib
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerFactory, VaultServer, register_and_login, stored_files
from tests.files import make_pdf, make_png

MiB = 1024 * 1024
SMALL_LIMIT = MiB  # MEDIAVAULT_MAX_UPLOAD_SIZE of the small-limit server


def multipart_stream(
    boundary: str, total_file_bytes: int, *, filename: str = "big.bin", block: int = 256 * 1024
) -> Iterator[bytes]:
    """A ``multipart/form-data`` body with one ``file`` part of ``total_file_bytes`` bytes, made lazily."""
    yield (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    chunk = b"\xa5" * block
    left = total_file_bytes
    while left > 0:
        piece = chunk[: min(block, left)]
        left -= len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def multipart_length(boundary: str, total_file_bytes: int, filename: str = "big.bin") -> int:
    return sum(len(p) for p in multipart_stream(boundary, 0, filename=filename)) + total_file_bytes


def assert_envelope_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["meta"]["request_id"] == response.headers["x-request-id"]


def upload(client: httpx.Client, headers: dict[str, str], name: str, content: bytes, **fields: str) -> dict:
    response = client.post("/media/upload", headers=headers, files={"file": (name, content)}, data=fields)
    assert response.status_code == 201, response.text
    return response.json()["data"]


# --------------------------------------------------------------------------- persistence across restarts


def test_upload_download_survive_restart(vault_servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "vault-data"
    png, pdf = make_png(120, 80), make_pdf("end to end")

    first = vault_servers.start(data_dir)
    with first.client() as client:
        auth = register_and_login(client, "e2e@example.com")
        image = upload(client, auth, "photo.png", png, title="A photo", tags="red,e2e")
        document = upload(client, auth, "paper.pdf", pdf, description="A document")

        assert (image["content_type"], image["type"]) == ("image/png", "image")
        assert (image["width"], image["height"]) == (120, 80)
        assert (document["content_type"], document["type"]) == ("application/pdf", "document")
        assert image["checksum_sha256"] == hashlib.sha256(png).hexdigest()
        assert document["size"] == len(pdf)

        listed = client.get("/media", headers=auth).json()
        assert listed["meta"]["pagination"]["total"] == 2
        assert {m["id"] for m in listed["data"]} == {image["id"], document["id"]}

        for media, content in ((image, png), (document, pdf)):
            downloaded = client.get(f"/media/{media['id']}/content", headers=auth)
            assert downloaded.status_code == 200
            assert downloaded.content == content
            assert downloaded.headers["accept-ranges"] == "bytes"

        ranged = client.get(f"/media/{document['id']}/content", headers={**auth, "Range": "bytes=10-99"})
        assert ranged.status_code == 206
        assert ranged.headers["content-range"] == f"bytes 10-99/{len(pdf)}"
        assert ranged.content == pdf[10:100]
        suffix = client.get(f"/media/{image['id']}/content", headers={**auth, "Range": "bytes=-16"})
        assert suffix.status_code == 206
        assert suffix.content == png[-16:]

    assert first.stop() in (0, -signal.SIGTERM), first.log_tail()  # not killed after STOP_TIMEOUT

    second = vault_servers.start(data_dir)  # same data dir, another port
    assert second.port != first.port or second.pid != first.pid
    with second.client() as client:
        # The access token issued by the first process still verifies: the secret key was persisted.
        me = client.get("/users/me", headers=auth)
        assert me.status_code == 200, me.text
        assert me.json()["data"]["email"] == "e2e@example.com"

        listed = client.get("/media", headers=auth).json()
        assert {m["id"] for m in listed["data"]} == {image["id"], document["id"]}
        for media, content in ((image, png), (document, pdf)):
            assert client.get(f"/media/{media['id']}", headers=auth).json()["data"]["title"] == media["title"]
            downloaded = client.get(f"/media/{media['id']}/content", headers=auth)
            assert downloaded.status_code == 200
            assert downloaded.content == content
            assert media["checksum_sha256"] in downloaded.headers["etag"]

        for _ in range(400):  # the processing worker makes the image's thumbnails
            state = client.get(f"/media/{image['id']}/metadata", headers=auth).json()["data"]
            if state["status"] != "pending":
                break
            time.sleep(0.025)
        assert sorted(v["name"] for v in state["variants"]) == ["thumb-1024", "thumb-256"]
        assert state["metadata"]["share"] == {"unchanged": True}  # a PNG without metadata needs no share copy
        on_disk = stored_files(data_dir)
        assert sorted(b for b in on_disk if not b.startswith(b"RIFF")) == sorted([png, pdf])
        assert len(on_disk) == 4

        for media in (image, document):
            assert client.delete(f"/media/{media['id']}", headers=auth).status_code == 204
            assert client.get(f"/media/{media['id']}/content", headers=auth).status_code == 404
        assert client.get("/media", headers=auth).json()["meta"]["pagination"]["total"] == 0
        assert stored_files(data_dir) == []


# --------------------------------------------------------------------------- 413 over a real socket


@pytest.fixture(scope="module")
def small_server(module_servers: ServerFactory) -> VaultServer:
    """A server with ``MEDIAVAULT_MAX_UPLOAD_SIZE=1 MiB``, shared by the 413 tests."""
    return module_servers.start(env={"MEDIAVAULT_MAX_UPLOAD_SIZE": str(SMALL_LIMIT)})


@pytest.fixture(scope="module")
def small_auth(small_server: VaultServer) -> dict[str, str]:
    with small_server.client() as client:
        return register_and_login(client, "limits@example.com")


def _assert_nothing_kept(server: VaultServer, auth: dict[str, str]) -> None:
    with server.client() as client:
        assert client.get("/media", headers=auth).json()["meta"]["pagination"]["total"] == 0
    assert stored_files(server.data_dir) == []


def test_oversized_upload_with_content_length_receives_413(small_server: VaultServer, small_auth: dict) -> None:
    boundary = uuid.uuid4().hex
    size = 8 * MiB
    headers = {
        **small_auth,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(multipart_length(boundary, size)),
    }
    with small_server.client() as client:
        response = client.post("/media/upload", headers=headers, content=multipart_stream(boundary, size))
    assert_envelope_error(response, 413, "payload_too_large")
    _assert_nothing_kept(small_server, small_auth)


def test_oversized_chunked_upload_receives_413(small_server: VaultServer, small_auth: dict) -> None:
    boundary = uuid.uuid4().hex
    headers = {**small_auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with small_server.client() as client:
        request = client.build_request(
            "POST", "/media/upload", headers=headers, content=multipart_stream(boundary, 8 * MiB)
        )
        assert request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in request.headers
        response = client.send(request)
    assert_envelope_error(response, 413, "payload_too_large")
    _assert_nothing_kept(small_server, small_auth)


def test_upload_just_under_the_limit_is_accepted(small_server: VaultServer, small_auth: dict) -> None:
    boundary = uuid.uuid4().hex
    headers = {
        **small_auth,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(multipart_length(boundary, SMALL_LIMIT)),
    }
    with small_server.client() as client:
        response = client.post("/media/upload", headers=headers, content=multipart_stream(boundary, SMALL_LIMIT))
        assert response.status_code == 201, response.text
        media = response.json()["data"]
        assert media["size"] == SMALL_LIMIT
        assert client.delete(f"/media/{media['id']}", headers=small_auth).status_code == 204
    _assert_nothing_kept(small_server, small_auth)


# --------------------------------------------------------------------------- shutdown


def test_sigterm_exits_cleanly_and_quickly(vault_servers: ServerFactory) -> None:
    server = vault_servers.start()
    with server.client() as client:  # an idle keep-alive connection must not hold up the shutdown
        assert client.get("/health").status_code == 200
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=60)  # a bound for a hang only: a loaded machine makes any shutdown slow
    assert server.stop() in (0, -signal.SIGTERM), server.log_tail()
    log = server.log_tail(20_000)
    # uvicorn closes idle connections, then waits for those still open: only a held-up connection makes it wait
    # (and then, after timeout_graceful_shutdown, cancel). No clock: both are in the log or not.
    assert "Shutting down" in log and "Finished server process" in log, log
    assert "Waiting for connections to close" not in log and "timeout graceful shutdown exceeded" not in log, log
    assert "Traceback" not in log, log
