"""One pluggy plugin manager per vault instance (never a module-level singleton)."""

from __future__ import annotations

import pluggy

from mediavault import _builtins, hookspecs
from mediavault.config import MediaVaultConfig

__all__ = ("get_plugin_manager",)


def get_plugin_manager(config: MediaVaultConfig) -> pluggy.PluginManager:
    """Build the plugin manager of one vault: hookspecs, built-ins, entry points, ``config.plugins``.

    Raises:
        pluggy.PluginValidationError: a plugin implements a hook that does not exist or with wrong arguments.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(_builtins, name="mediavault.builtins")
    if config.load_entry_points:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
    for plugin in config.plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm
