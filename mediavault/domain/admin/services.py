"""Administration of users and reading the audit log (the caller is an admin: the routes' guard checks it)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.audit import AUDIT_ACTIONS, AuditFilter, AuditRepository, AuditTrail
from mediavault.db.models import AuditEvent, User, utcnow
from mediavault.db.repositories import TokenFamilyRepository
from mediavault.db.usage import used_bytes
from mediavault.domain.admin.schemas import AdminUser, AdminUserUpdate
from mediavault.domain.ownership import lock_row, parse_id
from mediavault.errors import NotFound, ValidationError

__all__ = ("AdminService",)


class AdminService:
    """Users and audit log for an admin, on one request's session.

    Args:
        session: the request's database session (the service commits it).
        default_quota_bytes: the config's quota for users without one of their own.
        logins_revoked: called with a user's id once their logins were revoked (their realtime sockets close).
        audit: the audit log (each change of a user is a line).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        default_quota_bytes: int | None,
        logins_revoked: Callable[[uuid.UUID], None],
        audit: AuditTrail,
    ) -> None:
        self.session = session
        self.default_quota_bytes = default_quota_bytes
        self.logins_revoked = logins_revoked
        self.audit = audit

    def _quota(self, user: User) -> int | None:
        return user.quota_bytes if user.quota_override else self.default_quota_bytes

    async def _with_usage(self, users: list[User]) -> list[AdminUser]:
        used = await used_bytes(self.session, [u.id for u in users])
        return [AdminUser(u, self._quota(u), used[u.id]) for u in users]

    async def list_users(self, *, q: str | None, page: int, per_page: int) -> tuple[list[AdminUser], int]:
        """One page of users (oldest first), those whose email or display name contains ``q`` (any case) when
        given, and the total."""
        where = []
        if q:
            text = q.strip().lower()
            where.append(
                or_(
                    func.lower(User.email).contains(text, autoescape=True),
                    func.lower(func.coalesce(User.display_name, "")).contains(text, autoescape=True),
                )
            )
        total = int(await self.session.scalar(select(func.count()).select_from(User).where(*where)) or 0)
        users = await self.session.scalars(
            select(User).where(*where).order_by(User.created_at, User.id).offset((page - 1) * per_page).limit(per_page)
        )
        return await self._with_usage(list(users)), total

    async def _user(self, user_id: str, *, lock: bool = False) -> User:
        row_id = parse_id(user_id)
        if lock:
            await lock_row(self.session, User, row_id)
        user = await self.session.get(User, row_id, populate_existing=lock)  # locked: as committed now
        if user is None:
            raise NotFound("User not found")
        return user

    async def get_user(self, user_id: str) -> AdminUser:
        """The user ``user_id``.

        Raises:
            NotFound: unknown or malformed id.
        """
        return (await self._with_usage([await self._user(user_id)]))[0]

    async def update_user(self, principal: Principal, user_id: str, data: AdminUserUpdate) -> AdminUser:
        """Disable or enable, change the role, set the quota (``None``: unlimited) of ``user_id``.

        Disabling revokes every login of the user at once (access and refresh tokens, realtime sockets); their API
        keys are refused while the account is disabled (the principal lookups read it on every request).

        Raises:
            NotFound: unknown or malformed id.
            ValidationError: an admin disabling or demoting themselves.
        """
        user = await self._user(user_id, lock=True)  # concurrent changes apply one after the other
        if user.id == principal.user_id:
            if data.disabled is True:
                raise ValidationError.for_field("disabled", "you cannot disable your own account")
            if data.role not in (msgspec.UNSET, "admin"):
                raise ValidationError.for_field("role", "you cannot take the admin role from yourself")
        changes: dict[str, object] = {}
        if data.disabled is not msgspec.UNSET and data.disabled != (user.disabled_at is not None):
            user.disabled_at = utcnow() if data.disabled else None
            changes["disabled"] = data.disabled
            if data.disabled:
                await TokenFamilyRepository(session=self.session).revoke_all_for_user(user.id)
        if data.role is not msgspec.UNSET and data.role != user.role:
            user.role = data.role
            changes["role"] = data.role
        if data.quota_bytes is not msgspec.UNSET:
            user.quota_override, user.quota_bytes = True, data.quota_bytes
            changes["quota_bytes"] = data.quota_bytes
        if changes:
            user.updated_at = utcnow()
            self.audit.record(
                self.session,
                "admin.user_updated",
                actor_id=principal.user_id,
                target_type="user",
                target_id=user.id,
                details=changes,
            )
        await self.session.commit()
        if changes.get("disabled"):
            self.logins_revoked(user.id)
        return (await self._with_usage([user]))[0]

    async def audit_page(
        self,
        *,
        action: str | None,
        actor_id: str | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
        page: int,
        per_page: int,
    ) -> tuple[list[AuditEvent], int]:
        """One page of the audit log, newest first, filtered (``since`` inclusive, ``until`` exclusive; a time
        without an offset is UTC); and the total.

        Raises:
            ValidationError: an unknown ``action`` or a malformed ``actor_id``.
        """
        if action is not None and action not in AUDIT_ACTIONS:
            raise ValidationError.for_field("action", f"unknown action (one of {', '.join(sorted(AUDIT_ACTIONS))})")
        actor = None
        if actor_id is not None:
            try:
                actor = uuid.UUID(actor_id)
            except ValueError as exc:
                raise ValidationError.for_field("actor_id", "must be a user id") from exc
        where = AuditFilter(action=action, actor_id=actor, since=_utc(since), until=_utc(until))
        return await AuditRepository(self.session).page(where, offset=(page - 1) * per_page, limit=per_page)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value
