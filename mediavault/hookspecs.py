"""Every extension point of Media Vault, as pluggy hook specifications.

Plugins implement them with :data:`hookimpl` and are registered per vault instance, through the
``mediavault`` entry-point group or :attr:`MediaVaultConfig.plugins
<mediavault.config.MediaVaultConfig.plugins>`. The built-in behaviour is itself a set of
``trylast`` implementations (:mod:`mediavault._builtins`), so any installed plugin wins by being there.
Hooks are called once, at start-up; their answers become the instance's dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from mediavault.auth.providers import AuthProvider
    from mediavault.config import MediaVaultConfig
    from mediavault.storage.base import StorageBackend

__all__ = ("PROJECT_NAME", "hookimpl", "hookspec")

PROJECT_NAME = "mediavault"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker of Media Vault's hook specifications."""
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for plugin implementations: ``@hookimpl def mediavault_storage_backend(config): ...``."""


@hookspec(firstresult=True)
def mediavault_storage_backend(config: MediaVaultConfig) -> StorageBackend | None:
    """Return the :class:`~mediavault.storage.base.StorageBackend` for ``config.storage_url``.

    The first non-``None`` answer wins. Return ``None`` to leave a URL to other plugins. The
    built-in implementation wraps ``fsspec.core.url_to_fs`` (``file://``, ``memory://``, ``s3://``...).

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            @hookimpl
            def mediavault_storage_backend(config):
                if config.storage_url.startswith("encrypted+"):
                    return EncryptedStorage(config.storage_url.removeprefix("encrypted+"))
                return None
    """


@hookspec
def mediavault_auth_providers(config: MediaVaultConfig) -> list[AuthProvider]:
    """Return extra :class:`~mediavault.auth.providers.AuthProvider` objects (OIDC, LDAP, a host's own users).

    Every plugin's providers are tried in turn for each request; the first that recognises its
    credentials decides. The built-in provider (``trylast``) checks ``Authorization: Bearer <JWT>``.

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            @hookimpl
            def mediavault_auth_providers(config):
                return [HeaderProvider("X-Remote-User")]
    """
