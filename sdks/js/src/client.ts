/**
 * {@link Vault}: every endpoint of the vault's HTTP API (docs/api.md) as a typed method, over the platform's
 * `fetch`. Answers are the envelope's `data` (or a {@link Page} for lists); error answers throw the
 * {@link VaultError} subclass of their code.
 */

import { Download, rangeHeader, type DownloadOptions } from "./download.js";
import { Unauthorized, VaultError, errorFromResponse } from "./errors.js";
import { RealtimeClient, type Credential, type RealtimeOptions } from "./realtime.js";
import { Session, type Tokens } from "./session.js";
import type {
  AdminUser,
  AdminUserUpdate,
  ApiKey,
  ApiKeyCreated,
  ApiKeyOptions,
  AuditEvent,
  AuditQuery,
  Collection,
  CollectionUpdate,
  Delivery,
  Health,
  Media,
  MediaProcessing,
  MediaVersion,
  MediaQuery,
  MediaUpdate,
  OpenedShare,
  Page,
  PageQuery,
  Pagination,
  SearchQuery,
  Share,
  TrashedMedia,
  ShareCreate,
  SharedCollection,
  SharedMedia,
  SignedUpload,
  SignedUploadCreate,
  TokenPair,
  Usage,
  User,
  UserQuery,
  UserUpdate,
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookUpdate,
} from "./types.js";
import {
  RESUMABLE_THRESHOLD,
  knownSize,
  sendResumable,
  uploadIdOf,
  type ResumableOptions,
  type ResumeStore,
  type TusTransport,
} from "./resumable.js";
import { multipartBody, sourceName, type Body, type Progress, type UploadSource } from "./upload.js";

/** Options of a {@link Vault}. */
export interface VaultOptions {
  /** Authenticate every request with this API key (`X-API-Key`). */
  apiKey?: string;
  /** Resume a login saved elsewhere: its access token... */
  token?: string;
  /** ...and refresh token (the first 401 triggers the refresh). */
  refreshToken?: string;
  /** Told of every new token pair (login, refresh) and of the login's end (`null`), e.g. to save them. */
  onTokens?: (tokens: Tokens | null) => void;
  /** The vault's mount prefix (default `/api/v1`). */
  prefix?: string;
  /** The realtime socket's URL (default: `/realtime` on the server's origin, `ws:` or `wss:`). */
  realtimeUrl?: string;
  /** The `fetch` to use (default: the platform's). */
  fetch?: typeof fetch;
  /**
   * Stream upload bodies chunk by chunk with progress (default: yes where `fetch` can, i.e. outside browsers;
   * browsers stream request bodies over HTTP/2 only, so there a `Blob`/`File` is sent whole from its file).
   */
  streamUploads?: boolean;
  /** Headers sent with every request (e.g. `X-Request-ID`). */
  headers?: Record<string, string>;
  /**
   * `upload` sends a source of at least this many bytes (known size) through the resumable uploads (tus, in
   * `chunkSize` chunks; default 64 MiB; `Infinity`: only when asked with `resumable: true`).
   */
  resumableThreshold?: number;
  /** Bytes per `PATCH` of a resumable upload (default 8 MiB); an upload's own `chunkSize` wins. */
  chunkSize?: number;
  /**
   * Where unfinished resumable uploads are written down, so that uploading the same file again (in this process or
   * a later one) continues from the server's offset: `resumeFile()` of `@mediavault/sdk/node` (the Python SDK's
   * file), `storageResumeStore(localStorage)` in a browser. Default: none (keep `onUploadUrl`'s URL instead).
   */
  resumeStore?: ResumeStore;
}

