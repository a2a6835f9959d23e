"""Webhook endpoints of the principal: create (secret shown once), list, read, change, delete, delivery log."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.models import Webhook, WebhookDelivery, utcnow
from mediavault.db.webhooks import DeliveryRepository, WebhookRepository
from mediavault.domain.ownership import get_owned
from mediavault.errors import ValidationError
from mediavault.events import EVENT_NAMES
from mediavault.webhooks.guard import TargetRefused
from mediavault.webhooks.signing import new_secret

__all__ = ("WebhookService", "check_events")


def check_events(names: list[str]) -> list[str]:
    """Event names without duplicates, in the order given.

    Raises:
        ValidationError: a name is not one of :data:`~mediavault.events.EVENT_NAMES` (field ``events``).
    """
    unknown = [n for n in names if n not in EVENT_NAMES]
    if unknown:
        known = ", ".join(sorted(EVENT_NAMES))
        raise ValidationError.for_field("events", f"unknown event {unknown[0]!r} (known: {known})")
    return list(dict.fromkeys(names))


class WebhookService:
    """The principal's webhook endpoints, for one request's session.

    Args:
        session: the request's database session (the service commits it).
        check_url: refuses a target URL with :class:`~mediavault.webhooks.guard.TargetRefused` (no transport
            for it, or the SSRF guard; :meth:`~mediavault.webhooks.worker.WebhookWorker.check_url`).
    """

    def __init__(self, session: AsyncSession, *, check_url: Callable[[str], Awaitable[None]]) -> None:
        self.session = session
        self.check_url = check_url
        self.webhooks = WebhookRepository(session=session)
        self.deliveries = DeliveryRepository(session=session)

    async def _check_url(self, url: str) -> str:
        url = url.strip()
        try:
            await self.check_url(url)
        except TargetRefused as exc:
            raise ValidationError.for_field("url", str(exc)) from exc
        return url

    async def create(self, principal: Principal, *, url: str, events: list[str], description: str | None) -> Webhook:
        """Register an endpoint with a new ``whsec_`` secret; it receives events about the principal's resources.

        Raises:
            ValidationError: ``url`` refused (not http(s), or resolves to a non-public address while
                ``allow_private_webhook_targets`` is off), or an unknown name in ``events``.
        """
        names = check_events(events)
        webhook = Webhook(
            owner_id=principal.user_id,
            url=await self._check_url(url),
            events=names,
            description=description,
            secret=new_secret(),
        )
        await self.webhooks.add(webhook)
        await self.session.commit()
        return webhook

    async def get(self, principal: Principal, webhook_id: str) -> Webhook:
        """The principal's endpoint ``webhook_id``.

        Raises:
            NotFound: unknown, malformed, host-level or someone else's id (existence is not revealed).
        """
        return await get_owned(self.session, Webhook, principal, webhook_id, what="Webhook")

    async def list_page(self, principal: Principal, *, page: int, per_page: int) -> tuple[list[Webhook], int]:
        """One page of the principal's endpoints (newest first) and their total."""
        return await self.webhooks.page_for_owner(principal.user_id, offset=(page - 1) * per_page, limit=per_page)

    async def update(
        self,
        principal: Principal,
        webhook_id: str,
        *,
        url: str | msgspec.UnsetType = msgspec.UNSET,
        events: builtins.list[str] | msgspec.UnsetType = msgspec.UNSET,
        description: str | msgspec.UnsetType | None = msgspec.UNSET,
        active: bool | msgspec.UnsetType = msgspec.UNSET,
    ) -> Webhook:
        """Change ``url``, ``events``, ``description`` or ``active``.

        ``active: true`` re-enables a disabled endpoint (failure count and reason cleared); ``false``
        disables it (its pending attempts are marked failed).

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: as :meth:`create`.
        """
        webhook = await self.get(principal, webhook_id)
        if url is not msgspec.UNSET:
            webhook.url = await self._check_url(url)
        if events is not msgspec.UNSET:
            webhook.events = check_events(events)
        if description is not msgspec.UNSET:
            webhook.description = description
        if active is True and not webhook.active:
            webhook.enable()
        elif active is False and webhook.active:
            webhook.active, webhook.disabled_reason, webhook.disabled_at = False, "disabled by its owner", utcnow()
            await self.deliveries.fail_pending(webhook.id, "not sent: the endpoint was disabled")
        webhook.updated_at = utcnow()
        await self.session.commit()
        await self.session.refresh(webhook)
        return webhook

    async def delete(self, principal: Principal, webhook_id: str) -> None:
        """Delete the endpoint and its delivery log; nothing more is sent to it.

        Raises:
            NotFound: as :meth:`get`.
        """
        webhook = await self.get(principal, webhook_id)
        # The attempts' rows first, then the endpoint: the delivery worker's order (it records an attempt, then
        # inserts the retry, which takes a key-share lock on the endpoint). Deleting the endpoint first and letting
        # its cascade wait for an attempt's row deadlocked with that worker on PostgreSQL.
        await self.deliveries.delete_for_webhook(webhook.id)
        await self.session.delete(webhook)
        await self.session.commit()

    async def deliveries_page(
        self, principal: Principal, webhook_id: str, *, page: int, per_page: int
    ) -> tuple[builtins.list[WebhookDelivery], int]:
        """One page of the endpoint's attempts, newest first, and their total.

        Raises:
            NotFound: as :meth:`get`.
        """
        webhook = await self.get(principal, webhook_id)
        return await self.deliveries.page_for_webhook(webhook.id, offset=(page - 1) * per_page, limit=per_page)
