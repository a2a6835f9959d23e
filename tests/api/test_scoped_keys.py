"""Scoped and expiring API keys: a key limited to some scopes gets 403 ``forbidden`` naming the scope a route needs,
an expired key 401; keys show ``scopes``, ``expires_at`` and ``last_used_at`` (written at most once a minute); and
every vault route declares the scope it needs (or that it needs none), in one place: its ``opt``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

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


# ----------------------------------------------------------------------------- realtime


def _socket_auth(ws: Any, token: object) -> None:
    ws.send_json({"type": "auth", "token": str(token)})
    assert ws.receive_json(timeout=10) == {"type": "auth_ok"}


def _subscribe(ws: Any, channel: str, resource_id: str | None = None) -> dict[str, Any]:
    ws.send_json({"type": "subscribe", "channel": channel, "resource_id": resource_id})
    return ws.receive_json(timeout=10)  # type: ignore[no-any-return]


def _collection(account: Account, name: str) -> str:
    response = account.client.post(f"{PREFIX}/collections", headers=account.headers, json={"name": name})
    return str(success(response, 201)["id"])


def test_realtime_subscriptions_need_the_channels_read_scope(client: TestClient[Litestar], alice: Account) -> None:
    media = alice.upload(b"hello", "a.txt")
    camera = create(alice, scopes=["media:write", "collections:read"])
    with client.websocket_connect("/realtime") as ws:
        _socket_auth(ws, camera["key"])  # any key authenticates; what it may subscribe to is its scopes' business
        for resource_id in (None, media["id"]):  # refused before the lookup: its own media, too
            refused = _subscribe(ws, "media_updates", resource_id)
            assert refused["type"] == "error" and refused["error"]["code"] == "forbidden"
            assert "media:read" in refused["error"]["message"]
            assert (refused["channel"], refused["resource_id"]) == ("media_updates", resource_id)
        assert _subscribe(ws, "collection_updates")["type"] == "subscribed"
        first = _collection(alice, "one")
        event = ws.receive_json(timeout=10)
        assert (event["event"], event["resource_id"]) == ("collection.created", first)
        share = client.post(f"{PREFIX}/shares", headers=alice.headers, json={"collection_id": first})
        success(share, 201)  # share.created goes to collection_updates, but needs shares:read
        alice.upload(b"more", "b.txt")
        second = _collection(alice, "two")
        event = ws.receive_json(timeout=10)  # the next frame: the share's event was never sent
        assert (event["event"], event["resource_id"]) == ("collection.created", second)
    frame = create(alice, scopes=["media:read"])
    with client.websocket_connect("/realtime") as ws:
        _socket_auth(ws, frame["key"])
        assert _subscribe(ws, "media_updates")["type"] == "subscribed"
        assert _subscribe(ws, "collection_updates")["error"]["code"] == "forbidden"
        uploaded = alice.upload(b"new", "c.txt")
        event = ws.receive_json(timeout=10)
        assert (event["event"], event["resource_id"]) == ("media.uploaded", uploaded["id"])


def test_realtime_events_follow_the_current_keys_scopes(client: TestClient[Litestar], alice: Account) -> None:
    # subscribed with a login token (every scope), then re-authenticated with a key without media:read: the
    # subscription stays, but no media event reaches the socket any more
    narrow = create(alice, scopes=["collections:read"])
    with client.websocket_connect("/realtime") as ws:
        _socket_auth(ws, alice.tokens["token"])
        assert _subscribe(ws, "media_updates")["type"] == "subscribed"
        assert _subscribe(ws, "collection_updates")["type"] == "subscribed"
        before = alice.upload(b"seen", "a.txt")
        assert ws.receive_json(timeout=10)["resource_id"] == before["id"]
        _socket_auth(ws, narrow["key"])
        alice.upload(b"unseen", "b.txt")
        client.patch(f"{PREFIX}/media/{before['id']}", headers=alice.headers, json={"title": "t"})
        collection = _collection(alice, "after")
        event = ws.receive_json(timeout=10)  # the next frame: neither media event was sent
        assert (event["event"], event["resource_id"]) == ("collection.created", collection)
