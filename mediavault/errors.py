"""Domain errors and the contract's error codes.

Every error the vault raises on purpose is a :class:`VaultError`; the HTTP layer
(:mod:`mediavault.http.errors`) turns each into the contract's error envelope::

    VaultError (status, code, message, details)
    ├── ValidationError        400 validation_error
    │   └── ClientDisconnected 400 validation_error (the client left mid-body; no one reads the answer)
    ├── Unauthorized           401 unauthorized
    ├── Forbidden              403 forbidden
    ├── NotFound               404 not_found
    ├── MethodNotAllowed       405 method_not_allowed
    ├── Conflict               409 conflict
    ├── PayloadTooLarge        413 payload_too_large
    │   └── QuotaExceeded      413 quota_exceeded
    ├── UnsupportedMediaType   415 unsupported_media_type
    ├── RangeNotSatisfiable    416 range_not_satisfiable
    ├── RequestTimeout         408 request_timeout
    ├── RateLimited            429 rate_limited (with Retry-After)
    ├── ServiceUnavailable     503 service_unavailable (with Retry-After)
    ├── InsufficientStorage    507 insufficient_storage
    ├── PreconditionFailed     412 precondition_failed (tus: Tus-Resumable missing or another version)
    └── ChecksumMismatch       460 checksum_mismatch (tus: Upload-Checksum does not match)

Each class derives from the SDK's class of its code (:mod:`mediavault_sdk.errors`, the one list of the codes and
their statuses) and adds what the server needs to answer: a default message and response ``headers``. So
``except mediavault_sdk.NotFound`` catches this module's :class:`NotFound` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from mediavault_sdk import errors as sdk

__all__ = (
    "ChecksumMismatch",
    "ClientDisconnected",
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "InsufficientStorage",
    "MethodNotAllowed",
    "NUL_MESSAGE",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "QuotaExceeded",
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
NUL_MESSAGE = "must not contain NUL (U+0000) characters"
"""The ``validation_error`` detail of text holding a NUL: no text the vault keeps may (PostgreSQL cannot store it)."""


class VaultError(sdk.VaultError):
    """Base of every error that maps to a contract error code (500 ``internal_error`` itself).

    Subclasses take ``status_code`` and ``code`` from their SDK class (the second base): never set them here.

    Args:
        message: Human-readable text for ``error.message`` (default: the class's ``default_message``).
        details: ``error.details`` entries, each ``{"field": str, "message": str}``.
        headers: Extra response headers (e.g. ``Content-Range`` on a 416).
    """

    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        details: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        sdk.VaultError.__init__(self, message or self.default_message, details)
        self.headers = dict(headers or {})


class ValidationError(VaultError, sdk.ValidationError):
    """Input that breaks the contract's rules (400 ``validation_error``)."""

    default_message = "Invalid input data"

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationError:
        """Build an error naming one offending ``field``."""
        return cls(f"Invalid input data: {field}: {message}", [{"field": field, "message": message}])


class ClientDisconnected(ValidationError):
    """The request body ended before its end: the client hung up, or sent nothing for ``client_body_timeout``
    seconds (the server then disconnects it). Raised while the body is read (:class:`mediavault.http.body
    .RequestBody`); what reads it decides what of the bytes received so far to keep (a tus ``PATCH`` keeps them)."""

    default_message = "Client disconnected"


class Unauthorized(VaultError, sdk.Unauthorized):
    """Missing, invalid, expired or revoked credentials (401 ``unauthorized``)."""

    default_message = "Invalid or missing authentication"


class Forbidden(VaultError, sdk.Forbidden):
    """Authenticated but not allowed (403 ``forbidden``)."""

    default_message = "Insufficient permissions"


class NotFound(VaultError, sdk.NotFound):
    """Unknown resource, or one the caller may not see (404 ``not_found``)."""

    default_message = "Resource not found"


class MethodNotAllowed(VaultError, sdk.MethodNotAllowed):
    """A known path called with a method it does not take (405 ``method_not_allowed``)."""

    default_message = "Method not allowed"


class Conflict(VaultError, sdk.Conflict):
    """A uniqueness rule would break, e.g. a taken email (409 ``conflict``)."""

    default_message = "Resource already exists"


class PayloadTooLarge(VaultError, sdk.PayloadTooLarge):
    """Request body over the configured limit (413 ``payload_too_large``)."""

    default_message = "Request body too large"


class QuotaExceeded(PayloadTooLarge, sdk.QuotaExceeded):
    """The upload would take its owner past their storage quota (413 ``quota_exceeded``); nothing was kept."""

    default_message = "The upload would exceed your storage quota"


class UnsupportedMediaType(VaultError, sdk.UnsupportedMediaType):
    """Request body of a type the endpoint does not take (415 ``unsupported_media_type``)."""

    default_message = "Unsupported media type"


class RangeNotSatisfiable(VaultError, sdk.RangeNotSatisfiable):
    """A ``Range`` no byte of the representation satisfies (416, RFC 9110 §15.5.17)."""

    default_message = "Requested range not satisfiable"


class RequestTimeout(VaultError, sdk.RequestTimeout):
    """The client sent its request too slowly (408 ``request_timeout``, RFC 9110 §15.5.9): a body that sent
    nothing for ``client_body_timeout`` seconds."""

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


class RateLimited(_RetryLater, sdk.RateLimited):
    """Over a rate-limit budget (429 ``rate_limited``, RFC 6585 §4).

    Args:
        retry_after: whole seconds until a request may succeed again, sent as ``Retry-After``
            (RFC 9110 §10.2.3; at least 1).
        headers: further headers, e.g. the ``X-RateLimit-*`` values of the exhausted budget.
    """

    default_message = "Too many requests"


class ServiceUnavailable(_RetryLater, sdk.ServiceUnavailable):
    """A dependency cannot take the request now (503 ``service_unavailable``, RFC 9110 §15.6.4), e.g. SQLite's one
    writer stayed busy past ``database_busy_timeout``; nothing was changed, the same request may be sent again.

    Args:
        retry_after: whole seconds to wait before trying again, sent as ``Retry-After`` (at least 1).
    """

    default_message = "Service temporarily unavailable; try again shortly"


class InsufficientStorage(VaultError, sdk.InsufficientStorage):
    """The byte store is full: no space left on the device, a disk quota, or the object store's quota (507
    ``insufficient_storage``, RFC 4918 §11.5). Nothing of the request was kept."""

    default_message = "The server's storage is full; nothing was stored. Try again later"


class PreconditionFailed(VaultError, sdk.PreconditionFailed):
    """A precondition of the request does not hold (412 ``precondition_failed``, RFC 9110 §15.5.13): a tus request
    without ``Tus-Resumable: 1.0.0``."""

    default_message = "Precondition failed"


class ChecksumMismatch(VaultError, sdk.ChecksumMismatch):
    """A tus chunk does not match its ``Upload-Checksum`` (460 ``checksum_mismatch``, tus 1.0.0 checksum
    extension); the chunk was discarded."""

    default_message = "The body does not match Upload-Checksum; the chunk was discarded"
