"""The caller's own account."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import msgspec
from advanced_alchemy.exceptions import DuplicateKeyError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.passwords import PasswordHasher
from mediavault.auth.providers import Principal
from mediavault.db.models import User
from mediavault.db.repositories import TokenFamilyRepository, UserProfile, UserRepository
from mediavault.domain.ownership import lock_row
from mediavault.domain.quotas import Quotas, Usage
from mediavault.domain.users.schemas import UserUpdate
from mediavault.errors import Conflict, Unauthorized, ValidationError

__all__ = ("UserService",)


class UserService:
    """Read and change the principal's own user.

    Args:
        session: the request's database session (the service commits it).
        passwords: the Argon2id hasher.
        logins_revoked: called with the user's id after a password change ended their other logins.
        default_quota_bytes: the config's quota for users without one of their own (``None``: unlimited).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: PasswordHasher,
        logins_revoked: Callable[[uuid.UUID], None],
        default_quota_bytes: int | None = None,
    ) -> None:
        self.session = session
        self.default_quota_bytes = default_quota_bytes
        self.passwords = passwords
        self.logins_revoked = logins_revoked
        self.users = UserRepository(session=session)

    async def me(self, principal: Principal) -> User:
        """The principal's user.

        Raises:
            Unauthorized: the user was deleted after the token was issued.
        """
        user = await self.users.get_one_or_none(id=principal.user_id)
        if user is None:
            raise Unauthorized("User no longer exists")
        return user

    async def profile(self, principal: Principal) -> UserProfile:
        """The principal's user as the API shows it (one statement, no ORM).

        Raises:
            Unauthorized: the user was deleted after the token was issued.
        """
        profile = await self.users.profile(principal.user_id)
        if profile is None:
            raise Unauthorized("User no longer exists")
        return profile

    async def usage(self, principal: Principal) -> Usage:
        """What the principal stores, their quota and media count (:mod:`mediavault.domain.quotas`)."""
        return await Quotas(self.session, default_quota_bytes=self.default_quota_bytes).usage(principal.user_id)

    async def update(self, principal: Principal, data: UserUpdate) -> User:
        """Apply ``data``. A new password or a new email needs ``current_password`` (a bearer token alone must not
        be able to take the account over); a new password ends every other login.

        Raises:
            ValidationError: ``current_password`` missing or wrong for a new email or password, or given without
                either.
            Conflict: the new email is taken.
        """
        await lock_row(self.session, User, principal.user_id)  # concurrent changes apply one after the other
        user = await self.session.get(User, principal.user_id, populate_existing=True)  # as committed now
        if user is None:
            raise Unauthorized("User no longer exists")
        email = data.email.strip().lower() if data.email is not msgspec.UNSET else user.email
        changes_login = data.password is not msgspec.UNSET or email != user.email
        if data.current_password is msgspec.UNSET:
            if changes_login:
                raise ValidationError.for_field("current_password", "is required to change the email or password")
        elif data.password is msgspec.UNSET and data.email is msgspec.UNSET:
            raise ValidationError.for_field("current_password", "is only accepted with a new email or password")
        elif not await self.passwords.verify(user.password_hash, data.current_password):
            raise ValidationError.for_field("current_password", "is incorrect")
        if data.password is not msgspec.UNSET:
            user.password_hash = await self.passwords.hash(data.password)
            await TokenFamilyRepository(session=self.session).revoke_all_for_user(user.id, keep=principal.family_id)
        if email != user.email:
            if await self.users.exists(email=email):
                raise Conflict("Email is already registered")
            user.email = email
        if data.display_name is not msgspec.UNSET:
            user.display_name = data.display_name
        try:
            await self.session.flush()
        except (DuplicateKeyError, IntegrityError) as exc:  # pragma: no cover - concurrent email change
            raise Conflict("Email is already registered") from exc
        await self.session.commit()
        if data.password is not msgspec.UNSET:
            self.logins_revoked(user.id)  # the other logins' realtime sockets close
        return user
