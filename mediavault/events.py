"""The single publisher of domain events (transactional outbox).

Services call :meth:`EventPublisher.publish` inside the unit of work that makes the change; the event
row is committed, or rolled back, together with it. Webhook and realtime delivery read the outbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import OutboxEvent, utcnow
from mediavault.http.envelope import utc_timestamp

__all__ = ("EVENT_NAMES", "EventPublisher")

EVENT_NAMES = frozenset(
    {
        "media.uploaded",
        "media.updated",
        "media.deleted",
        "user.registered",
        "collection.created",
        "collection.deleted",
        "share.created",
    }
)
"""Every event the vault can raise."""


class EventPublisher:
    """Record events in the outbox of the caller's session (commit is the caller's)."""

    def publish(
        self, session: AsyncSession, event: str, data: dict[str, Any], *, user_id: uuid.UUID | None
    ) -> OutboxEvent:
        """Add one event to ``session``.

        Args:
            event: one of :data:`EVENT_NAMES`.
            data: the payload's ``data`` (JSON-able; ids as strings).
            user_id: the user the event is about (their webhooks receive it), or ``None``.

        Returns:
            The outbox row; its payload is ``{"id", "event", "data", "timestamp"}``.

        Raises:
            ValueError: unknown event name.
        """
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}")
        event_id = uuid.uuid4()
        now = utcnow()
        row = OutboxEvent(
            id=event_id,
            event=event,
            user_id=user_id,
            created_at=now,
            payload={"id": str(event_id), "event": event, "data": data, "timestamp": utc_timestamp(now)},
        )
        session.add(row)
        return row
