"""Scale-out: a mixed workload at 1 and 2 ``mediavault serve`` workers on PostgreSQL + Redis + S3 (moto).

Usage::

    python benchmarks/scale.py [--seconds 20] [--connections 32] [--users 16] [--workers 1,2] [--json FILE]

For each worker count the script starts, from scratch: a PostgreSQL database of its own on the machine's server
(``--postgres``, default ``postgresql://postgres@127.0.0.1:5432/test``, dropped at the end), a Redis key prefix of
its own (``--redis``, keys deleted at the end), a fresh bucket on a moto S3 server (``tests/s3.py``: moto's
standalone server in its own process) and ``mediavault serve --workers N`` with every setting a deployment would
have (shared secret key, Redis, S3 storage options; rate-limit budgets high enough never to answer 429, Argon2
made cheap since logins are not measured).

Set-up (not measured): ``--users`` virtual users register and log in once each; each uploads 8 media to read and a
pool of tiny media to delete. Then ``wrk -t1 -c<connections>`` (``benchmarks/_scale.lua``) runs a 3 s warm-up
without deletes and the measured run of ``--seconds``: every request is sent as a random virtual user with its
token, 40 % ``GET /media/{id}``, 40 % ``GET /media?per_page=20``, 15 % ``POST /media/upload`` of 256 KiB and 5 %
``DELETE /media/{id}``. Printed per worker count: req/s, p99 (wrk's ``--latency``), the share of non-2xx answers
(must be 0), the vault's CPU time per request and the CPU seconds spent meanwhile by the vault's processes, moto
and Redis (from ``/proc``; PostgreSQL is left out, its backends come and go and serve other work on a shared
machine), the 1-minute load average, then the 2-worker / 1-worker throughput ratio.

The load generator, moto, PostgreSQL and Redis share the machine's cores with the vault's workers: on a 2-core
machine every CPU second they take is one the second worker cannot have, so the CPU figures say where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _server import FAST_ARGON2, PREFIX, Server, psql  # noqa: E402

from tests.s3 import MotoS3, moto_server  # noqa: E402

HIGH = "100000000"
UPLOAD_SIZE = 256 * 1024
READ_MEDIA = 8
PASSWORD = "benchmark password"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) so far, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with suppress(OSError):
            todo.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
    return found


def _pids(*, comm: str | None = None, cmdline: bytes | None = None) -> list[int]:
    """Processes whose name is ``comm`` or whose command line contains ``cmdline``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (comm is not None and (entry / "comm").read_text().strip() == comm) or (
                    cmdline is not None and cmdline in (entry / "cmdline").read_bytes()
                ):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class CpuMeter:
    """CPU seconds of named groups of processes between :meth:`start` and :meth:`stop`."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups

    def _now(self) -> dict[int, float]:
        return {pid: _cpu_seconds(pid) for pids in self.groups.values() for pid in pids}

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        return {
            name: sum(after[p] - self._before.get(p, 0.0) for p in pids if p in after)
            for name, pids in self.groups.items()
        }


def _multipart(boundary: str, content: bytes, filename: str) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


async def _prepare(base: str, users: int, delete_pool: int, content: bytes) -> list[dict[str, Any]]:
    """Register and log in ``users`` virtual users; upload their media to read and their pool of media to delete."""
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def one(i: int) -> dict[str, Any]:
            email = f"vu{i}-{uuid.uuid4().hex[:6]}@example.com"
            (await http.post("/auth/register", json={"email": email, "password": PASSWORD})).raise_for_status()
            login = await http.post("/auth/login", json={"username": email, "password": PASSWORD})
            login.raise_for_status()
            token = login.json()["data"]["token"]
            auth = {"Authorization": f"Bearer {token}"}

            async def upload(name: str, data: bytes) -> str:
                response = await http.post("/media/upload", headers=auth, files={"file": (name, data)})
                response.raise_for_status()
                return str(response.json()["data"]["id"])

            read = [await upload(f"r{n}.bin", content) for n in range(READ_MEDIA)]
            delete = [await upload(f"d{n}.txt", b"to be deleted") for n in range(delete_pool)]
            return {"token": token, "read": read, "delete": delete}

        return list(await asyncio.gather(*(one(i) for i in range(users))))


def _lua_data(users: list[dict[str, Any]], boundary: str) -> str:
    def strings(items: list[str]) -> str:
        return "{" + ", ".join(json.dumps(s) for s in items) + "}"

    rows = ",\n".join(
        f"  {{token = {json.dumps(u['token'])}, read = {strings(u['read'])}, delete = {strings(u['delete'])}}}"
        for u in users
    )
    return f"PREFIX = {json.dumps(PREFIX)}\nBOUNDARY = {json.dumps(boundary)}\nUSERS = {{\n{rows}\n}}\n"


def _wrk(url: str, seconds: float, connections: int, script_args: list[str]) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "30s"]
    cmd += ["-s", str(HERE / "_scale.lua"), url, "--", *script_args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    mix = json.loads(re.search(r"^MIX (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p99_ms": float(value) * _UNITS[unit],
        "mix": mix,
        "socket_errors": errors.group(1) if errors else None,
    }


def run_one(workers: int, args: argparse.Namespace, s3: MotoS3, tmp: Path) -> dict[str, Any]:
    """Start a fresh deployment with ``workers`` processes, prepare it, load it; the figures."""
    database = f"mvbench_{uuid.uuid4().hex[:10]}"
    admin = args.postgres
    psql(admin, f'CREATE DATABASE "{database}"')
    prefix = f"mvbench:{uuid.uuid4().hex[:10]}"
    bucket = s3.create_bucket()
    env = {
        **FAST_ARGON2,
        "MEDIAVAULT_DATABASE_URL": admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        + f"/{database}",
        "MEDIAVAULT_REDIS_URL": args.redis,
        "MEDIAVAULT_REDIS_KEY_PREFIX": prefix,
        "MEDIAVAULT_STORAGE_URL": f"s3://{bucket}/media",
        "MEDIAVAULT_STORAGE_OPTIONS": json.dumps(s3.storage_options),
        "MEDIAVAULT_SECRET_KEY": secrets.token_urlsafe(48),
        "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": HIGH,
        "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": HIGH,
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": HIGH,
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": HIGH,
    }
    server = Server(tmp / f"data-{workers}", env, workers=workers)
    try:
        base = server.base + PREFIX
        content = os.urandom(UPLOAD_SIZE)
        # Enough to delete: 5 % of the requests at a generous 400 req/s, spread over the users (a user whose pool
        # runs out sends a GET instead; the "delete_fallbacks" count printed says whether that happened).
        delete_pool = max(4, int(args.seconds * 400 * 0.05 / args.users) + 1)
        users = asyncio.run(_prepare(base, args.users, delete_pool, content))
        boundary = "mvbench" + secrets.token_hex(8)
        data = tmp / f"data-{workers}.lua"
        data.write_text(_lua_data(users, boundary))
        body = tmp / "upload.bin"
        body.write_bytes(_multipart(boundary, content, "upload.bin"))
        url = server.base
        moto_port = s3.endpoint_url.rsplit(":", 1)[1]
        _wrk(url, 3, args.connections, [str(data), str(body), "warmup"])
        meter = CpuMeter(
            {
                "vault": _descendants(server.proc.pid),
                "moto": _pids(cmdline=f"moto.server\x00-H\x00127.0.0.1\x00-p\x00{moto_port}".encode()),
                "redis": _pids(comm="redis-server"),
            }
        )
        meter.start()
        result = _wrk(url, args.seconds, args.connections, [str(data), str(body), "measure"])
        result["cpu_seconds"] = meter.stop()
        result["vault_cpu_ms_per_request"] = result["cpu_seconds"]["vault"] * 1e3 / (result["rps"] * args.seconds)
        result["load_average"] = os.getloadavg()
        statuses = result["mix"]["statuses"]
        result["non_2xx"] = sum(n for status, n in statuses.items() if not 200 <= int(status) < 300)
        return result
    except Exception:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
        psql(admin, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        import redis

        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    print(
        f"wrk -t1 -c{args.connections}, {args.seconds:g} s measured after a 3 s warm-up, {args.users} virtual users; "
        f"mix 40 % GET /media/{{id}}, 40 % GET /media, 15 % upload 256 KiB, 5 % delete; "
        f"PostgreSQL + Redis + moto S3 on this machine ({os.cpu_count()} cores)"
    )
    results: dict[int, dict[str, Any]] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp_name:
        s3 = stack.enter_context(moto_server())
        for workers in counts:
            r = results[workers] = run_one(workers, args, s3, Path(tmp_name))
            cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in r["cpu_seconds"].items())
            print(
                f"  {workers} worker{'s' if workers > 1 else ' '}: {r['rps']:7.1f} req/s   p99 {r['p99_ms']:7.1f} ms   "
                f"non-2xx {r['non_2xx']}   vault CPU {r['vault_cpu_ms_per_request']:.1f} ms/req   CPU s: {cpu}   "
                f"load avg {r['load_average'][0]:.1f}   mix {r['mix']}",
                flush=True,
            )
    if 1 in results and len(results) > 1:
        for workers in counts[1:]:
            print(f"  ratio {workers} workers / 1 worker: {results[workers]['rps'] / results[1]['rps']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
