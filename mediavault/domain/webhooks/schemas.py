"""Wire shapes of webhook endpoints and their delivery log (msgspec)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import Webhook, WebhookDelivery

__all__ = ("DeliveryOut", "WebhookCreate", "WebhookCreated", "WebhookOut", "WebhookUpdate")

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
"""An absolute ``http(s)`` URL (or one a plugin transport accepts), at most 2048 characters."""
EventNames = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(min_length=1, max_length=20)]
"""One or more event names (``media.uploaded``...); unknown names are a 400 naming ``events``."""
Description = Annotated[str, msgspec.Meta(max_length=1000)]


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /webhooks``."""

    url: Url
    events: EventNames
    description: Description | None = None


class WebhookUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /webhooks/{id}``: any of ``url``, ``events``, ``description``, ``active``.

    ``active: true`` re-enables a disabled endpoint (and clears ``disabled_reason`` and the failure count).
    """

    url: Url | msgspec.UnsetType = msgspec.UNSET
    events: EventNames | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class WebhookOut(wire.Webhook):
    """An endpoint as its owner sees it (never the secret, except once in :class:`WebhookCreated`).

    ``disabled_reason``/``disabled_at`` say why and when it stopped receiving (``null`` while active);
    ``consecutive_failures`` counts deliveries in a row that failed every attempt.
    """

    @classmethod
    def of(cls, row: Webhook) -> WebhookOut:
        """Build from a row."""
        return cls(**_fields(row))


class WebhookCreated(wire.WebhookCreated):
    """The answer to ``POST /webhooks``: the endpoint and its ``secret`` (``whsec_<base64>``), shown only here."""

    @classmethod
    def of(cls, row: Webhook) -> WebhookCreated:
        """Build from a row, with its secret."""
        return cls(**_fields(row), secret=row.secret)


def _fields(row: Webhook) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "active": row.active,
        "disabled_reason": row.disabled_reason,
        "disabled_at": row.disabled_at,
        "consecutive_failures": row.consecutive_failures,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class DeliveryOut(wire.Delivery):
    """One attempt of the delivery log.

    ``status``: ``pending`` (scheduled for ``next_attempt_at``), ``succeeded`` or ``failed``.
    ``attempt`` counts from 1; ``event_id`` is the ``webhook-id`` sent (the same on every attempt).
    ``response_status`` is the receiver's HTTP status (``null`` without an answer), ``duration_ms`` how long
    the attempt took, ``error`` what went wrong (with at most a short excerpt of the receiver's answer).
    ``next_attempt_at`` is when this pending attempt, or the retry after this failed one, is due.
    ``created_at`` is when the attempt was scheduled, ``attempted_at`` when it was made.
    """

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        """Build from a row."""
        return cls(
            id=str(row.id),
            event_id=str(row.event_id),
            event=row.event,
            attempt=row.attempt,
            status=row.status,  # type: ignore[arg-type]
            response_status=row.response_status,
            duration_ms=row.duration_ms,
            error=row.error,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            attempted_at=row.attempted_at,
        )
