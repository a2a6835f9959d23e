"""The single publisher of domain events (transactional outbox) and the in-process fan-out after commit.

Services call :meth:`EventPublisher.publish` inside the unit of work that makes the change; the event
row is committed, or rolled back, together with it. Once the transaction has committed, the publisher
hands each :class:`Event` to its listeners (realtime broadcast, webhook worker wake-up, the
``mediavault_on_event`` hook); events of a rolled-back transaction never reach them. The outbox stays
the source of truth for anything that must survive a crash (webhook delivery reads it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from mediavault.db.models import OutboxEvent, utcnow
from mediavault.db.statements import WriteStatement
from mediavault.meta import utc_timestamp

__all__ = ("EVENT_NAMES", "Event", "EventListener", "EventPublisher")

logger = logging.getLogger("mediavault")

EVENT_NAMES = frozenset(
    {
        "media.uploaded",
        "media.updated",
        "media.deleted",
        "media.trashed",
        "media.restored",
        "user.registered",
        "collection.created",
        "collection.deleted",
        "share.created",
    }
)
"""Every event the vault can raise."""

_PENDING_KEY = "mediavault.pending_events"


@dataclass(frozen=True)
class Event:
    """A committed domain event.

    Attributes:
        id: the event id (``webhook-id`` of its deliveries).
        name: e.g. ``"media.uploaded"``.
        data: the payload's ``data`` (JSON-able).
        user_id: the user the event is about, or ``None``.
        created_at: when it was raised (UTC).
    """

    id: uuid.UUID
    name: str
    data: dict[str, Any]
    user_id: uuid.UUID | None
    created_at: dt.datetime = field(default_factory=utcnow)

    @property
    def payload(self) -> dict[str, Any]:
        """The wire payload ``{"id", "event", "data", "timestamp"}`` (webhook body)."""
        return {"id": str(self.id), "event": self.name, "data": self.data, "timestamp": utc_timestamp(self.created_at)}


EventListener = Callable[[Event], Awaitable[None] | None]
"""Called once per committed event, on the event loop; may be sync or async. Errors are logged."""


def _outbox_row(item: Event) -> dict[str, Any]:
    return {
        "id": item.id,
        "event": item.name,
        "user_id": item.user_id,
        "created_at": item.created_at,
        "payload": item.payload,
        "dispatched_at": None,
    }


_INSERT_OUTBOX = WriteStatement(insert(cast("Table", OutboxEvent.__table__)))


class EventPublisher:
    """Record events in the caller's unit of work; notify listeners after it commits."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, listener: EventListener) -> None:
        """Call ``listener`` for every event committed from now on."""
        self._listeners.append(listener)

    def publish(self, session: AsyncSession, event: str, data: dict[str, Any], *, user_id: uuid.UUID | None) -> Event:
        """Add one event to ``session`` (the caller commits).

        Args:
            event: one of :data:`EVENT_NAMES`.
            data: the payload's ``data`` (JSON-able; ids as strings).
            user_id: the user the event is about (their webhooks and sockets receive it), or ``None``.

        Raises:
            ValueError: unknown event name.
        """
        item = self._pending(session, event, data, user_id)
        session.add(OutboxEvent(**_outbox_row(item)))
        return item

    def outbox_write(
        self, session: AsyncSession, event: str, data: dict[str, Any], *, user_id: uuid.UUID | None
    ) -> tuple[WriteStatement, list[dict[str, Any]]]:
        """:meth:`publish` for a unit of work that writes without the ORM: the outbox row as the ``(statement, rows)``
        the caller runs with its own writes in one call (:func:`~mediavault.db.statements.execute_writes`, a
        :class:`~mediavault.db.statements.WriteStatement`) before it commits.

        Raises:
            ValueError: unknown event name.
        """
        return _INSERT_OUTBOX, [_outbox_row(self._pending(session, event, data, user_id))]

    @staticmethod
    def _pending(session: AsyncSession, event: str, data: dict[str, Any], user_id: uuid.UUID | None) -> Event:
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}")
        item = Event(id=uuid.uuid4(), name=event, data=data, user_id=user_id)
        session.sync_session.info.setdefault(_PENDING_KEY, []).append(item)
        return item

    def attach(self, session_factory: Any, *, on_commit: Callable[[Session, list[Event]], None] | None = None) -> None:
        """Listen to commits and rollbacks of sessions made by ``session_factory`` (a sync ``sessionmaker`` or
        ``Session`` class): a rollback drops the events published since the last commit; a commit delivers them
        (:meth:`deliver`), or hands them to ``on_commit(session, events)`` instead when committing such a session does
        not end its transaction (the in-process API's savepoint in a host's transaction, :mod:`mediavault.inprocess`).
        """
        committed = self._after_commit if on_commit is None else partial(self._hand_over, on_commit)
        sa_event.listen(session_factory, "after_commit", committed)
        sa_event.listen(session_factory, "after_soft_rollback", self._after_rollback)

    def _after_rollback(self, session: Session, _previous_transaction: Any) -> None:
        session.info.pop(_PENDING_KEY, None)

    def _after_commit(self, session: Session) -> None:
        self.deliver(session.info.pop(_PENDING_KEY, None) or [])

    @staticmethod
    def _hand_over(on_commit: Callable[[Session, list[Event]], None], session: Session) -> None:
        if events := session.info.pop(_PENDING_KEY, None):
            on_commit(session, events)

    def deliver(self, events: list[Event]) -> None:
        """Hand committed ``events`` to the listeners, in order, in a task on the running loop (:meth:`drain` waits
        for it)."""
        if not events or not self._listeners:
            return
        task = asyncio.get_running_loop().create_task(self._dispatch(events))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, events: list[Event]) -> None:
        for item in events:
            for listener in self._listeners:
                try:
                    result = listener(item)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    logger.exception("event listener %r failed for %s %s", listener, item.name, item.id)

    async def drain(self) -> None:
        """Wait until every dispatched event reached its listeners (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
