"""Wire shapes of the admin API (msgspec)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import AuditEvent, User

__all__ = ("AdminUser", "AdminUserOut", "AdminUserUpdate", "AuditEventOut")


@dataclass(frozen=True)
class AdminUser:
    """A user with its quota in force (``None``: unlimited) and the bytes it stores (what the admin service
    answers)."""

    user: User
    quota_bytes: int | None
    used_bytes: int


class AdminUserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /admin/users/{id}``: any of ``disabled``, ``role`` (``user`` or ``admin``) and ``quota_bytes``
    (bytes, ``null``: unlimited); any other field → 400 naming it."""

    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    role: Literal["user", "admin"] | msgspec.UnsetType = msgspec.UNSET
    quota_bytes: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | msgspec.UnsetType | None = msgspec.UNSET


class AdminUserOut(wire.AdminUser):
    """A user as an admin sees it."""

    @classmethod
    def of(cls, found: AdminUser) -> AdminUserOut:
        """Build from an :class:`AdminUser` (the row, its quota in force and its
        usage)."""
        user = found.user
        return cls(
            id=str(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            created_at=user.created_at,
            updated_at=user.updated_at,
            disabled=user.disabled_at is not None,
            quota_bytes=found.quota_bytes,
            used_bytes=found.used_bytes,
        )


class AuditEventOut(wire.AuditEvent):
    """A line of the audit log."""

    @classmethod
    def of(cls, row: AuditEvent) -> AuditEventOut:
        """Build from an :class:`~mediavault.db.models.AuditEvent` row."""
        return cls(
            id=str(row.id),
            action=row.action,
            actor_id=str(row.actor_id) if row.actor_id is not None else None,
            target_type=row.target_type,
            target_id=row.target_id,
            ip=row.ip,
            user_agent=row.user_agent,
            details=row.details,
            created_at=row.created_at,
        )
