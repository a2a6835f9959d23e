"""A FastAPI app with a media vault mounted at ``/media`` (docs/embedding.md, "Starlette and FastAPI hosts")."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mediavault import MediaVaultConfig
from mediavault.asgi import create_vault_app


def create_app(config: MediaVaultConfig) -> FastAPI:
    vault = create_vault_app(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with vault.lifespan():  # migrations, workers, realtime broker: started and stopped with the host
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.mount("/media", vault)  # the vault at /media/api/v1/..., its realtime socket at /media/realtime
    return app
