"""Wire shapes of users (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import User
from mediavault.db.repositories import UserProfile

__all__ = ("Email", "Password", "UsageOut", "UserOut", "UserUpdate")

_NOT_AT_OR_SPACE = r"[^@\s\x1c-\x1f\x85\ufeff]"
# Python's \s also matches \x1c-\x1f and \x85, the JSON Schema (ECMA-262) \s also \ufeff: excluding all of them
# spells the same rule for msgspec, which validates with Python's re, and the OpenAPI document's readers.
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=320,
        pattern=f"^{_NOT_AT_OR_SPACE}+@{_NOT_AT_OR_SPACE}+\\.{_NOT_AT_OR_SPACE}+$",
    ),
]
"""An email address (``local@domain.tld``, no whitespace); stored lower-cased."""
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=1024)]
"""A password: 8-1024 characters."""
DisplayName = Annotated[str, msgspec.Meta(max_length=200)]


class UserOut(wire.User):
    """A user as the API shows it (never the password hash)."""

    @classmethod
    def of(cls, user: User | UserProfile) -> UserOut:
        """Build from a :class:`~mediavault.db.models.User` row or a read
        :class:`~mediavault.db.repositories.UserProfile`."""
        return cls(
            id=str(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /users/me``: only these fields; any other (``role``, ``id``...) is a 400 naming it."""

    display_name: DisplayName | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET
    current_password: str | msgspec.UnsetType = msgspec.UNSET


class UsageOut(wire.Usage):
    """``GET /users/me/usage``: bytes stored (each stored blob once, versions and trash included), the quota in force
    (``None``: unlimited) and the number of media items (not counting those in the trash, whose bytes count)."""
