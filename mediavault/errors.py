"""Domain errors and the contract's error codes.

Every error the vault raises on purpose is a :class:`VaultError`; the HTTP layer
(:mod:`mediavault.http.errors`) turns each into the contract's error envelope::

    VaultError (status, code, message, details)
    ├── ValidationError        400 validation_error
    ├── Unauthorized           401 unauthorized
    ├── Forbidden              403 forbidden
    ├── NotFound               404 not_found
    ├── MethodNotAllowed       405 method_not_allowed
    ├── Conflict               409 conflict
    ├── PayloadTooLarge        413 payload_too_large
    ├── UnsupportedMediaType   415 unsupported_media_type
    ├── RangeNotSatisfiable    416 range_not_satisfiable
    ├── RequestTimeout         408 request_timeout
    ├── RateLimited            429 rate_limited (with Retry-After)
    └── ServiceUnavailable     503 service_unavailable (with Retry-After)

The SDK (:mod:`mediavault.client`) raises the same classes for the error envelopes it receives, with
``request_id`` set to the answer's ``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

__all__ = (
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestTimeout",
    "ServiceUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "VaultError",
)

ErrorDetail = Mapping[str, str]
"""One ``{"field": ..., "message": ...}`` entry of ``error.details``."""


class VaultError(Exception):
    """Base of every error that maps to a contract error code.

    Args:
        message: Human-readable text for ``error.message``.
        details: ``error.details`` entries, each ``{"field": str, "message": str}``.
        headers: Extra response headers (e.g. ``Content-Range`` on a 416).
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal server error"
    request_id: str | None = None
    """The ``X-Request-ID`` of the answer that carried this error (set by :mod:`mediavault.client`)."""

    def __init__(
        self,
        message: str | None = None,
        details: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = [dict(d) for d in details]
        self.headers = dict(headers or {})
        super().__init__(self.message)


class ValidationError(VaultError):
    """Input that breaks the contract's rules (400 ``validation_error``)."""

    status_code = 400
    code = "validation_error"
    default_message = "Invalid input data"

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationError:
        """Build an error naming one offending ``field``."""
        return cls(f"Invalid input data: {field}: {message}", [{"field": field, "message": message}])


class Unauthorized(VaultError):
    """Missing, invalid, expired or revoked credentials (401 ``unauthorized``)."""

    status_code = 401
    code = "unauthorized"
    default_message = "Invalid or missing authentication"


class Forbidden(VaultError):
    """Authenticated but not allowed (403 ``forbidden``)."""

    status_code = 403
    code = "forbidden"
    default_message = "Insufficient permissions"


class NotFound(VaultError):
    """Unknown resource, or one the caller may not see (404 ``not_found``)."""

    status_code = 404
    code = "not_found"
    default_message = "Resource not found"


class MethodNotAllowed(VaultError):
    """A known path called with a method it does not take (405 ``method_not_allowed``)."""

    status_code = 405
    code = "method_not_allowed"
    default_message = "Method not allowed"


class Conflict(VaultError):
    """A uniqueness rule would break, e.g. a taken email (409 ``conflict``)."""

    status_code = 409
    code = "conflict"
    default_message = "Resource already exists"


class PayloadTooLarge(VaultError):
    """Request body over the configured limit (413 ``payload_too_large``)."""

    status_code = 413
    code = "payload_too_large"
    default_message = "Request body too large"


class UnsupportedMediaType(VaultError):
    """Request body of a type the endpoint does not take (415 ``unsupported_media_type``)."""

    status_code = 415
    code = "unsupported_media_type"
    default_message = "Unsupported media type"


class RangeNotSatisfiable(VaultError):
    """A ``Range`` no byte of the representation satisfies (416, RFC 9110 §15.5.17)."""

    status_code = 416
    code = "range_not_satisfiable"
    default_message = "Requested range not satisfiable"


class RequestTimeout(VaultError):
    """The client sent its request too slowly (408 ``request_timeout``, RFC 9110 §15.5.9): a body that sent
    nothing for ``client_body_timeout`` seconds."""

    status_code = 408
    code = "request_timeout"
    default_message = "The request body stalled; send it again"


class _RetryLater(VaultError):
    """An error whose answer says, in ``Retry-After`` (RFC 9110 §10.2.3), when to try again.

    Args:
        retry_after: whole seconds until a request may succeed again (at least 1).
        headers: further headers.
    """

    def __init__(
        self, message: str | None = None, *, retry_after: int, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message, headers={**(headers or {}), "Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = max(1, int(retry_after))


class RateLimited(_RetryLater):
    """Over a rate-limit budget (429 ``rate_limited``, RFC 6585 §4).

    Args:
        retry_after: whole seconds until a request may succeed again, sent as ``Retry-After``
            (RFC 9110 §10.2.3; at least 1).
        headers: further headers, e.g. the ``X-RateLimit-*`` values of the exhausted budget.
    """

    status_code = 429
    code = "rate_limited"
    default_message = "Too many requests"


class ServiceUnavailable(_RetryLater):
    """A dependency cannot take the request now (503 ``service_unavailable``, RFC 9110 §15.6.4), e.g. SQLite's one
    writer stayed busy past ``database_busy_timeout``; nothing was changed, the same request may be sent again.

    Args:
        retry_after: whole seconds to wait before trying again, sent as ``Retry-After`` (at least 1).
    """

    status_code = 503
    code = "service_unavailable"
    default_message = "Service temporarily unavailable; try again shortly"
