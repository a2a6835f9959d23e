"""Authorisation matrix: every route of the app that takes an id, walked from the app's own route table.

For each (route, method) with a ``{...:str}`` path parameter under the vault's prefix (public routes such as
``/s/{token}`` excepted: there the token is the credential), a fresh resource family of the owner is created
(:data:`SETUP`, keyed by path prefix), then:

1. another user sends the request (with a body that would be valid for them) and must get 404 (or the
   status :data:`EXPECTED` names), never the owner's data;
2. every table of the database (login bookkeeping excepted) must be byte-for-byte unchanged;
3. the owner sends the same request and must *not* get a 4xx, proving the ids were right and the 404 came
   from the ownership check.

A new id route without an entry in :data:`SETUP` fails with "no setup for route ... add one", so it cannot
slip past the matrix; :func:`test_the_matrix_catches_a_route_without_the_check` shows a route that forgets the
owner-scoped lookup is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Controller, Litestar, get, patch
from litestar.params import FromPath
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import select, update

from mediavault import MediaVault, MediaVaultConfig
from mediavault.db.models import Collection
from mediavault.domain.collections.controllers import CollectionServiceDep
from tests.api._admin import make_admin
from tests.api._checks import processed
from tests.backends import snapshot
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png

Params = dict[str, str]

IGNORED_TABLES = {"mediavault_token_family", "mediavault_refresh_token", "mediavault_alembic_version"}
"""Tables that change when someone logs in, not when a resource does."""
IGNORED_TABLE_PARTS = ("outbox", "deliver", "processing", "variant")
"""Tables written in the background after a commit (event dispatch, webhook deliveries and media processing of the
intruder's own upload), so their rows may change between two snapshots without any request."""


def _post(account: Account, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = account.client.post(f"{PREFIX}{path}", headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def _setup_media(owner: Account) -> Params:
    media_id = owner.upload(make_png(), "owned.png", title="owned", tags="t")["id"]
    processed(owner, media_id)  # so that its thumbnail exists for the owner
    return {"media_id": media_id}


def _setup_collection(owner: Account) -> Params:
    media_id = _setup_media(owner)["media_id"]
    collection = _post(owner, "/collections", {"name": "owned", "description": "d"})
    response = owner.client.post(
        f"{PREFIX}/collections/{collection['id']}/media", headers=owner.headers, json={"media_ids": [media_id]}
    )
    assert response.status_code == 200, response.text
    return {"collection_id": collection["id"], "media_id": media_id}


def _setup_share(owner: Account) -> Params:
    media_id = _setup_media(owner)["media_id"]
    return {"share_id": _post(owner, "/shares", {"media_id": media_id})["id"]}


def _setup_versions(owner: Account) -> Params:
    media_id = _setup_media(owner)["media_id"]
    response = owner.client.put(
        f"{PREFIX}/media/{media_id}/content", headers=owner.headers, files={"file": ("v2.png", make_png(3, 3))}
    )
    assert response.status_code == 200, response.text
    return {"media_id": media_id, "version": "1"}


def _setup_trash(owner: Account) -> Params:
    media_id = owner.upload(b"trashed", "trashed.txt")["id"]
    response = owner.client.delete(f"{PREFIX}/media/{media_id}", headers=owner.headers)
    assert response.status_code == 204, response.text
    return {"media_id": media_id}


def _setup_webhook(owner: Account) -> Params:
    # a public address literal (no DNS) and an event this user never raises again: nothing is ever delivered
    body = {"url": "https://93.184.215.14/hook", "events": ["user.registered"]}
    return {"webhook_id": _post(owner, "/webhooks", body)["id"]}


def _setup_api_key(owner: Account) -> Params:
    return {"key_id": _post(owner, "/users/me/api-keys", {"name": "owned"})["id"]}


def _setup_upload(owner: Account) -> Params:
    headers = {**owner.headers, **_TUS, "Upload-Length": "10"}
    response = owner.client.post(f"{PREFIX}/uploads", headers=headers)
    assert response.status_code == 201, response.text
    return {"upload_id": response.headers["Location"].rsplit("/", 1)[1]}


_TUS = {"Tus-Resumable": "1.0.0"}


def _setup_admin(owner: Account) -> Params:
    return {"user_id": make_admin(owner).id}  # the owner is an admin; another (non-admin) user gets 403


SETUP: dict[str, Callable[[Account], Params]] = {
    "/media/": _setup_media,
    "/media/{media_id:str}/versions/": _setup_versions,
    "/trash/": _setup_trash,
    "/collections/": _setup_collection,
    "/shares/": _setup_share,
    "/webhooks/": _setup_webhook,
    "/users/me/api-keys/": _setup_api_key,
    "/uploads/": _setup_upload,
    "/admin/users/": _setup_admin,
}
"""Path prefix (under the vault's prefix) → makes the owner's resources, returns a value per path parameter."""

BODIES: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = {
    ("PATCH", "/media/{media_id:str}"): lambda own_media: {"title": "changed", "tags": ["x"]},
    ("PATCH", "/collections/{collection_id:str}"): lambda own_media: {"name": "changed"},
    ("POST", "/collections/{collection_id:str}/media"): lambda own_media: {"media_ids": [own_media]},
    ("PATCH", "/webhooks/{webhook_id:str}"): lambda own_media: {"description": "changed"},
}
"""JSON bodies, built for whoever sends the request from the id of one of *their own* media (so the body is
valid for them and only the path's ids are foreign)."""

RAW: dict[tuple[str, str], tuple[dict[str, str], bytes | None]] = {
    ("HEAD", "/uploads/{upload_id:str}"): (_TUS, None),
    ("DELETE", "/uploads/{upload_id:str}"): (_TUS, None),
    ("PATCH", "/uploads/{upload_id:str}"): (
        {**_TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        b"abc",
    ),
}
"""Routes whose requests are headers and raw bytes instead of JSON (tus): the headers and body to send."""
MULTIPART: set[tuple[str, str]] = {("PUT", "/media/{media_id:str}/content")}
"""Routes whose body is an upload form (a small PNG as ``file``) rather than JSON."""

EXPECTED: dict[tuple[str, str], set[int]] = {
    ("GET", "/admin/users/{user_id:str}"): {403},
    ("PATCH", "/admin/users/{user_id:str}"): {403},
}
"""Routes where the contract answers another user with something other than 404 (e.g. 403)."""


@dataclass(frozen=True)
class IdRoute:
    """One method of one route with id parameters; ``path`` is relative to the vault's prefix."""

    method: str
    path: str
    params: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def id_routes(app: Litestar, prefix: str = PREFIX) -> list[IdRoute]:
    """Every non-public (route, method) of ``app`` under ``prefix`` with a ``{name:str}`` path parameter."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix + "/"):
            continue
        params = tuple(name for name, p in route.path_parameters.items() if p.type is str)
        if not params:
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method == "OPTIONS" or handler.opt.get("public"):
                continue
            found.append(IdRoute(method, route.path.removeprefix(prefix), params))
    return sorted(found, key=str)


def _snapshot(config: MediaVaultConfig) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: rows
        for name, rows in snapshot(config).items()
        if name not in IGNORED_TABLES and not any(part in name for part in IGNORED_TABLE_PARTS)
    }


def check_route(route: IdRoute, db: MediaVaultConfig, owner: Account, intruder: Account) -> list[str]:
    """What is wrong with ``route``'s ownership check (an empty list when nothing is)."""
    setup = next(
        (fn for prefix, fn in sorted(SETUP.items(), key=lambda kv: -len(kv[0])) if route.path.startswith(prefix)), None
    )
    if setup is None:
        return [f"no setup for route {route} — add one to SETUP in {__name__}"]
    values = setup(owner)
    missing = [p for p in route.params if p not in values]
    if missing:
        return [f"setup for {route} gives no value for {missing} — extend SETUP"]
    url = PREFIX + route.path
    for name in route.params:
        url = url.replace(f"{{{name}:str}}", values[name])
    body = BODIES.get((route.method, route.path))
    raw = RAW.get((route.method, route.path))
    multipart = (route.method, route.path) in MULTIPART
    if body is None and raw is None and not multipart and route.method in ("POST", "PUT", "PATCH"):
        body = lambda own_media: {}  # noqa: E731

    def send(account: Account) -> Any:
        own_media = account.upload(make_png(2, 2), "own.png")["id"] if body is not None else ""
        before = _snapshot(db)
        if raw is not None:
            headers, content = raw
            response = account.client.request(
                route.method, url, headers={**account.headers, **headers}, content=content
            )
            return response, before
        if multipart:
            files = {"file": ("replaced.png", make_png(4, 4))}
            response = account.client.request(route.method, url, headers=account.headers, files=files)
            return response, before
        response = account.client.request(
            route.method, url, headers=account.headers, json=body(own_media) if body is not None else None
        )
        return response, before

    problems = []
    response, before = send(intruder)
    expected = EXPECTED.get((route.method, route.path), {404})
    if response.status_code not in expected:
        problems.append(f"{route}: another user got {response.status_code}, expected {sorted(expected)}")
    if route.method != "HEAD" and response.status_code == 404 and (response.json() or {}).get("success") is not False:
        problems.append(f"{route}: 404 without the not_found envelope")
    changed = [t for t, rows in _snapshot(db).items() if rows != before.get(t)]
    if changed:
        problems.append(f"{route}: another user's request changed {changed}")
    owned, _ = send(owner)
    if owned.status_code >= 400:
        problems.append(f"{route}: the owner got {owned.status_code} ({owned.text[:200]}); setup or body is wrong")
    return problems


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, rate_limit_authenticated=100_000, processing_worker=True, trash_retention_days=30)


def test_every_id_route_of_the_app_is_owner_scoped(
    app: Litestar, client: TestClient[Litestar], alice: Account, bob: Account, config: MediaVaultConfig
) -> None:
    routes = id_routes(app)
    # the matrix walks what exists; these must be among it
    assert {str(r) for r in routes} >= {
        "GET /media/{media_id:str}",
        "DELETE /media/{media_id:str}",
        "POST /media/{media_id:str}/reprocess",
        "GET /collections/{collection_id:str}/media",
        "PUT /media/{media_id:str}/content",
        "GET /media/{media_id:str}/versions",
        "GET /media/{media_id:str}/versions/{version:str}/content",
        "POST /media/{media_id:str}/versions/{version:str}/restore",
        "POST /trash/{media_id:str}/restore",
        "DELETE /trash/{media_id:str}",
        "DELETE /collections/{collection_id:str}/media/{media_id:str}",
        "DELETE /shares/{share_id:str}",
    }
    problems = [p for route in routes for p in check_route(route, config, alice, bob)]
    assert problems == []


# ----------------------------------------------------------------------------- the matrix itself is tested


class LeakyController(Controller):
    """Routes that forget the owner-scoped lookup (or have no setup), mounted only in the test below."""

    path = "/collections"

    @get("/{collection_id:str}/leak")
    async def leak(
        self, collection_id: FromPath[str], mediavault_collection_service: CollectionServiceDep
    ) -> dict[str, str]:
        session = mediavault_collection_service.session
        row = await session.scalar(select(Collection).where(Collection.id == _uuid(collection_id)))
        return {"name": row.name if row else ""}

    @patch("/{collection_id:str}/rename-anyway", status_code=404)
    async def rename(self, collection_id: FromPath[str], mediavault_collection_service: CollectionServiceDep) -> None:
        session = mediavault_collection_service.session  # answers 404, but changed someone else's data
        await session.execute(update(Collection).where(Collection.id == _uuid(collection_id)).values(name="x"))
        await session.commit()

    @get("/{collection_id:str}/gadgets/{gadget_id:str}")
    async def gadget(self, collection_id: FromPath[str], gadget_id: FromPath[str]) -> None:
        return None


class UnknownController(Controller):
    path = "/gadgets"

    @get("/{gadget_id:str}")
    async def gadget(self, gadget_id: FromPath[str]) -> None:
        return None


def _uuid(raw: str) -> Any:
    import uuid

    return uuid.UUID(raw)


@pytest.fixture
def leaky_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Litestar, TestClient[Litestar]]]:
    import mediavault.plugin

    monkeypatch.setattr(
        mediavault.plugin, "CONTROLLERS", (*mediavault.plugin.CONTROLLERS, LeakyController, UnknownController)
    )
    app = Litestar(plugins=[MediaVault(make_config(tmp_path, processing_worker=True))])
    with TestClient(app) as client:
        yield app, client


def test_the_matrix_catches_a_route_without_the_check(
    leaky_app: tuple[Litestar, TestClient[Litestar]], tmp_path: Path
) -> None:
    app, client = leaky_app
    owner, intruder = Account(client, "owner@example.com"), Account(client, "intruder@example.com")
    routes = {str(r): r for r in id_routes(app)}
    db = make_config(tmp_path)

    leak = check_route(routes["GET /collections/{collection_id:str}/leak"], db, owner, intruder)
    assert leak == ["GET /collections/{collection_id:str}/leak: another user got 200, expected [404]"]

    rename = check_route(routes["PATCH /collections/{collection_id:str}/rename-anyway"], db, owner, intruder)
    assert any("changed ['mediavault_collection']" in p for p in rename), rename

    unknown = check_route(routes["GET /gadgets/{gadget_id:str}"], db, owner, intruder)
    assert unknown == [f"no setup for route GET /gadgets/{{gadget_id:str}} — add one to SETUP in {__name__}"]

    no_value = check_route(routes["GET /collections/{collection_id:str}/gadgets/{gadget_id:str}"], db, owner, intruder)
    assert no_value and "no value for ['gadget_id']" in no_value[0]

    # and a correct route passes
    assert check_route(routes["GET /collections/{collection_id:str}"], db, owner, intruder) == []
