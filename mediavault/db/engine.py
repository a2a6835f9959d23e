"""Engine set-up and schema migrations.

SQLite connections get WAL journaling, enforced foreign keys and a busy timeout (none of which
SQLite or advanced-alchemy turn on by themselves). Migrations are the Alembic scripts shipped in
:mod:`mediavault.db.migrations`, tracked in their own version table so a host's Alembic history
in the same database is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ("VERSION_TABLE", "create_engine", "migrate")

VERSION_TABLE = "mediavault_alembic_version"
"""Alembic version table of the vault's migrations."""

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite://...`` or ``postgresql+asyncpg://...``).

    For a SQLite file, its parent directory is created and every connection is set to
    ``journal_mode=WAL``, ``foreign_keys=ON``, ``busy_timeout=5000`` (ms) and ``synchronous=NORMAL``.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "heads") -> None:
    """Upgrade the vault's tables to ``revision`` (default: every head).

    Each feature area adds its own migration branch off the initial schema (``down_revision = "0001"``),
    so areas developed side by side never fight over one chain; ``heads`` applies them all.
    """

    def upgrade(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
