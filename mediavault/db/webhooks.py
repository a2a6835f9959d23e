"""Repositories of the webhook tables: endpoints, the delivery log, and the SQL of durable delivery.

Two steps move an event to a receiver, each safe with any number of worker processes:

1. **Fan-out** (:meth:`DeliveryRepository.fan_out`): outbox rows not yet dispatched become one
   ``pending`` attempt per matching endpoint. An event is taken by a conditional
   ``UPDATE ... SET dispatched_at WHERE dispatched_at IS NULL`` (only one transaction can win it), and
   the unique ``(webhook_id, event_id, attempt)`` index refuses a second copy whatever happens.
2. **Claim** (:meth:`DeliveryRepository.claim_due`): due attempts get a ``claim_token`` and a lease
   (``claimed_until``) before they are sent, so no other worker sends them while the lease runs
   (:func:`mediavault.db.leases.claim`: ``SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite,
   shared with the media processing worker). A worker that dies mid-send leaves a lease that expires, and
   the attempt is made again (at-least-once).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.leases import claim, finish_claim
from mediavault.db.models import OutboxEvent, Webhook, WebhookDelivery, utcnow

__all__ = ("ClaimedDelivery", "DeliveryRepository", "WebhookRepository")


class WebhookRepository(SQLAlchemyAsyncRepository[Webhook]):
    """Webhook endpoints."""

    model_type = Webhook

    async def page_for_owner(self, owner_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[Webhook], int]:
        """One page of ``owner_id``'s endpoints, newest first, and their total."""
        total = int(await self.session.scalar(select(func.count()).where(Webhook.owner_id == owner_id)) or 0)
        if offset >= total:
            return [], total
        rows = await self.session.scalars(
            select(Webhook)
            .where(Webhook.owner_id == owner_id)
            .order_by(Webhook.created_at.desc(), Webhook.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def host_level(self) -> list[Webhook]:
        """Every host-level endpoint (those synchronised from the configuration)."""
        return list(await self.session.scalars(select(Webhook).where(Webhook.config_key.is_not(None))))


@dataclass(frozen=True)
class ClaimedDelivery:
    """A due attempt this worker holds the lease of, with what it needs to send it."""

    id: uuid.UUID
    claim_token: uuid.UUID
    webhook_id: uuid.UUID
    owner_id: uuid.UUID | None
    url: str
    secret: str
    event_id: uuid.UUID
    event: str
    attempt: int
    payload: dict[str, Any]


class DeliveryRepository(SQLAlchemyAsyncRepository[WebhookDelivery]):
    """Delivery attempts: the log, fan-out from the outbox, claims and leases."""

    model_type = WebhookDelivery

    def __init__(self, *, session: AsyncSession, **kwargs: Any) -> None:
        super().__init__(session=session, **kwargs)
        self.dialect = session.bind.dialect.name if session.bind is not None else "sqlite"

    async def page_for_webhook(
        self, webhook_id: uuid.UUID, *, offset: int, limit: int
    ) -> tuple[list[WebhookDelivery], int]:
        """One page of an endpoint's attempts, newest first, and their total."""
        where = WebhookDelivery.webhook_id == webhook_id
        total = int(await self.session.scalar(select(func.count()).select_from(WebhookDelivery).where(where)) or 0)
        if offset >= total:
            return [], total
        rows = await self.session.scalars(
            select(WebhookDelivery)
            .where(where)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.attempt.desc(), WebhookDelivery.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def delete_for_webhook(self, webhook_id: uuid.UUID) -> None:
        """Delete every attempt of an endpoint (the endpoint is being deleted); waits for rows a worker holds."""
        await self.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .execution_options(synchronize_session=False)
        )

    async def fail_pending(self, webhook_id: uuid.UUID, error: str) -> None:
        """Mark every not-yet-made attempt of an endpoint ``failed`` with ``error`` (it was disabled)."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
            .values(status="failed", error=error, next_attempt_at=None)
        )

    async def fan_out(self, *, limit: int) -> tuple[int, int]:
        """Turn up to ``limit`` undispatched outbox events into first attempts for their endpoints.

        An event goes to every active host-level endpoint and to its user's active endpoints, each
        filtered on its ``events`` list (empty: every event), unless it was raised before the endpoint
        was last re-enabled (``Webhook.enabled_at``: raised while it was disabled). The caller commits.

        Returns:
            ``(events taken, attempts created)``.
        """
        candidates = select(OutboxEvent.id, OutboxEvent.event, OutboxEvent.user_id, OutboxEvent.created_at).where(
            OutboxEvent.dispatched_at.is_(None)
        )
        candidates = candidates.order_by(OutboxEvent.created_at, OutboxEvent.id).limit(limit)
        if self.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=OutboxEvent)
        events = (await self.session.execute(candidates)).all()
        if not events:
            return 0, 0
        now = utcnow()
        taken = list(events)
        take_all = await self.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_([e[0] for e in events]), OutboxEvent.dispatched_at.is_(None))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        if take_all.rowcount != len(events):  # type: ignore[attr-defined]
            # Another process took some of them between our SELECT and UPDATE (SQLite: no row locks).
            # Our UPDATE marked only the rest, with our ``now``: keep exactly those.
            mine = set(
                await self.session.scalars(
                    select(OutboxEvent.id).where(
                        OutboxEvent.id.in_([e[0] for e in events]), OutboxEvent.dispatched_at == now
                    )
                )
            )
            taken = [e for e in events if e[0] in mine]
        user_ids = {user_id for _, _, user_id, _ in taken if user_id is not None}
        endpoints = list(
            await self.session.scalars(
                select(Webhook).where(
                    Webhook.active.is_(True),
                    or_(Webhook.config_key.is_not(None), Webhook.owner_id.in_(user_ids) if user_ids else false()),
                )
            )
        )
        created = 0
        for event_id, name, user_id, raised_at in taken:
            for endpoint in endpoints:
                if endpoint.owner_id is not None and endpoint.owner_id != user_id:
                    continue
                if endpoint.enabled_at is not None and raised_at < endpoint.enabled_at:
                    continue  # raised while the endpoint was disabled
                if endpoint.events and name not in endpoint.events:
                    continue
                self.session.add(
                    WebhookDelivery(
                        webhook_id=endpoint.id,
                        event_id=event_id,
                        event=name,
                        attempt=1,
                        status="pending",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                created += 1
        await self.session.flush()
        return len(taken), created

    def _due(self, now: dt.datetime) -> Any:
        return and_(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
        )

    async def claim_due(self, *, limit: int, lease: float) -> list[ClaimedDelivery]:
        """Take the lease of up to ``limit`` due attempts of active endpoints (oldest due first).

        The caller commits right away, before sending: the lease, not a held transaction, keeps the
        attempts to this worker for ``lease`` seconds.
        """
        token = await claim(
            self.session,
            WebhookDelivery,
            due=self._due(utcnow()),
            order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id),
            limit=limit,
            lease=lease,
            join=(Webhook, Webhook.id == WebhookDelivery.webhook_id),
            only=Webhook.active.is_(True),
        )
        if token is None:
            return []
        rows = await self.session.execute(
            select(WebhookDelivery, Webhook.owner_id, Webhook.url, Webhook.secret, OutboxEvent.payload)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.claim_token == token)
        )
        return [
            ClaimedDelivery(
                id=d.id,
                claim_token=token,
                webhook_id=d.webhook_id,
                owner_id=owner_id,
                url=url,
                secret=secret,
                event_id=d.event_id,
                event=d.event,
                attempt=d.attempt,
                payload=payload,
            )
            for d, owner_id, url, secret, payload in rows.all()
        ]

    async def finish(self, claimed: ClaimedDelivery, **values: Any) -> bool:
        """Record the outcome of a claimed attempt and drop its lease; ``False`` if the claim was lost
        (the endpoint was deleted, or the lease ran out and another worker took the attempt)."""
        return await finish_claim(self.session, WebhookDelivery, claimed.id, claimed.claim_token, **values)

    async def release(self, tokens: Sequence[uuid.UUID]) -> None:
        """Give back the leases of attempts that were claimed but not made (the worker is stopping)."""
        if tokens:
            await self.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.claim_token.in_(tokens), WebhookDelivery.status == "pending")
                .values(claim_token=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def prune(self, *, events_before: dt.datetime, attempts_before: dt.datetime) -> tuple[int, int]:
        """Delete finished attempts (``succeeded``/``failed``) created before ``attempts_before``, then dispatched
        outbox events dispatched before ``events_before`` that no attempt points at any more (pending attempts
        keep their event). The caller commits.

        Returns:
            ``(events deleted, attempts deleted)``.
        """
        attempts = await self.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.status.in_(("succeeded", "failed")), WebhookDelivery.created_at < attempts_before)
            .execution_options(synchronize_session=False)
        )
        still_used = select(WebhookDelivery.id).where(WebhookDelivery.event_id == OutboxEvent.id).exists()
        events = await self.session.execute(
            delete(OutboxEvent)
            .where(OutboxEvent.dispatched_at < events_before, ~still_used)
            .execution_options(synchronize_session=False)
        )
        return events.rowcount, attempts.rowcount  # type: ignore[attr-defined]

    async def next_due(self) -> dt.datetime | None:
        """When the earliest claimable attempt falls due (``None``: nothing pending). Attempts leased to a
        worker count from the end of their lease."""
        due = func.coalesce(WebhookDelivery.claimed_until, WebhookDelivery.next_attempt_at)
        return await self.session.scalar(
            select(func.min(due))
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.status == "pending", Webhook.active.is_(True))
        )
