"""Assertions on the contract's envelope, shared by the API tests."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

import httpx

from mediavault.meta import VERSION

if TYPE_CHECKING:
    from tests.conftest import Account

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def success(response: httpx.Response, status: int = 200) -> Any:
    """Check a success envelope with ``status`` and return its ``data``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is True
    assert set(body) == {"success", "data", "meta"}
    meta = body["meta"]
    assert RFC3339_UTC.match(meta["timestamp"]), meta
    assert meta["version"] == VERSION
    assert meta["request_id"] == response.headers["x-request-id"]
    assert REQUEST_ID.match(meta["request_id"])
    return body["data"]


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check an error envelope with ``status`` and ``code``; return ``error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "error", "meta"}, body
    assert body["success"] is False
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    assert all(set(d) == {"field", "message"} for d in err["details"])
    assert set(body["meta"]) == {"timestamp", "request_id"}
    assert RFC3339_UTC.match(body["meta"]["timestamp"])
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return err


def fields(err: dict[str, Any]) -> set[str]:
    """The field names of an error's ``details``."""
    return {d["field"] for d in err["details"]}


def processed(account: Account, media_id: str) -> dict[str, Any]:
    """``GET /media/{id}/metadata`` once the worker is done with the item (polls; no timing is asserted)."""
    for _ in range(400):
        state = success(account.client.get(f"/api/v1/media/{media_id}/metadata", headers=account.headers))
        if state["status"] != "pending":
            return state
        time.sleep(0.025)
    raise AssertionError(f"{media_id} was not processed: {state}")


async def concurrently(app: Any, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """Send ``(method, path, kwargs)`` requests (``path`` under the vault's prefix) to ``app`` all at once; run it on
    the app's own event loop: ``client.blocking_portal.call(concurrently, client.app, [...])``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await asyncio.gather(*(http.request(method, "/api/v1" + path, **kw) for method, path, kw in requests))


def serial(start: dict[str, Any], changes: list[dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Check that the answers of concurrent patches (``changes[i]`` answered with ``answers[i]``, each with an
    ``updated_at``) form a serial history: in ``updated_at`` order each answer shows ``start`` with every change up to
    its own applied (none lost, none answered with another's state). Returns the state after the last one."""
    state = dict(start)
    for i in sorted(range(len(answers)), key=lambda i: answers[i]["updated_at"]):
        state.update(changes[i])
        assert {k: answers[i][k] for k in state} == state, (i, answers)
    return state
