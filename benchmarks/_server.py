"""Start and stop a ``mediavault serve`` process (or another server) for the benchmarks; a moto S3 for their
``--storage s3``; run a statement on their PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PREFIX = "/api/v1"
FAST_ARGON2 = {
    "MEDIAVAULT_ARGON2_TIME_COST": "1",
    "MEDIAVAULT_ARGON2_MEMORY_COST": "8",
    "MEDIAVAULT_ARGON2_PARALLELISM": "1",
    "MEDIAVAULT_LOAD_ENTRY_POINTS": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def psql(admin_url: str, statement: str) -> None:
    """Run one SQL ``statement`` on PostgreSQL at ``admin_url`` (e.g. ``CREATE DATABASE``), outside a transaction."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


MOTO_READ_TIMEOUT = 900
"""Seconds the vault's S3 client waits for an answer from moto (botocore's default is 60). moto joins a multipart
upload's parts in memory when it is completed: for 1 GiB that takes ~25 s on an idle core (and ~4.5 GiB of RSS), more
on a loaded box; past the timeout botocore sends ``CompleteMultipartUpload`` again, and moto answers the retry 500
(``KeyError``: the first request consumed the upload id). AWS itself keeps a slow completion's connection alive."""


def moto_storage_env(stack: contextlib.ExitStack, prefix: str = "bench") -> dict[str, str]:
    """Start moto's S3 server (``tests/s3.py``) for the ``with`` stack's life; the ``MEDIAVAULT_STORAGE_*`` variables
    that store the vault's bytes there, under ``prefix``, with :data:`MOTO_READ_TIMEOUT`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.s3 import moto_server

    s3 = stack.enter_context(moto_server())
    options = {**s3.storage_options, "config_kwargs": {"read_timeout": MOTO_READ_TIMEOUT}}
    return {"MEDIAVAULT_STORAGE_URL": s3.storage_url(prefix=prefix), "MEDIAVAULT_STORAGE_OPTIONS": json.dumps(options)}


def wait_ready(url: str, timeout: float) -> bool:
    """Poll ``GET url`` until it answers 200 (``True``) or ``timeout`` seconds pass (``False``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


class Process:
    """A server subprocess on 127.0.0.1: ``cmd`` with ``env``, its output in ``log_path``, ready once
    ``GET <base><ready_path>`` answers 200.

    Raises:
        RuntimeError: it exited, or was not ready within ``timeout`` seconds (the tail of its log quoted).
    """

    def __init__(
        self, name: str, cmd: list[str], port: int, ready_path: str, env: dict[str, str], log_path: Path, timeout: float
    ) -> None:
        self.name = name
        self.port = port
        self.base = self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not wait_ready(f"{self.base}{ready_path}", 0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                state = f"exited with {self.proc.returncode}" if self.proc.returncode is not None else "not ready"
                raise RuntimeError(f"{name} {state}:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mib(self) -> float:
        """Resident memory of the server process (``VmRSS``), MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


class Server(Process):
    """``mediavault serve --workers <workers>`` on 127.0.0.1 with ``env`` over a clean ``MEDIAVAULT_*`` environment
    (fast Argon2, no entry points: :data:`FAST_ARGON2`), ready (``GET /health`` answered 200) within ``timeout``
    seconds; its log is ``server-<port>.log`` beside ``data_dir``."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int = 1, timeout: float = 90) -> None:
        port = free_port()
        child = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAVAULT_")}
        child.update(FAST_ARGON2)
        child.update(env)
        cmd = [sys.executable, "-c", "from mediavault.cli import main; main()", "serve", "--port", str(port)]
        cmd += ["--workers", str(workers), "--data-dir", str(data_dir)]
        log_path = data_dir.parent / f"server-{port}.log"
        super().__init__("mediavault", cmd, port, f"{PREFIX}/health", child, log_path, timeout)
