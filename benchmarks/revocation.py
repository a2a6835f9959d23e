"""What a per-request revocation check costs: the live-family query on SQLite and PostgreSQL vs a Redis round trip.

Usage::

    python benchmarks/revocation.py [--requests 3000] [--postgres URL] [--redis URL]

The Bearer provider checks every access token against its token family row (``_LIVE_FAMILY_ROLE`` in
``mediavault/auth/providers.py``: one indexed query that also yields the user's role). The contract names Redis as
a "token denylist"; this measures whether asking Redis instead would make the hot path cheaper. Each check runs
``--requests`` times, one after the other, on the request's already open session (as in the app, where the
principal lookup and the service share it) or on one pooled Redis client, and the CPU time of this process
(``time.process_time``) per check is printed — the event-loop time a request spends, which is what limits a
worker's throughput:

- the live-family query on a SQLite file (aiosqlite) and on PostgreSQL (asyncpg), with a real migrated schema,
  user and family;
- ``EXISTS <prefix>:revoked:<family>`` (a revoked-family denylist) and ``GET <prefix>:revocations`` (a revocation
  counter validating a per-process cache) through ``redis.asyncio``.

The PostgreSQL database is created for the run and dropped at the end; the Redis keys are never written.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from redis.asyncio import Redis  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from mediavault.auth.providers import _LIVE_FAMILY_ROLE  # noqa: E402
from mediavault.db.engine import create_engine, migrate  # noqa: E402
from mediavault.db.models import TokenFamily, User  # noqa: E402


async def _per_call_us(calls: int, check: Callable[[], Awaitable[object]]) -> float:
    for _ in range(100):  # warm-up: statement caches, pool, connection
        await check()
    begin = time.process_time()
    for _ in range(calls):
        await check()
    return (time.process_time() - begin) / calls * 1e6


async def database_check(url: str, calls: int) -> float:
    """CPU µs per live-family query on ``url`` (migrated, one user and one live family)."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        user_id, family_id = uuid.uuid4(), uuid.uuid4()
        async with sessions() as session:
            session.add(User(id=user_id, email=f"{user_id}@example.com", password_hash="x"))
            await session.flush()
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            session.add(TokenFamily(id=family_id, user_id=user_id, expires_at=expires))
            await session.commit()
        params = {"family": family_id, "user": user_id}
        async with sessions() as session:
            assert await session.scalar(_LIVE_FAMILY_ROLE, params) == "user"

            async def check(s: AsyncSession = session) -> object:
                return await s.scalar(_LIVE_FAMILY_ROLE, params)

            return await _per_call_us(calls, check)
    finally:
        await engine.dispose()


async def redis_checks(url: str, calls: int) -> tuple[float, float]:
    """CPU µs per ``EXISTS`` of a denylist key and per ``GET`` of a counter."""
    redis = Redis.from_url(url)
    prefix = f"mvbench-revocation:{uuid.uuid4().hex}"
    key = f"{prefix}:revoked:{uuid.uuid4()}"
    try:
        exists = await _per_call_us(calls, lambda: redis.exists(key))
        get = await _per_call_us(calls, lambda: redis.get(f"{prefix}:revocations"))
        return exists, get
    finally:
        await redis.aclose()


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> None:
    print(f"CPU time of this process per check, {args.requests} checks each, one after the other")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await database_check(f"sqlite+aiosqlite:///{Path(tmp) / 'vault.db'}", args.requests)
    print(f"  live-family query, SQLite (aiosqlite)     {sqlite:7.0f} µs")
    name = f"mvbench_rev_{uuid.uuid4().hex[:8]}"
    await _admin(args.postgres, f'CREATE DATABASE "{name}"')
    try:
        base = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        postgres = await database_check(f"{base}/{name}", args.requests)
    finally:
        await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"  live-family query, PostgreSQL (asyncpg)   {postgres:7.0f} µs")
    exists, get = await redis_checks(args.redis, args.requests)
    print(f"  Redis EXISTS denylist key (redis.asyncio) {exists:7.0f} µs")
    print(f"  Redis GET revocation counter              {get:7.0f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    asyncio.run(main(parser.parse_args()))
