"""Turn every exception into the contract's error envelope.

:func:`exception_handlers` serves the vault's own router. :func:`app_level_handlers` covers what
only reaches the application (unknown routes, wrong methods): under the vault's prefix they answer
with the envelope, elsewhere they defer to the host's own handler or Litestar's default, so the host
app's error format is left alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from advanced_alchemy.exceptions import DuplicateKeyError, IntegrityError, NotFoundError, RepositoryError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.responses import create_exception_response
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import IntegrityError as ConstraintViolation

from mediavault.db.availability import database_unavailable
from mediavault.errors import InsufficientStorage, ServiceUnavailable, VaultError
from mediavault.http.envelope import ErrorBody, ErrorDetailOut, ErrorEnvelope, ErrorMeta, request_id, under_prefix
from mediavault.meta import utc_timestamp
from mediavault.storage.base import storage_full

__all__ = ("DATABASE_LOST_SCOPE_KEY", "app_level_handlers", "error_response", "exception_handlers")

logger = logging.getLogger("mediavault")

_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "rate_limited",
}
_MESSAGES = {
    401: "Invalid or missing authentication",
    403: "Insufficient permissions",
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
}
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required (?:query|header|cookie|path) parameter '([^']+)'")
_PASS_HEADERS = {"allow", "retry-after", "content-range", "www-authenticate"}
DATABASE_LOST_SCOPE_KEY = "mediavault.database_lost"
"""ASGI scope key set when a request's database connection died under it (its answer is a 503 that
:class:`~mediavault.http.session.RequestSessionMiddleware` replaces by a second attempt for a read)."""
_CLIENT_DISCONNECTED = "client disconnected prematurely"  # Litestar's InternalServerException reading a request body
# msgspec's constraint messages, in words a person reads ("Expected `str` of length >= 8" → "must be at least 8
# characters"); the first match wins.
_PLAIN_WORDS = (
    (re.compile(r"Expected `str` of length >= (\d+)"), "must be at least {} characters"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "must be at most {} characters"),
    (re.compile(r"Expected `(?:array|object)` of length >= (\d+)"), "must have at least {} items"),
    (re.compile(r"Expected `(?:array|object)` of length <= (\d+)"), "must have at most {} items"),
    (re.compile(r"Expected `(?:int|float|number)` >= (-?\d+)"), "must be at least {}"),
    (re.compile(r"Expected `(?:int|float|number)` <= (-?\d+)"), "must be at most {}"),
)
_REGEX = re.compile(r"Expected `str` matching regex")


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorEnvelope]:
    """Build an error envelope response (``details`` entries are ``{"field", "message"}``)."""
    body = ErrorEnvelope(
        error=ErrorBody(
            code=code,
            message=message,
            details=[ErrorDetailOut(field=d["field"], message=d["message"]) for d in details or ()],
        ),
        meta=ErrorMeta(timestamp=utc_timestamp(), request_id=request_id(request.scope)),
    )
    return Response(body, status_code=status_code, headers=dict(headers or {}))


def _validation_details(exc: ValidationException) -> list[dict[str, str]]:
    details = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        field = str(item.get("key") or "body")
        if unknown := _UNKNOWN_FIELD.search(message):
            field, message = unknown.group(1), "unknown or read-only field"
        elif missing := _MISSING_FIELD.search(message):
            field, message = missing.group(1), "required"
        elif field == "data" and item.get("source") == "body":
            field = "body"
            if message == "'data'":
                message = "a JSON body is required"
        else:
            message = _plain(field, message)
        details.append({"field": field, "message": message})
    return details


def _plain(field: str, message: str) -> str:
    """A msgspec constraint message in the vault's words (other messages unchanged)."""
    for pattern, words in _PLAIN_WORDS:
        if match := pattern.search(message):
            return words.format(match.group(1))
    if _REGEX.search(message):
        return "must be an email address (name@example.com)" if field == "email" else "has an invalid format"
    return message


def _handle_vault_error(request: Request[Any, Any, Any], exc: VaultError) -> Response[ErrorEnvelope]:
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)


