"""The reference server's API docs pages: Swagger UI at ``<prefix>/docs``, working offline.

Litestar's render plugins load Swagger UI from a CDN and show Litestar's own document. Here the page shows the
vault's document (:func:`~mediavault.http.openapi.cached_vault_openapi`, the one at
``<prefix>/schema/openapi.json``) and loads Swagger UI's script and style from ``<prefix>/docs/assets/``: the files
that the ``swagger-ui-py`` package ships (``swagger_ui/static``), so a machine without internet access still gets a
working page, with "Authorize" for both security schemes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from mediavault.http.openapi import cached_vault_openapi

if TYPE_CHECKING:
    from litestar import Request, Router

    from mediavault.config import MediaVaultConfig

__all__ = ("api_docs_config", "swagger_ui_assets")

_ASSETS = "/assets"


def swagger_ui_assets() -> Path:
    """The folder of Swagger UI's files in the installed ``swagger-ui-py`` (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed (pip install swagger-ui-py)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class _VaultSwagger(SwaggerRenderPlugin):
    """Swagger UI over the vault's document, with its assets served from ``<docs path>/assets``."""

    def __init__(self, config: MediaVaultConfig, docs_path: str) -> None:
        assets = f"{docs_path}{_ASSETS}"
        super().__init__(
            js_url=f"{assets}/swagger-ui-bundle.js",
            css_url=f"{assets}/swagger-ui.css",
            standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
            path="/",
        )
        self.vault_config = config

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, cached_vault_openapi(request.app, self.vault_config))

    def receive_router(self, router: Router) -> None:
        router.register(create_static_files_router(_ASSETS, directories=[swagger_ui_assets()], name="swagger-ui"))


class _VaultJson(JsonRenderPlugin):
    """``<docs path>/openapi.json``: the vault's document too, so the docs never show two versions of the API."""

    def __init__(self, config: MediaVaultConfig) -> None:
        super().__init__()
        self.vault_config = config

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, cached_vault_openapi(request.app, self.vault_config))


def api_docs_config(config: MediaVaultConfig, title: str, version: str) -> OpenAPIConfig:
    """Litestar's OpenAPI config for an app that is only a vault: Swagger UI at ``<prefix>/docs`` (offline)."""
    path = f"{config.path_prefix}/docs"
    return OpenAPIConfig(
        title=title,
        version=version,
        path=path,
        render_plugins=[_VaultSwagger(config, path), _VaultJson(config)],
    )
