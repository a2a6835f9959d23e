/**
 * The vault's wire shapes (docs/api.md), exactly as the server sends and takes them: field names in
 * snake_case, timestamps as RFC 3339 UTC strings (`2026-11-29T10:00:00.123456Z`), ids as opaque strings.
 * The tests compare every answer's keys with these declarations against a real `mediavault serve`.
 */

/** `type` of a media item, derived from its sniffed content type. */
export type MediaKind = "image" | "video" | "audio" | "document" | "other";

/** Orders of the media lists (`-` first for descending; default `-created_at`). */
export type MediaSort = "created_at" | "-created_at" | "filename" | "-filename" | "size" | "-size";

/** Event names webhooks and realtime carry. */
export type EventName =
  | "media.uploaded"
  | "media.updated"
  | "media.deleted"
  | "media.trashed"
  | "media.restored"
  | "user.registered"
  | "collection.created"
  | "collection.deleted"
  | "share.created";

/** `GET /health`: `status` is `ok` or `degraded`; `checks` maps each dependency to `ok` or `error`. */
export interface Health {
  status: string;
  checks: Record<string, string>;
}

/** A login's tokens (`POST /auth/login`, `POST /auth/refresh`); lifetimes in seconds. */
export interface TokenPair {
  token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  token_type: string;
}

/** A user as the API shows it (never a password hash). */
export interface User {
  id: string;
  email: string;
  display_name: string | null;
  role: string;
  created_at: string;
  updated_at: string;
}

/** `PATCH /users/me`: fields left out are not changed; `email` and `password` need `current_password`. */
export interface UserUpdate {
  display_name?: string | null;
  email?: string;
  password?: string;
  current_password?: string;
}

/** An API key as listed: never the key itself, only its first 12 characters (`prefix`). */
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  /** The scopes the key may use (every scope unless it was made with some). */
  scopes: Scope[];
  /** When the key stops working; `null`: never. */
  expires_at: string | null;
  /** When the key last authenticated a request (to the minute); `null`: never used. */
  last_used_at: string | null;
}

/** What an API key may be limited to. */
export type Scope =
  | "media:read"
  | "media:write"
  | "collections:read"
  | "collections:write"
  | "shares:read"
  | "shares:write"
  | "webhooks:read"
  | "webhooks:write";

/** `POST /users/me/api-keys` beside its `name`. */
export interface ApiKeyOptions {
  /** Limit the key to these scopes (left out: every scope). */
  scopes?: Scope[];
  /** Seconds until the key stops working (60 to ten years; left out: never). */
  expires_in?: number;
}

/** `GET /users/me/usage`: bytes stored (each stored blob once), the quota (`null`: unlimited), media count. */
export interface Usage {
  used_bytes: number;
  quota_bytes: number | null;
  media_count: number;
}

/** A user as an admin sees it (`GET /admin/users`). */
export interface AdminUser extends User {
  disabled: boolean;
  /** The quota in force, bytes; `null`: unlimited. */
  quota_bytes: number | null;
  used_bytes: number;
}

/** `PATCH /admin/users/{id}`. */
export interface AdminUserUpdate {
  disabled?: boolean;
  role?: "user" | "admin";
  /** Bytes; `null`: unlimited. */
  quota_bytes?: number | null;
}

/** The query of `GET /admin/users`. */
export interface UserQuery extends PageQuery {
  /** In the email or display name (case-insensitive). */
  q?: string;
}

