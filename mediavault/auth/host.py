"""The host app's users: trust the host's own authentication and map each of its users to a vault user.

A host that embeds the vault gives ``MediaVaultConfig(host_identity=...)``: a function of the request that answers
who the host says is logged in, as a :class:`HostIdentity` (typically built from Litestar's ``request.user``, i.e.
``scope["user"]``, which the host's authentication middleware set). :class:`HostUserProvider`, last in the vault's
provider chain (a vault JWT or API key sent with the request still decides first), maps it to the vault user whose
``external_id`` is the host's id, and creates that user the first time it is seen: one ``INSERT ... ON CONFLICT DO
NOTHING`` in a transaction of its own, so two first requests at once make one user, and ``user.registered`` is
raised once. The vault user has no password (password login never matches); its email is the host's when given and
not already another vault account's, else ``<user id>@host-users.invalid`` (RFC 2606's reserved TLD).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import AuthProvider, Principal
from mediavault.db.models import User, utcnow
from mediavault.db.statements import ReadStatement, decode_uuid
from mediavault.events import EventPublisher

__all__ = ("HOST_METHOD", "HostIdentity", "HostUserProvider", "HostUsers", "IdentifyHostUser", "request_user")

HOST_METHOD = "host"
""":attr:`Principal.method` of a principal the host's authentication vouched for."""
PLACEHOLDER_DOMAIN = "host-users.invalid"
"""Domain of the email a host user gets when the host gives none, or one another vault account already has."""
_NO_PASSWORD = "!host-user"  # noqa: S105 - not a password: a value no password hashes to
"""``password_hash`` of a host user: no Argon2 hash, so no password ever matches it."""


@dataclass(frozen=True)
class HostIdentity:
    """Who the host app says is making the request.

    Attributes:
        external_id: the host's stable id of its user (1-255 characters), e.g. ``str(user.id)``.
        email: the user's email, shown as the vault user's (lower-cased) when no other vault account has it.
        display_name: the vault user's display name when it is created (at most 200 characters).

    Raises:
        ValueError: ``external_id`` is empty or longer than 255 characters, ``email`` has no ``@`` or is longer
            than 320 characters, ``display_name`` is longer than 200 characters.
    """

    external_id: str
    email: str | None = None
    display_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.external_id, str) or not 0 < len(self.external_id) <= 255 or "\x00" in self.external_id:
            raise ValueError("HostIdentity.external_id: 1-255 characters (no NUL)")
        if self.email is not None and (len(self.email) > 320 or "@" not in self.email):
            raise ValueError("HostIdentity.email: an address of at most 320 characters")
        if self.display_name is not None and len(self.display_name) > 200:
            raise ValueError("HostIdentity.display_name: at most 200 characters")


IdentifyHostUser = Callable[
    [ASGIConnection[Any, Any, Any, Any]], "HostIdentity | Awaitable[HostIdentity | None] | None"
]
"""``MediaVaultConfig.host_identity``: the host's user of a request (or a realtime handshake), ``None`` for none."""


def request_user(connection: ASGIConnection[Any, Any, Any, Any]) -> HostIdentity | None:
    """A ready ``host_identity``: the identity of Litestar's ``request.user`` (``scope["user"]``, which the host's
    authentication middleware set), ``None`` when it is unset or ``None``.

    The user's ``id`` (attribute or mapping key) is the external id, as text; its ``email`` and its ``display_name``
    (else ``name``), when they are text, the new vault user's. A ``HostIdentity`` in ``scope["user"]`` is used as is.

    Raises:
        TypeError: the user has no ``id``.
    """
    user = connection.scope.get("user")
    if user is None or isinstance(user, HostIdentity):
        return user

    def field(name: str) -> Any:
        return user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)

    user_id = field("id")
    if user_id is None:
        raise TypeError(f"request_user: the host's user ({type(user).__name__}) has no id; give host_identity yours")
    email, name = field("email"), field("display_name") or field("name")
    return HostIdentity(
        external_id=str(user_id),
        email=email if isinstance(email, str) else None,
        display_name=name if isinstance(name, str) else None,
    )


