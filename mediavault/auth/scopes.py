"""Scopes of API keys, and the scope each route needs (declared once per route, checked by the router guard).

A key made with ``"scopes": [...]`` may only call routes whose scope it holds; a key made without (and every login
token) holds every scope. Each vault route says what it needs in its ``opt`` under :data:`SCOPE_OPT` (on the
handler or, for a whole controller, on the controller: Litestar merges the layers):

* an area, e.g. ``"media"``: ``media:read`` for ``GET``/``HEAD``, ``media:write`` for any other method;
* a scope, e.g. ``"media:write"``: that scope whatever the method (a ``HEAD`` of a resumable upload);
* :data:`ANY_PRINCIPAL` (``None``): no scope, any authenticated principal (``GET /users/me``, logout);
* :data:`EVERY_SCOPE` (``"*"``): only principals holding every scope (admin routes, account changes).

A route that says nothing is treated as :data:`EVERY_SCOPE` (closed by default);
``tests/api/test_scoped_keys.py`` fails for any vault route that says nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mediavault.errors import Forbidden, ValidationError

__all__ = (
    "ANY_PRINCIPAL",
    "EVERY_SCOPE",
    "SCOPES",
    "SCOPE_OPT",
    "check_scope",
    "normalise_scopes",
    "required_scope",
)

SCOPES: tuple[str, ...] = (
    "media:read",
    "media:write",
    "collections:read",
    "collections:write",
    "shares:read",
    "shares:write",
    "webhooks:read",
    "webhooks:write",
)
"""Every scope a key may be limited to (the contract's list)."""
SCOPE_OPT = "scope"
"""Route ``opt`` key naming what the route needs."""
ANY_PRINCIPAL = None
"""``opt={SCOPE_OPT: ANY_PRINCIPAL}``: the route needs no scope."""
EVERY_SCOPE = "*"
"""``opt={SCOPE_OPT: EVERY_SCOPE}``: the route needs a principal that holds every scope."""
_READS = frozenset({"GET", "HEAD"})


def normalise_scopes(scopes: Iterable[str] | None) -> list[str] | None:
    """The scopes to store for a new key: ``None`` (every scope) when absent or all of them, else the given ones
    in :data:`SCOPES` order, duplicates dropped.

    Raises:
        ValidationError: an unknown scope or an empty list (field ``scopes``).
    """
    if scopes is None:
        return None
    given = set(scopes)
    if unknown := sorted(given - set(SCOPES)):
        raise ValidationError.for_field("scopes", f"unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})")
    if not given:
        raise ValidationError.for_field("scopes", "must name at least one scope (leave it out for every scope)")
    return None if given == set(SCOPES) else [s for s in SCOPES if s in given]


def required_scope(opt: Mapping[str, Any], method: str) -> str | None:
    """What a route with ``opt`` needs for ``method``: a scope, :data:`EVERY_SCOPE`, or ``None`` (nothing)."""
    need = opt.get(SCOPE_OPT, EVERY_SCOPE)
    if need is None or need == EVERY_SCOPE or ":" in need:
        return need  # type: ignore[no-any-return]
    return f"{need}:read" if method in _READS else f"{need}:write"


def check_scope(held: frozenset[str], opt: Mapping[str, Any], method: str) -> None:
    """Let a principal limited to ``held`` scopes call a route with ``opt`` by ``method``, or refuse it.

    Raises:
        Forbidden: the route needs a scope not in ``held`` (the message names it), or every scope.
    """
    need = required_scope(opt, method)
    if need is None or need in held:
        return
    if need == EVERY_SCOPE:
        raise Forbidden("This API key is limited to some scopes; this route needs a key with every scope")
    raise Forbidden(f"This API key lacks the scope {need}")
