"""Media Vault: a media vault API for any Litestar application, as one plugin.

.. code-block:: python

    from litestar import Litestar
    from mediavault import MediaVault, MediaVaultConfig

    app = Litestar(plugins=[MediaVault(MediaVaultConfig(secret_key=...))])

The names below are imported on first use (PEP 562), so ``import mediavault.<module>`` loads only what that module
needs: the ``mediavault`` command lists and runs the server's commands without loading Litestar and SQLAlchemy first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediavault.auth.host import HostIdentity
    from mediavault.auth.providers import AuthProvider, Principal
    from mediavault.config import MediaVaultConfig, WebhookEndpoint
    from mediavault.hookspecs import hookimpl
    from mediavault.inprocess.api import VaultAPI
    from mediavault.plugin import MediaVault
    from mediavault.storage.base import StorageBackend, StorageWriter

__all__ = (
    "AuthProvider",
    "HostIdentity",
    "MediaVault",
    "MediaVaultConfig",
    "Principal",
    "StorageBackend",
    "StorageWriter",
    "VaultAPI",
    "WebhookEndpoint",
    "hookimpl",
)

_HOMES = {
    "AuthProvider": "mediavault.auth.providers",
    "HostIdentity": "mediavault.auth.host",
    "MediaVault": "mediavault.plugin",
    "MediaVaultConfig": "mediavault.config",
    "Principal": "mediavault.auth.providers",
    "StorageBackend": "mediavault.storage.base",
    "StorageWriter": "mediavault.storage.base",
    "VaultAPI": "mediavault.inprocess.api",
    "WebhookEndpoint": "mediavault.config",
    "hookimpl": "mediavault.hookspecs",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'mediavault' has no attribute {name!r}")
    try:
        module = importlib.import_module(_HOMES[name])
    except AttributeError as exc:  # raised while importing: `from mediavault import X` would hide it as "cannot import"
        raise ImportError(f"importing {_HOMES[name]} for mediavault.{name} failed: {exc}") from exc
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
