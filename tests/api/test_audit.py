"""The audit log: sign-ins (and failures), sign-outs, deletions, shares, API keys and admin changes are recorded
with who, from where and when; ``GET /admin/audit`` lists them newest first, filtered, admins only; it is
append-only over the API and pruned after ``audit_retention``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from mediavault.db.models import AuditEvent
from tests.api._admin import make_admin, run, runtime
from tests.api._checks import RFC3339_UTC, error, fields, success
from tests.conftest import PREFIX, Account

AGENT = {"User-Agent": "audit-test/1.0"}


@pytest.fixture
def admin(account_factory: Callable[[str], Account]) -> Account:
    return make_admin(account_factory("root@example.com"))


def audit(admin: Account, **params: Any) -> list[dict[str, Any]]:
    return success(admin.client.get(f"{PREFIX}/admin/audit", headers=admin.headers, params=params))  # type: ignore[no-any-return]


def test_actions_are_recorded_with_actor_address_and_agent(
    client: TestClient[Litestar], admin: Account, alice: Account
) -> None:
    headers = {**alice.headers, **AGENT}
    bad = client.post(f"{PREFIX}/auth/login", json={"username": alice.email, "password": "wrong password"})
    error(bad, 401, "unauthorized")
    media = alice.upload(b"data", "d.bin")
    share = success(client.post(f"{PREFIX}/shares", headers=headers, json={"media_id": media["id"]}), 201)
    assert client.delete(f"{PREFIX}/shares/{share['id']}", headers=headers).status_code == 204
    key = success(client.post(f"{PREFIX}/users/me/api-keys", headers=headers, json={"name": "k"}), 201)
    assert client.delete(f"{PREFIX}/users/me/api-keys/{key['id']}", headers=headers).status_code == 204
    assert client.delete(f"{PREFIX}/media/{media['id']}", headers=headers).status_code == 204
    client.patch(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers, json={"quota_bytes": 1000})
    assert client.post(f"{PREFIX}/auth/logout", headers=headers).status_code == 204

    lines = audit(admin, actor_id=alice.id)
    assert [line["action"] for line in lines] == [
        "auth.logout",
        "media.deleted",
        "api_key.revoked",
        "api_key.created",
        "share.deleted",
        "share.created",
        "auth.login_failed",
        "auth.login",
    ]
    by_action = {line["action"]: line for line in lines}
    assert set(lines[0]) == {
        "id", "action", "actor_id", "target_type", "target_id", "ip", "user_agent", "details", "created_at"
    }  # fmt: skip
    deleted = by_action["media.deleted"]
    assert (deleted["target_type"], deleted["target_id"]) == ("media", media["id"])
    assert deleted["details"] == {"filename": "d.bin", "size": 4, "trashed": False}
    assert deleted["ip"] == "testclient" and deleted["user_agent"] == "audit-test/1.0"
    assert RFC3339_UTC.match(deleted["created_at"])
    assert by_action["share.created"]["details"] == {"media_id": media["id"]}
    assert by_action["auth.login_failed"]["details"] == {"email": alice.email, "reason": "bad_credentials"}
    updated = audit(admin, action="admin.user_updated")
    assert [(u["actor_id"], u["target_id"], u["details"]) for u in updated] == [
        (admin.id, alice.id, {"quota_bytes": 1000})
    ]


def test_a_failed_sign_in_of_an_unknown_email_has_no_actor(client: TestClient[Litestar], admin: Account) -> None:
    client.post(f"{PREFIX}/auth/login", json={"username": "Nobody@Example.com", "password": "whatever123"})
    (line,) = audit(admin, action="auth.login_failed")
    assert (line["actor_id"], line["target_id"]) == (None, None)
    assert line["details"] == {"email": "nobody@example.com", "reason": "bad_credentials"}


def test_filters_and_pagination(client: TestClient[Litestar], admin: Account, alice: Account) -> None:
    for _ in range(3):
        alice.login()
    response = client.get(
        f"{PREFIX}/admin/audit", headers=admin.headers, params={"action": "auth.login", "per_page": 2}
    )
    assert len(success(response)) == 2
    assert response.json()["meta"]["pagination"]["total"] == 5  # alice's 4 and the admin's
    assert len(audit(admin, action="auth.login", actor_id=alice.id)) == 4
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert audit(admin, since=future) == []
    assert audit(admin, until=past) == []
    assert len(audit(admin, since=past, until=future, action="auth.login")) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [({"action": "media.exploded"}, "action"), ({"actor_id": "nope"}, "actor_id"), ({"since": "yesterday"}, "since")],
)
def test_bad_filters_are_400(client: TestClient[Litestar], admin: Account, params: dict[str, str], field: str) -> None:
    response = client.get(f"{PREFIX}/admin/audit", headers=admin.headers, params=params)
    assert field in fields(error(response, 400, "validation_error"))


def test_append_only_and_admins_only(client: TestClient[Litestar], admin: Account, alice: Account) -> None:
    error(client.get(f"{PREFIX}/admin/audit", headers=alice.headers), 403, "forbidden")
    line = audit(admin)[0]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, f"{PREFIX}/admin/audit", headers=admin.headers, json={})
        error(response, 405, "method_not_allowed")
    assert client.delete(f"{PREFIX}/admin/audit/{line['id']}", headers=admin.headers).status_code == 404
    assert audit(admin)[0] == line


def test_lines_past_the_retention_are_pruned(client: TestClient[Litestar], admin: Account, alice: Account) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)  # audit_retention: 365 days by default
    run(client, update(AuditEvent).where(AuditEvent.action == "auth.login").values(created_at=old))
    alice.login()
    client.blocking_portal.call(runtime(client).webhooks.prune)
    assert [line["action"] for line in audit(admin, action="auth.login")] == ["auth.login"]
    assert audit(admin, action="auth.login")[0]["actor_id"] == alice.id


def test_trashing_and_restoring_are_recorded(tmp_path: Any) -> None:
    from litestar import Litestar as App

    from mediavault import MediaVault
    from tests.conftest import make_config

    with TestClient(App(plugins=[MediaVault(make_config(tmp_path, trash_retention_days=30))])) as client:
        admin, alice = make_admin(Account(client, "root@example.com")), Account(client, "alice@example.com")
        media = alice.upload(b"data", "d.bin")
        assert client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
        success(client.post(f"{PREFIX}/trash/{media['id']}/restore", headers=alice.headers))
        lines = audit(admin, actor_id=alice.id)
        assert [line["action"] for line in lines[:2]] == ["media.restored", "media.deleted"]
        assert lines[1]["details"]["trashed"] is True and lines[0]["target_id"] == media["id"]
