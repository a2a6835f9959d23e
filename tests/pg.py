"""A fresh PostgreSQL database per test, on the machine's server (127.0.0.1:5432, user postgres, trust auth).

:func:`postgres_database` creates ``mv_<random>`` next to the shared ``test`` database, yields its SQLAlchemy URL
(``postgresql+asyncpg://``) and drops it afterwards (``WITH (FORCE)``, so a server process that is still connected
cannot keep it alive). Each test that needs an empty schema takes its own, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import asyncpg

__all__ = ("POSTGRES_ADMIN_URL", "postgres_database")

POSTGRES_ADMIN_URL = os.environ.get("MEDIAVAULT_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
"""A libpq URL of a database on the server the per-test databases are created on (asyncpg syntax)."""


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Create an empty database for the ``with`` block and yield its ``postgresql+asyncpg://`` URL.

    Raises:
        OSError, asyncpg.PostgresError: the server is not reachable (tests fail, they never skip).
    """
    name = f"mv_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
