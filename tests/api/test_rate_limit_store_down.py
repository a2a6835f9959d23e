"""The rate limiter with its Redis store unreachable: ``rate_limit_fail_open`` decides between letting requests
through uncounted and 503 ``service_unavailable``; one warning either way, not one per request. (About the Redis
store: an explicit ``redis_url`` that nothing answers, on both legs.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from tests.conftest import PREFIX, make_config
from tests.s3 import free_port

REQUESTS = 5


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The vault's warnings about the rate limiter (a handler on its logger: Litestar's logging set-up replaces the
    root logger's handlers when an app starts)."""
    handler = Records()
    logging.getLogger("mediavault").addHandler(handler)
    try:
        yield handler.messages
    finally:
        logging.getLogger("mediavault").removeHandler(handler)


def limiter_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "rate limiter" in m]


def vault_with_redis_down(tmp_path: Path, **config: object) -> Litestar:
    down = f"redis://127.0.0.1:{free_port()}/0"  # a free port: connections are refused
    return Litestar(plugins=[MediaVault(make_config(tmp_path, redis_url=down, **config))])


def test_fail_open_lets_requests_through_uncounted_and_warns_once(tmp_path: Path, warnings: list[str]) -> None:
    with TestClient(vault_with_redis_down(tmp_path)) as client:
        answers = [client.get(f"{PREFIX}/nothing") for _ in range(REQUESTS)]
    assert [a.status_code for a in answers] == [404] * REQUESTS
    assert all("x-ratelimit-limit" not in a.headers for a in answers)
    [warning] = limiter_warnings(warnings)
    assert "letting requests through uncounted" in warning


def test_fail_closed_answers_503_and_warns_once(tmp_path: Path, warnings: list[str]) -> None:
    app = vault_with_redis_down(tmp_path, rate_limit_fail_open=False)
    with TestClient(app) as client:
        answers = [client.get(f"{PREFIX}/nothing") for _ in range(REQUESTS)]
        login = client.post(f"{PREFIX}/auth/login", json={"username": "a@example.com", "password": "whatever1"})
    for answer in [*answers, login]:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "service_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
    [warning] = limiter_warnings(warnings)
    assert "answering 503" in warning
