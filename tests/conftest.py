"""Shared fixtures: a real vault app on a real SQLite file and real local storage per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from tests.s3 import MotoS3, moto_server

PREFIX = "/api/v1"

# Argon2id at its cheapest: tests only. The defaults (RFC 9106: t=3, m=64 MiB, p=4) stay the defaults.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}


def make_config(tmp_path: Path, **overrides: Any) -> MediaVaultConfig:
    """A config on a fresh SQLite file and local storage under ``tmp_path``."""
    values: dict[str, Any] = {
        "secret_key": "test-secret-key-" + "x" * 32,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}",
        "storage_url": (tmp_path / "media").as_uri(),
        "load_entry_points": False,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return MediaVaultConfig(**values)


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


class Account:
    """A registered, logged-in user of the test app."""

    def __init__(self, client: TestClient[Litestar], email: str, password: str = "correct horse battery") -> None:
        self.client = client
        self.email = email
        self.password = password
        registered = client.post(f"{PREFIX}/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 201, registered.text
        self.id: str = registered.json()["data"]["id"]
        self.login()

    def login(self) -> dict[str, Any]:
        response = self.client.post(f"{PREFIX}/auth/login", json={"username": self.email, "password": self.password})
        assert response.status_code == 200, response.text
        self.tokens: dict[str, Any] = response.json()["data"]
        return self.tokens

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['token']}"}

    def upload(self, content: bytes, filename: str = "file.bin", **fields: str) -> dict[str, Any]:
        response = self.client.post(
            f"{PREFIX}/media/upload", headers=self.headers, files={"file": (filename, content)}, data=fields
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]


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
def moto_s3() -> Iterator[MotoS3]:
    """A real S3 API (moto's server in a child process on a free loopback port) for the whole session.

    Each test takes its own bucket: ``moto_s3.create_bucket()`` or ``moto_s3.storage_url()``.
    """
    with moto_server() as endpoint:
        yield endpoint
