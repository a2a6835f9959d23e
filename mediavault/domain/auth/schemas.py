"""Wire shapes of the ``/auth`` endpoints (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from mediavault_sdk import types as wire

from mediavault.domain.users.schemas import DisplayName, Email, Password

__all__ = ("LoginIn", "RefreshIn", "RegisterIn", "TokenPair")


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /auth/register``."""

    email: Email
    password: Password
    display_name: DisplayName | None = None


class LoginIn(msgspec.Struct):
    """``POST /auth/login``: ``username`` is the account's email, as in the seed document."""

    username: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class RefreshIn(msgspec.Struct):
    """``POST /auth/refresh``."""

    refresh_token: Annotated[str, msgspec.Meta(max_length=4096)]


class TokenPair(wire.TokenPair):
    """A login's tokens; ``expires_in``/``refresh_expires_in`` in seconds."""
