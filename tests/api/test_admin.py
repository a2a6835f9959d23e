"""The admin API (``/admin/users``): listing, reading and changing users; disabling one stops its tokens, refresh
tokens and API keys at once; an admin cannot disable or demote themselves; anyone else gets 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api._admin import make_admin
from tests.api._checks import concurrently, error, fields, success
from tests.conftest import PREFIX, Account

ROUTES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/{id}"),
    ("PATCH", "/admin/users/{id}"),
    ("GET", "/admin/audit"),
]


@pytest.fixture
def admin(account_factory: Callable[[str], Account]) -> Account:
    return make_admin(account_factory("root@example.com"))


def _key(account: Account, **body: object) -> str:
    response = account.client.post(f"{PREFIX}/users/me/api-keys", headers=account.headers, json={"name": "k", **body})
    return str(success(response, 201)["key"])


def _patch(admin: Account, user_id: str, body: dict[str, object]) -> dict[str, object]:
    return success(admin.client.patch(f"{PREFIX}/admin/users/{user_id}", headers=admin.headers, json=body))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anyone_but_an_admin_gets_403(
    client: TestClient[Litestar], alice: Account, bob: Account, method: str, path: str
) -> None:
    url = PREFIX + path.replace("{id}", bob.id)
    json = {"disabled": True} if method == "PATCH" else None
    err = error(client.request(method, url, headers=alice.headers, json=json), 403, "forbidden")
    assert "administrator" in err["message"]
    error(client.request(method, url, json=json), 401, "unauthorized")
    assert success(client.get(f"{PREFIX}/users/me", headers=bob.headers))["id"] == bob.id  # nothing changed


def test_list_users_paginated_and_filtered(
    client: TestClient[Litestar], admin: Account, account_factory: Callable[[str], Account]
) -> None:
    for name in ("carol", "dave", "erin"):
        account_factory(f"{name}@example.org")
    response = client.get(f"{PREFIX}/admin/users", headers=admin.headers, params={"per_page": 2})
    users = success(response)
    pagination = response.json()["meta"]["pagination"]
    assert pagination["total"] == 4 and len(users) == 2
    assert pagination["links"]["next"] == "/admin/users?page=2&per_page=2"
    assert set(users[0]) == {
        "id", "email", "display_name", "role", "created_at", "updated_at", "disabled", "quota_bytes", "used_bytes"
    }  # fmt: skip
    assert users[0]["email"] == "root@example.com" and users[0]["role"] == "admin"
    found = success(client.get(f"{PREFIX}/admin/users", headers=admin.headers, params={"q": "DAVE"}))
    assert [u["email"] for u in found] == ["dave@example.org"]
    assert success(client.get(f"{PREFIX}/admin/users", headers=admin.headers, params={"q": "%"})) == []


def test_get_user_shows_usage_quota_and_state(client: TestClient[Litestar], admin: Account, alice: Account) -> None:
    alice.upload(b"x" * 1000)
    user = success(client.get(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers))
    assert user["email"] == alice.email
    assert (user["disabled"], user["quota_bytes"], user["used_bytes"]) == (False, None, 1000)
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        error(client.get(f"{PREFIX}/admin/users/{unknown}", headers=admin.headers), 404, "not_found")


def test_disabling_stops_tokens_refresh_tokens_and_keys_at_once(
    client: TestClient[Litestar], admin: Account, alice: Account
) -> None:
    key = _key(alice)
    refresh = alice.tokens["refresh_token"]
    assert _patch(admin, alice.id, {"disabled": True})["disabled"] is True
    error(client.get(f"{PREFIX}/users/me", headers=alice.headers), 401, "unauthorized")
    error(client.get(f"{PREFIX}/media", headers={"X-API-Key": key}), 401, "unauthorized")
    error(client.post(f"{PREFIX}/auth/refresh", json={"refresh_token": refresh}), 401, "unauthorized")
    login = client.post(f"{PREFIX}/auth/login", json={"username": alice.email, "password": alice.password})
    error(login, 401, "unauthorized")
    # enabled again: a new login and the key work; the logins ended by the disabling stay ended
    old_headers = alice.headers
    assert _patch(admin, alice.id, {"disabled": False})["disabled"] is False
    alice.login()
    success(client.get(f"{PREFIX}/users/me", headers=alice.headers))
    success(client.get(f"{PREFIX}/media", headers={"X-API-Key": key}))
    error(client.get(f"{PREFIX}/users/me", headers=old_headers), 401, "unauthorized")


def test_a_disabled_accounts_links_are_closed_until_it_is_enabled(
    client: TestClient[Litestar], admin: Account, alice: Account
) -> None:
    """Signed upload URLs and share links (views, downloads, guest uploads) of a disabled account answer 404, as a
    dead link: nobody uploads into it or reads from it through them; enabling it opens them again."""
    media = alice.upload(b"shared bytes", "shared.txt")
    collection = success(client.post(f"{PREFIX}/collections", headers=alice.headers, json={"name": "c"}), 201)
    signed = success(client.post(f"{PREFIX}/uploads/signed", headers=alice.headers, json={}), 201)
    media_link = success(client.post(f"{PREFIX}/shares", headers=alice.headers, json={"media_id": media["id"]}), 201)
    body = {"collection_id": collection["id"], "allow_upload": True}
    guest_link = success(client.post(f"{PREFIX}/shares", headers=alice.headers, json=body), 201)

    def file() -> dict[str, tuple[str, bytes]]:
        return {"file": ("from-a-link.txt", b"from a link")}

    _patch(admin, alice.id, {"disabled": True})
    error(client.post(signed["url"], files=file()), 404, "not_found")
    error(client.post(f"{PREFIX}/s/{guest_link['token']}/upload", files=file()), 404, "not_found")
    error(client.get(f"{PREFIX}/s/{media_link['token']}"), 404, "not_found")
    error(client.get(f"{PREFIX}/s/{media_link['token']}/content"), 404, "not_found")
    _patch(admin, alice.id, {"disabled": False})
    alice.login()
    assert success(client.get(f"{PREFIX}/users/me/usage", headers=alice.headers))["media_count"] == 1  # none kept
    success(client.post(signed["url"], files=file()), 201)
    success(client.post(f"{PREFIX}/s/{guest_link['token']}/upload", files=file()), 201)
    assert client.get(f"{PREFIX}/s/{media_link['token']}/content").content == b"shared bytes"


def test_role_and_quota_changes(client: TestClient[Litestar], admin: Account, alice: Account) -> None:
    assert _patch(admin, alice.id, {"role": "admin"})["role"] == "admin"
    success(client.get(f"{PREFIX}/admin/users", headers=alice.headers))  # at once, with the same token
    assert _patch(admin, alice.id, {"role": "user"})["role"] == "user"
    error(client.get(f"{PREFIX}/admin/users", headers=alice.headers), 403, "forbidden")
    assert _patch(admin, alice.id, {"quota_bytes": 5000})["quota_bytes"] == 5000
    assert _patch(admin, alice.id, {"quota_bytes": None})["quota_bytes"] is None
    assert _patch(admin, alice.id, {})["role"] == "user"


def test_concurrent_changes_apply_one_after_the_other(
    client: TestClient[Litestar], admin: Account, alice: Account
) -> None:
    """Changes racing on one user each apply to what the previous one left: every change is kept, and one that
    another already made is no change (one audit line for it, not one per request that read the user before)."""
    bodies = [{"disabled": True}] * 3 + [{"role": "admin"}] * 2 + [{"quota_bytes": 1000 * i} for i in range(1, 4)]
    path = f"/admin/users/{alice.id}"
    requests = [("PATCH", path, {"headers": admin.headers, "json": body}) for body in bodies]
    answers = client.blocking_portal.call(concurrently, client.app, requests)
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    params = {"action": "admin.user_updated", "per_page": 100}
    audit = success(client.get(f"{PREFIX}/admin/audit", headers=admin.headers, params=params))
    lines = [line["details"] for line in audit if line["target_id"] == alice.id]
    assert sorted(map(str, lines)) == sorted(map(str, [{"disabled": True}, {"role": "admin"}, *bodies[5:]])), lines
    kept = success(client.get(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers))
    last_quota = next(line["quota_bytes"] for line in lines if "quota_bytes" in line)  # newest first
    assert (kept["disabled"], kept["role"], kept["quota_bytes"]) == (True, "admin", last_quota)


def test_an_admin_cannot_disable_or_demote_themselves(client: TestClient[Litestar], admin: Account) -> None:
    for body, field in (({"disabled": True}, "disabled"), ({"role": "user"}, "role")):
        response = client.patch(f"{PREFIX}/admin/users/{admin.id}", headers=admin.headers, json=body)
        assert fields(error(response, 400, "validation_error")) == {field}
    me = _patch(admin, admin.id, {"quota_bytes": 10})  # anything else of their own is fine
    assert (me["role"], me["disabled"], me["quota_bytes"]) == ("admin", False, 10)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com"}, "email"),
        ({"role": "root"}, "role"),
        ({"quota_bytes": -1}, "quota_bytes"),
        ({"quota_bytes": 2**63}, "quota_bytes"),  # past a BIGINT: 500 once
        ({"disabled": "yes"}, "disabled"),
    ],
)
def test_bad_changes_are_400(
    client: TestClient[Litestar], admin: Account, alice: Account, body: dict[str, object], field: str
) -> None:
    response = client.patch(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers, json=body)
    assert field in fields(error(response, 400, "validation_error"))


def test_an_api_key_needs_every_scope_for_admin_routes(client: TestClient[Litestar], admin: Account) -> None:
    full, limited = _key(admin), _key(admin, scopes=["media:read"])
    success(client.get(f"{PREFIX}/admin/users", headers={"X-API-Key": full}))
    err = error(client.get(f"{PREFIX}/admin/users", headers={"X-API-Key": limited}), 403, "forbidden")
    assert "every scope" in err["message"]
