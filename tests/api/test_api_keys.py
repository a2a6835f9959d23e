"""API keys: ``/users/me/api-keys`` and ``X-API-Key`` authentication."""

from __future__ import annotations

import hashlib

from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVaultConfig
from tests.api._checks import concurrently
from tests.backends import snapshot
from tests.conftest import PREFIX, Account

KEYS = f"{PREFIX}/users/me/api-keys"


def create_key(account: Account, name: str = "ci") -> dict:
    response = account.client.post(KEYS, headers=account.headers, json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_create_shows_the_key_once_and_stores_only_its_hash(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig
) -> None:
    created = create_key(alice, "deploy bot")
    key = created["key"]
    assert key.startswith("mvk_") and len(key) >= 40
    assert created["prefix"] == key[:12]
    assert set(created) == {"id", "name", "prefix", "created_at", "scopes", "expires_at", "last_used_at", "key"}
    assert created["name"] == "deploy bot"

    listed = client.get(KEYS, headers=alice.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [k["id"] for k in body["data"]] == [created["id"]]
    assert "key" not in body["data"][0]
    assert key not in listed.text
    assert body["meta"]["pagination"]["total"] == 1

    tables = snapshot(config)
    dump = repr(tables)
    assert len(tables["mediavault_api_key"]) == 1
    assert key not in dump  # not in any table, in any form but its hash
    assert hashlib.sha256(key.encode()).hexdigest() in dump


def test_key_authenticates_as_its_user(client: TestClient[Litestar], alice: Account) -> None:
    key = create_key(alice)["key"]
    me = client.get(f"{PREFIX}/users/me", headers={"X-API-Key": key})
    assert me.status_code == 200, me.text
    assert me.json()["data"]["id"] == alice.id
    media = client.post(
        f"{PREFIX}/media/upload", headers={"X-API-Key": key}, files={"file": ("a.txt", b"hello")}
    ).json()["data"]
    assert media["owner_id"] == alice.id


def test_revoked_key_stops_at_once(client: TestClient[Litestar], alice: Account) -> None:
    created = create_key(alice)
    auth = {"X-API-Key": created["key"]}
    assert client.get(f"{PREFIX}/users/me", headers=auth).status_code == 200
    assert client.delete(f"{KEYS}/{created['id']}", headers=alice.headers).status_code == 204
    response = client.get(f"{PREFIX}/users/me", headers=auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get(KEYS, headers=alice.headers).json()["data"] == []
    assert client.delete(f"{KEYS}/{created['id']}", headers=alice.headers).status_code == 404


def test_concurrent_revokes_of_a_key_one_wins(alice: Account) -> None:
    """One 204 (one ``api_key.revoked`` audit line), the others 404; they all used to answer 204."""
    created = create_key(alice)
    requests = [("DELETE", f"/users/me/api-keys/{created['id']}", {"headers": alice.headers})] * 3
    answers = alice.client.blocking_portal.call(concurrently, alice.client.app, requests)
    assert sorted(a.status_code for a in answers) == [204, 404, 404]


def test_unknown_and_malformed_keys_are_401(client: TestClient[Litestar]) -> None:
    for value in ("mvk_" + "A" * 43, "not-a-key", "mvk_" + "x" * 300):
        response = client.get(f"{PREFIX}/users/me", headers={"X-API-Key": value})
        assert response.status_code == 401, value
        assert response.json()["error"]["code"] == "unauthorized"


def test_someone_elses_key_is_404(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    created = create_key(alice)
    assert client.delete(f"{KEYS}/{created['id']}", headers=bob.headers).status_code == 404
    assert client.delete(f"{KEYS}/not-an-id", headers=bob.headers).status_code == 404
    assert client.get(KEYS, headers=bob.headers).json()["data"] == []
    assert client.get(f"{PREFIX}/users/me", headers={"X-API-Key": created["key"]}).status_code == 200


def test_an_api_key_cannot_manage_keys(client: TestClient[Litestar], alice: Account) -> None:
    created = create_key(alice)
    auth = {"X-API-Key": created["key"]}
    for response in (
        client.post(KEYS, headers=auth, json={"name": "escalate"}),
        client.get(KEYS, headers=auth),
        client.delete(f"{KEYS}/{created['id']}", headers=auth),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"


def test_an_api_key_cannot_log_out(client: TestClient[Litestar], alice: Account) -> None:
    """Logout ends a login (a token family); a key is no login: 403, as for key management, and it keeps working."""
    auth = {"X-API-Key": create_key(alice)["key"]}
    response = client.post(f"{PREFIX}/auth/logout", headers=auth)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert "DELETE /users/me/api-keys/" in response.json()["error"]["message"]
    assert client.get(f"{PREFIX}/users/me", headers=auth).status_code == 200
    assert client.get(f"{PREFIX}/users/me", headers=alice.headers).status_code == 200  # nor was a login ended


def test_create_validation(client: TestClient[Litestar], alice: Account) -> None:
    for body in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "scopes": ["all"]}):
        response = client.post(KEYS, headers=alice.headers, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "validation_error"
    assert client.post(KEYS, json={"name": "anon"}).status_code == 401


def test_keys_are_listed_newest_first_and_paginated(client: TestClient[Litestar], alice: Account) -> None:
    ids = [create_key(alice, f"k{i}")["id"] for i in range(3)]
    page = client.get(KEYS, headers=alice.headers, params={"per_page": 2}).json()
    assert [k["id"] for k in page["data"]] == ids[::-1][:2]
    assert page["meta"]["pagination"]["total"] == 3
    assert page["meta"]["pagination"]["links"]["next"] == "/users/me/api-keys?page=2&per_page=2"


def test_api_keys_are_in_the_openapi_document(client: TestClient[Litestar]) -> None:
    paths = client.get(f"{PREFIX}/schema/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths[KEYS])
    assert "delete" in paths[f"{KEYS}/{{key_id}}"]
