"""What a call of the in-process API costs next to the same route over HTTP, in one process.

    python benchmarks/inprocess.py [--calls N] [--size BYTES]

One vault (SQLite + local files in a temporary directory, rate limits off, workers off) in a Litestar app. The
baseline is the HTTP route itself, sent through httpx's ASGI transport (no sockets: the app's middleware, routing,
envelope and a bearer token's check). Each pair is interleaved (in-process, then HTTP) so that drift of a shared
machine hits both; the median and the 90th percentile of ``--calls`` calls are printed, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from litestar import Litestar

from mediavault import MediaVault, MediaVaultConfig

PASSWORD = "benchmark password"  # a throwaway account's


async def run(calls: int, size: int, root: Path) -> None:
    config = MediaVaultConfig(
        secret_key="b" * 40,
        database_url=f"sqlite+aiosqlite:///{root / 'vault.db'}",
        storage_url=(root / "media").as_uri(),
        load_entry_points=False,
        processing_worker=False,
        webhook_worker=False,
        rate_limit_enabled=False,
    )
    vault = MediaVault(config)
    app = Litestar(plugins=[vault])
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://v") as http:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
        user = await vault.api().users.create("bench@example.com", PASSWORD)
        api = vault.api(user=user.id)
        login = await http.post("/api/v1/auth/login", json={"username": "bench@example.com", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        media = await api.media.upload(b"m" * size, filename="read.bin")
        body = b"u" * size
        pairs: dict[str, tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[object]]]] = {
            "get one media": (
                lambda: api.media.get(media.id),
                lambda: http.get(f"/api/v1/media/{media.id}", headers=headers),
            ),
            "list media (page of 20)": (
                lambda: api.media.list(),
                lambda: http.get("/api/v1/media", headers=headers),
            ),
            f"upload {size} bytes": (
                lambda: api.media.upload(body, filename="up.bin"),
                lambda: http.post("/api/v1/media/upload", headers=headers, files={"file": ("up.bin", body)}),
            ),
        }
        print(f"{'call':>26} | in-process median / p90 ms | HTTP median / p90 ms | in-process / HTTP")
        for name, (inprocess, over_http) in pairs.items():
            times: dict[str, list[float]] = {"in": [], "http": []}
            for _ in range(min(20, calls)):  # warm-up
                await inprocess()
                await over_http()
            for _ in range(calls):
                for key, call in (("in", inprocess), ("http", over_http)):
                    started = time.perf_counter()
                    await call()
                    times[key].append((time.perf_counter() - started) * 1000)
            stats = {key: (statistics.median(v), statistics.quantiles(v, n=10)[-1]) for key, v in times.items()}
            print(
                f"{name:>26} | {stats['in'][0]:>12.2f} / {stats['in'][1]:<11.2f} | {stats['http'][0]:>8.2f} / "
                f"{stats['http'][1]:<9.2f} | {stats['in'][0] / stats['http'][0]:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="measured calls of each kind (default 200)")
    parser.add_argument("--size", type=int, default=1024, help="bytes per uploaded file (default 1024)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mv-inprocess-") as root:
        asyncio.run(run(args.calls, args.size, Path(root)))


if __name__ == "__main__":
    main()
