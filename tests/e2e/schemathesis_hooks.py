"""Schemathesis hooks for tests/e2e/test_openapi.py (loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``).

Every request is authenticated with a Bearer login token. Two operations end the login they are sent with:
``POST /auth/logout`` revokes it, ``PATCH /users/me`` may change the email or the password (both need the current
password, which :func:`before_call` supplies). Each of their cases runs as a throwaway account of its own, so the
other operations keep a working login. A token that got a 401 (its login ended) is replaced before the next request.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st

API = os.environ["MEDIAVAULT_TEST_API"]
MAIN_EMAIL = os.environ["MEDIAVAULT_TEST_EMAIL"]
PASSWORD = os.environ["MEDIAVAULT_TEST_PASSWORD"]

# tus PATCH bodies: raw bytes (a chunk of an upload)
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(min_size=1, max_size=64))
THROWAWAY = frozenset({"POST /api/v1/auth/logout", "PATCH /api/v1/users/me"})


def login(email: str) -> str:
    response = httpx.post(f"{API}/auth/login", json={"username": email, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["data"]["token"])


def throwaway_login() -> str:
    email = f"throwaway-{uuid.uuid4().hex}@example.com"
    response = httpx.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return login(email)


def cache_key(case: Any, context: Any) -> str:
    """One login for everything but :data:`THROWAWAY`, whose every case gets an account of its own."""
    return f"throwaway-{uuid.uuid4().hex}" if case.operation.label in THROWAWAY else "main"  # never a cache hit


@schemathesis.auth(cache_by_key=cache_key, retry_on=[401])
class VaultLogin:
    """A Bearer token: the main account's, or a throwaway account's for the operations that end their login."""

    def get(self, case: Any, context: Any) -> str:
        return throwaway_login() if case.operation.label in THROWAWAY else login(MAIN_EMAIL)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """``PATCH /users/me``: a ``current_password`` is the account's real one (a document cannot tell a right password
    from a wrong one; the throwaway accounts' password is every test account's). ``POST /uploads/signed``: no
    ``max_size`` (the server's limit), since the URLs it makes are then used with uploads of any valid size (a URL
    of 2 bytes would refuse them with a 413 the document cannot foresee)."""
    body = case.body
    if case.operation.label == "PATCH /api/v1/users/me" and isinstance(body, dict):
        case.body = {**body, "current_password": PASSWORD} if isinstance(body.get("current_password"), str) else body
    if case.operation.label == "POST /api/v1/uploads/signed" and isinstance(body, dict) and "max_size" in body:
        case.body = {k: v for k, v in body.items() if k != "max_size"}


UPLOADS = {
    "POST /api/v1/media/upload",
    "POST /api/v1/uploads/signed/{token}",
    "POST /api/v1/s/{token}/upload",
}
"""The operations that take the multipart upload body."""


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """The upload routes (``POST /media/upload``, signed upload URLs, share links): only bodies a multipart request
    can carry, whose text parts are text (an object "violating" ``title: string`` would reach the server as its JSON
    text, a valid title)."""
    operation = context.operation
    if operation is None or operation.label not in UPLOADS or not isinstance(body, dict):
        return True
    return all(isinstance(value, str) for name, value in body.items() if name != "file")
