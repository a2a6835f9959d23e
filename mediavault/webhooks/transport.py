"""How a webhook delivery leaves the process: the :class:`WebhookTransport` interface and the HTTP one.

The worker builds a signed :class:`WebhookMessage` and hands it to the transport that handles the
endpoint URL's scheme (the first one answering :meth:`WebhookTransport.handles`, plugins' before the
built-in :class:`HttpTransport`). A transport answers with a :class:`TransportResponse` (HTTP-like:
2xx is success, 410 disables the endpoint, anything else is retried) or raises :class:`TransportError`
(timeout, connection refused, broker down: retried). Transports come from the
``mediavault_webhook_transports`` hook.

Exceptions::

    TransportError         the attempt failed before an answer (retried)
    └── TransportTimeout   no answer within ``webhook_timeout``
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

__all__ = (
    "HttpTransport",
    "TransportError",
    "TransportResponse",
    "TransportTimeout",
    "WebhookMessage",
    "WebhookTransport",
)

MAX_EXCERPT_BYTES = 1024
"""At most this much of a receiver's answer is read (and less is kept, see the delivery log)."""


@dataclass(frozen=True)
class WebhookMessage:
    """One signed attempt, ready to send.

    Attributes:
        url: the endpoint URL.
        body: the JSON body ``{"id", "event", "data", "timestamp"}``, exactly the bytes that were signed.
        headers: ``content-type``, ``user-agent`` and the Standard Webhooks headers ``webhook-id``,
            ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64>``).
        event_id: the event id (= ``webhook-id``), the same on every attempt and endpoint.
        event: the event name, e.g. ``"media.uploaded"``.
        attempt: 1 for the first attempt, 2 for the first retry...
        timeout: seconds the attempt may take (``webhook_timeout``).
        connect_to: for ``http(s)``, the IP address the SSRF guard checked and the request must use
            (``None``: resolve the host normally).
    """

    url: str
    body: bytes
    headers: Mapping[str, str]
    event_id: str
    event: str
    attempt: int
    timeout: float
    connect_to: str | None = None


@dataclass(frozen=True)
class TransportResponse:
    """The receiver's answer: an HTTP(-like) status, its headers and the start of its body."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body_excerpt: bytes = b""


class TransportError(Exception):
    """The attempt failed without an answer (connection refused, DNS, broker down). It is retried."""


class TransportTimeout(TransportError):
    """No complete answer within the attempt's timeout. It is retried."""


class WebhookTransport(ABC):
    """Sends webhook messages for the URL schemes it handles.

    Subclasses set :attr:`schemes` (or override :meth:`handles`) and implement :meth:`send`.
    They must not follow redirects and must respect ``message.timeout``.
    """

    schemes: tuple[str, ...] = ()
    """URL schemes this transport delivers to, e.g. ``("http", "https")``."""

    def handles(self, url: str) -> bool:
        """Whether this transport delivers to ``url`` (default: its scheme is in :attr:`schemes`)."""
        return urlsplit(url).scheme.lower() in self.schemes

    def check_url(self, url: str) -> None:  # noqa: B027 - optional hook, accepts by default
        """Refuse a URL a user may not register with this transport (called at creation and update).

        Raises:
            ValueError: the URL is not acceptable (the message is shown to the user, field ``url``).
        """

    @abstractmethod
    async def send(self, message: WebhookMessage) -> TransportResponse:
        """Deliver ``message`` once.

        Raises:
            TransportError: no answer (it is retried); :class:`TransportTimeout` for a timeout.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called when the vault stops)."""


class _QuerylessRequestLog(logging.Filter):
    """Blanks the query of the URLs in httpx's ``HTTP Request: POST <url> ...`` INFO lines: a webhook endpoint's
    query may carry a secret (``?token=...``), and logs are read by more people than the endpoint's owner."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) and a.query for a in record.args):
            record.args = tuple(
                f"{str(a).split('?', 1)[0]}?…" if isinstance(a, httpx.URL) and a.query else a for a in record.args
            )
        return True


_REQUEST_LOG_FILTER = _QuerylessRequestLog()


class HttpTransport(WebhookTransport):
    """``POST`` with httpx: redirects are never followed, the whole attempt is bounded by its timeout,
    at most :data:`MAX_EXCERPT_BYTES` of the answer are read.

    When the SSRF guard pinned an address (``message.connect_to``), the connection goes to that address
    while ``Host`` and TLS SNI (and certificate checks) keep the URL's host name, so a DNS answer that
    changes between the check and the request (DNS rebinding) cannot redirect it.
    """

    schemes = ("http", "https")

    def __init__(self, *, user_agent: str = "mediavault-webhooks") -> None:
        self._client: httpx.AsyncClient | None = None  # made on first use, on the running event loop
        self._user_agent = user_agent
        logging.getLogger("httpx").addFilter(_REQUEST_LOG_FILTER)  # once: a filter already there is not added again

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client (never follows redirects, ignores proxy environment variables)."""
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self._client

    async def send(self, message: WebhookMessage) -> TransportResponse:
        url = httpx.URL(message.url)
        headers = dict(message.headers)
        headers.setdefault("user-agent", self._user_agent)
        extensions: dict[str, object] = {}
        if message.connect_to is not None:
            headers["host"] = url.netloc.decode("ascii")
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
            url = url.copy_with(host=message.connect_to)
        request = self.client.build_request(
            "POST",
            url,
            content=message.body,
            headers=headers,
            timeout=httpx.Timeout(message.timeout),
            extensions=extensions,
        )
        try:
            async with asyncio.timeout(message.timeout):
                response = await self.client.send(request, stream=True)
                try:
                    excerpt = bytearray()
                    async for chunk in response.aiter_raw():
                        excerpt += chunk
                        if len(excerpt) >= MAX_EXCERPT_BYTES:
                            break
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransportTimeout(f"no answer within {message.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
        return TransportResponse(response.status_code, dict(response.headers), bytes(excerpt[:MAX_EXCERPT_BYTES]))

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
