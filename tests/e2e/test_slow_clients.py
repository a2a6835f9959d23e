"""Slow, silent and vanishing clients against a real ``mediavault serve`` (raw sockets): the header and body
deadlines answer 408 ``request_timeout`` and close, an upload cut off that way leaves nothing, idle keep-alive
connections outlive the pools in front, a client that hangs up mid-body is no server error, and one that sends a
refused upload in one go reads its 400."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import PREFIX, ServerFactory, VaultServer, register_and_login, stored_files

DEADLINE = 1  # seconds: MEDIAVAULT_CLIENT_HEADER_TIMEOUT / _BODY_TIMEOUT of the module's server
WAIT = 60.0  # bound of every wait for the server below (a hang only; a deadline that works answers within ~1 s)


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> Iterator[VaultServer]:
    yield module_servers.start(
        env={"MEDIAVAULT_CLIENT_HEADER_TIMEOUT": str(DEADLINE), "MEDIAVAULT_CLIENT_BODY_TIMEOUT": str(DEADLINE)}
    )


def connect(server: VaultServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the socket's timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def assert_408(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in head.lower()
    envelope = json.loads(body)
    assert envelope["success"] is False
    assert envelope["error"]["code"] == "request_timeout"
    assert envelope["meta"]["request_id"]


def test_trickled_head_gets_408_and_is_closed(server: VaultServer) -> None:
    with connect(server) as sock:
        sock.sendall(f"GET {PREFIX}/health HTTP/1.1\r\nHost: x\r\n".encode())
        sock.settimeout(0.3)
        answer = b""
        deadline = time.monotonic() + WAIT
        while not answer and time.monotonic() < deadline:  # one header line at a time, never the blank line
            try:
                sock.sendall(b"X-a: b\r\n")
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(WAIT)
        answer += read_until_closed(sock)
    assert_408(answer)


def test_silent_connection_gets_408_and_is_closed(server: VaultServer) -> None:
    with connect(server) as sock:
        assert_408(read_until_closed(sock))


def test_stalled_upload_gets_408_and_nothing_is_kept(server: VaultServer) -> None:
    with server.client() as client:
        auth = register_and_login(client, "stall@example.com")
    boundary = "stalledupload"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"\x01" * 300_000
    head = (
        f"POST {PREFIX}/media/upload HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n"
    ).encode()
    with connect(server) as sock:
        sock.sendall(head + start)  # then nothing more
        assert_408(read_until_closed(sock))
    deadline = time.monotonic() + WAIT  # the aborted upload's temporary file goes once the handler has seen it
    while stored_files(server.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_files(server.data_dir) == []
    with server.client() as client:
        listed = client.get("/media", headers=auth)
        assert listed.json()["meta"]["pagination"]["total"] == 0


def test_client_hanging_up_mid_body_is_not_a_server_error(server: VaultServer) -> None:
    with connect(server) as sock:
        sock.sendall(
            f"POST {PREFIX}/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n".encode()
            + b'{"a":'
        )
    deadline = time.monotonic() + WAIT
    while "client disconnected" not in server.log_tail(100_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log_tail(100_000)
    assert f"client disconnected before its request was read (POST {PREFIX}/auth/login" in log
    assert "Traceback" not in log
    assert "unhandled error" not in log


def test_idle_keep_alive_connection_outlives_uvicorns_5_seconds(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start(tmp_path / "keepalive")  # the default keep_alive_timeout
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    try:
        conn.request("GET", f"{PREFIX}/health")
        assert conn.getresponse().read() and conn.sock is not None
        first = conn.sock
        time.sleep(6)  # idle past uvicorn's default of 5 s, as a pooled connection waits between requests
        conn.request("GET", f"{PREFIX}/health")  # on the same connection (http.client never reconnects by itself)
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["data"]["status"] == "ok"
        assert conn.sock is first
    finally:
        conn.close()


@pytest.mark.parametrize(
    "fields",
    [
        [("title", "t" * (64 * 1024 + 1))],  # over the 64 KiB field limit
        [(f"extra{i}", "x") for i in range(25)],  # over the 20 parts limit
    ],
    ids=["field-too-long", "too-many-parts"],
)
def test_upload_refused_mid_body_is_drained_so_the_400_arrives(
    server: VaultServer, fields: list[tuple[str, str]]
) -> None:
    """A 400 found before the file part, with megabytes still to come, sent in one go: the rest is read, so the
    client (still sending) reads the whole envelope instead of a connection reset."""
    with server.client() as client:
        auth = register_and_login(client, f"drain-{len(fields)}@example.com")
    boundary = "refusedupload"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    file_head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    body += file_head.encode() + b"\x01" * (8 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    head = (
        f"POST {PREFIX}/media/upload HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
        "Connection: close\r\n"  # as urllib sends: the server closes after the answer
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with connect(server) as sock:
        sock.sendall(head + body)
        answer = read_until_closed(sock)  # (a reset raises ConnectionResetError)
    status, _, envelope = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert json.loads(envelope)["error"]["code"] == "validation_error"
    assert stored_files(server.data_dir) == []
