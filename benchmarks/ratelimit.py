"""Rate-limiter overhead: requests per second with and without the limiter, over real sockets.

Usage::

    python benchmarks/ratelimit.py [--seconds 10] [--concurrency 32] [--redis redis://127.0.0.1:6379/0]

Starts ``mediavault serve`` (1 worker) three times: limiter off (``MEDIAVAULT_RATE_LIMIT_ENABLED=false``),
limiter with memory counters, and (with ``--redis``) limiter with Redis counters under a fresh key prefix.
Each run drives ``GET /users/me`` with a login token (authenticated tier: the limiter resolves the principal
and the guard reuses it) and ``GET /health``-free anonymous ``GET /nothing`` (404, anonymous tier) from
``--concurrency`` keep-alive connections for ``--seconds`` seconds, after a short warm-up, and prints req/s
and the overhead per request relative to the run without the limiter. Budgets are set high enough never
to answer 429.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import PREFIX, Server

HIGH = "100000000"


async def drive(base: str, path: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        count = 0
        stop = 0.0

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < stop:
                response = await client.get(path)
                assert response.status_code in (200, 404), response.status_code
                count += 1

        stop = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        count = 0
        begin = time.perf_counter()
        stop = begin + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - begin)


async def measure(label: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data", env)
        try:
            base = server.base + PREFIX
            async with httpx.AsyncClient(base_url=base) as http:
                await http.post("/auth/register", json={"email": "b@example.com", "password": "benchmark password"})
                login = await http.post(
                    "/auth/login", json={"username": "b@example.com", "password": "benchmark password"}
                )
                auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}
            user = await drive(base, "/users/me", auth, args.seconds, args.concurrency)
            anon = await drive(base, "/nothing", {}, args.seconds, args.concurrency)
        finally:
            server.stop()
    print(f"  {label:<22} authenticated {user:8.0f} req/s   anonymous {anon:8.0f} req/s")
    return {"user": user, "anon": anon}


async def run(args: argparse.Namespace) -> None:
    budgets = {
        "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": HIGH,
        "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": HIGH,
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": HIGH,
    }
    print(f"rate-limit overhead (1 uvicorn worker, {args.concurrency} connections, {args.seconds:g} s per run)")
    off = await measure("limiter off", {**budgets, "MEDIAVAULT_RATE_LIMIT_ENABLED": "false"}, args)
    runs = {"limiter, memory": await measure("limiter, memory", budgets, args)}
    if args.redis:
        env = {
            **budgets,
            "MEDIAVAULT_REDIS_URL": args.redis,
            "MEDIAVAULT_REDIS_KEY_PREFIX": f"mvbench-{uuid.uuid4().hex}",
        }
        runs["limiter, redis"] = await measure("limiter, redis", env, args)
    for label, figures in runs.items():
        for tier in ("user", "anon"):
            cost = (1 / figures[tier] - 1 / off[tier]) * 1e6
            print(f"  {label:<22} {tier:<5} {figures[tier] / off[tier]:5.2f}x of limiter-off, {cost:+.0f} µs/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--redis", default=None)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
