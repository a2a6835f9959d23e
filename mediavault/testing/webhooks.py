"""The :class:`~mediavault.webhooks.WebhookTransport` contract as a test suite: subclass
:class:`WebhookTransportContract`, override its ``transport``, ``url`` and ``delivered`` fixtures, and pytest runs
every check on your transport. The built-in HTTP transport, the JSON-lines plugin's and
:class:`~mediavault.testing.vault.WebhookSink` run it (docs/testing.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

import pytest
from standardwebhooks import Webhook

from mediavault.webhooks import WebhookMessage, WebhookTransport
from mediavault.webhooks.signing import new_secret, signed_headers

__all__ = ("Delivered", "WebhookTransportContract", "signed_message")

Delivered = Callable[[int], list[tuple[bytes, Mapping[str, str]]]]
"""``delivered(count)``: the body and headers of the first ``count`` deliveries that reached the other end, in
order, once that many have (waiting for them as long as the transport may take)."""


def signed_message(url: str, secret: str, *, attempt: int = 1, event_id: str | None = None) -> WebhookMessage:
    """A ``media.uploaded`` message to ``url`` signed with ``secret``, as the delivery worker makes them."""
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    body = json.dumps(
        {"id": event_id, "event": "media.uploaded", "data": {"id": "m1"}, "timestamp": "2026-01-01T00:00:00Z"}
    ).encode()
    headers = {"content-type": "application/json", **signed_headers(secret, event_id, body)}
    return WebhookMessage(
        url=url, body=body, headers=headers, event_id=event_id, event="media.uploaded", attempt=attempt, timeout=5.0
    )


async def _send_then_close(transport: WebhookTransport, *messages: WebhookMessage) -> list[int]:
    """Send each message in turn, then ``aclose`` the transport (as the vault does when it stops); the statuses,
    any 2xx counted as 200 (a queue may answer 202)."""
    try:
        statuses = [(await transport.send(message)).status_code for message in messages]
    finally:
        await transport.aclose()
    return [200 if 200 <= status < 300 else status for status in statuses]


class WebhookTransportContract:
    """What every webhook transport must do (docs/hooks.md, ``mediavault_webhook_transports``).

    Subclass it as ``Test...`` and override three fixtures::

        class TestQueueTransport(WebhookTransportContract):
            @pytest.fixture
            def transport(self, queue):
                return QueueTransport(queue)

            @pytest.fixture
            def url(self):
                return "queue://audit"

            @pytest.fixture
            def delivered(self, queue):
                return lambda count: [(m.body, m.headers) for m in queue.wait_for(count)]
    """

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def transport(self) -> WebhookTransport:
        """The transport under test. Override it."""
        raise NotImplementedError("override the `transport` fixture to build the transport under test")

    @pytest.fixture
    def url(self) -> str:
        """A URL the transport delivers to (and the other end of ``delivered`` watches). Override it."""
        raise NotImplementedError("override the `url` fixture")

    @pytest.fixture
    def delivered(self) -> Delivered:
        """What reached the other end (:data:`Delivered`). Override it."""
        raise NotImplementedError("override the `delivered` fixture")

    def test_handles_and_accepts_its_url(self, transport: WebhookTransport, url: str) -> None:
        assert transport.handles(url)
        transport.check_url(url)  # raises ValueError for a URL a user may not register

    def test_leaves_other_schemes_alone(self, transport: WebhookTransport) -> None:
        assert not transport.handles("no-such-scheme://example.com/hook")

    @pytest.mark.anyio
    async def test_delivers_the_signed_message_intact(
        self, transport: WebhookTransport, url: str, delivered: Delivered
    ) -> None:
        secret = new_secret()
        message = signed_message(url, secret)
        assert await _send_then_close(transport, message) == [200]
        ((body, headers),) = delivered(1)
        assert body == message.body  # the exact bytes that were signed
        headers = {name.lower(): value for name, value in headers.items()}
        assert headers["webhook-id"] == message.event_id
        assert Webhook(secret).verify(body, headers)["id"] == message.event_id  # Standard Webhooks signature

    @pytest.mark.anyio
    async def test_each_attempt_is_one_delivery(
        self, transport: WebhookTransport, url: str, delivered: Delivered
    ) -> None:
        secret = new_secret()
        first = signed_message(url, secret)
        retry = signed_message(url, secret, attempt=2, event_id=first.event_id)
        assert await _send_then_close(transport, first, retry) == [200, 200]
        ids = [{k.lower(): v for k, v in headers.items()}["webhook-id"] for _, headers in delivered(2)]
        assert ids == [first.event_id, first.event_id]  # the same id on every attempt: receivers deduplicate on it
