"""A Starlette app with a media vault mounted at ``/media`` (docs/embedding.md, "Starlette and FastAPI hosts")."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from mediavault import MediaVaultConfig
from mediavault.asgi import create_vault_app


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


def create_app(config: MediaVaultConfig) -> Starlette:
    vault = create_vault_app(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with vault.lifespan():  # Mount forwards no lifespan events: the host runs the vault's
            yield

    return Starlette(routes=[Route("/hello", hello), Mount("/media", app=vault)], lifespan=lifespan)
