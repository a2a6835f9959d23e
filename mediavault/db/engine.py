"""Engine set-up and schema migrations.

SQLite connections get WAL journaling, enforced foreign keys and a busy timeout (none of which
SQLite or advanced-alchemy turn on by themselves), and the write transactions of one process take turns
(:class:`SQLiteWriteLock`). Migrations are the Alembic scripts shipped in :mod:`mediavault.db.migrations`,
tracked in their own version table so a host's Alembic history in the same database is left alone.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import await_only

from mediavault.errors import ServiceUnavailable

__all__ = (
    "UNICODE_LOWER",
    "VERSION_TABLE",
    "SQLiteWriteLock",
    "create_engine",
    "dispose",
    "migrate",
    "release_before_waiting",
    "run_migrations",
)

VERSION_TABLE = "mediavault_alembic_version"
"""Alembic version table of the vault's migrations."""


UNICODE_LOWER = "mediavault_lower"
"""SQL function of every SQLite connection: Python's full Unicode ``str.lower`` (SQLite's own ``lower()`` only
folds ASCII, PostgreSQL's folds every letter). :mod:`mediavault.db.repositories` uses it where a needle has
non-ASCII letters, so case-insensitive matching means the same on both engines."""

MIGRATION_LOCK_KEY = 0x6D76_6D69_6772  # "mvmigr"
"""PostgreSQL advisory lock key held while the vault's migrations run (a bigint; :func:`migrate`)."""

POOL_DEFAULTS = {"sqlite": (20, 20), "other": (5, 10)}
"""``(pool_size, max_overflow)`` when the config leaves them unset. SQLite: an idle pooled aiosqlite connection
costs a parked thread and nothing else, while opening one costs a new thread, the file open and four PRAGMAs, so
the pool keeps enough for a busy worker and overflow connections (closed again on return) stay rare.
PostgreSQL: SQLAlchemy's own defaults, since every pooled connection of every process holds a server backend."""


