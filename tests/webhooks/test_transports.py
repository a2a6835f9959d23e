"""The webhook transport contract (:class:`mediavault.testing.webhooks.WebhookTransportContract`) on the built-in
HTTP transport, against a real local receiver, and on :class:`mediavault.testing.WebhookSink`."""

from __future__ import annotations

import pytest

from mediavault.testing import WebhookSink
from mediavault.testing.webhooks import Delivered, WebhookTransportContract
from mediavault.webhooks import HttpTransport
from tests.webhooks.receiver import Receiver


class TestHttpTransportContract(WebhookTransportContract):
    @pytest.fixture
    def transport(self) -> HttpTransport:
        return HttpTransport()

    @pytest.fixture
    def url(self, receiver: Receiver) -> str:
        return receiver.url

    @pytest.fixture
    def delivered(self, receiver: Receiver) -> Delivered:
        return lambda count: [(r.body, r.headers) for r in receiver.wait_for(count)]


class TestWebhookSinkContract(WebhookTransportContract):
    @pytest.fixture
    def transport(self) -> WebhookSink:
        return WebhookSink()

    @pytest.fixture
    def url(self) -> str:
        return "sink://audit"

    @pytest.fixture
    def delivered(self, transport: WebhookSink) -> Delivered:
        return lambda count: [(m.body, m.headers) for m in transport.messages[:count]]
