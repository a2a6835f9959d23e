"""Compose your own vault with pluggy hooks: a header-based auth provider for an intranet.

Behind a proxy that authenticates users and sets ``X-Remote-User: <email>``, this provider maps the
header to an existing vault user. To have the vault create a user the first time one is seen, give
``MediaVaultConfig(host_identity=...)`` a function that answers a ``HostIdentity`` instead of writing a provider
(docs/embedding.md, "The host's users"; ``examples/host_users.py``).

    MEDIAVAULT_SECRET_KEY=... uvicorn examples.custom_hooks:app
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault import AuthProvider, MediaVault, MediaVaultConfig, Principal, hookimpl
from mediavault.db.models import User


class RemoteUserProvider(AuthProvider):
    """Trust ``X-Remote-User`` (only ever behind a proxy that sets it itself!)."""

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], session: AsyncSession
    ) -> Principal | None:
        email = connection.headers.get("x-remote-user")
        if not email:
            return None  # not ours: the next provider (Bearer JWT) decides
        user = await session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            return None
        return Principal(user_id=user.id, role=user.role, method="remote_user")


class IntranetPlugin:
    """A pluggy plugin: any object with ``@hookimpl`` methods."""

    @hookimpl
    def mediavault_auth_providers(self, config: MediaVaultConfig) -> list[AuthProvider]:
        return [RemoteUserProvider()]


app = Litestar(
    plugins=[
        MediaVault(
            MediaVaultConfig(
                secret_key=os.environ.get("MEDIAVAULT_SECRET_KEY", ""),
                database_url="sqlite+aiosqlite:///intranet-data/vault.db",
                storage_url="file://./intranet-data/media",
                plugins=(IntranetPlugin(),),
            )
        )
    ]
)
