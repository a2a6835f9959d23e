"""Webhooks: transports (the ``mediavault_webhook_transports`` hook), signing, the SSRF guard, the worker.

Plugin authors implement :class:`WebhookTransport`; see ``docs/webhooks.md``.
"""

from mediavault.webhooks.transport import (
    HttpTransport,
    TransportError,
    TransportResponse,
    TransportTimeout,
    WebhookMessage,
    WebhookTransport,
)

__all__ = (
    "HttpTransport",
    "TransportError",
    "TransportResponse",
    "TransportTimeout",
    "WebhookMessage",
    "WebhookTransport",
)
