"""Load: N concurrent clients of mixed reads and writes against one ``mediavault serve``; counts answers by status.

Usage::

    python benchmarks/load.py [--clients 100] [--seconds 60] [--users 20] [--workers 1]
        [--postgres [--database-url URL] [--redis URL]] [--json FILE]

Starts ``mediavault serve`` on 127.0.0.1 with a data dir of its own: by default the embedded set-up (SQLite and
local files, both background workers on, as ``mediavault serve`` runs with nothing set); with ``--postgres`` a
PostgreSQL database of its own (created on ``--database-url``'s server, dropped at the end) and a Redis key prefix of
its own (``--redis``, deleted at the end), local files. Rate-limit budgets are set high enough never to answer 429
and Argon2 cheap (logins are not measured).

Set-up (not measured): ``--users`` users register, log in and upload 4 small PNGs each. Then ``--clients`` clients
(asyncio tasks, each with its own keep-alive connection) send requests back to back for ``--seconds``, each as a
random user: 35 % ``GET /media/{id}``, 30 % ``GET /media?per_page=20``, 25 % ``POST /media/upload`` of a 16 KiB
PNG (processed by the worker: metadata and thumbnails, more writes), 10 % ``DELETE /media/{id}`` of a media the
client uploaded itself (an upload when it has none).

Printed: requests per second, the answers by operation and status, connection errors, and the count of 5xx
answers; the exit status is 1 when there was any 5xx or connection error. Bounded: at most 1000 clients and
600 seconds, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import json
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _server import PREFIX, Server, psql  # noqa: E402

HIGH = "100000000"
PASSWORD = "benchmark password"
MIX = (("get", 35), ("list", 30), ("upload", 25), ("delete", 10))


def _png(seed: int) -> bytes:
    """A 16 KiB-ish PNG, different per ``seed`` (so dedup and caches see distinct files)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (80, 64), rng.randbytes(80 * 64 * 3))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


async def _prepare(http: httpx.AsyncClient, users: int) -> list[dict[str, Any]]:
    async def one(i: int) -> dict[str, Any]:
        email = f"load{i}-{uuid.uuid4().hex[:6]}@example.com"
        (await http.post("/auth/register", json={"email": email, "password": PASSWORD})).raise_for_status()
        login = await http.post("/auth/login", json={"username": email, "password": PASSWORD})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        ids = []
        for n in range(4):
            response = await http.post("/media/upload", headers=auth, files={"file": (f"r{n}.png", _png(i * 10 + n))})
            response.raise_for_status()
            ids.append(response.json()["data"]["id"])
        return {"auth": auth, "read": ids}

    return list(await asyncio.gather(*(one(i) for i in range(users))))


async def _client(
    base: str, users: list[dict[str, Any]], deadline: float, counts: collections.Counter[tuple[str, str]], seed: int
) -> None:
    rng = random.Random(seed)
    ops, weights = zip(*MIX, strict=True)
    mine: list[tuple[dict[str, str], str]] = []  # (auth, id) of media this client uploaded and may delete
    pngs = [_png(seed * 1000 + n) for n in range(4)]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        while time.monotonic() < deadline:
            user = rng.choice(users)
            op = rng.choices(ops, weights)[0]
            if op == "delete" and not mine:
                op = "upload"
            try:
                if op == "get":
                    response = await http.get(f"/media/{rng.choice(user['read'])}", headers=user["auth"])
                elif op == "list":
                    response = await http.get("/media", params={"per_page": 20}, headers=user["auth"])
                elif op == "upload":
                    files = {"file": (f"u{rng.randrange(10**9)}.png", rng.choice(pngs))}
                    response = await http.post("/media/upload", headers=user["auth"], files=files)
                    if response.status_code == 201:
                        mine.append((user["auth"], response.json()["data"]["id"]))
                else:
                    auth, media_id = mine.pop(rng.randrange(len(mine)))
                    response = await http.delete(f"/media/{media_id}", headers=auth)
                status = str(response.status_code)
                if response.status_code >= 500 and counts[(op, status)] < 3:
                    print(f"  {op} -> {status}: {response.text[:300]}", file=sys.stderr)
            except httpx.HTTPError as exc:
                status = f"error:{type(exc).__name__}"
            counts[(op, status)] += 1


async def _load(base: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=8)) as http:
        users = await _prepare(http, args.users)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(_client(base, users, deadline, counts, seed) for seed in range(args.clients)))
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    by_op: dict[str, dict[str, int]] = {}
    for (op, status), n in sorted(counts.items()):
        by_op.setdefault(op, {})[status] = n
    return {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "rps": round(total / elapsed, 1),
        "by_operation": by_op,
        "5xx": sum(n for (_, s), n in counts.items() if s[0] == "5"),
        "connection_errors": sum(n for (_, s), n in counts.items() if s.startswith("error")),
    }


def _postgres_env(args: argparse.Namespace, database: str, prefix: str) -> dict[str, str]:
    server, _ = args.database_url.rsplit("/", 1)
    return {
        "MEDIAVAULT_DATABASE_URL": server.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{database}",
        "MEDIAVAULT_REDIS_URL": args.redis,
        "MEDIAVAULT_REDIS_KEY_PREFIX": prefix,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="mediavault serve --workers (needs --postgres if >1)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--server-log", type=Path, default=None, help="keep a copy of the server's log here")
    args = parser.parse_args()
    if not (1 <= args.clients <= 1000 and 0 < args.seconds <= 600 and 1 <= args.users <= 1000):
        parser.error("--clients 1-1000, --seconds up to 600, --users 1-1000")
    env = {
        "MEDIAVAULT_SECRET_KEY": secrets.token_urlsafe(48),
        "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": HIGH,
        "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": HIGH,
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": HIGH,
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": HIGH,
    }
    database, prefix = f"mvload_{uuid.uuid4().hex[:10]}", f"mvload:{uuid.uuid4().hex[:10]}"
    if args.postgres:
        psql(args.database_url, f'CREATE DATABASE "{database}"')
        env.update(_postgres_env(args, database, prefix))
    engine = "PostgreSQL + Redis" if args.postgres else "SQLite"
    print(
        f"{args.clients} clients for {args.seconds:g} s, {args.users} users, {engine} + local files, "
        f"--workers {args.workers}; mix {dict(MIX)} (%); {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server = Server(Path(tmp) / "data", env, workers=args.workers)
            try:
                result = asyncio.run(_load(server.base + PREFIX, args))
            except Exception:
                print(server.log_tail(), file=sys.stderr)
                raise
            finally:
                server.stop()
            log = server.log_path.read_text(errors="replace")
            result["server_log_tracebacks"] = log.count("Traceback")
            if args.server_log:
                args.server_log.write_text(log)
    finally:
        if args.postgres:
            psql(args.database_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            import redis

            client = redis.Redis.from_url(args.redis)
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
    print(f"  {result['requests']} requests in {result['seconds']} s = {result['rps']} req/s")
    for op, statuses in result["by_operation"].items():
        print(f"  {op:7s} {statuses}")
    print(
        f"  5xx: {result['5xx']}   connection errors: {result['connection_errors']}   "
        f"tracebacks in the server log: {result['server_log_tracebacks']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.exit(1 if result["5xx"] or result["connection_errors"] else 0)


if __name__ == "__main__":
    main()
