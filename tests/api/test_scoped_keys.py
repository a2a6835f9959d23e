"""Scoped and expiring API keys: a key limited to some scopes gets 403 ``forbidden`` naming the scope a route needs,
an expired key 401; keys show ``scopes``, ``expires_at`` and ``last_used_at`` (written at most once a minute); and
every vault route declares the scope it needs (or that it needs none), in one place: its ``opt``."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import update

from mediavault.auth.scopes import ANY_PRINCIPAL, EVERY_SCOPE, SCOPE_OPT, SCOPES
from mediavault.db.models import ApiKey
from tests.api._admin import run
from tests.api._checks import error, fields, success
from tests.conftest import PREFIX, Account
from tests.files import make_png


def create(account: Account, **body: object) -> dict[str, object]:
    response = account.client.post(f"{PREFIX}/users/me/api-keys", headers=account.headers, json={"name": "k", **body})
    return success(response, 201)  # type: ignore[no-any-return]


def as_key(key: object) -> dict[str, str]:
    return {"X-API-Key": str(key)}


def _listed(account: Account, key_id: object) -> dict[str, object]:
    keys = success(account.client.get(f"{PREFIX}/users/me/api-keys", headers=account.headers))
    return next(k for k in keys if k["id"] == key_id)


def test_a_read_only_key_reads_and_is_refused_writes_naming_the_scope(
    client: TestClient[Litestar], alice: Account
) -> None:
    media = alice.upload(make_png(), "p.png")
    created = create(alice, name="photo frame", scopes=["media:read"])
    assert created["scopes"] == ["media:read"] and created["expires_at"] is None and created["last_used_at"] is None
    key = as_key(created["key"])
    success(client.get(f"{PREFIX}/media", headers=key))
    assert client.get(f"{PREFIX}/media/{media['id']}/content", headers=key).status_code == 200
    success(client.get(f"{PREFIX}/search", headers=key, params={"q": "p"}))
    success(client.get(f"{PREFIX}/users/me", headers=key))
    success(client.get(f"{PREFIX}/users/me/usage", headers=key))
    upload = client.post(f"{PREFIX}/media/upload", headers=key, files={"file": ("x.bin", b"x")})
    assert "media:write" in error(upload, 403, "forbidden")["message"]
    denied = {
        ("DELETE", f"/media/{media['id']}"): "media:write",
        ("GET", "/collections"): "collections:read",
        ("POST", "/collections"): "collections:write",
        ("GET", "/shares"): "shares:read",
        ("POST", "/shares"): "shares:write",
        ("GET", "/webhooks"): "webhooks:read",
    }
    for (method, path), scope in denied.items():
        response = client.request(method, PREFIX + path, headers=key, json={} if method == "POST" else None)
        assert scope in error(response, 403, "forbidden")["message"], (method, path)
    every = error(client.patch(f"{PREFIX}/users/me", headers=key, json={"display_name": "x"}), 403, "forbidden")
    assert "every scope" in every["message"]
    success(client.get(f"{PREFIX}/media/{media['id']}", headers=key))  # nothing was deleted


def test_an_upload_only_key(client: TestClient[Litestar], alice: Account) -> None:
    key = as_key(create(alice, name="camera", scopes=["media:write"])["key"])
    media = success(client.post(f"{PREFIX}/media/upload", headers=key, files={"file": ("c.png", make_png())}), 201)
    error(client.get(f"{PREFIX}/media/{media['id']}", headers=key), 403, "forbidden")
    error(client.get(f"{PREFIX}/media", headers=key), 403, "forbidden")


def test_without_scopes_a_key_holds_every_scope(client: TestClient[Litestar], alice: Account) -> None:
    for body in ({}, {"scopes": list(reversed(SCOPES))}):
        created = create(alice, **body)
        assert created["scopes"] == list(SCOPES)
        key = as_key(created["key"])
        success(client.get(f"{PREFIX}/webhooks", headers=key))
        success(client.patch(f"{PREFIX}/users/me", headers=key, json={"display_name": "Alice"}))


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["media:delete"]},
        {"scopes": []},
        {"scopes": "media:read"},
        {"expires_in": 0},
        {"expires_in": 59},
        {"expires_in": "soon"},
    ],
)
def test_bad_scopes_or_expiry_are_400(client: TestClient[Litestar], alice: Account, body: dict[str, object]) -> None:
    response = client.post(f"{PREFIX}/users/me/api-keys", headers=alice.headers, json={"name": "k", **body})
    assert fields(error(response, 400, "validation_error")) == set(body)


def test_an_expired_key_is_401(client: TestClient[Litestar], alice: Account) -> None:
    created = create(alice, expires_in=3600)
    expires_at = dt.datetime.fromisoformat(str(created["expires_at"]).replace("Z", "+00:00"))
    created_at = dt.datetime.fromisoformat(str(created["created_at"]).replace("Z", "+00:00"))
    assert dt.timedelta(seconds=3599) <= expires_at - created_at <= dt.timedelta(seconds=3601)
    key = as_key(created["key"])
    success(client.get(f"{PREFIX}/media", headers=key))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    run(client, update(ApiKey).where(ApiKey.id == uuid.UUID(str(created["id"]))).values(expires_at=past))
    assert "expired" in error(client.get(f"{PREFIX}/media", headers=key), 401, "unauthorized")["message"]


def test_last_used_at_is_written_at_most_once_a_minute(client: TestClient[Litestar], alice: Account) -> None:
    created = create(alice)
    key = as_key(created["key"])
    assert _listed(alice, created["id"])["last_used_at"] is None
    success(client.get(f"{PREFIX}/users/me", headers=key))
    first = _listed(alice, created["id"])["last_used_at"]
    assert first is not None
    success(client.get(f"{PREFIX}/media", headers=key))
    assert _listed(alice, created["id"])["last_used_at"] == first  # within the minute: not written again
    a_while_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    run(client, update(ApiKey).where(ApiKey.id == uuid.UUID(str(created["id"]))).values(last_used_at=a_while_ago))
    success(client.get(f"{PREFIX}/media", headers=key))
    assert _listed(alice, created["id"])["last_used_at"] > a_while_ago.isoformat().replace("+00:00", "Z")


def test_every_vault_route_declares_its_scope(app: Litestar) -> None:
    """One place: each non-public route's ``opt`` names an area, a scope, ANY_PRINCIPAL or EVERY_SCOPE."""
    areas = {s.split(":")[0] for s in SCOPES}
    undeclared, unknown = [], []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(PREFIX):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method == "OPTIONS" or handler.opt.get("public"):
                continue
            if SCOPE_OPT not in handler.opt:
                undeclared.append(f"{method} {route.path}")
            elif (need := handler.opt[SCOPE_OPT]) not in (ANY_PRINCIPAL, EVERY_SCOPE, *areas, *SCOPES):
                unknown.append(f"{method} {route.path}: {need!r}")
    assert undeclared == [], "routes without opt[SCOPE_OPT] (see mediavault/auth/scopes.py)"
    assert unknown == []
