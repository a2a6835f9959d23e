"""The vault's routes resolve their dependencies in place (``mediavault.http.routes``): a controller that took
Litestar's own ``get``/``post``/... would have its dependencies resolved in an anyio task group again, 0.35 M
instructions a request (``benchmarks/instructions.py``)."""

from __future__ import annotations

from pathlib import Path

from litestar.routes import HTTPRoute

from mediavault.http.routes import InPlaceRouteHandler
from mediavault.server import create_app, load_config


def test_every_vault_route_resolves_one_dependency_at_a_time(tmp_path: Path) -> None:
    config = load_config(
        tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'v.db'}", storage_url=tmp_path.as_uri()
    )
    app = create_app(config)
    handlers = [
        (route.path, handler, model)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler, model in route.route_handler_map.values()
        if handler.fn.__module__.startswith("mediavault.")  # not Litestar's own OPTIONS and docs handlers
    ]
    assert len(handlers) > 60
    concurrent = [
        (path, handler) for path, handler, model in handlers if any(len(b) > 1 for b in model.dependency_batches)
    ]
    assert concurrent == []
    assert all(isinstance(handler, InPlaceRouteHandler) for _, handler, _ in handlers)
