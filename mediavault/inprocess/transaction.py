"""The vault's work inside a host's own SQLAlchemy transaction.

A call of the in-process API given the host's :class:`~sqlalchemy.ext.asyncio.AsyncSession` runs the vault's services
on a session of their own bound to the host session's connection (``join_transaction_mode="create_savepoint"``): a
service's commit only releases a SAVEPOINT, its rollback only returns to it, and the host's transaction decides.
Until it does, :class:`HostTransaction` holds what cannot be undone by the database:

- the events the services published (their outbox rows are in the host's transaction): delivered when the host
  commits (:meth:`~mediavault.events.EventPublisher.deliver`, as after an HTTP request's commit), dropped when it
  rolls back;
- the stored objects written (new uploads): kept when the host commits, deleted when it rolls back (or its session is
  closed without a commit), so no bytes outlive their rows;
- the stored objects the services deleted (a deleted media's bytes): deleted only when the host commits, so a row
  that a rollback brings back never points at missing bytes.

A rollback of a host SAVEPOINT (``begin_nested``) undoes only what the vault did inside it. The bytes are deleted
from the host's ``commit()``/``rollback()``/``close()`` call itself (the session events run in SQLAlchemy's greenlet,
where the storage's coroutines are awaited), so when the host's call returns they are gone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

from mediavault.events import Event, EventPublisher
from mediavault.storage.base import StorageBackend, StorageWriter

__all__ = ("HostTransaction", "JoinedSessions", "Work")

logger = logging.getLogger("mediavault")

S = TypeVar("S")

_JOINED_KEY = "mediavault.inprocess.joined"
"""``info`` key of a joined session: the record of its call."""
_FOREIGN_KEYS_KEY = "mediavault.inprocess.foreign_keys"
"""``info`` key of a pooled SQLite connection found to enforce foreign keys."""


@dataclass
class _Record:
    """What the vault did inside one host transaction (the innermost one open when the call began)."""

    transaction: SessionTransaction
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def within(self, transaction: SessionTransaction) -> bool:
        """Whether this work happened in ``transaction`` or a SAVEPOINT inside it."""
        current: SessionTransaction | None = self.transaction
        while current is not None:
            if current is transaction:
                return True
            current = current.parent
        return False


class HostTransaction:
    """What one vault did in one host session's transaction, settled when that transaction ends (see the module).

    One per host session and vault (:meth:`of`); it listens to the host session's ``after_commit``,
    ``after_soft_rollback`` and ``after_transaction_end`` for the session's whole life.
    """

    def __init__(self, host: Session, storage: StorageBackend, events: EventPublisher) -> None:
        self._storage = storage
        self._events = events
        self._records: list[_Record] = []
        sa_event.listen(host, "after_commit", self._committed)
        sa_event.listen(host, "after_soft_rollback", self._rolled_back)
        sa_event.listen(host, "after_transaction_end", self._ended)

    @classmethod
    def of(cls, host: AsyncSession, storage: StorageBackend, events: EventPublisher) -> HostTransaction:
        """The ledger of ``host`` for the vault publishing ``events`` (made on first use)."""
        info = host.sync_session.info
        key = (_JOINED_KEY, id(events))
        ledger = info.get(key)
        if ledger is None:
            ledger = info[key] = cls(host.sync_session, storage, events)
        return ledger  # type: ignore[no-any-return]

    def record(self, transaction: SessionTransaction) -> _Record:
        """A record of what the vault does next inside ``transaction`` (the host's innermost one)."""
        record = _Record(transaction)
        self._records.append(record)
        return record

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():  # a SAVEPOINT released (SQLAlchemy fires after_commit for it too)
            return
        done, self._records = self._records, []
        self._events.deliver([e for record in done for e in record.events])
        self._delete(key for record in done for key in record.deleted)

    def _rolled_back(self, _session: Session, transaction: SessionTransaction) -> None:
        undone = [record for record in self._records if record.within(transaction)]
        self._records = [record for record in self._records if not record.within(transaction)]
        self._delete(key for record in undone for key in record.written)

    def _ended(self, _session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and self._records:  # closed without a commit: the database rolled it back
            undone, self._records = self._records, []
            self._delete(key for record in undone for key in record.written)

    def _delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            deletion = self._storage.delete(key)
            try:
                await_only(deletion)  # the host's commit/rollback/close runs this in SQLAlchemy's greenlet
            except Exception:
                deletion.close()
                logger.exception("could not delete stored bytes %s (mediavault fsck --repair removes them)", key)


class _TransactionStorage(StorageBackend):
    """The vault's storage as services see it inside a host transaction: new objects are recorded (deleted if the
    host rolls back), deletions wait for the host's commit; everything else goes straight through."""

    def __init__(self, storage: StorageBackend, record: _Record) -> None:
        self._storage = storage
        self._record = record
        self.leaves_temporary_files = storage.leaves_temporary_files

    async def open_writer(self, key: str) -> StorageWriter:
        self._record.written.append(key)
        return await self._storage.open_writer(key)

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        return self._storage.read(key, start, end, chunk_size)

    def open_sync(self, key: str) -> IO[bytes]:
        return self._storage.open_sync(key)

    async def delete(self, key: str) -> None:
        self._record.deleted.append(key)

    async def exists(self, key: str) -> bool:
        return await self._storage.exists(key)

    async def check(self) -> None:
        await self._storage.check()


@dataclass(frozen=True)
class Work:
    """One call's unit of work: the session the services use and their factories."""

    session: AsyncSession
    factories: dict[type[Any], Callable[[AsyncSession], Any]]

    def service(self, cls: type[S]) -> S:
        """The domain service ``cls`` on :attr:`session`."""
        return self.factories[cls](self.session)  # type: ignore[no-any-return]


class JoinedSessions:
    """Units of work of one vault inside host transactions.

    Args:
        storage: the vault's storage.
        events: the vault's publisher.
        service_factories: builds the service table for a storage
            (:meth:`~mediavault.runtime.VaultRuntime.service_factories`).
    """

    def __init__(
        self,
        storage: StorageBackend,
        events: EventPublisher,
        service_factories: Callable[[StorageBackend], dict[type[Any], Callable[[AsyncSession], Any]]],
    ) -> None:
        self._storage = storage
        self._events = events
        self._service_factories = service_factories
        # Its own Session class: the vault's commit listeners (which deliver events at once) never see it.
        self._session_class = type("MediaVaultJoinedSession", (Session,), {})
        events.attach(self._session_class, on_commit=self._savepoint_released)

    @staticmethod
    def _savepoint_released(session: Session, events: list[Event]) -> None:
        record: _Record = session.info[_JOINED_KEY]
        record.events.extend(events)

    @asynccontextmanager
    async def work(self, host: AsyncSession) -> AsyncIterator[Work]:
        """A unit of work inside ``host``'s current transaction (begun if it was not)."""
        connection = await host.connection()
        await _begin_sqlite(connection)
        host_transaction = host.sync_session.get_nested_transaction() or host.sync_session.get_transaction()
        assert host_transaction is not None  # connection() began one
        record = HostTransaction.of(host, self._storage, self._events).record(host_transaction)
        factories = self._service_factories(_TransactionStorage(self._storage, record))
        session = AsyncSession(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            sync_session_class=self._session_class,
            info={_JOINED_KEY: record},
        )
        async with session:
            yield Work(session, factories)


async def _begin_sqlite(connection: AsyncConnection) -> None:
    """On SQLite, check that the host's connection enforces foreign keys, and open its transaction for real before the
    vault's first SAVEPOINT.

    The vault's rules rest on its foreign keys (a deleted media takes its tags, memberships, links and processing rows
    with it; a host row's ``media_fk`` refuses the delete), and SQLite enforces them only on connections that turned
    them on. pysqlite sends its ``BEGIN`` only before the first ``INSERT``/``UPDATE``/``DELETE``; a SAVEPOINT sent
    first would start the transaction itself, and releasing it would commit the host's work. ``BEGIN IMMEDIATE`` takes
    the write lock at once (the vault is about to write), so no read snapshot taken earlier can make the first write
    fail.

    Raises:
        RuntimeError: the connection has foreign keys off.
    """
    if connection.dialect.name != "sqlite":
        return
    raw = await connection.get_raw_connection()
    if not raw.info.get(_FOREIGN_KEYS_KEY):  # asked once per pooled connection
        if not (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar():
            raise RuntimeError(
                "the session's SQLite connection does not enforce foreign keys, which the vault's rules rest on: "
                "create its engine with mediavault.db.engine.create_engine(url), or run PRAGMA foreign_keys=ON on "
                "connect"
            )
        raw.info[_FOREIGN_KEYS_KEY] = True
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
