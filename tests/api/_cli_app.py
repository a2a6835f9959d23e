"""A host app for the ``litestar mediavault`` command tests (configured through ``MV_TEST_DIR``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from litestar import Litestar, get

from mediavault import MediaVault
from tests.conftest import make_config


@get("/host")
async def host_route() -> str:
    return "host"


def create_app(auto_migrate: bool = False) -> Litestar:
    root = Path(os.environ["MV_TEST_DIR"])
    configs = [make_config(root / name, auto_migrate=False, path_prefix=f"/{name}") for name in ("one", "two")]
    return Litestar(
        route_handlers=[host_route],
        plugins=[MediaVault(dataclasses.replace(config, auto_migrate=auto_migrate)) for config in configs],
    )


def create_migrating_app() -> Litestar:
    """The same app, its vaults with ``auto_migrate`` on (their databases still new: no migrated copy)."""
    return create_app(auto_migrate=True)
