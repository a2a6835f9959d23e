"""Embed Media Vault in an app that has routes of its own.

Run it from a clone of this repository (the package is not on an index yet)::

    python -m pip install .
    MEDIAVAULT_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
        uvicorn examples.minimal:app --port 8000

The host's ``GET /`` stays the host's; the vault lives under ``/api/v1`` (register at
``POST /api/v1/auth/register``). Data goes to ``./minimal-data``.
"""

from __future__ import annotations

import os

from litestar import Litestar, get

from mediavault import MediaVault, MediaVaultConfig


@get("/")
async def index() -> dict[str, str]:
    """The host app's own route, untouched by the vault."""
    return {"app": "my app", "media": "/api/v1"}


config = MediaVaultConfig(
    secret_key=os.environ.get("MEDIAVAULT_SECRET_KEY", ""),
    database_url="sqlite+aiosqlite:///minimal-data/vault.db",
    storage_url="file://./minimal-data/media",
    max_upload_size=100 * 1024 * 1024,
)

app = Litestar(route_handlers=[index], plugins=[MediaVault(config)])
