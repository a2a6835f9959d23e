"""The request benchmark's baseline: a bare Litestar app under uvicorn with ``mediavault serve``'s settings.

Run by ``benchmarks/request_overhead.py``::

    python benchmarks/_litestar_baseline.py --port 8081 --database /tmp/baseline.db

``GET /hello`` answers ``{"hello": "world"}`` (the framework's floor); ``GET /db`` does the same after one
``SELECT 1`` through a SQLAlchemy ``AsyncSession`` on ``sqlite+aiosqlite`` (the floor of a handler that
touches the database once, with SQLAlchemy's default pool). ``benchmarks/instructions.py`` calls :func:`create_app`
directly, also on ``postgresql+asyncpg``.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from litestar import Litestar, get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


def create_app(database_url: str) -> Litestar:
    """The baseline app on ``database_url`` (an async SQLAlchemy URL: ``sqlite+aiosqlite:///...``, ``postgresql+asyncpg://...``)."""
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine)

    @get("/hello")
    async def hello() -> dict[str, Any]:
        return {"hello": "world"}

    @get("/db")
    async def db() -> dict[str, Any]:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
        return {"hello": "world"}

    async def dispose() -> None:
        await engine.dispose()

    return Litestar([hello, db], on_shutdown=[dispose])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    # The uvicorn settings of ``mediavault serve`` that matter per request (mediavault/cli.py), access log included.
    uvicorn.run(
        create_app(f"sqlite+aiosqlite:///{args.database}"),
        host=args.host,
        port=args.port,
        workers=1,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