/** Options of {@link Vault.upload}; those of {@link ResumableOptions} concern resumable uploads only. */
export interface UploadOptions extends ResumableOptions {
  /**
   * `true` sends the file through the resumable uploads (tus) whatever its size, `false` never; by default a
   * source of known size of at least the client's `resumableThreshold` (64 MiB) without `metadata` goes so.
   */
  resumable?: boolean;
  /** Name to store (default: the `File`'s or path's name, else `upload`); the content type is sniffed by the server. */
  filename?: string;
  title?: string;
  description?: string;
  /** Tags (stored trimmed and lower-cased; no commas inside a tag). */
  tags?: string[];
  /** Custom metadata (a JSON object, at most 16 KiB encoded); sent with one-request uploads only (tus has no place for it). */
  metadata?: Record<string, unknown>;
  /**
   * `progress(sent, total)` as the file's bytes go; `total` is `undefined` for a stream of unknown size. A
   * resumable upload first reports the offset it starts from (0, or where the server got).
   */
  progress?: Progress;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface Call {
  method: string;
  path: string;
  query?: Query | undefined;
  json?: unknown;
  body?: Body;
  headers?: Record<string, string>;
  /** Send the client's credentials (not for register, login, refresh, health, share links). */
  auth?: boolean;
  /** Statuses of success (default 200). */
  expect?: number[];
  signal?: AbortSignal | undefined;
}

interface Envelope<T> {
  data: T;
  meta: { pagination?: Pagination };
}

const id = encodeURIComponent;

/** A media listing's query with its `metadata` filters spelled as the API's `metadata.<key>` parameters. */
function mediaQuery({ metadata, ...query }: MediaQuery & { q?: string }): Query {
  const filters = Object.entries(metadata ?? {}).map(([key, value]) => [`metadata.${key}`, value]);
  return { ...query, ...Object.fromEntries(filters) };
}

function isNodeLike(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === "string";
}

/**
 * A client of one vault.
 *
 * ```ts
 * const vault = new Vault("http://127.0.0.1:8080");
 * await vault.login("ada@example.com", "correct horse battery");
 * for await (const media of vault.iterMedia({ tag: "beach" })) console.log(media.filename);
 * ```
 */
export class Vault {
  /** The server's root URL (`http://127.0.0.1:8080`). */
  readonly baseUrl: string;
  readonly prefix: string;
  private readonly session: Session;
  private readonly fetcher: typeof fetch;
  private readonly streamUploads: boolean;
  private readonly extraHeaders: Record<string, string>;
  private readonly realtimeUrl: string;
  private readonly resumableThreshold: number;
  private readonly chunkSize: number | undefined;
  private readonly resumeStore: ResumeStore | undefined;

  constructor(baseUrl: string, options: VaultOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.prefix = (options.prefix ?? "/api/v1").replace(/\/+$/, "");
    this.fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.streamUploads = options.streamUploads ?? isNodeLike();
    this.extraHeaders = { ...options.headers };
    this.resumableThreshold = options.resumableThreshold ?? RESUMABLE_THRESHOLD;
    this.chunkSize = options.chunkSize;
    this.resumeStore = options.resumeStore;
    const realtime = new URL("/realtime", this.baseUrl);
    realtime.protocol = realtime.protocol === "https:" ? "wss:" : "ws:";
    this.realtimeUrl = options.realtimeUrl ?? realtime.toString();
    this.session = new Session(options, (refreshToken) => this.spendRefreshToken(refreshToken), options.onTokens);
  }

  /** The tokens of the current login (`null` without one), e.g. to save and resume it later. */
  get tokens(): Tokens | null {
    return this.session.current;
  }

  /** An absolute URL for a path the API returns relative to the server (`content_url`, a share's `url`). */
  url(path: string): string {
    return new URL(path, this.baseUrl + "/").toString();
  }

  // ------------------------------------------------------------------------------------------- transport

  private async send(call: Call): Promise<Response> {
    const auth = call.auth ?? true;
    if (auth) await this.session.ensureFresh();
    const sentToken = this.session.token;
    let response = await this.attempt(call, auth);
    if (response.status === 401 && auth && this.session.canRenew(sentToken) && (call.body?.replayable ?? true)) {
      await response.body?.cancel();
      await this.session.renew(sentToken);
      response = await this.attempt(call, auth);
    }
    if (!(call.expect ?? [200]).includes(response.status)) throw await errorFromResponse(response);
    return response;
  }

  private attempt(call: Call, auth: boolean): Promise<Response> {
    const url = new URL(this.baseUrl + this.prefix + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      ...this.extraHeaders,
      ...call.headers,
      ...(auth ? this.session.headers() : {}),
    };
    const init: RequestInit & { duplex?: "half" } = { method: call.method, headers };
    if (call.signal) init.signal = call.signal;
    if (call.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(call.json);
    } else if (call.body !== undefined) {
      headers["Content-Type"] = call.body.contentType;
      const body = call.body.open();
      if (body instanceof Blob) {
        init.body = body;
      } else {
        if (call.body.length !== undefined) headers["Content-Length"] = String(call.body.length);
        init.body = body;
        init.duplex = "half"; // a streamed request body (fetch standard)
        // Without both, fetch clones the request to be able to follow a redirect, and the clone tees the body: the
        // branch nobody reads then buffers the whole upload (nodejs/undici#4058). A stream cannot follow a
        // redirect anyway (fetch answers a network error), so nothing is lost.
        init.redirect = "error";
        init.window = null;
      }
    }
    return this.fetcher(url.toString(), init);
  }

  private async data<T>(call: Call): Promise<T> {
    const response = await this.send(call);
    return (await this.json<T>(response)).data;
  }

  private async page<T>(call: Call): Promise<Page<T>> {
    const response = await this.send(call);
    const envelope = await this.json<T[]>(response);
    if (!envelope.meta.pagination)
      throw new VaultError(response.status, "http_error", `${response.url} answered a list without meta.pagination`);
    return { items: envelope.data, pagination: envelope.meta.pagination };
  }

