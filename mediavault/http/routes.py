"""The route handler decorators of the vault's controllers: Litestar's (``get``, ``post``, ``put``, ``patch``,
``delete``, ``head``, ``route``), resolving a handler's dependencies one after another.

Litestar resolves the dependencies a handler needs at the same depth (say ``mediavault_principal`` and
``mediavault_media_service``) concurrently, each in a task of an anyio task group; the vault's dependencies are
values already at hand (the principal the authentication middleware found, a service built on the request's session,
the settings) and never wait on anything, so that task group was pure cost: 0.35 M instructions of a 2.0 M
``GET /users/me`` (``benchmarks/instructions.py``; Litestar issue #4563). These handlers keep Litestar's order (a
dependency after the ones it depends on) with one dependency per batch, which Litestar awaits in place.

The decorators are functions building an :class:`InPlaceRouteHandler` (Litestar deprecates subclassing its
``get``/``post``/... classes, and makes them functions in 3.0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler

if TYPE_CHECKING:
    from litestar._kwargs import KwargsModel
    from litestar.types.internal_types import PathParameterDefinition

__all__ = ("InPlaceRouteHandler", "delete", "get", "head", "patch", "post", "put", "route")


class InPlaceRouteHandler(HTTPRouteHandler):
    """Litestar's ``HTTPRouteHandler`` (``route``), its dependencies resolved in sequence in the request's own task."""

    def create_kwargs_model(self, path_parameters: dict[str, PathParameterDefinition]) -> KwargsModel:
        model = super().create_kwargs_model(path_parameters)
        model.dependency_batches = [{dependency} for batch in model.dependency_batches for dependency in batch]
        return model


route = InPlaceRouteHandler
"""``@route(path, http_method=[...], ...)``: a handler of several methods."""

Decorator = Callable[..., InPlaceRouteHandler]
"""``@get(path, **options)``: Litestar's options of a route handler (``status_code``, ``opt``, ...)."""


def _for(method: HttpMethod) -> Decorator:
    def decorator(path: str | Sequence[str] | None = None, **options: Any) -> InPlaceRouteHandler:
        return InPlaceRouteHandler(path, http_method=method, **options)

    decorator.__name__ = decorator.__qualname__ = method.value.lower()
    decorator.__doc__ = f"Litestar's ``{method.value.lower()}``, dependencies resolved in place."
    return decorator


get, post, put, patch, delete, head = map(
    _for, (HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.HEAD)
)