class SQLiteWriteLock:
    """One write transaction at a time in this process (per event loop), in arrival order.

    SQLite has one writer per database file. Left to itself, every pooled aiosqlite connection that wants to write
    spins in SQLite's busy handler (sleeps of 1 to 100 ms, no queue), so under a burst of writes some wait past any
    timeout while others get in repeatedly: measured with ``benchmarks/load.py`` (100 clients, 60 s), 5-12 % of
    uploads and deletes failed with "database is locked". Here a write transaction first takes a FIFO
    :class:`asyncio.Lock`, just before the statement that opens it (the first ``INSERT``/``UPDATE``/``DELETE``/
    ``REPLACE`` outside a transaction: where pysqlite's implicit ``BEGIN`` goes), and gives it back when the
    connection commits, rolls back or closes. Reads take no lock: in WAL mode they never wait for the writer.
    SQLite's ``busy_timeout`` still covers writers of other processes (``mediavault worker``, the CLI).

    Args:
        timeout: seconds a write may wait for its turn before :class:`~mediavault.errors.ServiceUnavailable`
            (503 with ``Retry-After``) is raised.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._holders: dict[int, asyncio.Lock] = {}  # id of the DBAPI connection -> the lock it holds

    def acquire_for(self, dbapi_connection: Any) -> None:
        """Wait (from SQLAlchemy's greenlet) until ``dbapi_connection`` may open a write transaction.

        Raises:
            ServiceUnavailable: no turn within :attr:`timeout` seconds.
        """
        if id(dbapi_connection) not in self._holders:
            await_only(self.acquire(dbapi_connection))

    async def acquire(self, dbapi_connection: Any) -> None:
        """:meth:`acquire_for` from a coroutine (a statement sent to the driver itself, see
        :class:`~mediavault.db.statements.WriteStatement`); ``dbapi_connection`` is SQLAlchemy's adapted connection.

        Raises:
            ServiceUnavailable: no turn within :attr:`timeout` seconds.
        """
        if id(dbapi_connection) in self._holders:
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(self.timeout):
                await lock.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                "The database is busy with other writes; try again shortly", retry_after=1
            ) from None
        self._holders[id(dbapi_connection)] = lock

    def release_for(self, dbapi_connection: Any) -> None:
        """Give the turn back if ``dbapi_connection`` holds it (after its commit, rollback or close)."""
        lock = self._holders.pop(id(dbapi_connection), None)
        if lock is not None:
            lock.release()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, SQLiteWriteLock] = weakref.WeakKeyDictionary()
"""The write lock of each SQLite engine's dialect (:func:`write_lock`)."""


def write_lock(dialect: Any) -> SQLiteWriteLock | None:
    """The :class:`SQLiteWriteLock` of an engine made by :func:`create_engine` (by its dialect); ``None`` for others."""
    return _WRITE_LOCKS.get(dialect)


async def release_before_waiting(session: AsyncSession) -> None:
    """Before a long wait outside the database (a request body streaming to storage): end the session's read
    transaction, so its pooled connection (and on PostgreSQL its server backend, else idle in transaction) goes back
    to the pool instead of being held by a slow client. Nothing on SQLite: pysqlite begins a transaction only before
    a write, so reads hold no snapshot, and a pooled connection is a parked thread (the commit and the checkout after
    it would cost a third of a small upload's instructions)."""
    if session.get_bind().dialect.name != "sqlite":
        await session.commit()


def _opens_write(statement: str) -> bool:
    """Whether pysqlite begins a transaction before ``statement`` (its rule: the first keyword is a DML one), or the
    statement begins a write transaction itself (``BEGIN IMMEDIATE``: :mod:`mediavault.inprocess` in a host's)."""
    return statement.lstrip()[:15].upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE"))


def _install_write_lock(dialect: Any, lock: SQLiteWriteLock) -> None:
    """Wrap ``dialect``'s execute, commit, rollback and close methods so write transactions take turns."""
    execute, executemany = dialect.do_execute, dialect.do_executemany
    commit, rollback, close, terminate = dialect.do_commit, dialect.do_rollback, dialect.do_close, dialect.do_terminate

    def raw(dbapi_connection: Any) -> Any:  # a pool's proxy (fairy) or the adapted aiosqlite connection itself
        return getattr(dbapi_connection, "dbapi_connection", dbapi_connection)

    def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if _opens_write(statement):
            lock.acquire_for(cursor._adapt_connection)
        execute(cursor, statement, parameters, context)

    def do_executemany(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if _opens_write(statement):
            lock.acquire_for(cursor._adapt_connection)
        executemany(cursor, statement, parameters, context)

    def releasing(method: Any) -> Any:
        def wrapper(dbapi_connection: Any) -> None:
            try:
                method(dbapi_connection)
            finally:
                lock.release_for(raw(dbapi_connection))

        return wrapper

    _WRITE_LOCKS[dialect] = lock
    dialect.do_execute, dialect.do_executemany = do_execute, do_executemany
    dialect.do_commit, dialect.do_rollback = releasing(commit), releasing(rollback)
    dialect.do_close, dialect.do_terminate = releasing(close), releasing(terminate)


def create_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    busy_timeout: float = 30.0,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite://...`` or ``postgresql+asyncpg://...``).

    For a SQLite file, its parent directory is created and every connection is set to
    ``journal_mode=WAL``, ``foreign_keys=ON``, ``busy_timeout`` and ``synchronous=NORMAL``, and gets
    the :data:`UNICODE_LOWER` function; write transactions take turns (:class:`SQLiteWriteLock`).

    Args:
        pool_size: connections the pool keeps open (default from :data:`POOL_DEFAULTS`); ignored for an
            in-memory SQLite database, which has a single connection.
        max_overflow: connections opened beyond ``pool_size`` under load and closed on return (default from
            :data:`POOL_DEFAULTS`).
        busy_timeout: SQLite only: seconds a write waits for its turn in this process, and again for writers of
            other processes (``database_busy_timeout``).
    """
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    pool_class = parsed.get_dialect().get_pool_class(parsed)  # type: ignore[attr-defined]
    if "poolclass" not in kwargs and issubclass(pool_class, QueuePool):
        default_size, default_overflow = POOL_DEFAULTS["sqlite" if sqlite else "other"]
        kwargs.setdefault("pool_size", default_size if pool_size is None else pool_size)
        kwargs.setdefault("max_overflow", default_overflow if max_overflow is None else max_overflow)
    if not sqlite:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_async_engine(url, **kwargs)
        if engine.dialect.driver == "asyncpg":
            engine.sync_engine.dialect.do_ping = _asyncpg_is_open  # type: ignore[method-assign]
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def _rollback_if_in_transaction(dbapi_connection: Any) -> None:
        # pysqlite's rollback() does nothing outside a transaction (it asks sqlite3_get_autocommit() first); asking
        # here instead saves the aiosqlite thread round trip on every check-in of a connection that only read.
        if dbapi_connection.driver_connection.in_transaction:
            rollback(dbapi_connection)

    dialect.do_rollback = _rollback_if_in_transaction  # type: ignore[method-assign]
    dialect.do_terminate = _stop_aiosqlite  # type: ignore[method-assign]
    _install_write_lock(dialect, SQLiteWriteLock(busy_timeout))

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function(UNICODE_LOWER, 1, _unicode_lower, deterministic=True)

    return engine


def _asyncpg_is_open(dbapi_connection: Any) -> bool:
    """The pool's check of a PostgreSQL connection before each use (pre-ping), without a round trip: whether asyncpg
    still holds its socket open. A backend terminated while its connection sat in the pool (a restart, a failover,
    ``pg_terminate_backend``, an idle timeout) closes the socket, which the event loop has seen by the next checkout;
    ``False`` then makes the pool replace every connection older than this one. SQLAlchemy's own ping for asyncpg
    sends ``BEGIN``, ``;`` and ``ROLLBACK``: three round trips a request, a fifth of a ``GET /users/me``'s
    instructions. A backend that dies between the check and the statement is a read sent again or a 503
    (:class:`~mediavault.http.session.RequestSessionMiddleware`)."""
    return not dbapi_connection.driver_connection.is_closed()  # type: ignore[no-any-return]


_closing: set[asyncio.Future[Any]] = set()
"""aiosqlite connections terminated and not yet closed by their worker thread (see :func:`dispose`)."""


def _stop_aiosqlite(dbapi_connection: Any) -> None:
    """Terminate an invalidated connection (a query cancelled mid-flight): interrupt its statement, then close it
    with aiosqlite's ``stop()`` alone.

    SQLAlchemy's own terminate first awaits a graceful ``close()`` in a shielded task and, when the caller's
    (anyio, level-triggered) cancellation interrupts that wait, falls back to ``stop()``: the worker thread then
    exits and the graceful close, still queued behind it, waits forever on a future nobody resolves. One such
    orphan task per cancelled query, and the event loop's shutdown hangs on it (tests/unit/test_sqlite_cancel.py).
    ``stop()`` closes the sqlite3 connection in its worker thread after what is already queued: all a graceful
    close would do, without waiting; ``interrupt()`` (safe from another thread, sqlite3_interrupt) first stops a
    long statement the cancelled caller no longer wants.
    """
    driver = dbapi_connection.driver_connection
    sqlite_connection = getattr(driver, "_connection", None)  # None once closed
    if sqlite_connection is not None:
        sqlite_connection.interrupt()
    stopped = driver.stop()
    if stopped is not None:
        _closing.add(stopped)
        stopped.add_done_callback(_closing.discard)


async def dispose(engine: AsyncEngine) -> None:
    """Close ``engine``'s pooled connections and wait (at most 5 s) for connections it terminated to be closed.

    Use instead of ``engine.dispose()`` before the event loop stops: an aiosqlite worker thread still closing a
    terminated connection would otherwise report to a closed loop (``RuntimeError: Event loop is closed``).
    """
    await engine.dispose()
    loop = asyncio.get_running_loop()
    pending = [future for future in _closing if future.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=5)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "heads") -> None:
    """Upgrade the vault's tables to ``revision`` (default: every head).

    Each feature area adds its own migration branch off the initial schema (``down_revision = "0001"``),
    so areas developed side by side never fight over one chain; ``heads`` applies them all.

    Safe to run from several processes at once (e.g. every app process of a deployment starting with
    ``auto_migrate``): on PostgreSQL the transaction first takes the transaction-level advisory lock
    :data:`MIGRATION_LOCK_KEY` (``pg_advisory_xact_lock``), so one process migrates while the others wait, then
    find the version table at head and do nothing. The lock is released with the transaction, also when a
    migration fails. (SQLite serialises writers by itself; ``mediavault serve`` migrates once before its workers.)
    """

    def upgrade(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await conn.run_sync(upgrade)


def run_migrations(url: str) -> None:
    """Upgrade the vault's tables at ``url`` to every head from synchronous code (the ``migrate`` commands, and
    ``mediavault serve`` before its workers start), on an engine of its own that is disposed of afterwards."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await dispose(engine)

    asyncio.run(run())
