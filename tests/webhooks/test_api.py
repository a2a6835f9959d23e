"""``/webhooks``: create (secret once), list, get, patch, delete, validation, ownership, SSRF refusals."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault
from mediavault.events import EVENT_NAMES
from tests.api._checks import error, fields, success
from tests.conftest import PREFIX, Account, make_config
from tests.webhooks.conftest import FAST, create_webhook

PUBLIC_FIELDS = {
    "id",
    "url",
    "events",
    "description",
    "active",
    "disabled_reason",
    "disabled_at",
    "consecutive_failures",
    "created_at",
    "updated_at",
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """One vault (private targets allowed) for the read-only and validation checks of this module."""
    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path_factory.mktemp("api"), **FAST))])) as client:
        yield Account(client, "shared@example.com")


def test_create_shows_the_secret_once(carol: Account) -> None:
    created = success(
        carol.client.post(
            f"{PREFIX}/webhooks",
            headers=carol.headers,
            json={"url": "http://127.0.0.1:9/hook", "events": ["media.uploaded", "media.deleted"], "description": "d"},
        ),
        201,
    )
    assert set(created) == PUBLIC_FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    assert created["events"] == ["media.uploaded", "media.deleted"]
    assert (created["active"], created["disabled_reason"], created["consecutive_failures"]) == (True, None, 0)
    assert created["created_at"] == created["updated_at"]

    one = success(carol.client.get(f"{PREFIX}/webhooks/{created['id']}", headers=carol.headers))
    assert set(one) == PUBLIC_FIELDS
    listed = carol.client.get(f"{PREFIX}/webhooks", headers=carol.headers)
    assert [w["id"] for w in success(listed)] == [created["id"]]
    assert "secret" not in success(listed)[0]
    assert listed.json()["meta"]["pagination"]["total"] == 1


def test_list_is_paginated_newest_first(carol: Account) -> None:
    ids = [create_webhook(carol, f"http://127.0.0.1:9/{i}")["id"] for i in range(3)]
    first = carol.client.get(f"{PREFIX}/webhooks", headers=carol.headers, params={"per_page": 2})
    assert [w["id"] for w in success(first)] == ids[::-1][:2]
    pagination = first.json()["meta"]["pagination"]
    assert (pagination["total"], pagination["total_pages"], pagination["links"]["next"]) == (
        3,
        2,
        "/webhooks?page=2&per_page=2",
    )
    second = carol.client.get(f"{PREFIX}/webhooks", headers=carol.headers, params={"page": 2, "per_page": 2})
    assert [w["id"] for w in success(second)] == [ids[0]]


def test_patch_and_delete(carol: Account) -> None:
    hook = create_webhook(carol, "http://127.0.0.1:9/a")
    patched = success(
        carol.client.patch(
            f"{PREFIX}/webhooks/{hook['id']}",
            headers=carol.headers,
            json={"url": "http://127.0.0.1:9/b", "events": ["media.deleted"], "description": None, "active": False},
        )
    )
    assert (patched["url"], patched["events"], patched["active"]) == ("http://127.0.0.1:9/b", ["media.deleted"], False)
    assert patched["disabled_reason"] == "disabled by its owner" and patched["disabled_at"]
    enabled = success(
        carol.client.patch(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers, json={"active": True})
    )
    assert (enabled["active"], enabled["disabled_reason"], enabled["disabled_at"]) == (True, None, None)

    assert carol.client.delete(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers).status_code == 204
    error(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers), 404, "not_found")
    error(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}/deliveries", headers=carol.headers), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/", "events": ["media.exploded"]}, "events"),
        ({"url": "http://127.0.0.1:9/", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/"}, "events"),
        ({"events": ["media.uploaded"]}, "url"),
        ({"url": "http://127.0.0.1:9/", "events": ["media.uploaded"], "secret": "whsec_x"}, "secret"),
        ({"url": "http://127.0.0.1:9/", "events": ["media.uploaded"], "active": False}, "active"),
        ({"url": "ftp://example.com/", "events": ["media.uploaded"]}, "url"),
        ({"url": "not a url", "events": ["media.uploaded"]}, "url"),
        ({"url": "http://user:pw@127.0.0.1:9/", "events": ["media.uploaded"]}, "url"),
    ],
)
def test_create_validation(shared: Account, body: dict, field: str) -> None:
    err = error(shared.client.post(f"{PREFIX}/webhooks", headers=shared.headers, json=body), 400, "validation_error")
    assert field in fields(err), err


def test_patch_validation(shared: Account) -> None:
    carol = shared
    hook = create_webhook(carol, "http://127.0.0.1:9/a")
    for body, field in (
        ({"events": ["nope"]}, "events"),
        ({"url": "gopher://x/"}, "url"),
        ({"secret": "whsec_AAAA"}, "secret"),
        ({"owner_id": carol.id}, "owner_id"),
    ):
        response = carol.client.patch(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers, json=body)
        assert field in fields(error(response, 400, "validation_error"))


def test_every_event_name_is_accepted(shared: Account) -> None:
    assert create_webhook(shared, "http://127.0.0.1:9/", sorted(EVENT_NAMES))["events"] == sorted(EVENT_NAMES)


def test_someone_elses_webhook_is_not_found(carol: Account, dave: Account) -> None:
    hook = create_webhook(carol, "http://127.0.0.1:9/a")
    for method, path, body in (
        ("GET", f"/webhooks/{hook['id']}", None),
        ("PATCH", f"/webhooks/{hook['id']}", {"active": False}),
        ("DELETE", f"/webhooks/{hook['id']}", None),
        ("GET", f"/webhooks/{hook['id']}/deliveries", None),
        ("GET", "/webhooks/not-a-uuid", None),
    ):
        response = dave.client.request(method, f"{PREFIX}{path}", headers=dave.headers, json=body)
        error(response, 404, "not_found")
    assert success(dave.client.get(f"{PREFIX}/webhooks", headers=dave.headers)) == []
    assert success(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers))["active"] is True


def test_webhooks_need_a_principal(hooks_client: TestClient[Litestar]) -> None:
    error(hooks_client.get(f"{PREFIX}/webhooks"), 401, "unauthorized")
    error(hooks_client.post(f"{PREFIX}/webhooks", json={"url": "http://x/", "events": []}), 401, "unauthorized")


# --------------------------------------------------------------------------- SSRF

REFUSED = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/hook",
    "http://localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://10.0.0.1/",
    "http://10.255.1.2:8443/x",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://127.1/",
    "http://100.64.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fec0::1]/",  # site-local (RFC 3879): Python 3.11's ipaddress calls it global (issue 13, finding 16)
    "http://[fed0:1:2::3]/",
    "http://[::7f00:1]/",  # IPv4-compatible ::127.0.0.1
    "http://224.0.0.1/",
    "http://[64:ff9b::7f00:1]/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/_HELO",
    "ftp://example.com/",
    "javascript:alert(1)",
    "http:///no-host",
]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """One vault with the guard on (``allow_private_webhook_targets=False``) for the whole table."""
    config = make_config(tmp_path_factory.mktemp("ssrf"), **{**FAST, "allow_private_webhook_targets": False})
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield Account(client, "guarded@example.com")


@pytest.mark.parametrize("url", REFUSED)
def test_ssrf_targets_are_refused(guarded: Account, url: str) -> None:
    response = guarded.client.post(
        f"{PREFIX}/webhooks", headers=guarded.headers, json={"url": url, "events": ["media.uploaded"]}
    )
    err = error(response, 400, "validation_error")
    assert fields(err) == {"url"}


def test_ssrf_guard_also_applies_to_patch(guarded: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediavault.webhooks import guard

    monkeypatch.setattr(guard, "_getaddrinfo", lambda host, port: ["93.184.216.34"])
    hook = create_webhook(guarded, "https://hooks.example.com/in")
    monkeypatch.setattr(guard, "_getaddrinfo", lambda host, port: ["10.0.0.7"])
    response = guarded.client.patch(
        f"{PREFIX}/webhooks/{hook['id']}", headers=guarded.headers, json={"url": "https://internal.example.com/"}
    )
    assert fields(error(response, 400, "validation_error")) == {"url"}


def test_private_targets_allowed_by_config(carol: Account) -> None:
    assert create_webhook(carol, "http://127.0.0.1:9/hook")["url"] == "http://127.0.0.1:9/hook"