  private async json<T>(response: Response): Promise<Envelope<T>> {
    const text = await response.text();
    try {
      return JSON.parse(text) as Envelope<T>;
    } catch {
      throw new VaultError(
        response.status,
        "http_error",
        `${response.url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  private async none(call: Call): Promise<void> {
    const response = await this.send({ ...call, expect: [204] });
    await response.body?.cancel();
  }

  private async bytes(call: Call, options: DownloadOptions): Promise<Download> {
    const headers: Record<string, string> = { ...call.headers };
    if (options.range !== undefined) headers.Range = rangeHeader(options.range);
    if (options.ifNoneMatch !== undefined) headers["If-None-Match"] = options.ifNoneMatch;
    if (options.ifRange !== undefined) headers["If-Range"] = options.ifRange;
    const response = await this.send({ ...call, headers, signal: options.signal, expect: [200, 206, 304] });
    return new Download(response, options.progress);
  }

  /** Every item of every page from `page` on, one request per page. */
  private async *walk<T>(list: (page: number) => Promise<Page<T>>, page = 1): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const current = await list(page);
      yield* current.items;
      if (current.pagination.links.next === null || current.items.length === 0) return;
      page = current.pagination.current_page + 1;
    }
  }

  // ------------------------------------------------------------------------------------------- operations

  /** `GET /health` → {@link Health}. @throws ServiceUnavailable when a check fails (503). */
  health(): Promise<Health> {
    return this.data({ method: "GET", path: "/health", auth: false });
  }

  // ------------------------------------------------------------------------------------------- auth

  /**
   * `POST /auth/register` → the new {@link User} (it does not log in).
   * @throws Conflict the email is taken. @throws Forbidden registration is off. @throws ValidationError bad email or password (8-1024 characters).
   */
  register(email: string, password: string, displayName?: string): Promise<User> {
    const json = { email, password, ...(displayName === undefined ? {} : { display_name: displayName }) };
    return this.data({ method: "POST", path: "/auth/register", json, auth: false, expect: [201] });
  }

  /**
   * `POST /auth/login` → {@link TokenPair}; the client keeps both tokens and refreshes the access token by itself
   * (once per expiry, shared by concurrent requests).
   * @throws Unauthorized unknown email or wrong password (one error for both). @throws RateLimited too many failed logins.
   */
  async login(email: string, password: string): Promise<TokenPair> {
    const pair = await this.data<TokenPair>({
      method: "POST",
      path: "/auth/login",
      json: { username: email, password },
      auth: false,
    });
    this.session.store(pair);
    return pair;
  }

  /**
   * `POST /auth/refresh` now → the new {@link TokenPair}, which the client keeps (the old refresh token is spent).
   * Clients refresh by themselves; call this only to rotate tokens on purpose.
   * @throws Unauthorized the login was revoked or has expired (the tokens are dropped: log in again).
   */
  refresh(): Promise<TokenPair> {
    return this.session.refresh();
  }

  private spendRefreshToken(refreshToken: string): Promise<TokenPair> {
    return this.data({ method: "POST", path: "/auth/refresh", json: { refresh_token: refreshToken }, auth: false });
  }

  /** `POST /auth/logout`: the access token and its refresh token stop working at once; the client forgets them. */
  async logout(): Promise<void> {
    await this.none({ method: "POST", path: "/auth/logout" });
    this.session.clear();
  }

  // ------------------------------------------------------------------------------------------- you

  /** `GET /users/me` → the caller's {@link User}. */
  me(): Promise<User> {
    return this.data({ method: "GET", path: "/users/me" });
  }

  /**
   * `PATCH /users/me` → the updated {@link User}; a new `email` or `password` needs `current_password`, and a new
   * password ends every other login of the user.
   * @throws ValidationError `current_password` missing or wrong (`details` names it). @throws Conflict the email is taken.
   */
  updateMe(changes: UserUpdate): Promise<User> {
    return this.data({ method: "PATCH", path: "/users/me", json: changes });
  }

  /** `GET /users/me/usage` → {@link Usage}: bytes stored, the quota (`null`: unlimited), media count. */
  usage(): Promise<Usage> {
    return this.data({ method: "GET", path: "/users/me/usage" });
  }

  /**
   * `POST /users/me/api-keys` → {@link ApiKeyCreated}, whose `key` is shown only in this answer; `options` limit it
   * to some scopes and make it expire.
   * @throws Forbidden the client itself uses an API key (keys are managed with a login only).
   */
  createApiKey(name: string, options: ApiKeyOptions = {}): Promise<ApiKeyCreated> {
    return this.data({ method: "POST", path: "/users/me/api-keys", json: { name, ...options }, expect: [201] });
  }

  /** `GET /users/me/api-keys` → a page of {@link ApiKey} (newest first, without the keys). */
  listApiKeys(query: PageQuery = {}): Promise<Page<ApiKey>> {
    return this.page({ method: "GET", path: "/users/me/api-keys", query: { ...query } });
  }

  /** Every API key, page after page. */
  iterApiKeys(query: PageQuery = {}): AsyncGenerator<ApiKey, void, undefined> {
    return this.walk((page) => this.listApiKeys({ ...query, page }), query.page);
  }

  /** `DELETE /users/me/api-keys/{id}`: requests with that key get 401 from now on. */
  deleteApiKey(keyId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/users/me/api-keys/${id(keyId)}` });
  }

