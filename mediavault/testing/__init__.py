"""Testing helpers for apps and plugins built on Media Vault (docs/testing.md): a pytest plugin and contract suites.

The pytest plugin: put ``pytest_plugins = ["mediavault.testing"]`` in your ``conftest.py`` for these fixtures
(each can be overridden by one of the same name):

- ``mediavault_config``: a :class:`~mediavault.MediaVaultConfig` for a vault on fsspec's memory storage and a
  SQLite file under ``tmp_path``, with cheap Argon2 settings, no entry-point plugins, no background media
  processing, and ``mediavault_events`` and ``webhook_sink`` registered;
- ``mediavault_app``: a Litestar app with that vault; ``mediavault_client``: a started
  :class:`~litestar.testing.TestClient` of it;
- ``mediavault_account``: ``mediavault_account("ada@example.com")`` registers and logs in an :class:`Account`;
  ``mediavault_user``: one such account, ready;
- ``mediavault_events``: an :class:`EventRecorder` of every committed event;
- ``webhook_sink``: a :class:`WebhookSink` receiving the deliveries of webhooks whose URL is ``sink://<name>``.

The contract suites: :class:`~mediavault.testing.storage.StorageBackendContract` and
:class:`~mediavault.testing.webhooks.WebhookTransportContract`, subclassed by a storage backend's or a webhook
transport's tests. This package needs pytest; the server never imports it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from mediavault.testing.storage import StorageBackendContract
from mediavault.testing.vault import PREFIX, Account, EventRecorder, WebhookSink

__all__ = ("PREFIX", "Account", "EventRecorder", "StorageBackendContract", "WebhookSink")

FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}
"""Argon2id at its cheapest, for tests only (the defaults follow RFC 9106)."""


@pytest.fixture
def mediavault_events() -> EventRecorder:
    """Every event the test's vault commits (registered by ``mediavault_config``)."""
    return EventRecorder()


@pytest.fixture
def webhook_sink() -> WebhookSink:
    """Deliveries to ``sink://...`` webhooks of the test's vault (registered by ``mediavault_config``)."""
    return WebhookSink()


@pytest.fixture
def mediavault_config(
    tmp_path: Path, mediavault_events: EventRecorder, webhook_sink: WebhookSink
) -> Iterator[MediaVaultConfig]:
    """A vault on a memory filesystem of its own and ``tmp_path/vault.db``; the memory is freed afterwards."""
    storage_root = f"memory://mediavault-test-{uuid.uuid4().hex}"
    yield MediaVaultConfig(
        secret_key=f"mediavault-test-{uuid.uuid4().hex}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}",
        storage_url=storage_root,
        load_entry_points=False,
        processing_worker=False,
        webhook_poll_interval=0.1,
        plugins=(mediavault_events, webhook_sink),
        **FAST_ARGON2,
    )
    memory = fsspec.filesystem("memory")
    if memory.exists(storage_root):
        memory.rm(storage_root, recursive=True)


@pytest.fixture
def mediavault_app(mediavault_config: MediaVaultConfig) -> Litestar:
    """A Litestar app whose only plugin is the vault."""
    return Litestar(plugins=[MediaVault(mediavault_config)])


@pytest.fixture
def mediavault_client(mediavault_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """The app, started (its lifespan run) and stopped after the test."""
    with TestClient(mediavault_app) as client:
        yield client


@pytest.fixture
def mediavault_account(mediavault_client: TestClient[Litestar]) -> Callable[[str], Account]:
    """``mediavault_account(email)``: a new registered, logged-in :class:`Account`."""
    return lambda email: Account(mediavault_client, email)


@pytest.fixture
def mediavault_user(mediavault_account: Callable[[str], Account]) -> Account:
    """A registered, logged-in :class:`Account` (``user@example.com``)."""
    return mediavault_account("user@example.com")
