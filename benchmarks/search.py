"""Search and deep-pagination benchmark: 100,000 media rows, requests through the real app in-process.

Usage::

    python benchmarks/search.py [--rows 100000] [--requests 300] [--tmp DIR] [--json FILE]

What it does:

1. builds a vault (SQLite file + local storage in a temporary directory), migrates it, registers and logs in
   one user through the HTTP API;
2. inserts ``--rows`` media rows for that user directly through the database (one bulk ``INSERT`` of
   :class:`~mediavault.db.models.Media` rows, with their ``search_text`` from
   :func:`~mediavault.db.search.search_document` and two tags each, so the FTS5 triggers index them exactly as
   uploads would). Words come from a fixed 2,000-word vocabulary (seeded), so a one-word query matches
   about 1% of the rows;
3. sends each request ``--requests`` times (after a warm-up) through the real ASGI app (Litestar's
   ``AsyncTestClient``: routing, guard, JWT check, services, envelope, JSON; no sockets) and prints p50/p99:
   ``GET /search`` with one and with two words, ``GET /media?page=1`` and ``GET /media?page=5000``
   (``per_page=20``, the default sort ``-created_at``);
4. prints, as the baseline measured in the same run, the raw SQL cost of the last page fetched the naive way
   (``SELECT * ... ORDER BY ... LIMIT 20 OFFSET 99980``) next to the vault's deferred join.

Goals (issue 3): p99 < 25 ms on SQLite; page 5000 no worse than 2x page 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mediavault import MediaVault, MediaVaultConfig  # noqa: E402
from mediavault.db.models import Media, MediaTag  # noqa: E402
from mediavault.db.search import search_document  # noqa: E402

PREFIX = "/api/v1"
BATCH = 5_000


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    return sorted(words)


async def bulk_insert(vault: MediaVault, owner_id: uuid.UUID, rows: int, words: list[str], rng: random.Random) -> None:
    tags = words[:50]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    async with vault.runtime.session() as session:
        for first in range(0, rows, BATCH):
            media: list[dict[str, Any]] = []
            media_tags: list[dict[str, Any]] = []
            for i in range(first, min(first + BATCH, rows)):
                mid = uuid.uuid4()
                filename = f"{rng.choice(words)}_{rng.choice(words)}_{i}.jpg"
                title = " ".join(rng.choices(words, k=3)).capitalize()
                description = " ".join(rng.choices(words, k=8))
                chosen = rng.sample(tags, 2)
                created = start + dt.timedelta(seconds=i)
                media.append(
                    {
                        "id": mid,
                        "owner_id": owner_id,
                        "storage_key": f"media/{owner_id}/{mid.hex}",
                        "filename": filename,
                        "original_filename": filename,
                        "content_type": "image/jpeg",
                        "kind": "image",
                        "size": rng.randint(10_000, 5_000_000),
                        "checksum_sha256": "0" * 64,
                        "width": 640,
                        "height": 480,
                        "title": title,
                        "description": description,
                        "search_text": search_document(filename, title, description, chosen),
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                media_tags += [
                    {"id": uuid.uuid4(), "media_id": mid, "tag": t, "position": p, "created_at": created}
                    for p, t in enumerate(chosen)
                ]
            await session.execute(insert(Media), media)
            await session.execute(insert(MediaTag), media_tags)
            await session.commit()  # per batch: never hold SQLite's write lock for long


async def timed(
    client: AsyncTestClient[Litestar], headers: dict[str, str], path: str, params: dict[str, Any], n: int
) -> dict[str, Any]:
    for _ in range(10):  # warm-up
        await client.get(path, headers=headers, params=params)
    samples = []
    body: dict[str, Any] = {}
    for _ in range(n):
        t0 = time.perf_counter()
        response = await client.get(path, headers=headers, params=params)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text
        body = response.json()
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[max(0, int(len(samples) * 0.99) - 1)],
        "total": body["meta"].get("pagination", {}).get("total", 1),
        "count": len(body["data"]) if isinstance(body["data"], list) else 1,
    }


def raw_sql_baseline(db: Path, owner: uuid.UUID, offset: int, repeat: int = 20) -> dict[str, float]:
    con = sqlite3.connect(db)
    try:
        order = "ORDER BY created_at DESC, id DESC"
        naive = f"SELECT * FROM mediavault_media WHERE owner_id = ? {order} LIMIT 20 OFFSET ?"
        deferred = (
            f"SELECT * FROM mediavault_media WHERE id IN (SELECT id FROM mediavault_media WHERE owner_id = ? {order} "
            f"LIMIT 20 OFFSET ?) {order}"
        )
        out = {}
        for name, sql in (("naive_offset_ms", naive), ("deferred_join_ms", deferred)):
            con.execute(sql, (owner.bytes, offset)).fetchall()
            t0 = time.perf_counter()
            for _ in range(repeat):
                rows = con.execute(sql, (owner.bytes, offset)).fetchall()
            out[name] = (time.perf_counter() - t0) * 1000 / repeat
            assert len(rows) == 20
        return out
    finally:
        con.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mv-search-bench-", dir=args.tmp))
    try:
        config = MediaVaultConfig(
            secret_key="benchmark-secret-key-" + "x" * 32,
            database_url=f"sqlite+aiosqlite:///{tmp / 'vault.db'}",
            storage_url=(tmp / "media").as_uri(),
            load_entry_points=False,
            rate_limit_authenticated=10**9,
            argon2_time_cost=1,
            argon2_memory_cost=8,
            argon2_parallelism=1,
        )
        vault = MediaVault(config)
        app = Litestar(plugins=[vault])
        rng = random.Random(3)
        words = vocabulary(2_000, rng)
        async with AsyncTestClient(app) as client:
            creds = {"email": "bench@example.com", "password": "benchmark password"}
            registered = await client.post(f"{PREFIX}/auth/register", json=creds)
            owner_id = uuid.UUID(registered.json()["data"]["id"])
            login = await client.post(
                f"{PREFIX}/auth/login", json={"username": creds["email"], "password": creds["password"]}
            )
            headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}

            t0 = time.perf_counter()
            await bulk_insert(vault, owner_id, args.rows, words, rng)
            insert_s = time.perf_counter() - t0
            print(f"inserted {args.rows:,} media rows (+ tags, FTS5 via triggers) in {insert_s:.1f} s")

            # a mid-frequency word of the vocabulary and a pair that co-occurs less often
            one, two = words[700], words[701]
            cases = {
                "GET /users/me (reference: request overhead)": (f"{PREFIX}/users/me", {}),
                f"GET /search?q={one}": (f"{PREFIX}/search", {"q": one}),
                f"GET /search?q={one}+{two[:3]}": (f"{PREFIX}/search", {"q": f"{one} {two[:3]}"}),
                "GET /media?page=1&per_page=20": (f"{PREFIX}/media", {"page": 1, "per_page": 20}),
                "GET /media?page=5000&per_page=20": (f"{PREFIX}/media", {"page": 5000, "per_page": 20}),
            }
            results = {}
            for name, (path, params) in cases.items():
                results[name] = await timed(client, headers, path, params, args.requests)
        baseline = raw_sql_baseline(tmp / "vault.db", owner_id, offset=(5000 - 1) * 20)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'request':<44} {'p50 ms':>8} {'p99 ms':>8} {'total':>8} {'items':>6}")
    for name, r in results.items():
        print(f"{name:<44} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['total']:>8} {r['count']:>6}")
    page1 = results["GET /media?page=1&per_page=20"]["p99_ms"]
    deep = results["GET /media?page=5000&per_page=20"]["p99_ms"]
    worst = max(r["p99_ms"] for r in results.values())
    print(
        f"\nbaseline (raw SQL, page 5000): naive LIMIT/OFFSET {baseline['naive_offset_ms']:.2f} ms, "
        f"deferred join {baseline['deferred_join_ms']:.2f} ms"
    )
    print(f"goal p99 < 25 ms: worst p99 {worst:.2f} ms -> {'met' if worst < 25 else 'NOT met'}")
    print(f"goal page 5000 <= 2x page 1 (p99): {deep / page1:.2f}x -> {'met' if deep <= 2 * page1 else 'NOT met'}")
    return {"rows": args.rows, "insert_seconds": insert_s, "results": results, "baseline": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--tmp", default=None, help="parent directory of the temporary vault")
    parser.add_argument("--keep", action="store_true", help="keep the temporary vault (to inspect query plans)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
