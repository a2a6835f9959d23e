"""Resumable uploads (tus) against ``POST /media/upload``: throughput and server memory, over real sockets.

Usage::

    python benchmarks/tus.py [--size 1G] [--chunks 8M,64M] [--storage local|s3] [--tmp DIR]

What it does:

1. starts ``mediavault serve`` (uvicorn, 1 worker) on a free port with a fresh data dir under ``--tmp`` (``--storage
   s3``: a moto server on loopback, ``storage_url=s3://<fresh bucket>/bench``, with a 900 s S3 read timeout:
   ``benchmarks/_server.py``);
2. uploads ``--size`` bytes (one 1 MiB random block, repeated, generated on the fly: the client never holds more)
   once with ``POST /media/upload`` and once through tus per chunk size (``POST /uploads``, then one ``PATCH`` per
   chunk, each streamed with its ``Content-Length``), checking size and SHA-256 of the media each made, then
   deleting it;
3. reports wall time from the first request to the media (for tus: creation, every ``PATCH`` and the last one's
   completion, which on local storage copies the chunks into the media's file and on S3 completes the multipart
   upload and reads the object back for its SHA-256), throughput, and the server's RSS growth (``VmRSS`` sampled
   every 20 ms, and ``VmHWM`` reset before each upload where the kernel allows it), as ``benchmarks/upload.py``.

Needs Linux (``/proc``). Everything it writes lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _server import PREFIX, Server, moto_storage_env  # noqa: E402
from upload import BLOCK, Multipart, RssSampler, human, parse_size, read_status, reset_hwm  # noqa: E402

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def blocks(block: bytes, size: int) -> Iterator[bytes]:
    """``size`` bytes of ``block`` repeated (the last piece cut)."""
    view = memoryview(block)
    while size > 0:
        n = min(len(block), size)
        size -= n
        yield block if n == len(block) else bytes(view[:n])


def measured(server: Server, run: Callable[[], str]) -> tuple[str, dict[str, float]]:
    """Run one upload (``run`` returns the media id); its wall time and the server's RSS growth."""
    exact = reset_hwm(server.pid)
    before = read_status(server.pid)["VmRSS"]
    sampler = RssSampler(server.pid)
    sampler.start()
    started = time.perf_counter()
    media_id = run()
    seconds = time.perf_counter() - started
    sampler.stop()
    status = read_status(server.pid)
    peak = max(sampler.peak, status["VmRSS"])
    return media_id, {
        "seconds": seconds,
        "rss_growth": peak - before,
        "hwm_growth": status["VmHWM"] - before if exact else float("nan"),
    }


def tus_upload(client: httpx.Client, auth: dict[str, str], block: bytes, size: int, chunk: int) -> str:
    """Upload ``size`` bytes through tus in ``chunk``-byte PATCHes; returns the media id."""
    created = client.post(
        "/uploads", headers={**auth, **TUS, "Upload-Length": str(size), "Upload-Metadata": "filename YmVuY2guYmlu"}
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"].removeprefix(PREFIX)
    offset, answer = 0, None
    while offset < size:
        length = min(chunk, size - offset)
        headers = {
            **auth,
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            "Content-Length": str(length),
        }
        # a chunk starts at a multiple of the block size here, so repeating the block keeps the file's bytes
        answer = client.patch(location, headers=headers, content=blocks(block, length))
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
    assert answer is not None
    return answer.headers["X-Media-Id"]


def post_upload(client: httpx.Client, auth: dict[str, str], block: bytes, size: int) -> str:
    body = Multipart(size, block)
    headers = {**auth, "Content-Type": body.content_type, "Content-Length": str(body.length)}
    response = client.post("/media/upload", headers=headers, content=iter(body))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1G", help="bytes per upload (K/M/G = KiB/MiB/GiB)")
    parser.add_argument("--chunks", default="8M,64M", help="comma-separated tus chunk sizes")
    parser.add_argument("--storage", choices=("local", "s3"), default="local")
    parser.add_argument("--tmp", default=None, help="parent directory for the data dir (default: system temp)")
    args = parser.parse_args()
    size = parse_size(args.size)
    chunks = [parse_size(c) for c in args.chunks.split(",") if c.strip()]
    if any(c % BLOCK for c in chunks):
        parser.error("chunk sizes must be whole MiB")
    tmp_parent = Path(args.tmp or tempfile.gettempdir())
    if shutil.disk_usage(tmp_parent).free < 3 * size + 512 * MiB:
        print(f"not enough disk space in {tmp_parent}", file=sys.stderr)
        return 2

    root = Path(tempfile.mkdtemp(prefix="mediavault-tus-bench-", dir=tmp_parent))
    stack = contextlib.ExitStack()
    server: Server | None = None
    try:
        env = {
            "MEDIAVAULT_MAX_UPLOAD_SIZE": str(max(size, 1024 * MiB)),
            "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": "100000",
        }
        if args.storage == "s3":
            env.update(moto_storage_env(stack))
        server = Server(root / "data", env, timeout=60)

        block = os.urandom(BLOCK)
        expected = hashlib.sha256()
        for piece in blocks(block, size):
            expected.update(piece)
        rows = []
        with httpx.Client(base_url=server.base_url + PREFIX, timeout=httpx.Timeout(900.0)) as client:
            email, password = "bench@example.com", "benchmark password"
            assert client.post("/auth/register", json={"email": email, "password": password}).status_code == 201
            login = client.post("/auth/login", json={"username": email, "password": password})
            auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}

            def check_and_delete(media_id: str) -> None:
                media = client.get(f"/media/{media_id}", headers=auth).json()["data"]
                assert (media["size"], media["checksum_sha256"]) == (size, expected.hexdigest()), media
                assert client.delete(f"/media/{media_id}", headers=auth).status_code == 204

            # Warm-up: first-request costs (lazy imports, the database pool, threads) are not per-upload growth.
            for warm in (post_upload(client, auth, block, MiB), tus_upload(client, auth, block, MiB, MiB)):
                assert client.delete(f"/media/{warm}", headers=auth).status_code == 204

            def tus_run(chunk: int) -> Callable[[], str]:
                return lambda: tus_upload(client, auth, block, size, chunk)

            runs = [("POST /media/upload", lambda: post_upload(client, auth, block, size))]
            runs += [(f"tus, {human(c)} chunks", tus_run(c)) for c in chunks]
            for name, run in runs:
                media_id, figures = measured(server, run)
                check_and_delete(media_id)
                rows.append((name, figures))
                print(f"  done {name}", file=sys.stderr, flush=True)

        print(f"\n{human(size)} on {args.storage} storage (1 uvicorn worker, loopback)")
        print(f"{'path':<24} {'seconds':>8} {'MiB/s':>8} {'RSS growth':>11} {'HWM growth':>11}")
        for name, f in rows:
            print(
                f"{name:<24} {f['seconds']:>8.1f} {size / MiB / f['seconds']:>8.0f} "
                f"{f['rss_growth'] / MiB:>8.1f} MiB {f['hwm_growth'] / MiB:>8.1f} MiB"
            )
        return 0
    except Exception:
        if server is not None:
            print(server.log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
        stack.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
