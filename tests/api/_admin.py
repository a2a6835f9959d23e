"""Helpers of the governance tests: an account made admin, and the vault's runtime behind a test client."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from mediavault import MediaVault
from mediavault.db.models import User
from tests.conftest import Account


def runtime(client: TestClient[Litestar]) -> Any:
    """The :class:`~mediavault.runtime.VaultRuntime` of the vault behind ``client``."""
    return client.app.plugins.get(MediaVault).runtime


def run(client: TestClient[Litestar], statement: Any) -> None:
    """Execute one write ``statement`` on the vault's database and commit (test set-up, e.g. an old row)."""
    vault = runtime(client)

    async def execute() -> None:
        async with vault.session() as session:
            await session.execute(statement)
            await session.commit()

    client.blocking_portal.call(execute)


def make_admin(account: Account) -> Account:
    """Give ``account`` the admin role, as ``mediavault users create --admin`` does for a new account."""
    run(account.client, update(User).where(User.id == uuid.UUID(account.id)).values(role="admin"))
    return account


def stored_keys(client: TestClient[Litestar]) -> set[str]:
    """Every object (and writer's temporary file) in the vault's storage."""
    vault = runtime(client)

    async def scan() -> set[str]:
        return {found.key for found in await vault.storage.scan()}

    return client.blocking_portal.call(scan)
