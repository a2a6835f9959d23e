"""HTTP hardening of the vault's responses, and the catch-all route for unknown paths under the prefix.

Every response under the prefix gets (unless the handler set the header itself, e.g. a download's own
``Content-Security-Policy: default-src 'none'; sandbox``):

- ``X-Content-Type-Options: nosniff`` (no MIME sniffing, Fetch standard),
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'`` (no framing, RFC 7034 / CSP 3),
- ``Referrer-Policy: no-referrer`` (ids in URLs never leak to third parties),
- on JSON answers, ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` (a JSON body opened
  as a page can run nothing) and ``Cache-Control: no-store`` (tokens and private data stay out of shared and
  browser caches, RFC 6749 §5.1, RFC 9111 §5.2.2.5); other answers (e.g. a host's HTML API docs mounted
  under the prefix) only get ``frame-ancestors 'none'`` so their scripts keep working.

Responses served over https (the ASGI scope's scheme, or ``X-Forwarded-Proto: https`` from one of
``trusted_proxies``) also get ``Strict-Transport-Security: max-age=<hsts_max_age>`` (RFC 6797; browsers ignore it
over plain http, §8.1), unless ``hsts_max_age`` is 0.

The reference server also hides uvicorn's ``Server`` header.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller
from litestar.params import FromPath

from mediavault.errors import NotFound
from mediavault.http.ratelimit import peer_is_trusted
from mediavault.http.routes import route

__all__ = ("SECURITY_HEADERS", "UnknownRouteController", "served_over_https", "security_headers_for")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
"""Headers added to every vault response that lacks them."""
_JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
_FRAME_CSP = b"frame-ancestors 'none'"


def security_headers_for(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The security headers missing from a response's raw ASGI ``headers``."""
    present = {k.lower(): v for k, v in headers}
    extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
    content_type = present.get(b"content-type", b"").split(b";")[0].strip().lower()
    is_json = content_type == b"application/json" or content_type.endswith(b"+json")
    if b"content-security-policy" not in present:
        extra.append((b"content-security-policy", _JSON_CSP if is_json else _FRAME_CSP))
    if is_json and b"cache-control" not in present:
        extra.append((b"cache-control", b"no-store"))
    return extra


def served_over_https(scope: Any, trusted: tuple[Any, ...]) -> bool:
    """Whether the client reached the vault over https: the scope's own scheme, or the last
    ``X-Forwarded-Proto`` value when the TCP peer is one of the ``trusted`` proxy networks."""
    if scope.get("scheme") == "https":
        return True
    if not peer_is_trusted(scope, trusted):
        return False
    forwarded = [v for k, v in scope.get("headers", ()) if k == b"x-forwarded-proto"]
    return bool(forwarded) and forwarded[-1].rsplit(b",", 1)[-1].strip().lower() == b"https"


class UnknownRouteController(Controller):
    """Any path under the prefix that no vault route matches: 404 ``not_found``.

    Routed through the vault's router (not Litestar's app-level 404), so unknown paths count against the
    rate limit like every other vault request. Static and parameterised routes always win over this
    catch-all; a wrong method on a known path stays Litestar's 405 (answered before any router middleware).
    """

    include_in_schema = False

    @route(
        ["/", "/{rest:path}"],
        http_method=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        opt={"public": True},
        include_in_schema=False,
    )
    async def unknown_route(self, rest: FromPath[str] = "") -> Any:
        """Always 404."""
        raise NotFound()
