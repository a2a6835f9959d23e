/**
 * Typed errors: each error envelope the vault sends (`{"error": {"code", "message", "details"}}`) becomes the
 * class of its `code` (one per code of the HTTP contract), carrying the envelope's `code`, `message` and
 * `details`, the answer's `status` and its `X-Request-ID` (quote it in a bug report: the server logs it).
 */

import type { ErrorDetail } from "./types.js";

/** Base of every error the vault answers with; also what an unknown code or a non-envelope answer becomes. */
export class VaultError extends Error {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The envelope's `error.code` (`not_found`, `validation_error`...). */
  readonly code: string;
  /** The envelope's `error.details`: which inputs were wrong, and why. */
  readonly details: ErrorDetail[];
  /** The answer's `X-Request-ID` (`null` if it had none). */
  readonly requestId: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: ErrorDetail[] = [],
    requestId: string | null = null,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

/** Errors whose answer says when to try again (`Retry-After`). */
export class RetryableError extends VaultError {
  /** Seconds to wait before trying again (from `Retry-After`; 1 when the answer did not say). */
  readonly retryAfter: number;

  constructor(
    status: number,
    code: string,
    message: string,
    details: ErrorDetail[] = [],
    requestId: string | null = null,
    retryAfter = 1,
  ) {
    super(status, code, message, details, requestId);
    this.retryAfter = retryAfter;
  }
}

/** 400 `validation_error`: invalid input, malformed JSON or multipart, an unknown field; `details` names it. */
export class ValidationError extends VaultError {}
/** 401 `unauthorized`: missing, invalid, expired or revoked credentials; a missing or wrong share password. */
export class Unauthorized extends VaultError {}
/** 403 `forbidden`: not allowed (registration off, an API key managing keys, a share without downloads). */
export class Forbidden extends VaultError {}
/** 404 `not_found`: unknown route or id, or someone else's resource. */
export class NotFound extends VaultError {}
/** 405 `method_not_allowed`. */
export class MethodNotAllowed extends VaultError {}
/** 408 `request_timeout`: the request was too slow to arrive. */
export class RequestTimeout extends VaultError {}
/** 409 `conflict`: e.g. a taken email. */
export class Conflict extends VaultError {}
/** 413 `payload_too_large`: an upload over the server's `max_upload_size` (nothing was kept). */
export class PayloadTooLarge extends VaultError {}
/** 413 `quota_exceeded`: the upload would exceed the user's storage quota (nothing was kept). */
export class QuotaExceeded extends VaultError {}
/** 415 `unsupported_media_type`. */
export class UnsupportedMediaType extends VaultError {}
/** 416 `range_not_satisfiable`: no byte of the media satisfies the `Range`. */
export class RangeNotSatisfiable extends VaultError {}
/** 429 `rate_limited`: over a rate-limit budget; wait `retryAfter` seconds. */
export class RateLimited extends RetryableError {}
/** 500 `internal_error`: a server bug (logged there with `requestId`). */
export class InternalError extends VaultError {}
/** 460 `checksum_mismatch`: a resumable upload's chunk did not match its `Upload-Checksum` (the server kept none of it). */
export class ChecksumMismatch extends VaultError {}
/** 503 `service_unavailable`: try again after `retryAfter` seconds. */
export class ServiceUnavailable extends RetryableError {}
/** 507 `insufficient_storage`: the storage is full (nothing was kept). */
export class InsufficientStorage extends VaultError {}

type ErrorClass = new (
  status: number,
  code: string,
  message: string,
  details?: ErrorDetail[],
  requestId?: string | null,
  retryAfter?: number,
) => VaultError;

const BY_CODE: Record<string, ErrorClass> = {
  validation_error: ValidationError,
  unauthorized: Unauthorized,
  forbidden: Forbidden,
  not_found: NotFound,
  method_not_allowed: MethodNotAllowed,
  request_timeout: RequestTimeout,
  conflict: Conflict,
  payload_too_large: PayloadTooLarge,
  quota_exceeded: QuotaExceeded,
  unsupported_media_type: UnsupportedMediaType,
  range_not_satisfiable: RangeNotSatisfiable,
  checksum_mismatch: ChecksumMismatch,
  rate_limited: RateLimited,
  internal_error: InternalError,
  service_unavailable: ServiceUnavailable,
  insufficient_storage: InsufficientStorage,
};

/** The code a status stands for when an answer is not the vault's envelope (a proxy's error page, say). */
const CODE_OF_STATUS: Record<number, string> = {
  400: "validation_error",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  416: "range_not_satisfiable",
  429: "rate_limited",
  460: "checksum_mismatch",
  500: "internal_error",
  503: "service_unavailable",
  507: "insufficient_storage",
};

/** Seconds of a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3); 1 when absent or bad. */
function retryAfterSeconds(value: string | null): number {
  if (value === null) return 1;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function isDetail(value: unknown): value is ErrorDetail {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorDetail).field === "string" &&
    typeof (value as ErrorDetail).message === "string"
  );
}

/**
 * The typed error of an error answer: the class of `error.code` (else of the status, else {@link VaultError}),
 * with the envelope's message and details. A body that is not the envelope keeps the status and a short excerpt.
 */
export async function errorFromResponse(response: Response): Promise<VaultError> {
  const text = await response.text().catch(() => "");
  const requestId = response.headers.get("x-request-id");
  let code: string | undefined;
  let message: string | undefined;
  let details: ErrorDetail[] = [];
  try {
    const body: unknown = JSON.parse(text);
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (error && typeof error.code === "string" && typeof error.message === "string") {
      code = error.code;
      message = error.message;
      details = Array.isArray(error.details) ? error.details.filter(isDetail) : [];
    }
  } catch {
    // not JSON: handled below
  }
  if (code === undefined || message === undefined) {
    code = CODE_OF_STATUS[response.status] ?? "http_error";
    const excerpt = text.slice(0, 200).trim();
    message = `HTTP ${response.status} from ${response.url}: ${excerpt || "no body"}`;
  }
  const cls = BY_CODE[code] ?? BY_CODE[CODE_OF_STATUS[response.status] ?? ""] ?? VaultError;
  return new cls(
    response.status,
    code,
    message,
    details,
    requestId,
    retryAfterSeconds(response.headers.get("retry-after")),
  );
}

/** The typed error of an error frame of the realtime socket (`{"error": {"code", "message"}}`, no HTTP answer). */
export function errorOfCode(code: string, message: string): VaultError {
  const status = Number(Object.keys(CODE_OF_STATUS).find((key) => CODE_OF_STATUS[Number(key)] === code) ?? 0);
  return new (BY_CODE[code] ?? VaultError)(status, code, message);
}