/** A line of the audit log (`GET /admin/audit`). */
export interface AuditEvent {
  id: string;
  action: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

/** The query of `GET /admin/audit` (`since` inclusive, `until` exclusive, RFC 3339). */
export interface AuditQuery extends PageQuery {
  action?: string;
  actor_id?: string;
  since?: string;
  until?: string;
}

/** The answer to `POST /users/me/api-keys`: `key` (`mvk_...`) is shown in this answer only. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

/** A media item. `width`/`height` are `null` unless it is an image; `content_url` serves its bytes. */
export interface Media {
  id: string;
  filename: string;
  content_type: string;
  type: MediaKind;
  size: number;
  checksum_sha256: string;
  width: number | null;
  height: number | null;
  title: string | null;
  description: string | null;
  tags: string[];
  owner_id: string;
  created_at: string;
  updated_at: string;
  content_url: string;
  /** 1 at upload, + 1 for each replacement of the bytes (`replaceContent`, `restoreVersion`). */
  version: number;
  /** The owner's custom metadata (a JSON object, at most 16 KiB encoded). */
  metadata: Record<string, unknown>;
}

/** `PATCH /media/{id}`: fields left out are not changed, `null` clears; `metadata` is a JSON merge patch (RFC 7396). */
export interface MediaUpdate {
  title?: string | null;
  description?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** One version of a media item's bytes (`GET /media/{id}/versions`, newest first; `current`: served now). */
export interface MediaVersion {
  version: number;
  size: number;
  checksum_sha256: string;
  content_type: string;
  created_at: string;
  current: boolean;
}

/** A media item in the trash (`GET /trash`): deleted at `deleted_at`, purged with its bytes at `purge_at`. */
export interface TrashedMedia extends Media {
  deleted_at: string;
  purge_at: string;
}

/** A derived file of a media item (a thumbnail: `url` serves it; the share copy has no `url`). */
export interface Variant {
  name: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  url: string | null;
}

/** `GET /media/{id}/metadata`: processing status, each processor's public results and errors, the variants. */
export interface MediaProcessing {
  media_id: string;
  status: "pending" | "done" | "failed";
  processed_at: string | null;
  metadata: Record<string, Record<string, unknown>>;
  errors: Record<string, string>;
  variants: Variant[];
}

/** A collection; `media_count` is the number of member media right now. */
export interface Collection {
  id: string;
  name: string;
  description: string | null;
  owner_id: string;
  media_count: number;
  created_at: string;
  updated_at: string;
}

/** `PATCH /collections/{id}` (`description: null` clears it). */
export interface CollectionUpdate {
  name?: string;
  description?: string | null;
}

/** A share link as its owner sees it; `token` and `url` only in the answer to its creation (else `null`). */
export interface Share {
  id: string;
  token: string | null;
  url: string | null;
  expires_at: string | null;
  allow_download: boolean;
  has_password: boolean;
  media_id: string | null;
  collection_id: string | null;
  created_at: string;
  /** A collection link that takes uploads from whoever holds it ({@link Vault.uploadToShare}). */
  allow_upload: boolean;
}

/** `POST /shares`: exactly one of `media_id` / `collection_id`. */
export interface ShareCreate {
  media_id?: string;
  collection_id?: string;
  /** Seconds until the link dies (1 s to 10 years); left out: never. */
  expires_in?: number;
  /** 8-1024 characters; then required to open the link. */
  password?: string;
  /** `false` refuses the content endpoints (403). Default `true`. */
  allow_download?: boolean;
  /** A collection link that takes uploads from whoever holds it (a media link: 400). Default `false`. */
  allow_upload?: boolean;
}

/** A signed upload URL: one upload of at most `max_size` bytes into the signer's account, until `expires_at`. */
export interface SignedUpload {
  url: string;
  token: string;
  expires_at: string;
  max_size: number;
  collection_id: string | null;
}

/** `POST /uploads/signed`. */
export interface SignedUploadCreate {
  /** Seconds the URL lives, 60-86400 (default 3600). */
  expires_in?: number;
  /** Largest file it takes, in bytes (default and maximum: the server's `max_upload_size`). */
  max_size?: number;
  /** One of the caller's collections the upload is added to. */
  collection_id?: string;
}

/**
 * A media item as a share link shows it: no `owner_id`, and the file the link serves (the copy without metadata,
 * for images): its sanitised `filename`, `content_type`, `size`, `checksum_sha256` and dimensions. `size` and
 * `checksum_sha256` are `null` for an image the link refuses to serve (its content URL answers 403).
 * `content_url` is the link's own URL for the bytes.
 */
export interface SharedMedia extends Omit<Media, "owner_id" | "size" | "checksum_sha256" | "version" | "metadata"> {
  size: number | null;
  checksum_sha256: string | null;
}

/** A collection as a share link shows it: no `owner_id`. */
export type SharedCollection = Omit<Collection, "owner_id">;

/** What `GET /s/{token}` shows anyone holding a link: a media, or a collection with one page of its media. */
export type OpenedShare =
  | { type: "media"; media: SharedMedia }
  | { type: "collection"; collection: SharedCollection; media: SharedMedia[]; pagination: Pagination };

/** A webhook endpoint as its owner sees it (never the secret, except once in {@link WebhookCreated}). */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  consecutive_failures: number;
  created_at: string;
  updated_at: string;
}

/** The answer to `POST /webhooks`: the endpoint and its signing `secret` (`whsec_<base64>`), shown only here. */
export interface WebhookCreated extends Webhook {
  secret: string;
}

/** `POST /webhooks`. */
export interface WebhookCreate {
  url: string;
  events: EventName[];
  description?: string | null;
}

/** `PATCH /webhooks/{id}` (`active: true` re-enables a disabled endpoint). */
export interface WebhookUpdate {
  url?: string;
  events?: EventName[];
  description?: string | null;
  active?: boolean;
}

/** One attempt of a webhook's delivery log (`GET /webhooks/{id}/deliveries`). */
export interface Delivery {
  id: string;
  event_id: string;
  event: string;
  attempt: number;
  status: "pending" | "succeeded" | "failed";
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
  next_attempt_at: string | null;
  attempted_at: string | null;
}

/** `meta.pagination` of a list answer; links are relative to the mount prefix, `null` at the ends. */
export interface Pagination {
  total: number;
  count: number;
  per_page: number;
  current_page: number;
  total_pages: number;
  links: { next: string | null; prev: string | null };
}

/** One page of a list endpoint. */
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

/** `page` (1-based) and `per_page` (1-100, default 20) of every list endpoint. */
export interface PageQuery {
  page?: number;
  per_page?: number;
}

/** Filters of `GET /media`, `GET /collections/{id}/media` and `GET /search`. */
export interface MediaFilters {
  type?: MediaKind;
  /** Exact tag (case-insensitive). */
  tag?: string;
  sort?: MediaSort;
  /** Only media with this content (SHA-256, 64 hex digits). */
  checksum_sha256?: string;
  /** Only media whose custom metadata has each `key: value` (sent as `metadata.<key>=<value>`, compared as strings). */
  metadata?: Record<string, string>;
}

/** The query of `GET /media` and `GET /collections/{id}/media`. */
export interface MediaQuery extends PageQuery, MediaFilters {
  /** Substring of filename, title or description (case-insensitive). */
  q?: string;
}

/** The query of `GET /search` besides `q`. */
export interface SearchQuery extends PageQuery, MediaFilters {}

/** One `error.details` entry: which input was wrong, and why. */
export interface ErrorDetail {
  field: string;
  message: string;
}
