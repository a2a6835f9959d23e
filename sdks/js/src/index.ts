/**
 * `@mediavault/sdk`: a typed client of a Media Vault server for browsers and Node.js (18+), on the platform's
 * `fetch`, streams and WebSocket, without dependencies. Node.js file helpers are in `@mediavault/sdk/node`.
 */

export { Vault, type UploadOptions, type VaultOptions } from "./client.js";
export { Download, type ByteRange, type ContentRange, type DownloadOptions } from "./download.js";
export {
  ChecksumMismatch,
  Conflict,
  Forbidden,
  InsufficientStorage,
  InternalError,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  QuotaExceeded,
  RangeNotSatisfiable,
  RateLimited,
  RequestTimeout,
  RetryableError,
  ServiceUnavailable,
  Unauthorized,
  UnsupportedMediaType,
  ValidationError,
  VaultError,
} from "./errors.js";
export {
  RealtimeClient,
  RealtimeClosed,
  type Channel,
  type RealtimeEvent,
  type RealtimeOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./realtime.js";
export type { Tokens } from "./session.js";
export type * from "./types.js";
export type { FileSource, Progress, UploadSource } from "./upload.js";
export {
  CHUNK_SIZE,
  RESUMABLE_THRESHOLD,
  storageResumeStore,
  type ResumableOptions,
  type ResumeStore,
} from "./resumable.js";
