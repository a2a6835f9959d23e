"""The vault as an ASGI app of its own, for hosts that are not Litestar apps (Starlette, FastAPI, any ASGI router).

``create_vault_app(config)`` is a Litestar app holding one :class:`~mediavault.MediaVault`; the host mounts it
(``Mount("/media", app=vault)``) and runs its lifespan inside the host's own, because a mounted app gets no lifespan
events of its own (Starlette's ``Mount`` forwards none)::

    vault = create_vault_app(MediaVaultConfig(...))

    @asynccontextmanager
    async def lifespan(app):
        async with vault.lifespan():  # migrations, workers, the realtime broker; stopped at shutdown
            yield

Under the mount every vault path gains the mount path (``root_path``): ``/media/api/v1/...``, the realtime socket at
``/media/realtime``.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from mediavault.config import MediaVaultConfig
from mediavault.plugin import MediaVault

__all__ = ("create_vault_app",)


def create_vault_app(config: MediaVaultConfig, **litestar_options: Any) -> Litestar:
    """A Litestar app serving only the vault of ``config``, to mount in another ASGI app.

    Args:
        config: the vault's settings.
        litestar_options: more :class:`~litestar.Litestar` arguments (e.g. ``debug``, ``plugins`` added after
            the vault's).

    Returns:
        The app; enter ``app.lifespan()`` in the host's lifespan before serving requests.
    """
    plugins = [MediaVault(config), *litestar_options.pop("plugins", ())]
    return Litestar(plugins=plugins, **litestar_options)
