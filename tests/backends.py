"""Where a test vault keeps its state: the embedded default, or PostgreSQL + Redis + S3 chosen by the environment.

The suite runs unchanged on two legs (``docs/testing.md``):

- **embedded** (nothing set): a SQLite file ``<root>/vault.db`` and local files under ``<root>/media``;
- **full** (``MEDIAVAULT_TEST_BACKEND=full``): the machine's PostgreSQL (:data:`DEFAULT_POSTGRES_URL`) and Redis
  (:data:`DEFAULT_REDIS_URL`) and S3 on a moto server this process starts.

Each engine can also be chosen on its own, or pointed elsewhere: ``MEDIAVAULT_TEST_DATABASE_URL`` (a PostgreSQL URL
whose user may create databases and roles), ``MEDIAVAULT_TEST_REDIS_URL``, ``MEDIAVAULT_TEST_STORAGE=s3|local``;
they win over ``MEDIAVAULT_TEST_BACKEND``.

A *root* is the directory a test gives ``make_config`` (its ``tmp_path``, or a folder under it). Everything a
vault keeps is keyed by its root, exactly as the SQLite file and media folder are: two configs built for the same
root share their state (a restart), two roots never do. On the full leg a root gets

- its own PostgreSQL **schema** in one database per test session, reached through its own login role whose
  ``search_path`` is that schema (so the vault's plain URL, in this process or a ``mediavault serve`` child,
  lands in it, and the vault runs without superuser rights, as in production). A schema costs ~5 ms and the
  vault's own migrations ~150 ms; a database per root (``CREATE DATABASE ... TEMPLATE``) measured ~115 ms to
  create plus ~50 ms to drop on top of that, and the schema keeps every other engineer's run out of our way;
- its own ``redis_key_prefix`` (``mvt:<run>:<n>``);
- its own prefix ``s3://<session bucket>/<n>`` on the session's moto server.

Everything is removed when the session ends (:meth:`TestBackends.close`: one ``DROP DATABASE``, the roles, the
Redis keys, the moto server), and sessions killed before that are swept at the next start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from fsspec.core import url_to_fs
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable

from mediavault import MediaVaultConfig
from mediavault.db.engine import create_engine, migrate
from tests.s3 import MotoS3, moto_server

__all__ = (
    "BACKENDS",
    "DEFAULT_POSTGRES_URL",
    "DEFAULT_REDIS_URL",
    "TestBackends",
    "delete_object",
    "query",
    "snapshot",
    "stored_objects",
    "table_names",
)

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
"""The machine's PostgreSQL, for tests that are about PostgreSQL on both legs."""
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""The machine's Redis, for tests that are about Redis on both legs."""

