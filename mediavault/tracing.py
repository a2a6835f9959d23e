"""OpenTelemetry tracing of one vault's requests (``tracing_enabled``), through Litestar's OpenTelemetry plugin.

Each request the vault's router answers becomes a server span named ``<METHOD> <route template>`` (e.g.
``GET /api/v1/media/{media_id}``) carrying the OpenTelemetry HTTP semantic conventions (``http.route``, the
response status, ...) and ``mediavault.request_id`` (the ``X-Request-ID`` of the answer). Only the vault's own
routes are traced: the middleware sits on the vault's router, never on the host's app.

The spans go to the *global* tracer provider: the operator configures it and its exporters (``opentelemetry-instrument``
or their own ``trace.set_tracer_provider(...)``; ``docs/deployment.md``, "Tracing"). Needs ``mediavault[otel]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediavault.http.envelope import request_id

if TYPE_CHECKING:
    from litestar.middleware import DefineMiddleware
    from litestar.types import Scope
    from opentelemetry.trace import Span

__all__ = ("REQUEST_ID_ATTRIBUTE", "tracing_middleware")

REQUEST_ID_ATTRIBUTE = "mediavault.request_id"


def tracing_middleware() -> DefineMiddleware:
    """The OpenTelemetry ASGI middleware (Litestar's ``OpenTelemetryConfig``) for the vault's router.

    Raises:
        RuntimeError: the ``otel`` extra (``opentelemetry-instrumentation-asgi``) is not installed.
    """
    try:
        from litestar.plugins.opentelemetry import OpenTelemetryConfig
    except ImportError as exc:  # litestar's MissingDependencyException is an ImportError too
        raise RuntimeError(
            "tracing_enabled needs OpenTelemetry: pip install 'mediavault[otel]' "
            "(opentelemetry-instrumentation-asgi and opentelemetry-sdk)"
        ) from exc
    config = OpenTelemetryConfig(
        scope_span_details_extractor=_span_details, server_request_hook_handler=_tag_request_id
    )
    return config.middleware


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    """Span name and attributes from the route template, never the raw path (ids would make every name unique)."""
    route = scope.get("path_template") or scope.get("path", "")
    method = scope.get("method")
    return (f"{method} {route}" if method else route), {"http.route": route}


def _tag_request_id(span: Span, scope: dict[str, Any]) -> None:
    if span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id(scope))  # type: ignore[arg-type]
