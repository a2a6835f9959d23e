"""Start and stop a ``mediavault serve`` process for the benchmarks; run a statement on their PostgreSQL."""

from __future__ import annotations

import asyncio
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


class Server:
    """``mediavault serve --workers <workers>`` on 127.0.0.1 with ``env`` over a clean ``MEDIAVAULT_*`` environment,
    ready (``GET /health`` answered 200) within ``timeout`` seconds."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int = 1, timeout: float = 90) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        child = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAVAULT_")}
        child.update(FAST_ARGON2)
        child.update(env)
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.log = self.log_path.open("wb")
        cmd = [sys.executable, "-c", "from mediavault.cli import main; main()", "serve", "--port", str(self.port)]
        cmd += ["--workers", str(workers)]
        self.proc = subprocess.Popen([*cmd, "--data-dir", str(data_dir)], env=child, stdout=self.log, stderr=self.log)
        if not wait_ready(f"{self.base}{PREFIX}/health", timeout):
            self.stop()
            raise RuntimeError("server did not start")

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
