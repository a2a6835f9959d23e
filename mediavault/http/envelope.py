"""The response envelope of the HTTP contract, request ids and pagination metadata.

Success::

    {"success": true, "data": <object|array>, "meta": {"timestamp", "version", "request_id", "pagination"?}}

Error (see :mod:`mediavault.http.errors`)::

    {"success": false, "error": {"code", "message", "details": [{"field", "message"}]},
     "meta": {"timestamp", "request_id"}}
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response
from litestar.params import QueryParameter
from litestar.types import Scope
from mediavault_sdk import types as wire

from mediavault.meta import VERSION, utc_timestamp

__all__ = (
    "PageParam",
    "PerPageParam",
    "REQUEST_ID_HEADER",
    "Envelope",
    "ErrorBody",
    "ErrorDetailOut",
    "ErrorEnvelope",
    "ErrorMeta",
    "Meta",
    "Pagination",
    "PaginationLinks",
    "envelope",
    "paginated",
    "request_id",
    "under_prefix",
)

T = TypeVar("T")

PageParam = Annotated[int, QueryParameter(ge=1, description="1-based page number")]
"""``page`` query parameter of list endpoints (>= 1; out of range or not an integer → 400)."""
PerPageParam = Annotated[int, QueryParameter(ge=1, le=100, description="Items per page, 1-100")]
"""``per_page`` query parameter of list endpoints (1-100)."""

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SCOPE_KEY = "mediavault.request_id"


def under_prefix(scope: Scope, prefix: str) -> bool:
    """Whether the request of ``scope`` is for the vault mounted at ``prefix`` (``""``: everything is).

    Inside an app mounted by another ASGI app (Starlette's ``Mount``) the path keeps the mount's ``root_path``
    until Litestar's router strips it, so both forms count (ASGI spec, "root_path").
    """
    if not prefix:
        return True
    path = scope["path"]
    mounted = scope.get("root_path", "") + prefix
    return any(path == p or path.startswith(p + "/") for p in (prefix, mounted))


def request_id(scope: Scope) -> str:
    """The request id of ``scope``, decided once and cached in the scope.

    An incoming ``X-Request-ID`` matching ``^[A-Za-z0-9._:-]{1,128}$`` is echoed; otherwise a
    ``req_<32 hex>`` id is generated.
    """
    cached = scope.get(_SCOPE_KEY)  # type: ignore[call-overload]
    if cached is None:
        incoming = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        text = incoming.decode("latin-1")
        cached = text if _REQUEST_ID_RE.match(text) else f"req_{uuid.uuid4().hex}"
        scope[_SCOPE_KEY] = cached  # type: ignore[literal-required]
    return str(cached)


class PaginationLinks(wire.PaginationLinks):
    """Links to the neighbouring pages, relative to the mount prefix; ``None`` where there is none."""


class Pagination(wire.Pagination):
    """``meta.pagination`` exactly as in the seed document (fields: the SDK's :class:`mediavault_sdk.Pagination`)."""

    links: PaginationLinks  # type: ignore[assignment]  # the server's own class (its OpenAPI component)


class Meta(msgspec.Struct, omit_defaults=True):
    """``meta`` of a success envelope."""

    timestamp: str
    version: str
    request_id: str
    pagination: Pagination | None = None


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """A success envelope around ``data``."""

    success: bool = True
    data: T
    meta: Meta


class ErrorDetailOut(msgspec.Struct):
    """One entry of ``error.details``."""

    field: str
    message: str


class ErrorBody(msgspec.Struct):
    """``error`` of an error envelope."""

    code: str
    message: str
    details: list[ErrorDetailOut]


class ErrorMeta(msgspec.Struct):
    """``meta`` of an error envelope."""

    timestamp: str
    request_id: str


class ErrorEnvelope(msgspec.Struct, kw_only=True):
    """An error envelope."""

    success: bool = False
    error: ErrorBody
    meta: ErrorMeta


def _meta(request: Request[Any, Any, Any], pagination: Pagination | None = None) -> Meta:
    return Meta(timestamp=utc_timestamp(), version=VERSION, request_id=request_id(request.scope), pagination=pagination)


def envelope(request: Request[Any, Any, Any], data: T, status_code: int = 200) -> Response[Envelope[T]]:
    """Wrap ``data`` in a success envelope."""
    return Response(Envelope(data=data, meta=_meta(request)), status_code=status_code)


def paginated(
    request: Request[Any, Any, Any],
    items: list[T],
    *,
    total: int,
    page: int,
    per_page: int,
    path: str,
    data: Any = None,
) -> Response[Envelope[Any]]:
    """Wrap one page of ``items`` with ``meta.pagination``.

    Args:
        items: the rows of page ``page`` (1-based).
        total: rows on all pages together.
        path: the endpoint path relative to the mount prefix (e.g. ``/media``); links are built from it
            and keep every other query parameter of the request.
        data: the envelope's ``data`` when it is not ``items`` itself but an object holding them (e.g. a
            collection share link: ``{"type", "collection", "media": items}``).
    """
    total_pages = (total + per_page - 1) // per_page
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in {"page", "per_page"}]

    def link(target: int) -> str:
        return f"{path}?{urlencode([('page', target), ('per_page', per_page), *params])}"

    pagination = Pagination(
        total=total,
        count=len(items),
        per_page=per_page,
        current_page=page,
        total_pages=total_pages,
        links=PaginationLinks(
            next=link(page + 1) if page < total_pages else None,
            prev=link(min(page - 1, total_pages)) if page > 1 and total_pages > 0 else None,
        ),
    )
    return Response(Envelope(data=items if data is None else data, meta=_meta(request, pagination)))
