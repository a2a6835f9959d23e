"""Registration, login, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Protocol

from advanced_alchemy.exceptions import DuplicateKeyError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.passwords import PasswordHasher
from mediavault.auth.providers import Principal
from mediavault.auth.tokens import TokenService
from mediavault.db.audit import AuditTrail
from mediavault.db.models import RefreshToken, TokenFamily, User, utcnow
from mediavault.db.repositories import RefreshTokenRepository, TokenFamilyRepository, UserRepository
from mediavault.domain.auth.schemas import LoginIn, RegisterIn, TokenPair
from mediavault.errors import Conflict, Forbidden, Unauthorized
from mediavault.events import EventPublisher

__all__ = ("AuthService", "LoginThrottle")

_BAD_LOGIN = "Invalid email or password"


class LoginThrottle(Protocol):
    """The failed-login budgets (:class:`~mediavault.http.ratelimit.RateLimiter`)."""

    async def check_login(self, address: str, email: str) -> None:
        """Raise :class:`~mediavault.errors.RateLimited` when ``address`` or ``email`` has no attempt left."""

    async def record_login_failure(self, address: str, email: str) -> None:
        """Spend one failed attempt of ``address`` and of ``email``."""


class AuthService:
    """Account and token life cycle for one request's session.

    Args:
        session: the request's database session (the service commits it).
        passwords: the Argon2id hasher.
        tokens: the JWT issuer/verifier.
        events: the outbox publisher.
        throttle: the failed-login budgets.
        logins_revoked: called with a user id after a logout or a refresh-token reuse revoked logins (the realtime
            hub closes their sockets at once).
        allow_registration: whether :meth:`register` is open (``config.allow_registration``).
        audit: the audit log (sign-ins, failed sign-ins, sign-outs).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: PasswordHasher,
        tokens: TokenService,
        events: EventPublisher,
        throttle: LoginThrottle,
        logins_revoked: Callable[[uuid.UUID], None],
        allow_registration: bool,
        audit: AuditTrail | None = None,
    ) -> None:
        self.session = session
        self.audit = audit or AuditTrail()
        self.passwords = passwords
        self.tokens = tokens
        self.events = events
        self.throttle = throttle
        self.logins_revoked = logins_revoked
        self.allow_registration = allow_registration
        self.users = UserRepository(session=session)
        self.families = TokenFamilyRepository(session=session)
        self.refresh_tokens = RefreshTokenRepository(session=session)

    async def register(self, data: RegisterIn) -> User:
        """Create an account and emit ``user.registered``.

        Raises:
            Forbidden: registration is turned off.
            Conflict: the email is taken.
        """
        if not self.allow_registration:
            raise Forbidden("Registration is disabled")
        return await self.create_user(data)

    async def create_user(self, data: RegisterIn, *, role: str = "user") -> User:
        """Create an account with ``role`` (``"user"`` or ``"admin"``) and emit ``user.registered``, whether or
        not registration is open (``mediavault users create``, for operators).

        Raises:
            Conflict: the email is taken.
        """
        email = data.email.strip().lower()
        if await self.users.exists(email=email):
            raise Conflict("Email is already registered")
        password_hash = await self.passwords.hash(data.password)
        user = User(email=email, display_name=data.display_name, password_hash=password_hash, role=role)
        try:
            await self.users.add(user)
        except (DuplicateKeyError, IntegrityError) as exc:
            raise Conflict("Email is already registered") from exc
        self.events.publish(
            self.session, "user.registered", {"id": str(user.id), "user_id": str(user.id)}, user_id=user.id
        )
        await self.session.commit()
        return user

    async def login(self, data: LoginIn, *, client_address: str = "unknown") -> TokenPair:
        """Check credentials and open a new token family.

        An address or account that used up its failed-login budget is refused before any password hash is
        computed (each costs ``argon2_memory_cost`` KiB and ~130 ms); each failure spends one attempt of both.

        Every attempt past the budget check is an audit line (``auth.login`` or ``auth.login_failed``).

        Raises:
            RateLimited: too many attempts from this address or for this account.
            Unauthorized: unknown email or wrong password (the same error for both), or a disabled account.
        """
        await self.throttle.check_login(client_address, data.username)
        passwords = self.passwords
        user = await self.users.get_one_or_none(email=data.username.strip().lower())
        if user is None:
            await passwords.verify_dummy(data.password)
        if user is None or not await passwords.verify(user.password_hash, data.password):
            await self.throttle.record_login_failure(client_address, data.username)
            await self._login_failed(user, data.username, "bad_credentials")
            raise Unauthorized(_BAD_LOGIN)
        if user.disabled_at is not None:
            await self._login_failed(user, data.username, "disabled")
            raise Unauthorized("This account is disabled")
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = await passwords.hash(data.password)
        family = TokenFamily(id=uuid.uuid4(), user_id=user.id, expires_at=utcnow())
        self.session.add(family)
        await self.session.flush()  # the family row must exist before its first refresh token
        pair = self._issue(user.id, family)
        self.audit.record(self.session, "auth.login", actor_id=user.id, target_type="user", target_id=user.id)
        await self.session.commit()
        return pair

    async def _login_failed(self, user: User | None, email: str, reason: str) -> None:
        """Record a failed sign-in (its own commit: the attempt is refused right after)."""
        user_id = user.id if user is not None else None
        details = {"email": email.strip().lower()[:320], "reason": reason}
        self.audit.record(
            self.session, "auth.login_failed", actor_id=user_id, target_type="user", target_id=user_id, details=details
        )
        await self.session.commit()

    async def refresh(self, token: str) -> TokenPair:
        """Spend ``token`` and return a new pair of the same family.

        A refresh token presented a second time means it leaked: the whole family is revoked.

        Raises:
            Unauthorized: invalid, expired, revoked or already spent token.
        """
        claims = self.tokens.verify(token, "refresh")
        row = await self.refresh_tokens.get_one_or_none(id=claims.jti, family_id=claims.fam)
        family = await self.families.get_one_or_none(id=claims.fam, user_id=claims.sub)
        if row is None or family is None or family.revoked_at is not None:
            raise Unauthorized("Refresh token has been revoked")
        if not await self.users.exists(id=claims.sub, disabled_at=None):
            raise Unauthorized("This account is disabled")
        if not await self.refresh_tokens.spend(row.id):
            await self.families.revoke([family.id])
            await self.session.commit()
            self.logins_revoked(family.user_id)
            raise Unauthorized("Refresh token was already used; the session has been revoked")
        pair = self._issue(claims.sub, family)
        await self.session.commit()
        return pair

    async def logout(self, principal: Principal) -> None:
        """Revoke the caller's token family: its access and refresh tokens stop working now.

        Raises:
            Forbidden: the caller used an API key, which is no login (it is revoked with
                ``DELETE /users/me/api-keys/{id}``), as API keys cannot manage API keys.
        """
        if principal.method == "api_key":
            raise Forbidden("API keys cannot log out; revoke the key with DELETE /users/me/api-keys/{id}")
        if principal.family_id is not None:
            await self.families.revoke([principal.family_id])
            self.audit.record(
                self.session, "auth.logout", actor_id=principal.user_id, target_type="user", target_id=principal.user_id
            )
            await self.session.commit()
            self.logins_revoked(principal.user_id)  # its realtime sockets close at once

    def _issue(self, user_id: uuid.UUID, family: TokenFamily) -> TokenPair:
        tokens = self.tokens
        refresh_id = uuid.uuid4()
        family.expires_at = utcnow() + dt.timedelta(seconds=tokens.ttl["refresh"])
        self.session.add(RefreshToken(id=refresh_id, family_id=family.id, expires_at=family.expires_at))
        return TokenPair(
            token=tokens.issue("access", user_id=user_id, family_id=family.id, jti=uuid.uuid4()),
            expires_in=tokens.ttl["access"],
            refresh_token=tokens.issue("refresh", user_id=user_id, family_id=family.id, jti=refresh_id),
            refresh_expires_in=tokens.ttl["refresh"],
        )