  // ------------------------------------------------------------------------------------------- media

  /**
   * `POST /media/upload` → the new {@link Media}. The file is streamed as `multipart/form-data`, never read whole
   * into memory; with a known size the request has a `Content-Length`, so an oversized file is refused at once.
   * @throws PayloadTooLarge over the server's `max_upload_size` (nothing kept). @throws ValidationError an empty file.
   * @throws TypeError a tag with a comma, or a file that changed size while it was sent.
   */
  async upload(source: UploadSource, options: UploadOptions = {}): Promise<Media> {
    if (!this.goesResumable(source, options)) return this.sendUpload("/media/upload", source, options);
    return this.getMedia(await this.sendTus(source, options));
  }

  /** Whether `upload`/`replaceContent` send `source` through the resumable uploads (see {@link UploadOptions.resumable}). */
  private goesResumable(source: UploadSource, options: UploadOptions): boolean {
    if (options.metadata !== undefined && options.resumable === true) {
      throw new TypeError("custom metadata goes with one-request uploads: leave resumable unset or false");
    }
    const size = knownSize(source, options.size);
    return (
      options.resumable ??
      (options.metadata === undefined &&
        (options.uploadUrl !== undefined || (size !== undefined && size >= this.resumableThreshold)))
    );
  }

  /** Send `source` through `/uploads` (replacing the bytes of `replaces` when given); the media's id. */
  private sendTus(source: UploadSource, options: UploadOptions, replaces?: string): Promise<string> {
    if (options.tags?.some((tag) => tag.includes(","))) {
      throw new TypeError("a tag cannot contain a comma (the upload's metadata sends tags comma-separated)");
    }
    const fields = {
      filename: options.filename ?? sourceName(source) ?? "upload",
      title: options.title,
      description: options.description,
      tags: options.tags?.join(","),
      media_id: replaces,
    };
    return sendResumable(this.tus(), source, fields, {
      ...options,
      chunkSize: options.chunkSize ?? this.chunkSize,
      store: this.resumeStore,
    });
  }

  /**
   * {@link upload} through the resumable uploads (tus 1.0.0 on `/uploads`) whatever the size: `POST` the length and
   * the fields, `PATCH` chunks of `chunkSize` bytes from the server's offset, then the new {@link Media}. An upload
   * is continued when `uploadUrl` names one, or when the client's `resumeStore` holds one for the source (then
   * only what the server lacks is sent); a `409` is answered by asking the server's offset again, a chunk refused
   * for its checksum (`checksum: true`) is sent once more.
   * @throws TypeError a source of unknown size (pass `size` for a stream), `metadata` given, a source that changed size.
   * @throws NotFound a kept `uploadUrl` the server no longer has (expired, deleted, someone else's).
   * @throws PayloadTooLarge, QuotaExceeded refused before any byte is sent. @throws ChecksumMismatch a chunk refused twice.
   */
  uploadResumable(source: UploadSource, options: Omit<UploadOptions, "resumable" | "metadata"> = {}): Promise<Media> {
    return this.upload(source, { ...options, resumable: true });
  }

  /**
   * `DELETE /uploads/{id}` (tus termination): an unfinished resumable upload and its bytes go now (its URL or id,
   * as `onUploadUrl` told it). @throws NotFound unknown, finished and expired, or someone else's.
   */
  deleteUpload(uploadUrl: string): Promise<void> {
    const headers = { "Tus-Resumable": "1.0.0" };
    return this.none({ method: "DELETE", path: `/uploads/${id(uploadIdOf(uploadUrl))}`, headers });
  }

  private tus(): TusTransport {
    return {
      send: (request) => this.send(request),
      url: (path) => this.url(path),
      prefix: this.prefix,
      streamUploads: this.streamUploads,
    };
  }

