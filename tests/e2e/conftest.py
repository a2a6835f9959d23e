"""End-to-end fixtures: a REAL ``mediavault serve`` process (uvicorn, real sockets) per server.

:class:`VaultServer` starts the reference server on a free port with its own data dir, waits for
``GET /api/v1/health`` and stops it with SIGTERM (then SIGKILL after a timeout). Every server a test
starts through the ``vault_servers`` factory is stopped on teardown, even when the test failed, so no
process is ever left behind. On the full leg a server's data dir is a root of ``tests/backends.py``: its
database, Redis key prefix and media live on the selected engines, passed as ``MEDIAVAULT_*`` variables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import BACKENDS, stored_objects
from tests.conftest import make_config
from tests.s3 import free_port

PREFIX = "/api/v1"
PASSWORD = "correct horse battery"

# Cheap Argon2id for tests only, and nothing inherited from the caller's MEDIAVAULT_* environment.
BASE_ENV = {
    "MEDIAVAULT_ARGON2_TIME_COST": "1",
    "MEDIAVAULT_ARGON2_MEMORY_COST": "8",
    "MEDIAVAULT_ARGON2_PARALLELISM": "1",
    "MEDIAVAULT_LOAD_ENTRY_POINTS": "false",
}

# Bounds for a hang only (a process that starts or stops promptly is never waited for): generous, because the
# machine running the suite may be loaded with other work.
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def process_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``mediavault`` process (``serve``, ``worker``, a CLI command) working on ``data_dir``:
    the caller's minus every ``MEDIAVAULT_*``, then :data:`BASE_ENV`, then the leg's engines for that data dir
    (``tests/backends.py``; nothing on the embedded leg), then ``env``."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAVAULT_")}
    return {**child_env, **BASE_ENV, **BACKENDS.env(data_dir), **(env or {})}


def serve_command(data_dir: Path, port: int, workers: int = 1, args: Sequence[str] = ()) -> list[str]:
    """``mediavault serve ... <args>`` run by this interpreter (no reliance on PATH or a console script)."""
    return [
        sys.executable,
        "-c",
        "from mediavault.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
        *args,
    ]


class VaultServer:
    """One ``mediavault serve`` process on 127.0.0.1.

    Attributes:
        data_dir: The ``--data-dir`` (database, ``media/`` and ``secret_key`` live here).
        port: The TCP port it listens on.
        base_url: ``http://127.0.0.1:<port>``.
        log_path: File receiving the process's stdout and stderr.
        workers: ``--workers`` (worker processes, each with its own ``SO_REUSEPORT`` socket on the one port).
        verify: what httpx checks the server's certificate against (``--ssl-certfile`` in ``args``: the CA file).
        returncode: The exit status once stopped (``None`` while running).
    """

    def __init__(
        self,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        workers: int = 1,
        args: Sequence[str] = (),
        verify: str | bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.verify = verify
        self.port = free_port()
        scheme = "https" if "--ssl-certfile" in args else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        log_dir = log_dir or data_dir.parent
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"server-{self.port}.log"
        child_env = process_env(data_dir, env)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            serve_command(data_dir, self.port, workers, args), env=child_env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """Ids of the uvicorn worker processes (``--workers`` > 1: the supervisor's children; Linux ``/proc``)."""
        children = [int(pid) for pid in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        # multiprocessing's spawn start method adds a resource tracker process beside the workers
        return [pid for pid in children if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll ``GET /health`` until it answers 200, the process dies, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0, verify=self.verify) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(f"{PREFIX}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the exit status (idempotent)."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.returncode = self.proc.returncode
            self._log.close()
        return self.returncode

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 30.0)
        kwargs.setdefault("verify", self.verify)
        return httpx.Client(base_url=self.base_url + PREFIX, **kwargs)


class ServerFactory:
    """Starts servers and remembers them, so teardown can stop every one."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.servers: list[VaultServer] = []

    def start(
        self,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        workers: int = 1,
        args: Sequence[str] = (),
        verify: str | bool = True,
    ) -> VaultServer:
        data_dir = data_dir or self.tmp / f"data-{len(self.servers)}"
        server = VaultServer(data_dir, env=env, log_dir=self.tmp / "logs", workers=workers, args=args, verify=verify)
        self.servers.append(server)
        server.wait_ready()
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def vault_servers(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers with ``vault_servers.start(data_dir=..., env=...)``; all are stopped afterwards."""
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Like ``vault_servers`` but shared by a module's tests."""
    factory = ServerFactory(tmp_path_factory.mktemp("e2e"))
    try:
        yield factory
    finally:
        factory.stop_all()


def register_and_login(client: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Register ``email`` and log in; returns the ``Authorization`` header."""
    registered = client.post("/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    login = client.post("/auth/login", json={"username": email, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['token']}"}


def create_admin(server: VaultServer, email: str, password: str = PASSWORD) -> None:
    """Make an admin account on ``server``'s database as an operator does: ``mediavault users create EMAIL --admin
    --password-stdin`` in a process of its own (the server's settings, through :func:`process_env`)."""
    command = [sys.executable, "-c", "from mediavault.cli import main; main()", "users", "create", email, "--admin"]
    command += ["--password-stdin", "--data-dir", str(server.data_dir)]
    made = subprocess.run(
        command, input=f"{password}\n", env=process_env(server.data_dir), capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr


def stored_files(data_dir: Path) -> list[bytes]:
    """The bytes of every object the server rooted at ``data_dir`` stored (``.part-*`` temporaries included),
    sorted: its ``media/`` folder on the embedded leg, its S3 prefix on the full leg."""
    return sorted(stored_objects(make_config(data_dir)).values())
