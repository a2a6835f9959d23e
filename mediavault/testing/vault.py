"""A vault to test against, and what it did: accounts on a test client, a recorder of committed events, and a
webhook sink that checks each delivery's Standard Webhooks signature. The fixtures of :mod:`mediavault.testing`
build them; they work on their own too."""

from __future__ import annotations

import threading
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from standardwebhooks import Webhook

from mediavault import hookimpl
from mediavault.events import Event
from mediavault.webhooks import TransportResponse, WebhookMessage, WebhookTransport

__all__ = ("PREFIX", "Account", "EventRecorder", "WebhookSink")

PREFIX = "/api/v1"
"""The default ``path_prefix`` of a vault's routes."""


class Account:
    """A registered, logged-in user of a vault, driven through ``client`` (the real HTTP routes).

    Raises:
        AssertionError: registering or logging in did not succeed (the response is in the message).
    """

    def __init__(
        self,
        client: TestClient[Litestar],
        email: str,
        password: str = "correct horse battery",  # noqa: S107 - a test account's
        prefix: str = PREFIX,
    ) -> None:
        self.client = client
        self.email = email
        self.password = password
        self.prefix = prefix
        registered = client.post(f"{prefix}/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 201, registered.text
        self.id: str = registered.json()["data"]["id"]
        self.login()

    def login(self) -> dict[str, Any]:
        """Log in again; the new tokens (``token``, ``refresh_token``...) replace :attr:`tokens`."""
        response = self.client.post(
            f"{self.prefix}/auth/login", json={"username": self.email, "password": self.password}
        )
        assert response.status_code == 200, response.text
        self.tokens: dict[str, Any] = response.json()["data"]
        return self.tokens

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <access token>``."""
        return {"Authorization": f"Bearer {self.tokens['token']}"}

    def upload(self, content: bytes, filename: str = "file.bin", **fields: str) -> dict[str, Any]:
        """``POST /media/upload`` of ``content``; the new media's ``data`` (asserts a ``201``)."""
        response = self.client.post(
            f"{self.prefix}/media/upload", headers=self.headers, files={"file": (filename, content)}, data=fields
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]


class EventRecorder:
    """A plugin (``MediaVaultConfig(plugins=(recorder,))``) keeping every committed event
    (:func:`~mediavault.hookspecs.mediavault_on_event`), in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = threading.Condition()

    @hookimpl
    def mediavault_on_event(self, event: Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    @property
    def names(self) -> list[str]:
        """The recorded events' names, e.g. ``["user.registered", "media.uploaded"]``."""
        return [event.name for event in self.events]

    def wait_for(self, name: str, timeout: float = 10.0) -> Event:
        """The first recorded event called ``name``, waiting until it comes (the hook runs after the commit, on the
        vault's event loop, which a test client runs in another thread).

        Raises:
            AssertionError: none came within ``timeout`` seconds (the names that did are in the message).
        """
        with self._changed:
            found = self._changed.wait_for(lambda: [e for e in self.events if e.name == name], timeout)
            assert found, f"no {name!r} event; recorded: {self.names}"
            return found[0]


class WebhookSink(WebhookTransport):
    """A webhook transport for ``sink://<name>`` URLs that keeps each delivery instead of sending it, and answers
    ``status_code`` (``200``: delivered; ``410`` disables the endpoint; anything else is retried).

    Register it with :meth:`mediavault_webhook_transports` (it is a plugin too), create a webhook whose URL is
    ``sink://<name>``, then :meth:`wait_for` a delivery: its signature is verified with the webhook's secret
    (`Standard Webhooks <https://www.standardwebhooks.com/>`_, the reference implementation's ``verify``).
    """

    schemes = ("sink",)

    def __init__(self, status_code: int = 200) -> None:
        self.status_code = status_code
        self.messages: list[WebhookMessage] = []
        self._changed = threading.Condition()

    @hookimpl
    def mediavault_webhook_transports(self, config: object) -> list[WebhookTransport]:
        return [self]

    async def send(self, message: WebhookMessage) -> TransportResponse:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return TransportResponse(status_code=self.status_code)

    def wait_for(self, event: str, secret: str, *, url: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The payload (``{"id", "event", "data", "timestamp"}``) of the first delivery of ``event`` (to ``url``
        when given), once its signature checks out with ``secret`` (the ``whsec_...`` a webhook was created with).

        Raises:
            AssertionError: no such delivery within ``timeout`` seconds.
            standardwebhooks.WebhookVerificationError: the signature, timestamp or id header is wrong.
        """
        with self._changed:
            found = self._changed.wait_for(
                lambda: [m for m in self.messages if m.event == event and url in (None, m.url)], timeout
            )
            assert found, f"no delivery of {event!r}; delivered: {[(m.url, m.event) for m in self.messages]}"
        message = found[0]
        return Webhook(secret).verify(message.body, dict(message.headers))
