"""Fixtures of the webhook tests: a vault with a fast retry schedule and real local receivers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from tests.conftest import PREFIX, Account, make_config
from tests.webhooks.receiver import Receiver

# Loopback receivers need private targets allowed; the SSRF tests turn it off explicitly.
FAST = {
    "allow_private_webhook_targets": True,
    "webhook_retry_schedule": (0.2, 0.4),
    # Generous: on a loaded machine a receiver may answer late, and a timed-out attempt is retried (an extra row).
    # Tests of timeouts set their own.
    "webhook_timeout": 10.0,
    "webhook_poll_interval": 0.1,
}

MakeClient = Callable[..., TestClient[Litestar]]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    """``make_client(**config_overrides)``: a running vault (lifespan entered), closed after the test."""
    stack: list[TestClient[Litestar]] = []

    def make(**overrides: Any) -> TestClient[Litestar]:
        config = make_config(tmp_path / f"vault{len(stack)}", **{**FAST, **overrides})
        client = TestClient(Litestar(plugins=[MediaVault(config)]))
        client.__enter__()
        stack.append(client)
        return client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def hooks_client(make_client: MakeClient) -> TestClient[Litestar]:
    return make_client()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def carol(hooks_client: TestClient[Litestar]) -> Account:
    return Account(hooks_client, "carol@example.com")


@pytest.fixture
def dave(hooks_client: TestClient[Litestar]) -> Account:
    return Account(hooks_client, "dave@example.com")


def create_webhook(account: Account, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    response = account.client.post(
        f"{PREFIX}/webhooks",
        headers=account.headers,
        json={"url": url, "events": events or ["media.uploaded"], **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def deliveries(account: Account, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = account.client.get(
        f"{PREFIX}/webhooks/{webhook_id}/deliveries", headers=account.headers, params={"per_page": 100, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_until(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        time.sleep(interval)
