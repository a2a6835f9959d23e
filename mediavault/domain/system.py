"""Operations endpoints: ``GET /health`` and the vault's OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException

from mediavault.domain.deps import ConfigDep, EngineDep
from mediavault.domain.health import HealthProbe
from mediavault.http.envelope import Envelope, envelope
from mediavault.http.openapi import cached_vault_openapi
from mediavault.http.routes import get

__all__ = ("Health", "HealthProbeDep", "SystemController")

HealthProbeDep = NamedDependency[HealthProbe]
"""``mediavault_health``: the instance's health checks (cached per process)."""


class Health(msgspec.Struct):
    """``status`` is ``ok`` or ``degraded``; ``checks`` maps each dependency to ``ok`` or ``error``."""

    status: str
    checks: dict[str, str]


class SystemController(Controller):
    """Health and API description."""

    tags = ["operations"]

    @get("/health", opt={"public": True, "rate_limit_exempt": True})
    async def health(
        self, request: Request[Any, Any, Any], mediavault_engine: EngineDep, mediavault_health: HealthProbeDep
    ) -> Response[Envelope[Health]]:
        """200 when the database and storage answer (and local storage has room), 503 otherwise; the checks'
        result is reused for ``health_cache_ttl`` seconds."""
        checks = await mediavault_health.checks(mediavault_engine)
        healthy = all(v == "ok" for v in checks.values())
        return envelope(request, Health(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503)

    @get("/schema/openapi.json", opt={"public": True}, include_in_schema=False, media_type="application/json")
    async def openapi(self, request: Request[Any, Any, Any], mediavault_config: ConfigDep) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the vault's routes (:func:`~mediavault.http.openapi.vault_openapi`)."""
        if request.app.openapi_config is None:
            raise NotFoundException()
        return cached_vault_openapi(request.app, mediavault_config)
