"""Webhook delivery benchmark: 1,000 events through the outbox, the worker and a real HTTP receiver.

Usage::

    python benchmarks/webhooks.py [--events 1000] [--database-url URL] [--json FILE]

What it does (everything over real sockets; the receiver is ``benchmarks/_webhook_receiver.py``, a bare
ASGI app under uvicorn in its own process, counting deliveries per ``webhook-id``):

1. **baseline**: a bare httpx client ``POST``s the same number of signed bodies to the healthy receiver
   with the worker's concurrency (32) — the HTTP ceiling of this machine, measured in the same run;
2. **healthy, live**: the worker runs (as in the app's lifespan) while the events are raised one per
   transaction (as 1,000 requests would); time from the first event to the last delivery → events/s;
3. **healthy, backlog**: the events are raised while no worker runs, then one starts and delivers them
   (catch-up after downtime) → events/s of delivery alone;
4. **flaky**: the receiver fails 50 % of requests at random; retry schedule scaled down from the Standard
   Webhooks one (0.05 s doubling, capped at 1 s, 20 retries); time until every event was accepted,
   attempts per event.

Goals (issue 4): 1,000 of 1,000 delivered; no event accepted twice by a healthy receiver.
The database is a fresh SQLite file per phase unless ``--database-url`` names a PostgreSQL server
(then a throwaway database per phase is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mediavault.config import MediaVaultConfig, WebhookEndpoint
from mediavault.db.models import WebhookDelivery
from mediavault.runtime import VaultRuntime
from mediavault.webhooks.signing import new_secret, signed_headers

HERE = Path(__file__).resolve().parent
CONCURRENCY = 32
FLAKY_SCHEDULE = tuple(min(0.05 * 2**i, 1.0) for i in range(20))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_webhook_receiver.py"), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/stats", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("receiver did not start")

    def control(self, fail: float) -> None:
        httpx.post(f"{self.base}/control", params={"fail": fail}, timeout=5).raise_for_status()

    def stats(self) -> dict[str, int]:
        return httpx.get(f"{self.base}/stats", timeout=5).json()

    async def astats(self, client: httpx.AsyncClient) -> dict[str, int]:
        """Like :meth:`stats`, without blocking the event loop the worker runs on."""
        return (await client.get(f"{self.base}/stats")).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Database:
    """A fresh database per phase: a SQLite file, or a throwaway PostgreSQL database."""

    def __init__(self, url: str | None, tmp: Path) -> None:
        self.admin = url
        self.tmp = tmp
        self.created: list[str] = []

    async def new(self) -> str:
        if not self.admin:
            return f"sqlite+aiosqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}"
        import asyncpg

        name = f"mv_bench_{uuid.uuid4().hex[:10]}"
        parsed = make_url(self.admin)
        conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        self.created.append(name)
        return parsed.set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self.admin or not self.created:
            return
        import asyncpg

        parsed = make_url(self.admin)
        conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
        for name in self.created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def make_runtime(url: str, receiver: ReceiverProcess, tmp: Path, schedule: tuple[float, ...]) -> VaultRuntime:
    config = MediaVaultConfig(
        secret_key="b" * 32,
        database_url=url,
        storage_url=(tmp / "media").as_uri(),
        load_entry_points=False,
        webhooks=(WebhookEndpoint(url=f"{receiver.base}/hook", secret=new_secret()),),
        webhook_retry_schedule=schedule,
        webhook_timeout=5.0,
        webhook_poll_interval=0.2,
    )
    return VaultRuntime(config)


async def raise_events(runtime: VaultRuntime, count: int) -> float:
    """One event per transaction, like ``count`` requests; returns the seconds it took."""
    started = time.perf_counter()
    for i in range(count):
        async with runtime.session() as session:
            runtime.events.publish(session, "media.uploaded", {"id": str(i), "type": "image"}, user_id=None)
            await session.commit()
    return time.perf_counter() - started


async def wait_delivered(runtime: VaultRuntime, receiver: ReceiverProcess, count: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        while (delivered := (await receiver.astats(client))["distinct_accepted"]) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {delivered} of {count} delivered in {limit} s")
            await asyncio.sleep(0.02)


async def attempts(runtime: VaultRuntime) -> tuple[int, int]:
    async with runtime.session() as session:
        made = await session.scalar(select(func.count()).where(WebhookDelivery.status.in_(("succeeded", "failed"))))
        most = await session.scalar(select(func.max(WebhookDelivery.attempt)))
    return int(made or 0), int(most or 0)


async def baseline(receiver: ReceiverProcess, count: int) -> float:
    receiver.control(0.0)
    secret = new_secret()
    bodies = [
        json.dumps({"id": str(uuid.uuid4()), "event": "media.uploaded", "data": {"id": str(i)}}).encode()
        for i in range(count)
    ]
    semaphore = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:

        async def post(body: bytes) -> None:
            async with semaphore:
                msg_id = json.loads(body)["id"]
                headers = {"content-type": "application/json", **signed_headers(secret, msg_id, body)}
                (await client.post(f"{receiver.base}/hook", content=body, headers=headers)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(post(b) for b in bodies))
        return time.perf_counter() - started


async def run(count: int, database_url: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {"events": count, "database": "postgresql" if database_url else "sqlite"}
    receiver = ReceiverProcess()
    tmp = Path(tempfile.mkdtemp(prefix="mv-webhooks-bench-"))
    databases = Database(database_url, tmp)
    try:
        seconds = await baseline(receiver, count)
        results["baseline_req_per_s"] = count / seconds

        # Healthy receiver, worker running while events are raised.
        receiver.control(0.0)
        runtime = make_runtime(await databases.new(), receiver, tmp, (1.0,))
        await runtime.migrate()
        await runtime.webhooks.start()
        started = time.perf_counter()
        results["live_publish_s"] = await raise_events(runtime, count)
        await wait_delivered(runtime, receiver, count, 120)
        seconds = time.perf_counter() - started
        stats = receiver.stats()
        results["live_events_per_s"] = count / seconds
        results["live_delivered"] = stats["distinct_accepted"]
        results["live_accepted_twice"] = stats["accepted_twice"]
        await runtime.webhooks.stop()
        await runtime.dispose()

        # Healthy receiver, backlog delivered by a worker started afterwards.
        receiver.control(0.0)
        runtime = make_runtime(await databases.new(), receiver, tmp, (1.0,))
        await runtime.migrate()
        await raise_events(runtime, count)
        started = time.perf_counter()
        await runtime.webhooks.start()
        await wait_delivered(runtime, receiver, count, 120)
        seconds = time.perf_counter() - started
        stats = receiver.stats()
        results["backlog_events_per_s"] = count / seconds
        results["backlog_delivered"] = stats["distinct_accepted"]
        results["backlog_accepted_twice"] = stats["accepted_twice"]
        await runtime.webhooks.stop()
        await runtime.dispose()

        # Receiver failing 50 % at random.
        receiver.control(0.5)
        runtime = make_runtime(await databases.new(), receiver, tmp, FLAKY_SCHEDULE)
        await runtime.migrate()
        await runtime.webhooks.start()
        started = time.perf_counter()
        await raise_events(runtime, count)
        await wait_delivered(runtime, receiver, count, 300)
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.2)  # let the last outcomes be recorded
        made, most = await attempts(runtime)
        stats = receiver.stats()
        results["flaky_time_to_full_delivery_s"] = seconds
        results["flaky_delivered"] = stats["distinct_accepted"]
        results["flaky_attempts_per_event"] = made / count
        results["flaky_max_attempts"] = most
        results["flaky_requests_seen"] = stats["requests"]
        results["flaky_attempts_recorded"] = made
        await runtime.webhooks.stop()
        await runtime.dispose()
    finally:
        receiver.stop()
        await databases.drop_all()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    r = asyncio.run(run(args.events, args.database_url))
    n = r["events"]
    print(f"webhooks benchmark: {n} events, {r['database']}, worker concurrency {CONCURRENCY}")
    print(f"  baseline (bare httpx POSTs, same receiver)   {r['baseline_req_per_s']:8.0f} req/s")
    print(
        f"  healthy, live (1 event per transaction)      {r['live_events_per_s']:8.0f} events/s"
        f"   delivered {r['live_delivered']}/{n}, accepted twice: {r['live_accepted_twice']}"
        f"   (raising the events alone: {n / r['live_publish_s']:.0f}/s)"
    )
    print(
        f"  healthy, backlog after downtime             {r['backlog_events_per_s']:8.0f} events/s"
        f"   delivered {r['backlog_delivered']}/{n}, accepted twice: {r['backlog_accepted_twice']}"
    )
    print(
        f"  50 % failing receiver                        {r['flaky_time_to_full_delivery_s']:8.2f} s to full delivery"
        f"   delivered {r['flaky_delivered']}/{n}, {r['flaky_attempts_per_event']:.2f} attempts/event"
        f" (max {r['flaky_max_attempts']}; receiver saw {r['flaky_requests_seen']} requests,"
        f" {r['flaky_attempts_recorded']} attempts recorded)"
    )
    ok = (
        r["live_delivered"] == r["backlog_delivered"] == r["flaky_delivered"] == n
        and r["live_accepted_twice"] == r["backlog_accepted_twice"] == 0
    )
    print("  goal (all delivered, none twice to a healthy receiver):", "met" if ok else "NOT MET")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
