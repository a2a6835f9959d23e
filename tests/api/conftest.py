"""Module-scoped vaults for read-only checks (one app per test module instead of one per case, for speed).

Tests that change state or look at the storage directory or database file as a whole keep using the
function-scoped ``client``/``alice``/``bob`` of ``tests/conftest.py``. Every account only sees its own media, so
tests sharing a module vault stay independent as long as each uses its own account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from tests.conftest import Account, make_config


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="module")
def shared_client(shared_dir: Path) -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(plugins=[MediaVault(make_config(shared_dir))])) as client:
        yield client


@pytest.fixture(scope="module")
def shared_alice(shared_client: TestClient[Litestar]) -> Account:
    return Account(shared_client, "shared-alice@example.com")


@pytest.fixture(scope="module")
def shared_bob(shared_client: TestClient[Litestar]) -> Account:
    return Account(shared_client, "shared-bob@example.com")