  /**
   * `PUT /media/{id}/content` → the {@link Media} with new bytes, streamed as {@link upload} streams them: same id,
   * collections and shares, `version` + 1, the previous bytes kept as a version; the options' fields replace the
   * item's. A large source goes through a resumable upload naming the item (`Upload-Metadata` `media_id`), as
   * {@link upload} decides, written down in the `resumeStore` apart from uploads of the same file as a new item.
   * @throws NotFound as {@link getMedia}. @throws PayloadTooLarge, ValidationError as {@link upload}.
   */
  async replaceContent(mediaId: string, source: UploadSource, options: UploadOptions = {}): Promise<Media> {
    if (!this.goesResumable(source, options)) {
      return this.sendUpload(`/media/${id(mediaId)}/content`, source, options, true, {}, "PUT", 200);
    }
    return this.getMedia(await this.sendTus(source, options, mediaId));
  }

  /**
   * `POST /uploads/signed` → {@link SignedUpload}: a URL that takes one upload into the caller's account without
   * credentials (hand its `url` or `token` to a browser or a partner); `url` and `token` are shown only here.
   * @throws ValidationError `expires_in` outside 60-86400, `max_size` over the server's limit. @throws NotFound `collection_id` is not the caller's.
   */
  signUpload(options: SignedUploadCreate = {}): Promise<SignedUpload> {
    return this.data({ method: "POST", path: "/uploads/signed", json: options, expect: [201] });
  }

  /**
   * `POST /uploads/signed/{token}` (no account needed) → the new {@link Media}, the signer's; options as
   * {@link upload}. The URL is spent.
   * @throws NotFound unknown, expired or used URL. @throws PayloadTooLarge over the URL's `max_size` (nothing kept; the URL stays usable).
   */
  uploadSigned(token: string, source: UploadSource, options: UploadOptions = {}): Promise<Media> {
    return this.sendUpload(`/uploads/signed/${id(token)}`, source, options, false);
  }

  /**
   * `POST /s/{token}/upload` (no account needed) → the new item as the link shows it, a {@link SharedMedia} (no
   * `owner_id`; `content_url` is the link's URL for its bytes): added to the shared collection and owned by the
   * collection's owner. Options as {@link upload}.
   * @throws Unauthorized missing or wrong `password`. @throws Forbidden a link without `allow_upload`. @throws NotFound unknown, expired or deleted link.
   */
  uploadToShare(
    token: string,
    source: UploadSource,
    options: UploadOptions & { password?: string } = {},
  ): Promise<SharedMedia> {
    const path = `/s/${id(token)}/upload`;
    return this.sendUpload<SharedMedia>(path, source, options, false, shareHeaders(options.password));
  }

  private async sendUpload<T = Media>(
    path: string,
    source: UploadSource,
    options: UploadOptions,
    auth = true,
    headers: Record<string, string> = {},
    method = "POST",
    status = 201,
  ): Promise<T> {
    const fields = {
      filename: options.filename ?? sourceName(source) ?? "upload",
      title: options.title,
      description: options.description,
      tags: options.tags,
      metadata: options.metadata,
    };
    const body = multipartBody(source, fields, this.streamUploads, options.progress);
    const media = await this.data<T>({
      method,
      path,
      body,
      headers,
      auth,
      signal: options.signal,
      expect: [status],
    });
    if (!body.streamed && body.fileSize !== undefined) options.progress?.(body.fileSize, body.fileSize);
    return media;
  }

  /** `GET /media/{id}/versions` → every kept {@link MediaVersion}, newest (the current one) first. */
  listVersions(mediaId: string): Promise<MediaVersion[]> {
    return this.data({ method: "GET", path: `/media/${id(mediaId)}/versions` });
  }

  /** `GET /media/{id}/versions/{version}/content` → a {@link Download} of that version's bytes. @throws NotFound no such version kept. */
  downloadVersion(mediaId: string, version: number, options: DownloadOptions = {}): Promise<Download> {
    return this.bytes({ method: "GET", path: `/media/${id(mediaId)}/versions/${version}/content` }, options);
  }

  /** `POST /media/{id}/versions/{version}/restore` → the {@link Media}, whose new current version has a copy of those bytes. */
  restoreVersion(mediaId: string, version: number): Promise<Media> {
    return this.data({ method: "POST", path: `/media/${id(mediaId)}/versions/${version}/restore` });
  }

  /** `GET /trash` → a page of the caller's deleted {@link TrashedMedia}, most recently deleted first. */
  listTrash(query: PageQuery = {}): Promise<Page<TrashedMedia>> {
    return this.page({ method: "GET", path: "/trash", query: { ...query } });
  }

  /** `POST /trash/{id}/restore` → the {@link Media}, back where it was. @throws NotFound not in the caller's trash. */
  restoreMedia(mediaId: string): Promise<Media> {
    return this.data({ method: "POST", path: `/trash/${id(mediaId)}/restore` });
  }

