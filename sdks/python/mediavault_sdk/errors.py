"""The exceptions of the Media Vault API: one class per ``error.code`` of the contract's error envelope.

::

    VaultError                  any other error (500 internal_error, unknown codes)
    ├── ValidationError         400 validation_error
    ├── Unauthorized            401 unauthorized
    ├── Forbidden               403 forbidden
    ├── NotFound                404 not_found
    ├── MethodNotAllowed        405 method_not_allowed
    ├── Conflict                409 conflict
    ├── PayloadTooLarge         413 payload_too_large
    ├── UnsupportedMediaType    415 unsupported_media_type
    ├── RangeNotSatisfiable     416 range_not_satisfiable
    ├── RequestTimeout          408 request_timeout
    ├── RateLimited             429 rate_limited (.retry_after: seconds)
    ├── ServiceUnavailable      503 service_unavailable (.retry_after: seconds)
    ├── InsufficientStorage     507 insufficient_storage
    ├── PreconditionFailed      412 precondition_failed (tus: Tus-Resumable missing or another version)
    └── ChecksumMismatch        460 checksum_mismatch (tus: Upload-Checksum does not match)

This module is the one list of the codes: the server's own exceptions (``mediavault.errors``) derive from these
classes, so ``except mediavault_sdk.NotFound`` catches a not-found error whether it came over HTTP or from a vault
running in the same process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

__all__ = (
    "ERRORS",
    "error_for",
    "ChecksumMismatch",
    "Conflict",
    "Forbidden",
    "InsufficientStorage",
    "MethodNotAllowed",
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


class VaultError(Exception):
    """An error answer of the vault (``status_code``/``code`` of its class; 500 ``internal_error`` here).

    Args:
        message: the envelope's ``error.message``.
        details: ``error.details``, each ``{"field": str, "message": str}``.
        request_id: the ``X-Request-ID`` of the answer (quote it in a bug report: the server logs it).
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self, message: str, details: Sequence[Mapping[str, str]] = (), *, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = [dict(d) for d in details]
        self.request_id = request_id


class ValidationError(VaultError):
    """Input that breaks the contract's rules (400 ``validation_error``); ``details`` names the fields."""

    status_code = 400
    code = "validation_error"


class Unauthorized(VaultError):
    """Missing, invalid, expired or revoked credentials (401 ``unauthorized``)."""

    status_code = 401
    code = "unauthorized"


class Forbidden(VaultError):
    """Authenticated but not allowed (403 ``forbidden``)."""

    status_code = 403
    code = "forbidden"


class NotFound(VaultError):
    """Unknown resource, or one the caller may not see (404 ``not_found``)."""

    status_code = 404
    code = "not_found"


class MethodNotAllowed(VaultError):
    """A known path called with a method it does not take (405 ``method_not_allowed``)."""

    status_code = 405
    code = "method_not_allowed"


class Conflict(VaultError):
    """A uniqueness rule would break, e.g. a taken email (409 ``conflict``)."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(VaultError):
    """Request body over the server's limit (413 ``payload_too_large``)."""

    status_code = 413
    code = "payload_too_large"


class QuotaExceeded(PayloadTooLarge):
    """The upload would take the user past their storage quota (413 ``quota_exceeded``); nothing was kept.
    A :class:`PayloadTooLarge` too, so code that handles a 413 handles both."""

    code = "quota_exceeded"


class UnsupportedMediaType(VaultError):
    """Request body of a type the endpoint does not take (415 ``unsupported_media_type``)."""

    status_code = 415
    code = "unsupported_media_type"


class RangeNotSatisfiable(VaultError):
    """A ``Range`` no byte of the representation satisfies (416, RFC 9110 §15.5.17)."""

    status_code = 416
    code = "range_not_satisfiable"


class RequestTimeout(VaultError):
    """The request was sent too slowly: a body that stalled (408 ``request_timeout``, RFC 9110 §15.5.9)."""

    status_code = 408
    code = "request_timeout"


class _RetryAfter(VaultError):
    """An error whose answer says when to try again (``Retry-After``, RFC 9110 §10.2.3).

    Args:
        retry_after: whole seconds until a request may succeed again (at least 1).
    """

    def __init__(
        self,
        message: str,
        details: Sequence[Mapping[str, str]] = (),
        *,
        retry_after: int,
        request_id: str | None = None,
    ) -> None:
        VaultError.__init__(self, message, details, request_id=request_id)
        self.retry_after = max(1, int(retry_after))


class RateLimited(_RetryAfter):
    """Over a rate-limit budget (429 ``rate_limited``, RFC 6585 §4); ``retry_after`` seconds."""

    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(_RetryAfter):
    """The server cannot take the request now and changed nothing (503 ``service_unavailable``, RFC 9110
    §15.6.4): send it again after ``retry_after`` seconds."""

    status_code = 503
    code = "service_unavailable"


class PreconditionFailed(VaultError):
    """A precondition of the request does not hold (412 ``precondition_failed``), e.g. a tus request without
    ``Tus-Resumable: 1.0.0``."""

    status_code = 412
    code = "precondition_failed"


class ChecksumMismatch(VaultError):
    """The body does not match its ``Upload-Checksum`` (460 ``checksum_mismatch``, tus 1.0 checksum extension);
    the chunk was discarded, send it again."""

    status_code = 460
    code = "checksum_mismatch"


class InsufficientStorage(VaultError):
    """The server's storage is full (507 ``insufficient_storage``, RFC 4918 §11.5); nothing of the request was
    kept."""

    status_code = 507
    code = "insufficient_storage"


ERRORS: tuple[type[VaultError], ...] = (
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
    RangeNotSatisfiable,
    RequestTimeout,
    RateLimited,
    ServiceUnavailable,
    InsufficientStorage,
    PreconditionFailed,
    ChecksumMismatch,
)
"""Every class of a specific ``error.code`` (:class:`VaultError` itself stands for the rest)."""

_BY_CODE = {cls.code: cls for cls in ERRORS}
_BY_STATUS = {cls.status_code: cls for cls in reversed(ERRORS)}  # a status's first class (413: PayloadTooLarge)


def error_for(
    code: str | None,
    message: str,
    details: Sequence[Mapping[str, str]] = (),
    *,
    status: int | None = None,
    request_id: str | None = None,
    retry_after: int = 1,
) -> VaultError:
    """The exception of an error: the class of ``code`` (else of the HTTP ``status``, else :class:`VaultError`).

    ``details`` entries without both ``field`` and ``message`` are left out; ``retry_after`` (seconds) is for
    :class:`RateLimited` and :class:`ServiceUnavailable`.
    """
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status or 0, VaultError)
    kept = [d for d in details if "field" in d and "message" in d]
    if issubclass(cls, _RetryAfter):
        return cls(message, kept, retry_after=retry_after, request_id=request_id)
    return cls(message, kept, request_id=request_id)
