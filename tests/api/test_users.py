"""/users/me: read, update, mass assignment, password and email changes."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVaultConfig
from tests.api._checks import RFC3339_UTC, concurrently, error, fields, serial, success
from tests.backends import query
from tests.conftest import PREFIX, Account


def _me(client: TestClient[Litestar], account: Account) -> Any:
    return success(client.get(f"{PREFIX}/users/me", headers=account.headers))


def _patch(client: TestClient[Litestar], account: Account, body: Any) -> Any:
    return client.patch(f"{PREFIX}/users/me", headers=account.headers, json=body)


def _login(client: TestClient[Litestar], email: str, password: str) -> Any:
    return client.post(f"{PREFIX}/auth/login", json={"username": email, "password": password})


def test_get_me(client: TestClient[Litestar], alice: Account) -> None:
    me = _me(client, alice)
    assert set(me) == {"id", "email", "display_name", "role", "created_at", "updated_at"}
    assert me["id"] == alice.id
    assert me["email"] == alice.email
    assert me["role"] == "user"
    assert me["display_name"] is None
    for key in ("created_at", "updated_at"):
        assert RFC3339_UTC.match(me[key]), me[key]
    assert me["updated_at"] == me["created_at"]  # a new account has not been edited (and is not older than itself)


def test_me_is_per_user(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    assert _me(client, alice)["id"] != _me(client, bob)["id"]
    assert _me(client, bob)["email"] == bob.email


def test_patch_display_name(client: TestClient[Litestar], alice: Account) -> None:
    updated = success(_patch(client, alice, {"display_name": "Alice A."}))
    assert updated["display_name"] == "Alice A."
    assert _me(client, alice)["display_name"] == "Alice A."
    assert success(_patch(client, alice, {"display_name": None}))["display_name"] is None


def test_patch_moves_updated_at(client: TestClient[Litestar], alice: Account) -> None:
    before = _me(client, alice)
    after = success(_patch(client, alice, {"display_name": "Later"}))
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]


def test_patch_empty_body_changes_nothing(client: TestClient[Litestar], alice: Account) -> None:
    before = _me(client, alice)
    after = success(_patch(client, alice, {}))
    assert {k: after[k] for k in ("id", "email", "display_name", "role")} == {
        k: before[k] for k in ("id", "email", "display_name", "role")
    }


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"id": "00000000-0000-0000-0000-000000000000"},
        {"is_admin": True},
        {"password_hash": "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA"},
        {"display_name": "Sneaky", "role": "admin"},
        {"created_at": "2000-01-01T00:00:00Z"},
    ],
)
def test_mass_assignment(
    client: TestClient[Litestar], alice: Account, config: MediaVaultConfig, body: dict[str, Any]
) -> None:
    before = _me(client, alice)
    hash_before = query(config, "SELECT password_hash, role FROM mediavault_user")
    err = error(_patch(client, alice, body), 400, "validation_error")
    forbidden = next(k for k in body if k != "display_name")
    assert forbidden in fields(err)
    assert forbidden in err["message"]
    assert _me(client, alice) == before
    assert query(config, "SELECT password_hash, role FROM mediavault_user") == hash_before


def test_patch_bad_email(client: TestClient[Litestar], alice: Account) -> None:
    err = error(_patch(client, alice, {"email": "nope"}), 400, "validation_error")
    assert "email" in fields(err)


def test_patch_requires_auth(client: TestClient[Litestar]) -> None:
    error(client.patch(f"{PREFIX}/users/me", json={"display_name": "x"}), 401, "unauthorized")


def test_password_change(client: TestClient[Litestar], alice: Account) -> None:
    other_login = success(_login(client, alice.email, alice.password))
    new = "a brand new password"
    success(_patch(client, alice, {"password": new, "current_password": alice.password}))
    error(_login(client, alice.email, alice.password), 401, "unauthorized")
    success(_login(client, alice.email, new))
    # the session that changed the password goes on; other logins end
    _me(client, alice)
    error(
        client.get(f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {other_login['token']}"}),
        401,
        "unauthorized",
    )


def test_concurrent_patches_apply_one_after_the_other(client: TestClient[Litestar], alice: Account) -> None:
    """Patches racing on one account each apply to what the previous one left: in order, every answer shows the
    display name the changes before it left; of two password changes with the same current password one wins and
    the other is refused (the current password is no longer that one), instead of both answering 200."""
    names = [{"display_name": f"name {i}"} for i in range(6)]
    passwords = [{"password": f"new password {i}", "current_password": alice.password} for i in range(2)]
    requests = [("PATCH", "/users/me", {"headers": alice.headers, "json": body}) for body in names + passwords]
    answers = client.blocking_portal.call(concurrently, client.app, requests)
    assert [a.status_code for a in answers[:6]] == [200] * 6, [a.text for a in answers]
    assert sorted(a.status_code for a in answers[6:]) == [200, 400], [a.text for a in answers[6:]]
    won = next(i for i in (0, 1) if answers[6 + i].status_code == 200)
    assert "current_password" in fields(error(answers[7 - won], 400, "validation_error"))
    last = serial({"display_name": None}, [*names, {}], [success(a) for a in [*answers[:6], answers[6 + won]]])
    assert _me(client, alice)["display_name"] == last["display_name"]
    success(_login(client, alice.email, passwords[won]["password"]))
    error(_login(client, alice.email, passwords[1 - won]["password"]), 401, "unauthorized")


def test_password_change_ends_other_refresh_families(client: TestClient[Litestar], alice: Account) -> None:
    other_login = success(_login(client, alice.email, alice.password))
    success(_patch(client, alice, {"password": "a brand new password", "current_password": alice.password}))
    stale = client.post(f"{PREFIX}/auth/refresh", json={"refresh_token": other_login["refresh_token"]})
    error(stale, 401, "unauthorized")
    success(client.post(f"{PREFIX}/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]}))


@pytest.mark.parametrize(
    "body",
    [
        {"password": "a brand new password"},
        {"password": "a brand new password", "current_password": "wrong password"},
        {"password": "a brand new password", "current_password": ""},
    ],
)
def test_password_change_needs_current_password(client: TestClient[Litestar], alice: Account, body: Any) -> None:
    err = error(_patch(client, alice, body), 400, "validation_error")
    assert "current_password" in fields(err)
    success(_login(client, alice.email, alice.password))
    error(_login(client, alice.email, "a brand new password"), 401, "unauthorized")


def test_wrong_current_password_changes_nothing_else(client: TestClient[Litestar], alice: Account) -> None:
    body = {"display_name": "Changed", "password": "a brand new password", "current_password": "wrong!!!"}
    error(_patch(client, alice, body), 400, "validation_error")
    assert _me(client, alice)["display_name"] is None


def test_new_password_policy(client: TestClient[Litestar], alice: Account) -> None:
    err = error(
        _patch(client, alice, {"password": "short", "current_password": alice.password}), 400, "validation_error"
    )
    assert "password" in fields(err)
    success(_login(client, alice.email, alice.password))


def test_email_change(client: TestClient[Litestar], alice: Account) -> None:
    updated = success(_patch(client, alice, {"email": "Alice.New@Example.com", "current_password": alice.password}))
    assert updated["email"] == "alice.new@example.com"
    success(_login(client, "alice.new@example.com", alice.password))
    error(_login(client, "alice@example.com", alice.password), 401, "unauthorized")


@pytest.mark.parametrize("current", [None, "not the password"], ids=["missing", "wrong"])
def test_email_change_needs_the_current_password(
    client: TestClient[Litestar], alice: Account, current: str | None
) -> None:
    """A bearer token alone cannot take the account over by moving its login email (issue 13, finding 10)."""
    body = {"email": "mallory@example.com"} | ({} if current is None else {"current_password": current})
    err = error(_patch(client, alice, body), 400, "validation_error")
    assert fields(err) == {"current_password"}
    assert _me(client, alice)["email"] == alice.email
    success(_login(client, alice.email, alice.password))
    error(_login(client, "mallory@example.com", alice.password), 401, "unauthorized")


def test_current_password_alone_is_refused(client: TestClient[Litestar], alice: Account) -> None:
    err = error(_patch(client, alice, {"current_password": alice.password}), 400, "validation_error")
    assert fields(err) == {"current_password"}


def test_email_change_to_taken(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    error(_patch(client, alice, {"email": bob.email, "current_password": alice.password}), 409, "conflict")
    error(_patch(client, alice, {"email": bob.email.upper(), "current_password": alice.password}), 409, "conflict")
    assert _me(client, alice)["email"] == alice.email
    assert _me(client, bob)["email"] == bob.email


def test_email_change_to_own_email(client: TestClient[Litestar], alice: Account) -> None:
    assert success(_patch(client, alice, {"email": alice.email.upper()}))["email"] == alice.email