_STALE = re.compile(r"^mvt_(\d+)_[0-9a-f]{6}$")

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh event loop in a worker thread (callers may be inside a loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class TestBackends:
    """Hands out per-root state on the engines the environment selects, and removes it at the end.

    Args:
        environ: Where ``MEDIAVAULT_TEST_*`` are read (``os.environ``).

    Raises:
        ValueError: ``MEDIAVAULT_TEST_BACKEND`` is neither ``embedded`` nor ``full``, ``MEDIAVAULT_TEST_STORAGE``
            neither ``local`` nor ``s3``, or the database URL is not PostgreSQL.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, environ: Mapping[str, str]) -> None:
        backend = environ.get("MEDIAVAULT_TEST_BACKEND") or "embedded"
        if backend not in {"embedded", "full"}:
            raise ValueError(f"MEDIAVAULT_TEST_BACKEND: {backend!r} is neither 'embedded' nor 'full'")
        full = backend == "full"
        database = environ.get("MEDIAVAULT_TEST_DATABASE_URL")
        self.database_admin_url = database or (DEFAULT_POSTGRES_URL if full else None)
        self.redis_url = environ.get("MEDIAVAULT_TEST_REDIS_URL") or (DEFAULT_REDIS_URL if full else None)
        self.storage = environ.get("MEDIAVAULT_TEST_STORAGE") or ("s3" if full else "local")
        if self.storage not in {"local", "s3"}:
            raise ValueError(f"MEDIAVAULT_TEST_STORAGE: {self.storage!r} is neither 'local' nor 's3'")
        if self.database_admin_url and not make_url(self.database_admin_url).get_backend_name() == "postgresql":
            raise ValueError("MEDIAVAULT_TEST_DATABASE_URL: only PostgreSQL URLs are supported")
        self.run = f"mvt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._numbers: dict[Path, int] = {}
        self._schemas: dict[Path, str] = {}
        self._database: tuple[URL, str] | None = None  # (admin URL, session database name)
        self._moto: contextlib.ExitStack | None = None
        self._s3: MotoS3 | None = None
        self._bucket = self.run.replace("_", "-")
        self._redis_used: set[str] = set()
        self._sqlite_template: Path | None = None

    @property
    def leg(self) -> str:
        """``"embedded"`` when nothing is selected, else what is: e.g. ``"postgresql+redis+s3"``."""
        parts = [
            name
            for name, on in (("postgresql", self.database_admin_url), ("redis", self.redis_url), ("s3", self._is_s3))
            if on
        ]
        return "+".join(parts) or "embedded"

    @property
    def _is_s3(self) -> bool:
        return self.storage == "s3"

    # ------------------------------------------------------------------------------------------- config values

    def values(self, root: Path) -> dict[str, Any]:
        """The ``MediaVaultConfig`` fields that place a vault rooted at ``root`` on the selected engines."""
        values: dict[str, Any] = {
            "database_url": (
                self.postgres_url(root, self.database_admin_url)
                if self.database_admin_url
                else f"sqlite+aiosqlite:///{root / 'vault.db'}"
            ),
            "storage_url": (root / "media").as_uri(),
        }
        if self._is_s3:
            values.update(self.s3_values(root))
        if self.redis_url:
            values.update(self.redis_values(root, self.redis_url))
        return values

    def seed_sqlite(self, root: Path, database_url: str) -> None:
        """Give a new embedded vault at ``root`` its schema at once: a copy of a SQLite file the vault's own
        migrations (:func:`mediavault.db.engine.migrate`) brought to head once per session.

        Only for the leg's own file ``<root>/vault.db`` when it does not exist yet (a restart keeps its state);
        the vault still runs its migrations at start and finds them done. Migrating every test's new file cost
        ~0.2 s of each of several hundred vaults; the copy takes ~1 ms. Tests of migrating an empty database pass
        ``auto_migrate=False`` or their own URL, and get no copy (:func:`tests.conftest.make_config`).
        """
        target = root / "vault.db"
        if database_url != f"sqlite+aiosqlite:///{target}" or target.exists():
            return
        if self._sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix=f"{self.run}-"))
            self._sqlite_template = folder / "vault.db"
            _run(_migrate_sqlite(self._sqlite_template))
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite_template, target)

    def env(self, root: Path) -> dict[str, str]:
        """``MEDIAVAULT_*`` variables placing a ``mediavault serve`` process rooted at ``root`` on the selected
        engines; empty on the embedded leg (the server keeps its defaults under ``--data-dir``)."""
        env: dict[str, str] = {}
        if self.database_admin_url:
            env["MEDIAVAULT_DATABASE_URL"] = self.postgres_url(root, self.database_admin_url)
        if self._is_s3:
            env.update(self.s3_env(root))
        if self.redis_url:
            env.update(self.redis_env(root, self.redis_url))
        return env

    def s3_env(self, root: Path) -> dict[str, str]:
        """``MEDIAVAULT_STORAGE_URL`` / ``MEDIAVAULT_STORAGE_OPTIONS`` of :meth:`s3_values` (on either leg)."""

        return {
            f"MEDIAVAULT_{k.upper()}": v if isinstance(v, str) else json.dumps(v)
            for k, v in self.s3_values(root).items()
        }

    def redis_env(self, root: Path, redis_url: str = DEFAULT_REDIS_URL) -> dict[str, str]:
        """``MEDIAVAULT_REDIS_URL`` / ``MEDIAVAULT_REDIS_KEY_PREFIX`` of :meth:`redis_values` (on either leg)."""
        return {f"MEDIAVAULT_{k.upper()}": v for k, v in self.redis_values(root, redis_url).items()}

    def _number(self, root: Path) -> int:
        return self._numbers.setdefault(root.resolve(), len(self._numbers))

    # --------------------------------------------------------------------------------------------- PostgreSQL

    def postgres_url(self, root: Path, admin_url: str = DEFAULT_POSTGRES_URL) -> str:
        """``postgresql+asyncpg://`` URL of ``root``'s own schema (created on first use, on either leg).

        The schema lives in this session's database; its login role has the schema as ``search_path``.

        Raises:
            OSError: PostgreSQL cannot be reached (never skipped).
        """
        key = root.resolve()
        database = self._session_database(admin_url)
        if key not in self._schemas:
            name = f"{self.run}_{self._number(root)}"
            password = f" PASSWORD '{database.password}'" if database.password else ""
            _run(
                _execute(
                    database,
                    f'CREATE ROLE "{name}" LOGIN{password}; '
                    f'ALTER ROLE "{name}" SET search_path = "{name}"; '
                    f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"',
                )
            )
            self._schemas[key] = name
        url = database.set(drivername="postgresql+asyncpg", username=self._schemas[key])
        return url.render_as_string(hide_password=False)

    def _session_database(self, admin_url: str) -> URL:
        """The admin URL pointed at this session's database (created, after a sweep, on first use)."""
        admin = make_url(admin_url)
        if self._database is None:
            _run(_sweep_stale(admin))
            _run(_execute(admin, f'CREATE DATABASE "{self.run}"'))
            self._database = (admin, self.run)
        elif self._database[0] != admin:
            raise ValueError(f"one PostgreSQL server per session: {admin_url} is not {self._database[0]}")
        return admin.set(database=self.run)

    # ------------------------------------------------------------------------------------------------- Redis

    def redis_values(self, root: Path, redis_url: str = DEFAULT_REDIS_URL) -> dict[str, str]:
        """``redis_url`` and ``root``'s own ``redis_key_prefix`` (on either leg)."""
        prefix = f"mvt:{self.run}:{self._number(root)}"
        self._redis_used.add(redis_url)
        return {"redis_url": redis_url, "redis_key_prefix": prefix}

    # ---------------------------------------------------------------------------------------------------- S3

    @property
    def s3(self) -> MotoS3:
        """The session's moto S3 server and bucket (started on first use, on either leg)."""
        if self._s3 is None:
            stack = contextlib.ExitStack()
            self._s3 = stack.enter_context(moto_server())
            self._moto = stack
            self._s3.create_bucket(self._bucket)
        return self._s3

    def s3_values(self, root: Path) -> dict[str, Any]:
        """``storage_url`` (``root``'s own prefix in the session bucket) and ``storage_options`` (on either leg)."""
        return {
            "storage_url": f"s3://{self._bucket}/{self._number(root)}",
            "storage_options": self.s3.storage_options,
        }

    # -------------------------------------------------------------------------------------------------- close

    def close(self) -> None:
        """Drop the session database and roles, delete the Redis keys and the SQLite template, stop the moto
        server."""
        if self._database is not None:
            admin, database = self._database
            _run(_execute(admin, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            if self._schemas:
                _run(_execute(admin, "DROP ROLE IF EXISTS " + ", ".join(f'"{n}"' for n in self._schemas.values())))
            self._database = None
            self._schemas.clear()
        for url in self._redis_used:
            _delete_redis_keys(url, f"mvt:{self.run}:*")
        self._redis_used.clear()
        if self._sqlite_template is not None:
            shutil.rmtree(self._sqlite_template.parent, ignore_errors=True)
            self._sqlite_template = None
        if self._moto is not None:
            self._moto.close()
            self._moto = self._s3 = None


async def _migrate_sqlite(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()  # the last connection checkpoints the WAL into the file: one file to copy


async def _execute(url: URL, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database, timeout=5
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _sweep_stale(admin: URL) -> None:
    """Drop session databases (and their roles) left by test processes that no longer run (e.g. SIGKILLed)."""
    import asyncpg

    conn = await asyncpg.connect(
        host=admin.host, port=admin.port, user=admin.username, password=admin.password, database=admin.database
    )
    try:
        for (name,) in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'mvt\\_%'"):
            if not _left_by_a_dead_process(name):
                continue
            # Best effort: another test session starting now may be sweeping the same leftovers ("tuple
            # concurrently deleted"); whatever it did not finish, the next session's sweep drops.
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for (role,) in await conn.fetch("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", name):
                    await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


def _left_by_a_dead_process(database: str) -> bool:
    match = _STALE.match(database)
    return bool(match) and not os.path.exists(f"/proc/{match.group(1)}")  # type: ignore[union-attr]


def _delete_redis_keys(url: str, pattern: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


BACKENDS = TestBackends(os.environ)
"""The session's backends (``tests/conftest.py`` closes them when the session ends)."""


# ----------------------------------------------------------------------------------- looking at what a vault kept


def query(config: MediaVaultConfig, sql: str | Executable, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (text with ``:name`` parameters, or a SQLAlchemy statement, whose column types then convert
    values alike on every engine) run on ``config``'s database, in a transaction that commits."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(config.database_url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql) if isinstance(sql, str) else sql, params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return _run(run())


def table_names(config: MediaVaultConfig) -> set[str]:
    """Names of the tables the vault's connection sees (its SQLite file, or its PostgreSQL schema)."""
    return set(snapshot(config, rows=False))


def snapshot(config: MediaVaultConfig, *, rows: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the vault's connection sees (SQLite's own tables left out), sorted by ``repr``;
    with ``rows=False`` only the table names (empty lists). One connection for it all."""

    async def run() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_async_engine(config.database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
                tables: dict[str, list[tuple[Any, ...]]] = {}
                for name in (n for n in names if not n.startswith("sqlite_")):
                    found = await conn.execute(text(f'SELECT * FROM "{name}"')) if rows else []
                    tables[name] = sorted((tuple(row) for row in found), key=repr)
                return tables
        finally:
            await engine.dispose()

    return _run(run())


def stored_objects(config: MediaVaultConfig) -> dict[str, bytes]:
    """Every object under ``config``'s storage root (``.part-*`` temporaries included): key below the root ->
    bytes. Read through fsspec, so it sees local folders and S3 prefixes alike."""
    fs, root = url_to_fs(config.storage_url, **config.storage_options)
    fs.invalidate_cache()
    if not fs.exists(root):
        return {}
    return {path[len(root) :].lstrip("/"): fs.cat_file(path) for path in sorted(fs.find(root))}


def delete_object(config: MediaVaultConfig, key: str) -> None:
    """Remove one object (a key from :func:`stored_objects`) behind the vault's back."""
    fs, root = url_to_fs(config.storage_url, **config.storage_options)
    fs.rm_file(f"{root.rstrip('/')}/{key}")
