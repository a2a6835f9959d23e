"""Typed names of the router's shared dependencies (the keys are set in :class:`~mediavault.MediaVault`).

Each area's service dependency is named in its own ``controllers.py`` (``mediavault_<area>_service``).
"""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncEngine

from mediavault.auth.providers import Principal
from mediavault.config import MediaVaultConfig
from mediavault.storage.base import StorageBackend

__all__ = ("ClientAddressDep", "ConfigDep", "CurrentPrincipal", "EngineDep", "SharePassword", "StorageDep")

CurrentPrincipal = NamedDependency[Principal]
"""``mediavault_principal``: who is calling (found once per request by :mod:`mediavault.http.auth`)."""
ConfigDep = NamedDependency[MediaVaultConfig]
"""``mediavault_config``: the vault instance's settings (URL prefix, download and upload settings)."""
StorageDep = NamedDependency[StorageBackend]
"""``mediavault_storage``: where the bytes live (downloads, the health check)."""
EngineDep = NamedDependency[AsyncEngine]
"""``mediavault_engine``: the database engine (the health check's ping)."""
ClientAddressDep = NamedDependency[str]
"""``mediavault_client_address``: the caller's address (the TCP peer, or what trusted proxies said)."""
SharePassword = Annotated[
    str | None,
    HeaderParameter(name="X-Share-Password", description="The link's password, when it was created with one"),
]
"""The ``X-Share-Password`` header of the public share-link routes."""
