"""Shared fixtures: a real vault app per test, on a real SQLite file and local storage (the embedded leg) or on
its own PostgreSQL schema, Redis key prefix and S3 prefix (the full leg, ``tests/backends.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from mediavault.testing import FAST_ARGON2
from mediavault.testing.vault import PREFIX, Account
from tests.backends import BACKENDS
from tests.s3 import MotoS3

__all__ = ("FAST_ARGON2", "PREFIX", "Account", "make_config")  # Account: mediavault.testing's, shared with plugins


def make_config(tmp_path: Path, **overrides: Any) -> MediaVaultConfig:
    """A config whose state is keyed by ``tmp_path``: on the embedded leg a SQLite file and local storage under it,
    on the full leg its own PostgreSQL schema, Redis key prefix and S3 prefix (:class:`tests.backends.TestBackends`).

    The same ``tmp_path`` gives the same state (a restart); ``overrides`` win (an explicit ``storage_url`` drops
    the leg's ``storage_options``). A new embedded database starts as a copy of one migrated once per session
    (:meth:`tests.backends.TestBackends.seed_sqlite`), unless ``auto_migrate=False``. Media processing runs only
    where a test asks for it (``processing_worker=True``): in the background it would add thumbnails to the storage
    other tests count.
    """
    values: dict[str, Any] = {
        "secret_key": "test-secret-key-" + "x" * 32,
        "load_entry_points": False,
        "processing_worker": False,
        **FAST_ARGON2,
        **BACKENDS.values(tmp_path),
    }
    if "storage_url" in overrides:
        values.pop("storage_options", None)
    values.update(overrides)
    if values.get("auto_migrate", True):
        BACKENDS.seed_sqlite(tmp_path, values["database_url"])
    return MediaVaultConfig(**values)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A skipped test fails: the suite never skips, on either leg (a missing engine is an error, not a skip)."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but this suite never skips: {report.longrepr}"
    return report


def pytest_report_header() -> str:
    return f"mediavault test backends: {BACKENDS.leg} (docs/testing.md)"


@pytest.fixture(scope="session", autouse=True)
def _backends() -> Iterator[None]:
    """Removes the session's databases, Redis keys and moto server at the end (``tests/backends.py``)."""
    yield
    BACKENDS.close()


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path)


@pytest.fixture
def app(config: MediaVaultConfig) -> Litestar:
    return Litestar(plugins=[MediaVault(config)])


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def account_factory(client: TestClient[Litestar]) -> Callable[[str], Account]:
    return lambda email: Account(client, email)


@pytest.fixture
def alice(account_factory: Callable[[str], Account]) -> Account:
    return account_factory("alice@example.com")


@pytest.fixture
def bob(account_factory: Callable[[str], Account]) -> Account:
    return account_factory("bob@example.com")


@pytest.fixture(scope="session")
def moto_s3() -> MotoS3:
    """A real S3 API (moto's server in a child process on a free loopback port) for the whole session.

    The same server the full leg stores media on. Each test takes its own bucket: ``moto_s3.create_bucket()`` or
    ``moto_s3.storage_url()``.
    """
    return BACKENDS.s3
