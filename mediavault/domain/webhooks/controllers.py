"""``/webhooks``: the caller's webhook endpoints and their delivery logs."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediavault.auth.scopes import SCOPE_OPT
from mediavault.domain.deps import CurrentPrincipal
from mediavault.domain.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut, WebhookUpdate
from mediavault.domain.webhooks.services import WebhookService
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import delete, get, patch, post

__all__ = ("WebhookController", "WebhookServiceDep")

WebhookServiceDep = NamedDependency[WebhookService]
"""``mediavault_webhook_service``."""


class WebhookController(Controller):
    """The caller's webhook endpoints (Standard Webhooks signed, retried, logged)."""

    path = "/webhooks"
    tags = ["webhooks"]
    opt = {SCOPE_OPT: "webhooks"}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[WebhookCreate],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
    ) -> Response[Envelope[WebhookCreated]]:
        """Register ``url`` for ``events``; the answer holds the signing ``secret`` (``whsec_...``), shown once.

        A refused URL (not http(s); loopback, private, link-local... unless private targets are allowed)
        or an unknown event name → 400 naming ``url`` or ``events``."""
        webhook = await mediavault_webhook_service.create(
            mediavault_principal, url=data.url, events=data.events, description=data.description
        )
        return envelope(request, WebhookCreated.of(webhook), HTTP_201_CREATED)

    @get("/")
    async def list_webhooks(
        self,
        request: Request[Any, Any, Any],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[WebhookOut]]]:
        """The caller's endpoints, newest first, paginated."""
        items, total = await mediavault_webhook_service.list_page(mediavault_principal, page=page, per_page=per_page)
        return paginated(
            request, [WebhookOut.of(w) for w in items], total=total, page=page, per_page=per_page, path="/webhooks"
        )

    @get("/{webhook_id:str}")
    async def get_webhook(
        self,
        request: Request[Any, Any, Any],
        webhook_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
    ) -> Response[Envelope[WebhookOut]]:
        """One endpoint of the caller (someone else's → 404)."""
        return envelope(request, WebhookOut.of(await mediavault_webhook_service.get(mediavault_principal, webhook_id)))

    @patch("/{webhook_id:str}")
    async def update_webhook(
        self,
        request: Request[Any, Any, Any],
        webhook_id: FromPath[str],
        data: JSONBody[WebhookUpdate],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
    ) -> Response[Envelope[WebhookOut]]:
        """Change ``url``, ``events``, ``description`` or ``active`` (``true`` re-enables a disabled endpoint)."""
        webhook = await mediavault_webhook_service.update(
            mediavault_principal,
            webhook_id,
            url=data.url,
            events=data.events,
            description=data.description,
            active=data.active,
        )
        return envelope(request, WebhookOut.of(webhook))

    @delete("/{webhook_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_webhook(
        self,
        webhook_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
    ) -> None:
        """Delete the endpoint and its delivery log."""
        await mediavault_webhook_service.delete(mediavault_principal, webhook_id)

    @get("/{webhook_id:str}/deliveries")
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        webhook_id: FromPath[str],
        mediavault_principal: CurrentPrincipal,
        mediavault_webhook_service: WebhookServiceDep,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[DeliveryOut]]]:
        """The endpoint's delivery log: one row per attempt, newest first, paginated."""
        items, total = await mediavault_webhook_service.deliveries_page(
            mediavault_principal, webhook_id, page=page, per_page=per_page
        )
        return paginated(
            request,
            [DeliveryOut.of(d) for d in items],
            total=total,
            page=page,
            per_page=per_page,
            path=f"/webhooks/{webhook_id}/deliveries",
        )
