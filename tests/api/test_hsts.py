"""``Strict-Transport-Security`` on vault responses served over https (RFC 6797), directly or behind a trusted
proxy that says so; never over plain http, never with ``hsts_max_age=0``."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from mediavault import MediaVault
from mediavault.http.ratelimit import _networks
from mediavault.http.security import served_over_https
from tests.conftest import PREFIX, make_config


@get("/host", sync_to_thread=False)
def host_route() -> str:
    return "host"


def answer(tmp_path: Path, base_url: str, path: str = f"{PREFIX}/health", **config: object) -> dict[str, str]:
    app = Litestar(route_handlers=[host_route], plugins=[MediaVault(make_config(tmp_path, **config))])
    with TestClient(app, base_url=base_url) as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return dict(response.headers)


def test_https_answers_carry_hsts(tmp_path: Path) -> None:
    assert answer(tmp_path, "https://vault.example")["strict-transport-security"] == "max-age=31536000"


def test_max_age_is_configurable_and_zero_turns_it_off(tmp_path: Path) -> None:
    assert answer(tmp_path / "a", "https://vault.example", hsts_max_age=600)["strict-transport-security"] == (
        "max-age=600"
    )
    assert "strict-transport-security" not in answer(tmp_path / "b", "https://vault.example", hsts_max_age=0)


def test_plain_http_and_host_routes_get_none(tmp_path: Path) -> None:
    assert "strict-transport-security" not in answer(tmp_path / "a", "http://vault.example")
    assert "strict-transport-security" not in answer(tmp_path / "b", "https://vault.example", path="/host")


@pytest.mark.parametrize(
    ("scheme", "peer", "forwarded_proto", "expected"),
    [
        ("https", "203.0.113.9", [], True),  # TLS ends at the server itself
        ("http", "10.0.0.2", [b"https"], True),  # a trusted proxy ended TLS
        ("http", "10.0.0.2", [b"http"], False),
        ("http", "10.0.0.2", [b"http, https"], True),  # the last hop's (the trusted proxy's) word counts
        ("http", "10.0.0.2", [b"https, http"], False),
        ("http", "203.0.113.9", [b"https"], False),  # anyone else can write the header: ignored
        ("http", "10.0.0.2", [], False),
    ],
)
def test_served_over_https(scheme: str, peer: str, forwarded_proto: list[bytes], expected: bool) -> None:
    scope = {
        "scheme": scheme,
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-proto", value) for value in forwarded_proto],
    }
    assert served_over_https(scope, _networks(("10.0.0.0/24",))) is expected
