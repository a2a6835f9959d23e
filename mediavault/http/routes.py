"""The route handler decorators of the vault's controllers: Litestar's (``get``, ``post``, ``put``, ``patch``,
``delete``, ``head``, ``route``), resolving a handler's dependencies one after another.

Litestar resolves the dependencies a handler needs at the same depth (say ``mediavault_principal`` and
``mediavault_media_service``) concurrently, each in a task of an anyio task group; the vault's dependencies are
values already at hand (the principal the authentication middleware found, a service built on the request's session,
the settings) and never wait on anything, so that task group was pure cost: 0.35 M instructions of a 2.0 M
``GET /users/me`` (``benchmarks/instructions.py``; Litestar issue #4563). These handlers keep Litestar's order (a
dependency after the ones it depends on) with one dependency per batch, which Litestar awaits in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import litestar

if TYPE_CHECKING:
    from litestar._kwargs import KwargsModel
    from litestar.types.internal_types import PathParameterDefinition

__all__ = ("delete", "get", "head", "patch", "post", "put", "route")


class _InPlaceDependencies(litestar.handlers.HTTPRouteHandler):
    """A route handler whose dependencies are resolved in sequence, each awaited in the request's own task."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Litestar 2's get, post, ... warn when subclassed (DeprecationWarning: they become functions in Litestar 3),
        # which a host whose tests turn warnings into errors would get on importing the vault: skip their hook.
        super(litestar.handlers.HTTPRouteHandler, cls).__init_subclass__(**kwargs)

    def create_kwargs_model(self, path_parameters: dict[str, PathParameterDefinition]) -> KwargsModel:
        model = super().create_kwargs_model(path_parameters)
        model.dependency_batches = [{dependency} for batch in model.dependency_batches for dependency in batch]
        return model


class get(_InPlaceDependencies, litestar.get):
    """Litestar's ``get``, dependencies resolved in place."""


class post(_InPlaceDependencies, litestar.post):
    """Litestar's ``post``, dependencies resolved in place."""


class put(_InPlaceDependencies, litestar.put):
    """Litestar's ``put``, dependencies resolved in place."""


class patch(_InPlaceDependencies, litestar.patch):
    """Litestar's ``patch``, dependencies resolved in place."""


class delete(_InPlaceDependencies, litestar.delete):
    """Litestar's ``delete``, dependencies resolved in place."""


class head(_InPlaceDependencies, litestar.head):
    """Litestar's ``head``, dependencies resolved in place."""


route = _InPlaceDependencies
"""Litestar's ``route`` (several methods), dependencies resolved in place."""