  /** `DELETE /trash/{id}`: a deleted item and its bytes go now. @throws NotFound not in the caller's trash. */
  purgeMedia(mediaId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/trash/${id(mediaId)}` });
  }

  /** `DELETE /trash`: every deleted item of the caller and its bytes go now. */
  emptyTrash(): Promise<void> {
    return this.none({ method: "DELETE", path: "/trash" });
  }

  /** `GET /media/{id}` → {@link Media}. @throws NotFound unknown id, or someone else's media. */
  getMedia(mediaId: string): Promise<Media> {
    return this.data({ method: "GET", path: `/media/${id(mediaId)}` });
  }

  /** `GET /media` → a page of the caller's {@link Media}, filtered and sorted. @throws ValidationError a value out of range. */
  listMedia(query: MediaQuery = {}): Promise<Page<Media>> {
    return this.page({ method: "GET", path: "/media", query: mediaQuery(query) });
  }

  /** Every media of {@link listMedia}'s query, page after page (`for await (const m of vault.iterMedia({tag}))`). */
  iterMedia(query: MediaQuery = {}): AsyncGenerator<Media, void, undefined> {
    return this.walk((page) => this.listMedia({ ...query, page }), query.page);
  }

  /** `PATCH /media/{id}` → the updated {@link Media}; fields left out are not changed, `null` clears. */
  updateMedia(mediaId: string, changes: MediaUpdate): Promise<Media> {
    return this.data({ method: "PATCH", path: `/media/${id(mediaId)}`, json: changes });
  }

  /** `DELETE /media/{id}`: the media, its bytes and its collection memberships go (into the trash when the server keeps one). */
  deleteMedia(mediaId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/media/${id(mediaId)}` });
  }

  /**
   * `GET /media/{id}/content` → a {@link Download} (200, 206 for a `range`, 304 for a current `ifNoneMatch`).
   * @throws NotFound as {@link getMedia}. @throws RangeNotSatisfiable no byte satisfies the range.
   */
  download(mediaId: string, options: DownloadOptions = {}): Promise<Download> {
    return this.bytes({ method: "GET", path: `/media/${id(mediaId)}/content` }, options);
  }

  /**
   * `GET /media/{id}/thumbnail?size=` → a {@link Download} of a thumbnail made by the processing worker.
   * @throws NotFound not an image, not processed yet, or processing failed. @throws ValidationError `size` is not one of the server's.
   */
  downloadThumbnail(mediaId: string, options: DownloadOptions & { size?: number } = {}): Promise<Download> {
    return this.bytes(
      { method: "GET", path: `/media/${id(mediaId)}/thumbnail`, query: { size: options.size } },
      options,
    );
  }

  /** `GET /media/{id}/metadata` → {@link MediaProcessing}: processing status, what each processor found, variants. */
  getMetadata(mediaId: string): Promise<MediaProcessing> {
    return this.data({ method: "GET", path: `/media/${id(mediaId)}/metadata` });
  }

  /** `POST /media/{id}/reprocess` → {@link MediaProcessing}, now `pending`: process the item again from scratch. */
  reprocess(mediaId: string): Promise<MediaProcessing> {
    return this.data({ method: "POST", path: `/media/${id(mediaId)}/reprocess`, expect: [202] });
  }

  /** `GET /search` → a page of the caller's {@link Media} whose words start with every word of `q`. @throws ValidationError `q` blank. */
  search(q: string, query: SearchQuery = {}): Promise<Page<Media>> {
    return this.page({ method: "GET", path: "/search", query: mediaQuery({ ...query, q }) });
  }

  /** Every result of {@link search}, page after page. */
  iterSearch(q: string, query: SearchQuery = {}): AsyncGenerator<Media, void, undefined> {
    return this.walk((page) => this.search(q, { ...query, page }), query.page);
  }

  // ------------------------------------------------------------------------------------------- collections

  /** `POST /collections` → the new {@link Collection}. */
  createCollection(name: string, description?: string): Promise<Collection> {
    const json = { name, ...(description === undefined ? {} : { description }) };
    return this.data({ method: "POST", path: "/collections", json, expect: [201] });
  }

  /** `GET /collections` → a page of the caller's {@link Collection} (newest first). */
  listCollections(query: PageQuery = {}): Promise<Page<Collection>> {
    return this.page({ method: "GET", path: "/collections", query: { ...query } });
  }

  /** Every collection, page after page. */
  iterCollections(query: PageQuery = {}): AsyncGenerator<Collection, void, undefined> {
    return this.walk((page) => this.listCollections({ ...query, page }), query.page);
  }

  /** `GET /collections/{id}` → {@link Collection}. @throws NotFound unknown id, or someone else's. */
  getCollection(collectionId: string): Promise<Collection> {
    return this.data({ method: "GET", path: `/collections/${id(collectionId)}` });
  }

  /** `PATCH /collections/{id}` → the updated {@link Collection} (`description: null` clears it). */
  updateCollection(collectionId: string, changes: CollectionUpdate): Promise<Collection> {
    return this.data({ method: "PATCH", path: `/collections/${id(collectionId)}`, json: changes });
  }

  /** `DELETE /collections/{id}`: the collection and its share links go, its media stay. */
  deleteCollection(collectionId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/collections/${id(collectionId)}` });
  }

  /**
   * `POST /collections/{id}/media` → the {@link Collection}; idempotent, all or nothing (1-1000 ids).
   * @throws NotFound the collection or any of the media is not the caller's (then nothing is added).
   */
  addToCollection(collectionId: string, mediaIds: string[]): Promise<Collection> {
    return this.data({ method: "POST", path: `/collections/${id(collectionId)}/media`, json: { media_ids: mediaIds } });
  }

  /** `GET /collections/{id}/media` → a page of its {@link Media}, with the filters of {@link listMedia}. */
  listCollectionMedia(collectionId: string, query: MediaQuery = {}): Promise<Page<Media>> {
    return this.page({ method: "GET", path: `/collections/${id(collectionId)}/media`, query: mediaQuery(query) });
  }

  /** Every media of a collection, page after page. */
  iterCollectionMedia(collectionId: string, query: MediaQuery = {}): AsyncGenerator<Media, void, undefined> {
    return this.walk((page) => this.listCollectionMedia(collectionId, { ...query, page }), query.page);
  }

  /** `DELETE /collections/{id}/media/{media_id}` (the media itself stays). @throws NotFound not a member. */
  removeFromCollection(collectionId: string, mediaId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/collections/${id(collectionId)}/media/${id(mediaId)}` });
  }

  // ------------------------------------------------------------------------------------------- shares

  /**
   * `POST /shares` → {@link Share} with `token` and `url`, shown only in this answer.
   * @throws ValidationError both or neither target, or a bad `expires_in`/`password`. @throws NotFound the target is not the caller's.
   */
  createShare(share: ShareCreate): Promise<Share> {
    return this.data({ method: "POST", path: "/shares", json: share, expect: [201] });
  }

  /** `GET /shares` → a page of the caller's {@link Share} (newest first; `token`/`url` are `null`). */
  listShares(query: PageQuery = {}): Promise<Page<Share>> {
    return this.page({ method: "GET", path: "/shares", query: { ...query } });
  }

  /** Every share link, page after page. */
  iterShares(query: PageQuery = {}): AsyncGenerator<Share, void, undefined> {
    return this.walk((page) => this.listShares({ ...query, page }), query.page);
  }

  /** `DELETE /shares/{id}`: the link is dead at once. */
  deleteShare(shareId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/shares/${id(shareId)}` });
  }

  /**
   * `GET /s/{token}` (no account needed) → {@link OpenedShare}: the media, or the collection with one page of media.
   * @throws Unauthorized missing or wrong `password`. @throws NotFound unknown, expired or deleted link.
   */
  async openShare(token: string, options: PageQuery & { password?: string } = {}): Promise<OpenedShare> {
    const { password, ...query } = options;
    const call: Call = {
      method: "GET",
      path: `/s/${id(token)}`,
      query: { ...query },
      headers: shareHeaders(password),
      auth: false,
    };
    const response = await this.send(call);
    const envelope = await this.json<Record<string, unknown>>(response);
    const data = envelope.data;
    if (data.type === "collection") {
      const { collection, media } = data as { collection: SharedCollection; media: SharedMedia[] };
      return { type: "collection", collection, media, pagination: envelope.meta.pagination as Pagination };
    }
    return data as unknown as OpenedShare;
  }

  /**
   * The bytes behind a share link (no account needed): `GET /s/{token}/content`, or
   * `/s/{token}/media/{mediaId}/content` for a media of a collection link.
   * @throws Unauthorized missing or wrong `password`. @throws Forbidden a link without downloads. @throws NotFound unknown, expired or deleted link.
   */
  downloadShared(
    token: string,
    options: DownloadOptions & { mediaId?: string; password?: string } = {},
  ): Promise<Download> {
    const path =
      options.mediaId === undefined
        ? `/s/${id(token)}/content`
        : `/s/${id(token)}/media/${id(options.mediaId)}/content`;
    return this.bytes({ method: "GET", path, headers: shareHeaders(options.password), auth: false }, options);
  }

  // ------------------------------------------------------------------------------------------- webhooks

  /**
   * `POST /webhooks` → {@link WebhookCreated}, whose signing `secret` is shown only here.
   * @throws ValidationError a URL that is not http(s) or points at a private address, or an unknown event.
   */
  createWebhook(webhook: WebhookCreate): Promise<WebhookCreated> {
    return this.data({ method: "POST", path: "/webhooks", json: webhook, expect: [201] });
  }

  /** `GET /webhooks` → a page of the caller's {@link Webhook} (newest first). */
  listWebhooks(query: PageQuery = {}): Promise<Page<Webhook>> {
    return this.page({ method: "GET", path: "/webhooks", query: { ...query } });
  }

  /** Every webhook endpoint, page after page. */
  iterWebhooks(query: PageQuery = {}): AsyncGenerator<Webhook, void, undefined> {
    return this.walk((page) => this.listWebhooks({ ...query, page }), query.page);
  }

  /** `GET /webhooks/{id}` → {@link Webhook}. */
  getWebhook(webhookId: string): Promise<Webhook> {
    return this.data({ method: "GET", path: `/webhooks/${id(webhookId)}` });
  }

  /** `PATCH /webhooks/{id}` → the updated {@link Webhook} (`active: true` re-enables a disabled one). */
  updateWebhook(webhookId: string, changes: WebhookUpdate): Promise<Webhook> {
    return this.data({ method: "PATCH", path: `/webhooks/${id(webhookId)}`, json: changes });
  }

  /** `DELETE /webhooks/{id}` (its delivery log goes with it). */
  deleteWebhook(webhookId: string): Promise<void> {
    return this.none({ method: "DELETE", path: `/webhooks/${id(webhookId)}` });
  }

  // ------------------------------------------------------------------------------------------- admin

  /** `GET /admin/users` (admins) → a page of {@link AdminUser}, oldest first. @throws Forbidden not an admin. */
  listUsers(query: UserQuery = {}): Promise<Page<AdminUser>> {
    return this.page({ method: "GET", path: "/admin/users", query: { ...query } });
  }

  /** Every user, page after page (admins). */
  iterUsers(query: UserQuery = {}): AsyncGenerator<AdminUser, void, undefined> {
    return this.walk((page) => this.listUsers({ ...query, page }), query.page);
  }

  /** `GET /admin/users/{id}` (admins) → {@link AdminUser}. */
  getUser(userId: string): Promise<AdminUser> {
    return this.data({ method: "GET", path: `/admin/users/${id(userId)}` });
  }

  /**
   * `PATCH /admin/users/{id}` (admins) → the updated {@link AdminUser}; `disabled: true` ends the user's logins and
   * refuses their keys at once. @throws ValidationError disabling or demoting yourself.
   */
  updateUser(userId: string, changes: AdminUserUpdate): Promise<AdminUser> {
    return this.data({ method: "PATCH", path: `/admin/users/${id(userId)}`, json: changes });
  }

  /** `GET /admin/audit` (admins) → a page of {@link AuditEvent}, newest first. */
  listAuditEvents(query: AuditQuery = {}): Promise<Page<AuditEvent>> {
    return this.page({ method: "GET", path: "/admin/audit", query: { ...query } });
  }

  /** Every audit line, page after page (admins). */
  iterAuditEvents(query: AuditQuery = {}): AsyncGenerator<AuditEvent, void, undefined> {
    return this.walk((page) => this.listAuditEvents({ ...query, page }), query.page);
  }

  /** `GET /webhooks/{id}/deliveries` → a page of {@link Delivery} attempts, newest first. */
  listDeliveries(webhookId: string, query: PageQuery = {}): Promise<Page<Delivery>> {
    return this.page({ method: "GET", path: `/webhooks/${id(webhookId)}/deliveries`, query: { ...query } });
  }

  /** Every delivery attempt of an endpoint, page after page. */
  iterDeliveries(webhookId: string, query: PageQuery = {}): AsyncGenerator<Delivery, void, undefined> {
    return this.walk((page) => this.listDeliveries(webhookId, { ...query, page }), query.page);
  }

  // ------------------------------------------------------------------------------------------- realtime

  /**
   * Open the realtime socket, authenticated with the client's API key or access token (a login's socket sends a
   * fresh token before the old one expires, so it stays open as long as the login lives).
   * @throws Unauthorized no credential, or it was refused.
   */
  realtime(options: RealtimeOptions = {}): Promise<RealtimeClient> {
    return RealtimeClient.connect(this.realtimeUrl, () => this.realtimeCredential(), options);
  }

  private async realtimeCredential(): Promise<Credential> {
    if (this.session.apiKey) return { token: this.session.apiKey, renewAt: null };
    await this.session.ensureFresh();
    const token = this.session.token;
    if (token === null)
      throw new Unauthorized(401, "unauthorized", "log in (or use an API key) before opening the realtime socket");
    const due = this.session.refreshDueIn();
    return { token, renewAt: due === null ? null : Date.now() + due };
  }
}

function shareHeaders(password: string | undefined): Record<string, string> {
  return password === undefined ? {} : { "X-Share-Password": password };
}
