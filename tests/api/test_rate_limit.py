"""Rate limiting in one process (memory counters): tiers, headers, 429, login budgets, exemptions.

Across processes (Redis) and with real client addresses (``X-Forwarded-For`` from trusted proxies) see
``tests/e2e/test_realtime.py`` (and ``tests/e2e/test_scale_out.py``); with its Redis store down see
``tests/api/test_rate_limit_store_down.py``.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.testing import TestClient

from mediavault import MediaVault
from mediavault.http.ratelimit import Budget, client_address
from tests.conftest import PREFIX, Account, make_config

PERIOD = 60


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    config = make_config(
        tmp_path,
        rate_limit_anonymous=5,
        rate_limit_authenticated=4,
        rate_limit_api_key=6,
        rate_limit_login_per_address=1000,
        rate_limit_login_per_account=1000,
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


def account(client: TestClient[Litestar], email: str) -> Account:
    return Account(client, email)


def rate_headers(response: Any) -> tuple[int, int, int]:
    h = response.headers
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


def test_anonymous_tier_headers_then_429(limited: TestClient[Litestar]) -> None:
    remaining = []
    for _ in range(5):
        response = limited.get(f"{PREFIX}/users/me")  # 401s count too
        assert response.status_code == 401
        limit, left, reset = rate_headers(response)
        assert limit == 5
        assert time.time() - 1 <= reset <= time.time() + PERIOD + 1
        remaining.append(left)
    assert remaining == [4, 3, 2, 1, 0]

    blocked = limited.get(f"{PREFIX}/users/me")
    assert blocked.status_code == 429
    body = blocked.json()
    assert body["success"] is False
    assert body["error"]["code"] == "rate_limited"
    assert body["meta"]["request_id"] == blocked.headers["x-request-id"]
    assert 1 <= int(blocked.headers["retry-after"]) <= PERIOD
    assert rate_headers(blocked)[:2] == (5, 0)
    # Unknown routes and public routes count against the same budget, and are refused as well.
    assert limited.get(f"{PREFIX}/no/such/route").status_code == 429
    assert limited.post(f"{PREFIX}/auth/login", json={"username": "a@b.cd", "password": "x"}).status_code == 429


@pytest.mark.parametrize("seconds_left", [0.2, 1.5, 59.1, 59.9, 60.0])
def test_retry_after_rounds_the_exact_wait_up_and_never_exceeds_the_period(seconds_left: float) -> None:
    """Redis windows end at fractional times: ``Retry-After`` is the exact wait rounded up (RFC 9110 §10.2.3),
    not the reset rounded up minus the clock rounded down (which said 61 for a 60 s window)."""
    budget = Budget(allowed=False, limit=5, remaining=0, reset_at=time.time() + seconds_left)
    assert budget.retry_after in {math.ceil(seconds_left), max(1, math.floor(seconds_left))}  # the clock moves on
    assert 1 <= budget.retry_after <= PERIOD
    assert budget.headers["X-RateLimit-Reset"] == str(budget.reset) and budget.reset >= budget.reset_at


def test_health_is_exempt(limited: TestClient[Litestar]) -> None:
    for _ in range(8):
        response = limited.get(f"{PREFIX}/health")
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers
    assert rate_headers(limited.get(f"{PREFIX}/nothing"))[1] == 4


def test_unknown_routes_count_and_keep_the_envelope(limited: TestClient[Litestar]) -> None:
    for path in ("/nothing", "/auth/nope", ""):
        response = limited.get(f"{PREFIX}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
        assert "x-ratelimit-remaining" in response.headers
    assert rate_headers(limited.get(f"{PREFIX}/nothing"))[1] == 1


def test_user_tier_is_per_user_and_separate_from_anonymous(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit_authenticated=4, rate_limit_anonymous=1000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice, bob = account(client, "alice@example.com"), account(client, "bob@example.com")
        seen = [rate_headers(client.get(f"{PREFIX}/users/me", headers=alice.headers)) for _ in range(4)]
        assert [s[:2] for s in seen] == [(4, 3), (4, 2), (4, 1), (4, 0)]
        blocked = client.get(f"{PREFIX}/media", headers=alice.headers)
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        # Bob has his own budget; anonymous callers theirs.
        assert rate_headers(client.get(f"{PREFIX}/users/me", headers=bob.headers))[:2] == (4, 3)
        assert client.get(f"{PREFIX}/nothing").headers["x-ratelimit-limit"] == "1000"
        # A bad token is not the user's budget: it is counted as anonymous and refused by the guard.
        bad = client.get(f"{PREFIX}/users/me", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert bad.headers["x-ratelimit-limit"] == "1000"


def test_api_key_tier_is_per_key(limited: TestClient[Litestar]) -> None:
    alice = account(limited, "keys@example.com")
    created = limited.post(f"{PREFIX}/users/me/api-keys", headers=alice.headers, json={"name": "k"}).json()["data"]
    auth = {"X-API-Key": created["key"]}
    seen = [rate_headers(limited.get(f"{PREFIX}/users/me", headers=auth))[:2] for _ in range(6)]
    assert seen == [(6, 5), (6, 4), (6, 3), (6, 2), (6, 1), (6, 0)]
    assert limited.get(f"{PREFIX}/users/me", headers=auth).status_code == 429
    # The user's own (JWT) budget is untouched by the key's requests (one request spent creating the key).
    assert rate_headers(limited.get(f"{PREFIX}/users/me", headers=alice.headers))[:2] == (4, 2)


def test_login_budget_per_address(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit_login_per_address=3, rate_limit_login_per_account=100)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        for i in range(3):
            response = client.post(f"{PREFIX}/auth/login", json={"username": f"u{i}@example.com", "password": "x"})
            assert response.status_code == 401
        blocked = client.post(f"{PREFIX}/auth/login", json={"username": "other@example.com", "password": "x"})
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert int(blocked.headers["retry-after"]) >= 1
        assert rate_headers(blocked)[:2] == (3, 0)  # the login budget's own figures
        assert (
            client.post(f"{PREFIX}/auth/register", json={"email": "z@example.com", "password": "p" * 8}).status_code
            == 201
        )


def test_login_budget_per_account(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit_login_per_address=100, rate_limit_login_per_account=2)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        victim = account(client, "victim@example.com")
        right = {"username": victim.email, "password": victim.password}
        for _ in range(3):  # successful logins spend nothing
            assert client.post(f"{PREFIX}/auth/login", json=right).status_code == 200
        wrong = {"username": "VICTIM@example.com", "password": "wrong password"}
        assert [client.post(f"{PREFIX}/auth/login", json=wrong).status_code for _ in range(3)] == [401, 401, 429]
        blocked = client.post(f"{PREFIX}/auth/login", json=right)
        assert blocked.status_code == 429  # even the right password: guessing stops for this account
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert (
            client.post(f"{PREFIX}/auth/login", json={"username": "someone@example.com", "password": "x"}).status_code
            == 401
        )


def test_limiter_can_be_turned_off(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit_enabled=False, rate_limit_anonymous=1)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        for _ in range(3):
            response = client.get(f"{PREFIX}/nothing")
            assert response.status_code == 404
            assert "x-ratelimit-limit" not in response.headers


def test_forwarded_for_is_ignored_from_untrusted_peers(limited: TestClient[Litestar]) -> None:
    for i in range(5):
        limited.get(f"{PREFIX}/nothing", headers={"X-Forwarded-For": f"203.0.113.{i}"})
    assert limited.get(f"{PREFIX}/nothing", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.0.0.5", None, (), "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9", (), "10.0.0.5"),  # no trusted proxies: header ignored
        ("198.51.100.1", "203.0.113.9", ("10.0.0.0/8",), "198.51.100.1"),  # peer not trusted
        ("10.0.0.5", "203.0.113.9", ("10.0.0.0/8",), "203.0.113.9"),
        ("10.0.0.5", "1.1.1.1, 203.0.113.9", ("10.0.0.0/8",), "203.0.113.9"),  # spoofed left part ignored
        ("10.0.0.5", "203.0.113.9, 10.0.0.7", ("10.0.0.0/8",), "203.0.113.9"),  # chain of trusted proxies
        ("10.0.0.5", "10.0.0.8, 10.0.0.7", ("10.0.0.0/8",), "10.0.0.8"),  # all trusted: leftmost
        ("10.0.0.5", "garbage", ("10.0.0.0/8",), "10.0.0.5"),
        ("::1", "2001:db8::1", ("::1",), "2001:db8::1"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, trusted: tuple[str, ...], expected: str) -> None:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope: Any = {"type": "http", "client": (peer, 1234), "headers": headers}
    networks = tuple(ipaddress.ip_network(t) for t in trusted)
    assert client_address(scope, networks) == expected


def test_security_headers(client: TestClient[Litestar], alice: Account) -> None:
    response = client.get(f"{PREFIX}/users/me", headers=alice.headers)
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert h["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert h["cache-control"] == "no-store"
    assert "server" not in h
    error = client.get(f"{PREFIX}/nothing")
    assert error.headers["x-frame-options"] == "DENY"
    # A download keeps its own sandboxing CSP and caching headers.
    media = alice.upload(b"<html><script>alert(1)</script></html>", "page.html")
    download = client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers)
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in download.headers.get("cache-control", "")


def test_host_routes_get_no_vault_headers(tmp_path: Path) -> None:
    from litestar import get

    @get("/host")
    async def host() -> str:
        return "mine"

    with TestClient(Litestar([host], plugins=[MediaVault(make_config(tmp_path))])) as client:
        response = client.get("/host")
        assert response.text == "mine"
        assert "x-ratelimit-limit" not in response.headers
        assert "x-frame-options" not in response.headers


def test_cors_from_config(tmp_path: Path) -> None:
    config = make_config(tmp_path, cors_allow_origins=("https://app.example.com",))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        preflight = client.options(
            f"{PREFIX}/media",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, x-api-key",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
        simple = client.get(f"{PREFIX}/nothing", headers={"Origin": "https://app.example.com"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "x-ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()
        other = client.get(f"{PREFIX}/nothing", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_host_cors_config_is_kept(tmp_path: Path) -> None:
    config = make_config(tmp_path, cors_allow_origins=("https://app.example.com",))
    host_cors = CORSConfig(allow_origins=["https://host.example"])
    app = Litestar(plugins=[MediaVault(config)], cors_config=host_cors)
    assert app.cors_config is host_cors


def test_no_cors_without_origins(client: TestClient[Litestar]) -> None:
    assert client.app.cors_config is None
    response = client.get(f"{PREFIX}/nothing", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in response.headers
