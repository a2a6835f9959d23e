"""A host app for the ``litestar mediavault migrate`` test (configured through ``MV_TEST_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, get

from mediavault import MediaVault
from tests.conftest import make_config


@get("/host")
async def host_route() -> str:
    return "host"


def create_app() -> Litestar:
    root = Path(os.environ["MV_TEST_DIR"])
    return Litestar(
        route_handlers=[host_route],
        plugins=[
            MediaVault(make_config(root / "one", auto_migrate=False, path_prefix="/one")),
            MediaVault(make_config(root / "two", auto_migrate=False, path_prefix="/two")),
        ],
    )
