"""Per-request overhead: req/s and p99 of small vault requests next to a bare ASGI app and bare Litestar, same run.

Usage::

    python benchmarks/request_overhead.py [--seconds 5] [--connections 16] [--media 5] [--json FILE]

Starts ``mediavault serve`` (1 uvicorn worker, SQLite + local files in a temporary data dir, Argon2 made cheap,
rate-limit budgets high enough never to answer 429), registers and logs in a user with httpx, uploads
``--media`` small files, then drives, one after the other from ``--connections`` keep-alive connections:

- ``GET /api/v1/media/{id}`` with the access token (principal lookup, rate limiter, one owner-scoped read);
- ``GET /api/v1/health`` (public: database ``SELECT 1`` + storage check);
- ``GET /api/v1/users/me`` with the access token (principal lookup, rate limiter, one service query);
- ``GET /api/v1/media`` with the access token (principal lookup, rate limiter, a page + its count);
- ``GET /api/v1/users/me`` with an API key (``X-API-Key``);

and two baselines under uvicorn with the same settings: ``benchmarks/_baseline.py`` (a bare ASGI app, no framework:
``GET /`` answers a small JSON object) and ``benchmarks/_litestar_baseline.py`` (a bare Litestar app): ``GET /hello``
(framework floor) and ``GET /db`` (one ``SELECT 1`` through a SQLAlchemy ``AsyncSession`` on aiosqlite). The load
generator is ``wrk -t1`` (with ``--latency`` for p99) when it is on ``PATH``; otherwise a Python asyncio client over
raw sockets (it needs CPU of its own, so its figures are lower and only comparable among themselves). Each target
gets a 1 s warm-up first. Every response is checked to be a 200 before the runs. The last line compares
``GET /media/{id}`` with the bare ASGI app (issue 11's goal: >= 0.5x its req/s) and the bare Litestar app.

Printed per target: req/s, p99 latency, and the server process's CPU time per request (all its threads, from
``/proc/<pid>/stat``; Linux only), which varies less than req/s when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _server import PREFIX, Server, free_port, wait_ready  # noqa: E402

HIGH = "100000000"
ENV = {
    "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": HIGH,
    "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": HIGH,
    "MEDIAVAULT_RATE_LIMIT_API_KEY": HIGH,
    "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": HIGH,
}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> tuple[float, float]:
    """``(req/s, p99 ms)`` of ``url`` under ``wrk -t1``."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rps, float(value) * _UNITS[unit]


async def _python_load(url: str, headers: dict[str, str], seconds: float, connections: int) -> tuple[float, float]:
    """A fallback load generator: ``connections`` HTTP/1.1 keep-alive sockets, one request in flight each."""
    parsed = httpx.URL(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n{extra}\r\n".encode()
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            while time.perf_counter() < stop:
                begin = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.decode(errors="replace"))
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - begin) * 1e3)
        finally:
            writer.close()

    begin = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - begin
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] if latencies else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its threads so far (``/proc/<pid>/stat``), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(url: str, headers: dict[str, str], seconds: float, connections: int, pid: int) -> tuple[float, float, float]:
    """Warm ``url`` up for 1 s, then measure it for ``seconds``: ``(req/s, p99 ms, server CPU ms per request)``.

    The CPU time per request (all threads of server process ``pid``) varies less than req/s when other work
    shares the machine.
    """
    wrk = shutil.which("wrk") is not None
    if wrk:
        run_wrk(url, headers, 1, connections)
    else:
        asyncio.run(_python_load(url, headers, 1, connections))
    cpu = cpu_seconds(pid)
    begin = time.perf_counter()
    if wrk:
        rps, p99 = run_wrk(url, headers, seconds, connections)
    else:
        rps, p99 = asyncio.run(_python_load(url, headers, seconds, connections))
    requests = rps * (time.perf_counter() - begin)
    return rps, p99, (cpu_seconds(pid) - cpu) * 1e3 / max(requests, 1)


