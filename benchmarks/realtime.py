"""Realtime benchmark: many sockets subscribed, a steady event rate, delivery latency and server memory.

Usage::

    python benchmarks/realtime.py [--sockets 1000] [--users 10] [--rate 100] [--seconds 10] [--redis URL]

1. starts ``mediavault serve`` (1 worker, SQLite, generous rate limits; ``--redis`` switches the broker to
   Redis pub/sub under a fresh key prefix);
2. registers ``--users`` users (default: one per socket), each with one media item, and opens ``--sockets``
   WebSockets spread evenly over them; each authenticates and subscribes to ``media_updates`` (all of its user's media);
3. raises ``--rate`` events per second for ``--seconds`` seconds (``PATCH /media/{id}``, round-robin over
   the users: each event is delivered to ``sockets / users`` sockets);
4. prints delivery latency (receive time minus the event's ``timestamp``, taken inside the request's
   transaction: broker + fan-out + socket, not the HTTP request itself; same machine, same clock), p50 / p99
   / max, delivered vs expected frames, and the server's RSS idle, with the sockets open, and at the end.

Needs Linux (``/proc``) and ``ulimit -n`` above twice the socket count.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import PREFIX, Server


def parse_ts(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def run(args: argparse.Namespace) -> None:
    env = {
        "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": "1000000",
        "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": "1000000",
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": "1000000",
        "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": "1000000",
        "MEDIAVAULT_REALTIME_MAX_BACKLOG": "10000",
    }
    if args.redis:
        env.update(MEDIAVAULT_REDIS_URL=args.redis, MEDIAVAULT_REDIS_KEY_PREFIX=f"mvbench-{uuid.uuid4().hex}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data", env)
        try:
            await bench(server, args)
        except BaseException:
            server.stop()
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()


async def bench(server: Server, args: argparse.Namespace) -> None:
    users: list[tuple[str, dict[str, str], str]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=server.base + PREFIX, timeout=60, limits=limits) as http:

        async def make_user(i: int) -> None:
            email = f"bench{i}-{uuid.uuid4().hex[:6]}@example.com"
            await http.post("/auth/register", json={"email": email, "password": "benchmark password"})
            login = await http.post("/auth/login", json={"username": email, "password": "benchmark password"})
            token = login.json()["data"]["token"]
            headers = {"Authorization": f"Bearer {token}"}
            media = await http.post("/media/upload", headers=headers, files={"file": ("a.txt", b"hello")})
            users.append((token, headers, media.json()["data"]["id"]))

        for batch in range(0, args.users, 50):
            await asyncio.gather(*(make_user(i) for i in range(batch, min(batch + 50, args.users))))
        rss_idle = server.rss_mib()

        latencies: list[float] = []
        received = 0
        sockets = []

        async def open_one(token: str) -> None:
            ws = await connect(
                f"ws://127.0.0.1:{server.port}/realtime", open_timeout=60, max_queue=None, ping_interval=None
            )
            await ws.send(json.dumps({"type": "auth", "token": token}))
            assert json.loads(await ws.recv())["type"] == "auth_ok"
            await ws.send(json.dumps({"type": "subscribe", "channel": "media_updates"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            sockets.append(ws)

        started = time.perf_counter()
        for batch in range(0, args.sockets, 100):
            await asyncio.gather(
                *(open_one(users[i % args.users][0]) for i in range(batch, min(batch + 100, args.sockets)))
            )
        connect_s = time.perf_counter() - started
        await asyncio.sleep(0.5)
        rss_open = server.rss_mib()

        async def reader(ws: object) -> None:
            nonlocal received
            async for raw in ws:  # type: ignore[attr-defined]
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") == "event":
                    latencies.append(now - parse_ts(frame["timestamp"]))
                    received += 1

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        total = int(args.rate * args.seconds)
        interval = 1 / args.rate
        in_flight: set[asyncio.Task[httpx.Response]] = set()
        done_tasks: list[asyncio.Task[httpx.Response]] = []
        begin = time.perf_counter()
        for n in range(total):
            delay = begin + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            _, headers, media_id = users[n % args.users]
            task = asyncio.create_task(http.patch(f"/media/{media_id}", headers=headers, json={"title": f"t{n}"}))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            task.add_done_callback(done_tasks.append)
        await asyncio.gather(*in_flight)
        responses = [t.result() for t in done_tasks]
        failed = sum(r.status_code != 200 for r in responses)
        sent_s = time.perf_counter() - begin
        expected = (total - failed) * (args.sockets // args.users)
        deadline = time.monotonic() + 30
        while received < expected and time.monotonic() < deadline:  # noqa: ASYNC110 - a counter many readers bump
            await asyncio.sleep(0.1)
        rss_end = server.rss_mib()
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    broker = "redis pub/sub" if args.redis else "memory"
    print(f"realtime benchmark ({broker} broker, 1 uvicorn worker)")
    print(f"  sockets            {args.sockets} over {args.users} users (connected in {connect_s:.1f} s)")
    print(f"  events             {total} at {total / sent_s:.0f}/s over {sent_s:.1f} s ({failed} requests failed)")
    print(f"  frames delivered   {received} of {expected}")
    print(f"  latency p50        {pct(0.50):.1f} ms")
    print(f"  latency p99        {pct(0.99):.1f} ms")
    print(f"  latency max        {pct(1.0):.1f} ms   (mean {statistics.fmean(lat) * 1000 if lat else 0:.1f} ms)")
    print(f"  server RSS         idle {rss_idle:.0f} MiB, sockets open {rss_open:.0f} MiB, end {rss_end:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--users", type=int, default=None, help="default: one user per socket")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis", default=None, help="e.g. redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.users = args.users or args.sockets
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