def _handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorEnvelope]:
    status = exc.status_code
    if status >= 500 and exc.detail == _CLIENT_DISCONNECTED:  # the client hung up mid-body: no one to answer
        logger.info(
            "client disconnected before its request was read (%s %s, request %s)",
            request.method,
            request.url.path,
            request_id(request.scope),
        )
        return error_response(request, 400, "validation_error", "Client disconnected")
    if status >= 500:
        return _handle_unexpected(request, exc)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in _PASS_HEADERS}
    if isinstance(exc, ValidationException) or status == 400:
        details = _validation_details(exc) if isinstance(exc, ValidationException) else []
        if not details and (missing := _MISSING_PARAMETER.search(exc.detail)):
            details = [{"field": missing.group(1), "message": "required"}]
        detail = exc.detail if not exc.detail.startswith("Validation failed") else "Invalid input data"
        if details:
            detail = "Invalid input data: " + "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(request, 400, "validation_error", detail, details, headers)
    code = _CODES.get(status, "validation_error")
    return error_response(request, status, code, _MESSAGES.get(status, exc.detail), None, headers)


def _handle_repository_error(request: Request[Any, Any, Any], exc: RepositoryError) -> Response[ErrorEnvelope]:
    if isinstance(exc, NotFoundError):
        return error_response(request, 404, "not_found", "Resource not found")
    # advanced-alchemy raises its IntegrityError for every failed statement (a missing table, a lost connection):
    # only a constraint the database enforced is the caller's conflict; anything else is ours, logged as a 500.
    if isinstance(exc, DuplicateKeyError | IntegrityError) and isinstance(exc.__cause__, ConstraintViolation):
        return error_response(request, 409, "conflict", "Resource conflicts with an existing one")
    return _handle_unexpected(request, exc)


def _handle_recursion_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[ErrorEnvelope]:
    # msgspec's decoder recurses once per array/object level; a small body of 50,000 '[' exhausts the stack
    if "deserializing" in str(exc):
        return error_response(request, 400, "validation_error", "Invalid JSON: nested too deeply")
    return _handle_unexpected(request, exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorEnvelope]:
    if reason := database_unavailable(exc):  # transient: 503 and Retry-After, one short log line
        if reason == "lost":
            request.scope[DATABASE_LOST_SCOPE_KEY] = True  # type: ignore[literal-required]
        logger.warning(
            "database unavailable (%s) on %s %s (request %s): answered 503",
            reason,
            request.method,
            request.url.path,
            request_id(request.scope),
        )
        unavailable = ServiceUnavailable("The database is briefly unavailable; try again shortly", retry_after=1)
        return _handle_vault_error(request, unavailable)
    if storage_full(exc):  # the writer was aborted on the way up: nothing was kept
        logger.error(
            "storage full on %s %s (request %s): answered 507: %s",
            request.method,
            request.url.path,
            request_id(request.scope),
            exc,
        )
        return _handle_vault_error(request, InsufficientStorage())
    logger.exception(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id(request.scope),
        exc_info=exc,
    )
    return error_response(request, 500, "internal_error", "Internal server error")


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers for the vault's router: every exception becomes an error envelope."""
    return {
        VaultError: _handle_vault_error,
        HTTPException: _handle_http_exception,
        RepositoryError: _handle_repository_error,
        RecursionError: _handle_recursion_error,
        Exception: _handle_unexpected,
    }


def app_level_handlers(path_prefix: str, existing: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """App-level handlers for unknown routes (404) and wrong methods (405).

    Requests whose path lies under ``path_prefix`` (:func:`~mediavault.http.envelope.under_prefix`) get the
    envelope; others go to the
    host's handler that was registered before (``existing``), or to Litestar's default response.
    """

    def lookup(exc: Exception) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]] | None:
        if isinstance(exc, HTTPException) and exc.status_code in existing:
            return existing[exc.status_code]
        return next((existing[cls] for cls in type(exc).__mro__ if cls in existing), None)

    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if under_prefix(request.scope, path_prefix):
            if isinstance(exc, HTTPException):
                return _handle_http_exception(request, exc)
            return _handle_unexpected(request, exc)
        previous = lookup(exc)
        return previous(request, exc) if previous is not None else create_exception_response(request, exc)

    # Status-code keys take precedence over exception classes in Litestar's lookup.
    return {404: handler, 405: handler}