class _UserRole(msgspec.Struct):
    user_id: uuid.UUID
    role: str


_users = User.__table__.c
_BY_EXTERNAL_ID = ReadStatement(
    select(_users.id, _users.role).where(_users.external_id == bindparam("external_id")),
    _UserRole,
    {"user_id": decode_uuid},
)
"""The vault user of a host id: one indexed statement per request (the unique index on ``external_id``)."""


class HostUsers:
    """The vault users of the host's users: found by ``external_id``, created on first sight.

    Args:
        session_factory: opens the session a first sight's user is created and committed in, when the caller's
            session must not be committed (an HTTP request's).
        events: the publisher of a new user's ``user.registered``.
    """

    def __init__(self, *, session_factory: Callable[[], AsyncSession], events: EventPublisher) -> None:
        self._session_factory = session_factory
        self._events = events

    async def principal(self, identity: HostIdentity, session: AsyncSession, *, commit: bool = False) -> Principal:
        """The principal of ``identity``'s vault user, looked up in ``session``; created on first sight.

        Args:
            identity: the host's user.
            session: where to look the user up.
            commit: create a new user in ``session`` and commit it (a unit of work of the caller's own: the
                in-process API's, whose commit inside a host transaction only releases a SAVEPOINT); else in a
                session of its own, leaving ``session`` as it was (an HTTP request's).
        """
        row = await _BY_EXTERNAL_ID.first(session, external_id=identity.external_id)
        if row is None:
            if commit:
                row = await self._first_sight(identity, session)
            else:
                async with self._session_factory() as own:
                    row = await self._first_sight(identity, own)
        return Principal(user_id=row.user_id, role=row.role, method=HOST_METHOD)

    async def _first_sight(self, identity: HostIdentity, session: AsyncSession) -> _UserRole:
        """Create the vault user of ``identity`` in ``session`` (committed) unless a concurrent request just did;
        the user either way."""
        insert = (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(User)
        user_id = uuid.uuid4()
        placeholder = f"{user_id}@{PLACEHOLDER_DOMAIN}"
        for email in dict.fromkeys(e.lower() for e in (identity.email or placeholder, placeholder)):
            now = utcnow()
            created = await session.scalar(
                insert.values(
                    id=user_id,
                    email=email,
                    display_name=identity.display_name,
                    role="user",
                    password_hash=_NO_PASSWORD,
                    external_id=identity.external_id,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()  # this external id (a concurrent first sight) or this email is taken
                .returning(User.id)
            )
            if created is not None:
                data = {"id": str(user_id), "user_id": str(user_id)}
                self._events.publish(session, "user.registered", data, user_id=user_id)
                await session.commit()
                return _UserRole(user_id, "user")
            row = await _BY_EXTERNAL_ID.first(session, external_id=identity.external_id)
            if row is not None:  # another request created it meanwhile
                return row
        raise RuntimeError(f"could not create the vault user of host user {identity.external_id!r}")


class HostUserProvider(AuthProvider):
    """The principal of the host's user (:class:`HostIdentity`), its vault user created on first sight.

    Args:
        identify: the host's function (``MediaVaultConfig.host_identity``); may be a coroutine function.
        users: the vault's :class:`HostUsers`.
    """

    def __init__(self, identify: IdentifyHostUser, users: HostUsers) -> None:
        self._identify = identify
        self._users = users

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        """The host user's principal, ``None`` when the host names nobody.

        Raises:
            TypeError: the host's function answered something else than a :class:`HostIdentity` or ``None``.
        """
        identity = self._identify(connection)
        if inspect.isawaitable(identity):
            identity = await identity
        if identity is None:
            return None
        if not isinstance(identity, HostIdentity):
            raise TypeError(f"host_identity must return a HostIdentity or None, not {type(identity).__name__}")
        return await self._users.principal(identity, session)
