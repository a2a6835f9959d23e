"""The audit log: lines written in the transaction of the change they record, read by admins, pruned by age."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import AuditEvent

__all__ = ("AUDIT_ACTIONS", "AuditFilter", "AuditRepository", "AuditTrail")

AUDIT_ACTIONS = frozenset(
    {
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "media.deleted",
        "media.restored",
        "share.created",
        "share.deleted",
        "api_key.created",
        "api_key.revoked",
        "admin.user_updated",
    }
)
"""The actions the vault records (``GET /admin/audit?action=`` takes one of them)."""


def _nobody() -> tuple[str | None, str | None]:
    return None, None


class AuditTrail:
    """Adds audit lines to a session (they commit, or roll back, with the change they record).

    Args:
        client: ``(address, user agent)`` of the request being served, ``(None, None)`` outside one
            (:func:`mediavault.http.ratelimit.current_client`, given by the runtime).
    """

    def __init__(self, client: Callable[[], tuple[str | None, str | None]] = _nobody) -> None:
        self.client = client

    def record(
        self,
        session: AsyncSession,
        action: str,
        *,
        actor_id: uuid.UUID | None,
        target_type: str | None = None,
        target_id: uuid.UUID | str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Add the line ``action`` (one of :data:`AUDIT_ACTIONS`) by ``actor_id`` on ``target_type``/``target_id``
        to ``session``, with the address and user agent of the current request.

        Raises:
            ValueError: ``action`` is not one of :data:`AUDIT_ACTIONS`.
        """
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        ip, user_agent = self.client()
        session.add(
            AuditEvent(
                action=action,
                actor_id=actor_id,
                target_type=target_type,
                target_id=str(target_id) if target_id is not None else None,
                ip=ip,
                user_agent=user_agent,
                details=dict(details or {}),
            )
        )


@dataclass(frozen=True)
class AuditFilter:
    """Which lines ``GET /admin/audit`` lists: each set field must match (``since`` inclusive, ``until``
    exclusive)."""

    action: str | None = None
    actor_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class AuditRepository:
    """Reads and prunes the audit log (the only deletion: lines past their retention)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, where: AuditFilter, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
        """One page of the lines matching ``where``, newest first, and their total."""
        conditions = []
        if where.action is not None:
            conditions.append(AuditEvent.action == where.action)
        if where.actor_id is not None:
            conditions.append(AuditEvent.actor_id == where.actor_id)
        if where.since is not None:
            conditions.append(AuditEvent.created_at >= where.since)
        if where.until is not None:
            conditions.append(AuditEvent.created_at < where.until)
        total = int(await self.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0)
        if offset >= total:
            return [], total
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def prune(self, before: dt.datetime) -> int:
        """Delete the lines written before ``before``; how many (the caller commits)."""
        result = await self.session.execute(delete(AuditEvent).where(AuditEvent.created_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
