"""/auth: register, login, refresh rotation, logout, JWT attacks, rehash on login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediavault import MediaVault, MediaVaultConfig
from tests.api._checks import error, fields, success
from tests.backends import query
from tests.conftest import PREFIX, Account, make_config

SECRET = "test-secret-key-" + "x" * 32  # the key make_config uses


def _register(client: TestClient[Litestar], **body: Any) -> Any:
    return client.post(f"{PREFIX}/auth/register", json=body)


def _login(client: TestClient[Litestar], username: str, password: str) -> Any:
    return client.post(f"{PREFIX}/auth/login", json={"username": username, "password": password})


def _me(client: TestClient[Litestar], token: str) -> Any:
    return client.get(f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {token}"})


# ----------------------------------------------------------------------------- register


def test_register_shape(client: TestClient[Litestar]) -> None:
    data = success(_register(client, email="New@Example.com", password="p" * 8, display_name="New One"), 201)
    assert set(data) == {"id", "email", "display_name", "role", "created_at", "updated_at"}
    assert data["email"] == "new@example.com"
    assert data["display_name"] == "New One"
    assert data["role"] == "user"
    assert "hash" not in json.dumps(data) and "argon2" not in json.dumps(data)
    assert data["created_at"].endswith("Z") or data["created_at"].endswith("+00:00")


def test_register_duplicate_email_case_insensitive(client: TestClient[Litestar]) -> None:
    success(_register(client, email="dup@example.com", password="p" * 10), 201)
    error(_register(client, email="DUP@Example.COM", password="q" * 10), 409, "conflict")
    error(_register(client, email="dup@example.com", password="q" * 10), 409, "conflict")


@pytest.mark.parametrize(
    ("length", "words"),
    [
        (7, "must be at least 8 characters"),
        (1025, "must be at most 1024 characters"),
        (0, "must be at least 8 characters"),
    ],
)
def test_register_password_length(shared_client: TestClient[Litestar], length: int, words: str) -> None:
    err = error(_register(shared_client, email="p@example.com", password="p" * length), 400, "validation_error")
    assert "password" in fields(err)
    # in the vault's words, not msgspec's ("Expected `str` of length >= 8")
    assert err["details"] == [{"field": "password", "message": words}]
    assert err["message"] == f"Invalid input data: password: {words}"


@pytest.mark.parametrize("length", [8, 1024])
def test_register_password_length_bounds_ok(shared_client: TestClient[Litestar], length: int) -> None:
    success(_register(shared_client, email=f"p{length}@example.com", password="p" * length), 201)
    success(_login(shared_client, f"p{length}@example.com", "p" * length))


@pytest.mark.parametrize("field", ["role", "is_admin", "id", "password_hash"])
def test_register_unknown_field(client: TestClient[Litestar], field: str) -> None:
    body = {"email": "r@example.com", "password": "p" * 10, field: "admin"}
    err = error(client.post(f"{PREFIX}/auth/register", json=body), 400, "validation_error")
    assert field in fields(err)
    # nothing was created
    success(_register(client, email="r@example.com", password="p" * 10), 201)


def test_register_bad_email(shared_client: TestClient[Litestar]) -> None:
    err = error(_register(shared_client, email="not-an-email", password="p" * 10), 400, "validation_error")
    assert err["details"] == [{"field": "email", "message": "must be an email address (name@example.com)"}]


def test_register_disabled(tmp_path: Path) -> None:
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, allow_registration=False))])
    with TestClient(app) as client:
        error(_register(client, email="a@example.com", password="p" * 10), 403, "forbidden")
        assert query(make_config(tmp_path), "SELECT count(*) FROM mediavault_user") == [(0,)]


# ----------------------------------------------------------------------------- login


def test_login_shape(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    data = success(_login(shared_client, shared_alice.email, shared_alice.password))
    assert set(data) == {"token", "expires_in", "token_type", "refresh_token", "refresh_expires_in"}
    assert data["expires_in"] == 3600
    assert data["token_type"] == "Bearer"
    assert data["refresh_expires_in"] == 30 * 24 * 3600
    claims = jwt.decode(data["token"], SECRET, algorithms=["HS256"], audience="mediavault", issuer="mediavault")
    assert {"sub", "jti", "iat", "exp", "iss", "aud", "type"} <= set(claims)
    assert claims["type"] == "access"
    assert claims["sub"] == shared_alice.id
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(data["token"])["alg"] == "HS256"


def test_login_email_case_insensitive(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    success(_login(shared_client, shared_alice.email.upper(), shared_alice.password))


def test_login_no_user_enumeration(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    wrong_email = _login(shared_client, "nobody@example.com", shared_alice.password)
    wrong_password = _login(shared_client, shared_alice.email, "wrong password!")
    error(wrong_email, 401, "unauthorized")
    error(wrong_password, 401, "unauthorized")
    a, b = wrong_email.json(), wrong_password.json()
    a.pop("meta"), b.pop("meta")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert wrong_email.content.split(b'"meta"')[0] == wrong_password.content.split(b'"meta"')[0]


def test_login_missing_fields(shared_client: TestClient[Litestar]) -> None:
    error(shared_client.post(f"{PREFIX}/auth/login", json={"username": "a@example.com"}), 400, "validation_error")


# ----------------------------------------------------------------------------- refresh


def _refresh(client: TestClient[Litestar], token: str) -> Any:
    return client.post(f"{PREFIX}/auth/refresh", json={"refresh_token": token})


def test_refresh_rotation_and_reuse_detection(client: TestClient[Litestar], alice: Account) -> None:
    first = alice.tokens
    second = success(_refresh(client, first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token"] != first["token"]
    assert second["expires_in"] == 3600 and second["token_type"] == "Bearer"
    success(_me(client, second["token"]))

    # the old refresh token is spent; presenting it again kills the whole family
    error(_refresh(client, first["refresh_token"]), 401, "unauthorized")
    error(_refresh(client, second["refresh_token"]), 401, "unauthorized")
    error(_me(client, second["token"]), 401, "unauthorized")
    error(_me(client, first["token"]), 401, "unauthorized")

    # a fresh login is a new family and works
    fresh = alice.login()
    success(_me(client, fresh["token"]))
    success(_refresh(client, fresh["refresh_token"]))


def test_refresh_with_access_token_rejected(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    err = error(_refresh(shared_client, shared_alice.tokens["token"]), 401, "unauthorized")
    assert err["message"] == "Expected a refresh token"
    success(_me(shared_client, shared_alice.tokens["token"]))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_garbage(shared_client: TestClient[Litestar], token: str) -> None:
    error(_refresh(shared_client, token), 401, "unauthorized")


def test_refresh_reuse_does_not_affect_other_logins(client: TestClient[Litestar], alice: Account) -> None:
    other = success(_login(client, alice.email, alice.password))
    first = alice.tokens
    success(_refresh(client, first["refresh_token"]))
    error(_refresh(client, first["refresh_token"]), 401, "unauthorized")
    success(_me(client, other["token"]))
    success(_refresh(client, other["refresh_token"]))


# ----------------------------------------------------------------------------- logout


def test_logout(client: TestClient[Litestar], alice: Account) -> None:
    other = success(_login(client, alice.email, alice.password))
    response = client.post(f"{PREFIX}/auth/logout", headers=alice.headers)
    assert response.status_code == 204 and response.content == b""
    error(_me(client, alice.tokens["token"]), 401, "unauthorized")
    error(_refresh(client, alice.tokens["refresh_token"]), 401, "unauthorized")
    error(client.post(f"{PREFIX}/auth/logout", headers=alice.headers), 401, "unauthorized")
    # another login of the same user is untouched
    success(_me(client, other["token"]))


def test_logout_requires_auth(client: TestClient[Litestar]) -> None:
    error(client.post(f"{PREFIX}/auth/logout"), 401, "unauthorized")


def test_logout_after_refresh_kills_refreshed_pair(client: TestClient[Litestar], alice: Account) -> None:
    second = success(_refresh(client, alice.tokens["refresh_token"]))
    assert (
        client.post(f"{PREFIX}/auth/logout", headers={"Authorization": f"Bearer {second['token']}"}).status_code == 204
    )
    error(_refresh(client, second["refresh_token"]), 401, "unauthorized")
    error(_me(client, second["token"]), 401, "unauthorized")


# ----------------------------------------------------------------------------- JWT attacks


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_resigned_token_control(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    """Re-signing the real claims with the real key works: the attacks below differ in one thing only."""
    token = jwt.encode(_claims(shared_alice.tokens["token"]), SECRET, algorithm="HS256")
    success(_me(shared_client, token))


def test_alg_none(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    claims = _claims(shared_alice.tokens["token"])
    for alg in ("none", "None", "NONE"):
        token = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."
        error(_me(shared_client, token), 401, "unauthorized")
    error(_me(shared_client, jwt.encode(claims, None, algorithm="none")), 401, "unauthorized")


def test_other_key(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    token = jwt.encode(_claims(shared_alice.tokens["token"]), "another-key-" + "y" * 40, algorithm="HS256")
    error(_me(shared_client, token), 401, "unauthorized")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithms(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    claims = _claims(shared_alice.tokens["token"])
    error(_me(shared_client, jwt.encode(claims, SECRET, algorithm="HS512")), 401, "unauthorized")
    error(_me(shared_client, jwt.encode(claims, SECRET, algorithm="HS384")), 401, "unauthorized")
    # RS256 header with an HMAC signature made with the secret (key-confusion attempt)
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    error(_me(shared_client, f"{header}.{payload}.{sig}"), 401, "unauthorized")


def test_tampered_payload(shared_client: TestClient[Litestar], shared_alice: Account, shared_bob: Account) -> None:
    header, _, sig = shared_alice.tokens["token"].split(".")
    claims = _claims(shared_alice.tokens["token"])
    claims["sub"] = shared_bob.id
    error(_me(shared_client, f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"), 401, "unauthorized")


def test_expired(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    claims = _claims(shared_alice.tokens["token"])
    claims["iat"] = int(time.time()) - 7200
    claims["exp"] = int(time.time()) - 3600
    error(_me(shared_client, jwt.encode(claims, SECRET, algorithm="HS256")), 401, "unauthorized")


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "other-api"), ("type", "admin")])
def test_wrong_claim(shared_client: TestClient[Litestar], shared_alice: Account, claim: str, value: str) -> None:
    claims = _claims(shared_alice.tokens["token"])
    claims[claim] = value
    error(_me(shared_client, jwt.encode(claims, SECRET, algorithm="HS256")), 401, "unauthorized")


@pytest.mark.parametrize("claim", ["sub", "jti", "iat", "exp", "iss", "aud", "type"])
def test_missing_claim(shared_client: TestClient[Litestar], shared_alice: Account, claim: str) -> None:
    claims = _claims(shared_alice.tokens["token"])
    del claims[claim]
    error(_me(shared_client, jwt.encode(claims, SECRET, algorithm="HS256")), 401, "unauthorized")


def test_refresh_token_as_bearer(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    err = error(_me(shared_client, shared_alice.tokens["refresh_token"]), 401, "unauthorized")
    assert err["message"] == "Expected an access token", err


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "bearer\tx",
        "garbage",
    ],
)
def test_garbage_authorization(shared_client: TestClient[Litestar], shared_alice: Account, header: str) -> None:
    error(shared_client.get(f"{PREFIX}/users/me", headers={"Authorization": header}), 401, "unauthorized")


def test_bearer_scheme_case_insensitive(shared_client: TestClient[Litestar], shared_alice: Account) -> None:
    success(
        shared_client.get(f"{PREFIX}/users/me", headers={"Authorization": f"bearer {shared_alice.tokens['token']}"})
    )


def test_token_from_another_vault_rejected(tmp_path: Path, alice: Account) -> None:
    """A token from another vault (other secret) is rejected."""
    other = tmp_path / "other"
    other.mkdir()
    app = Litestar(plugins=[MediaVault(make_config(other, secret_key="z" * 40))])
    with TestClient(app) as client:
        error(_me(client, alice.tokens["token"]), 401, "unauthorized")


# ----------------------------------------------------------------------------- rehash


def _stored_hash(config: MediaVaultConfig, email: str) -> str:
    return query(config, "SELECT password_hash FROM mediavault_user WHERE email = :email", email=email)[0][0]


def test_rehash_on_login_when_params_change(tmp_path: Path) -> None:
    db = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path))])) as client:
        account = Account(client, "re@example.com")
    before = _stored_hash(db, "re@example.com")
    assert before.startswith("$argon2id$v=19$m=8,t=1,p=1$")

    changed = make_config(tmp_path, argon2_memory_cost=16, argon2_time_cost=2, argon2_parallelism=1)
    with TestClient(Litestar(plugins=[MediaVault(changed)])) as client:
        error(_login(client, account.email, "wrong password"), 401, "unauthorized")
        assert _stored_hash(db, "re@example.com") == before  # a failed login rehashes nothing
        success(_login(client, account.email, account.password))
        after = _stored_hash(db, "re@example.com")
        assert after.startswith("$argon2id$v=19$m=16,t=2,p=1$")
        success(_login(client, account.email, account.password))  # the new hash verifies
        assert _stored_hash(db, "re@example.com") == after  # and is not recomputed again
