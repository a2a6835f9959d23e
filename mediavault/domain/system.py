"""Operations endpoints: ``GET /health`` and the vault's OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from sqlalchemy import text

from mediavault.domain.deps import ConfigDep, EngineDep, StorageDep
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.openapi import cached_vault_openapi

__all__ = ("Health", "SystemController")

logger = logging.getLogger("mediavault")


class Health(msgspec.Struct):
    """``status`` is ``ok`` or ``degraded``; ``checks`` maps each dependency to ``ok`` or ``error``."""

    status: str
    checks: dict[str, str]


class SystemController(Controller):
    """Health and API description."""

    tags = ["operations"]

    @get("/health", opt={"public": True, "rate_limit_exempt": True})
    async def health(
        self, request: Request[Any, Any, Any], mediavault_engine: EngineDep, mediavault_storage: StorageDep
    ) -> Response[Envelope[Health]]:
        """200 when the database and storage answer, 503 otherwise."""
        checks = {"database": "ok", "storage": "ok"}
        try:
            async with mediavault_engine.connect() as connection:  # no ORM session needed for a ping
                await connection.execute(text("SELECT 1"))
        except Exception:
            logger.exception("health check: database failed")
            checks["database"] = "error"
        try:
            await mediavault_storage.check()
        except Exception:
            logger.exception("health check: storage failed")
            checks["storage"] = "error"
        healthy = all(v == "ok" for v in checks.values())
        return envelope(request, Health(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503)

    @get("/schema/openapi.json", opt={"public": True}, include_in_schema=False, media_type="application/json")
    async def openapi(self, request: Request[Any, Any, Any], mediavault_config: ConfigDep) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the vault's routes (:func:`~mediavault.http.openapi.vault_openapi`)."""
        if request.app.openapi_config is None:
            raise NotFoundException()
        return cached_vault_openapi(request.app, mediavault_config)
