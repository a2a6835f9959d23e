"""Prometheus metrics of one vault (``metrics_enabled``), with ``prometheus-client`` and a registry of its own.

=============================================  =========  =====================================================
metric                                         type       labels / meaning
=============================================  =========  =====================================================
``mediavault_http_requests_total``             counter    ``method``, ``route`` (the route template, e.g.
                                                          ``/api/v1/media/{media_id}``), ``status``
``mediavault_http_request_duration_seconds``   histogram  ``method``, ``route``, ``status``: until the last
                                                          byte of the answer was handed to the server
``mediavault_http_received_bytes_total``       counter    ``route``: request body bytes (uploads)
``mediavault_http_sent_bytes_total``           counter    ``route``: response body bytes (downloads)
``mediavault_rate_limit_rejections_total``     counter    ``tier``: requests answered 429
``mediavault_processing_items``                gauge      ``status`` (``pending``, ``failed``): the processing
                                                          backlog and its failures, counted when scraped
``mediavault_webhook_deliveries``              gauge      ``status`` (``pending``, ``failed``): delivery attempts
                                                          waiting and failed, counted when scraped
=============================================  =========  =====================================================

The route label is the template, never the path itself, so ids cannot blow up the number of series. Counters live
in each process: with several processes, scrape each one (or sum what one scrape of each gives).
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any, cast

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from mediavault.db.models import MediaProcessing, WebhookDelivery
from mediavault.domain.deps import ConfigDep, EngineDep
from mediavault.errors import Unauthorized
from mediavault.http.routes import get

if TYPE_CHECKING:
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ("MetricsController", "MetricsDep", "MetricsMiddleware", "VaultMetrics")

BACKLOG_STATUSES = ("pending", "failed")


class VaultMetrics:
    """The metrics of one vault instance (see the module docstring), in :attr:`registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        request_labels = ("method", "route", "status")
        self.requests = Counter(
            "mediavault_http_requests_total", "HTTP requests answered", request_labels, registry=self.registry
        )
        self.duration = Histogram(
            "mediavault_http_request_duration_seconds",
            "Time from a request's start to the last byte of its answer, in seconds",
            request_labels,
            registry=self.registry,
        )
        self.received = Counter(
            "mediavault_http_received_bytes_total", "Request body bytes received", ("route",), registry=self.registry
        )
        self.sent = Counter(
            "mediavault_http_sent_bytes_total", "Response body bytes sent", ("route",), registry=self.registry
        )
        self.rate_limited = Counter(
            "mediavault_rate_limit_rejections_total",
            "Requests refused with 429 by the rate limiter",
            ("tier",),
            registry=self.registry,
        )
        self.processing = Gauge(
            "mediavault_processing_items", "Media items not done processing", ("status",), registry=self.registry
        )
        self.webhooks = Gauge(
            "mediavault_webhook_deliveries", "Webhook delivery attempts by status", ("status",), registry=self.registry
        )

    def rate_limited_by(self, tier: str) -> None:
        """Count one request refused by the rate limiter's ``tier`` (``address``, ``user``, ``api_key``)."""
        self.rate_limited.labels(tier).inc()

    async def exposition(self, engine: AsyncEngine) -> bytes:
        """The registry in Prometheus' text format, with the backlog gauges counted now (two indexed queries)."""
        async with engine.connect() as connection:
            for gauge, model in ((self.processing, MediaProcessing), (self.webhooks, WebhookDelivery)):
                rows = await connection.execute(
                    select(model.status, func.count()).where(model.status.in_(BACKLOG_STATUSES)).group_by(model.status)
                )
                counts = dict(rows.tuples().all())
                for status in BACKLOG_STATUSES:
                    gauge.labels(status).set(counts.get(status, 0))
        return generate_latest(self.registry)


MetricsDep = NamedDependency[VaultMetrics]
"""``mediavault_metrics``: the vault's :class:`VaultMetrics` (only when ``metrics_enabled``)."""


class MetricsMiddleware(ASGIMiddleware):
    """Router middleware (outermost when ``metrics_enabled``): counts, times and measures every vault request."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: VaultMetrics) -> None:
        self.metrics = metrics

    def __deepcopy__(self, _memo: dict[int, Any]) -> MetricsMiddleware:
        return self  # Litestar deep-copies routers on registration; the registry is shared, never copied

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        start = time.perf_counter()
        status, received, sent = 500, 0, 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))  # type: ignore[arg-type]
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, counting_receive, counting_send)
        except Exception as exc:  # answered outside this middleware (e.g. the rate limiter's 429): its status
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            metrics, route = self.metrics, scope.get("path_template") or "unknown"
            labels = (cast("HTTPScope", scope)["method"], route, str(status))  # scopes = (HTTP,): always set
            metrics.requests.labels(*labels).inc()
            metrics.duration.labels(*labels).observe(time.perf_counter() - start)
            if received:
                metrics.received.labels(route).inc(received)
            if sent:
                metrics.sent.labels(route).inc(sent)


class MetricsController(Controller):
    """``GET /metrics``: the vault's Prometheus metrics, for a scraper holding ``metrics_token``."""

    include_in_schema = False

    @get("/metrics", opt={"public": True, "rate_limit_exempt": True}, include_in_schema=False)
    async def metrics(
        self,
        request: Request[Any, Any, Any],
        mediavault_config: ConfigDep,
        mediavault_engine: EngineDep,
        mediavault_metrics: MetricsDep,
    ) -> Response[bytes]:
        """Prometheus text format; ``Authorization: Bearer <metrics_token>`` required (401 otherwise).

        Raises:
            Unauthorized: missing or wrong token.
        """
        given = request.headers.get("authorization", "")
        expected = f"Bearer {mediavault_config.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("Metrics need Authorization: Bearer <metrics_token>")
        body = await mediavault_metrics.exposition(mediavault_engine)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