class Baseline:
    """A baseline script of this folder (``_litestar_baseline.py``, ``_baseline.py``) under uvicorn on a free port,
    ready when ``GET <probe>`` answers 200."""

    def __init__(self, script: str, args: list[str], probe: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(HERE / script), "--port", str(self.port), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_ready(f"{self.base}{probe}", 30):
            self.stop()
            raise RuntimeError(f"{script} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def prepare(base: str, media: int) -> tuple[dict[str, dict[str, str]], str]:
    """Register, log in, upload ``media`` files, create an API key: the headers of each kind of credential and the
    id of the last media item."""
    with httpx.Client(base_url=base, timeout=30) as http:
        credentials = {"email": "bench@example.com", "password": "benchmark password"}
        http.post("/auth/register", json=credentials).raise_for_status()
        login = http.post("/auth/login", json={"username": credentials["email"], "password": credentials["password"]})
        login.raise_for_status()
        bearer = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        media_id = ""
        for i in range(max(media, 1)):
            item = http.post("/media/upload", headers=bearer, files={"file": (f"f{i}.txt", b"x" * 100)})
            item.raise_for_status()
            media_id = item.json()["data"]["id"]
        key = http.post("/users/me/api-keys", headers=bearer, json={"name": "bench"})
        key.raise_for_status()
        return {"bearer": bearer, "api_key": {"X-API-Key": key.json()["data"]["key"]}}, media_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--media", type=int, default=5, help="files uploaded before GET /media")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    generator = "wrk -t1" if shutil.which("wrk") else "python asyncio client (wrk not found)"
    print(f"{generator}, {args.connections} connections, {args.seconds:g} s per target, 1 uvicorn worker")
    results: dict[str, dict[str, float]] = {}

    def measure(label: str, url: str, headers: dict[str, str], pid: int) -> None:
        httpx.get(url, headers=headers, timeout=10).raise_for_status()
        rps, p99, cpu = load(url, headers, args.seconds, args.connections, pid)
        results[label] = {"rps": rps, "p99_ms": p99, "server_cpu_ms_per_request": cpu}
        print(f"  {label:<36} {rps:7.0f} req/s   p99 {p99:7.1f} ms   server CPU {cpu:5.2f} ms/req", flush=True)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bare = Baseline("_baseline.py", ["--out-dir", str(tmp / "bare")], "/")
        try:
            measure("baseline: bare ASGI app", f"{bare.base}/", {}, bare.proc.pid)
        finally:
            bare.stop()
        baseline = Baseline("_litestar_baseline.py", ["--database", str(tmp / "baseline.db")], "/hello")
        try:
            measure("baseline: litestar hello", f"{baseline.base}/hello", {}, baseline.proc.pid)
            measure("baseline: litestar + SELECT 1", f"{baseline.base}/db", {}, baseline.proc.pid)
        finally:
            baseline.stop()
        server = Server(tmp / "data", ENV)
        try:
            base = server.base + PREFIX
            creds, media_id = prepare(base, args.media)
            pid = server.proc.pid
            measure("mediavault: GET /media/{id} (JWT)", f"{base}/media/{media_id}", creds["bearer"], pid)
            measure("mediavault: GET /health", f"{base}/health", {}, pid)
            measure("mediavault: GET /users/me (JWT)", f"{base}/users/me", creds["bearer"], pid)
            measure("mediavault: GET /media (JWT)", f"{base}/media", creds["bearer"], pid)
            measure("mediavault: GET /users/me (API key)", f"{base}/users/me", creds["api_key"], pid)
        except Exception:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
    item = results["mediavault: GET /media/{id} (JWT)"]["rps"]
    bare_rps, litestar_rps = results["baseline: bare ASGI app"]["rps"], results["baseline: litestar hello"]["rps"]
    print(
        f"GET /media/{{id}}: {item / bare_rps:.2f}x the bare ASGI app's req/s (goal >= 0.5), "
        f"{item / litestar_rps:.2f}x the bare Litestar app's"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
