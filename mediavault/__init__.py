"""Media Vault: a media vault API for any Litestar application, as one plugin.

.. code-block:: python

    from litestar import Litestar
    from mediavault import MediaVault, MediaVaultConfig

    app = Litestar(plugins=[MediaVault(MediaVaultConfig(secret_key=...))])
"""

from mediavault.auth.providers import AuthProvider, Principal
from mediavault.config import MediaVaultConfig, WebhookEndpoint
from mediavault.hookspecs import hookimpl
from mediavault.plugin import MediaVault
from mediavault.storage.base import StorageBackend, StorageWriter

__all__ = (
    "AuthProvider",
    "MediaVault",
    "MediaVaultConfig",
    "Principal",
    "StorageBackend",
    "StorageWriter",
    "WebhookEndpoint",
    "hookimpl",
)
