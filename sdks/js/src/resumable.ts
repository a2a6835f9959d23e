/**
 * Resumable uploads through the vault's tus 1.0.0 server (`/uploads`, docs/uploads.md), on the platform's `fetch`:
 * `POST` the upload's length and metadata, `PATCH` the bytes in chunks from the server's offset, and read the new
 * media's id from `X-Media-Id` on the `PATCH` of the last byte. The steps and what is written down follow the Python
 * SDK (`mediavault_sdk._resumable`):
 *
 * 1. An upload to continue: the `uploadUrl` the caller kept, or the id a {@link ResumeStore} holds for the source's
 *    key. It is asked for its offset (`HEAD`); one the server no longer has is forgotten (a kept `uploadUrl`:
 *    `NotFound` is thrown).
 * 2. Otherwise one is made (`POST /uploads`) and written down in the store at once.
 * 3. The rest goes in `PATCH` chunks read from the source at the server's offset. A `409` (another client moved the
 *    offset) is answered by asking the offset again; a chunk refused for its checksum (`460`) is sent once more.
 * 4. The entry is removed and the media fetched.
 */

import { ChecksumMismatch, Conflict, NotFound, VaultError } from "./errors.js";
import { iterate, type Body, type FileSource, type Progress, type UploadSource } from "./upload.js";

/** Uploads of at least this many bytes go through tus by default (64 MiB, as the Python SDK's). */
export const RESUMABLE_THRESHOLD = 64 * 1024 * 1024;
/** Bytes per `PATCH` by default (8 MiB: one S3 part on the server; what a dropped connection costs again). */
export const CHUNK_SIZE = 8 * 1024 * 1024;
const TUS = { "Tus-Resumable": "1.0.0" };
const OFFSET_TYPE = "application/offset+octet-stream";
/** Bytes handed to `fetch` at a time from a streamed chunk (one `progress` call each). */
const PIECE = 256 * 1024;

/**
 * Where unfinished uploads are written down: a key naming the source (a path, size and modification time) → the
 * upload's id. `resumeFile()` of `@mediavault/sdk/node` keeps them in the Python SDK's JSON file; in a browser
 * {@link storageResumeStore} keeps them in `localStorage`.
 */
export interface ResumeStore {
  /** The upload id written down for `key`, if any. */
  get(key: string): string | undefined | Promise<string | undefined>;
  /** Write `uploadId` down for `key` (`undefined`: remove the entry). */
  set(key: string, uploadId: string | undefined): void | Promise<void>;
}

/** A {@link ResumeStore} in a Web Storage object (`localStorage`), under `prefix` + key. */
export function storageResumeStore(
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">,
  prefix = "mediavault-upload:",
): ResumeStore {
  return {
    get: (key) => storage.getItem(prefix + key) ?? undefined,
    set: (key, uploadId) => {
      if (uploadId === undefined) storage.removeItem(prefix + key);
      else storage.setItem(prefix + key, uploadId);
    },
  };
}

/** How one resumable upload goes (the `upload` options that concern it). */
export interface ResumableOptions {
  /** Bytes per `PATCH` (default {@link CHUNK_SIZE}); the whole of a chunk is resent after a failure. */
  chunkSize?: number | undefined;
  /** Send `Upload-Checksum: sha256 ...` with each chunk (Web Crypto: browsers, Node.js 19+). */
  checksum?: boolean | undefined;
  /** Continue this upload (its URL, path or id: `onUploadUrl` told it) instead of making or looking one up. */
  uploadUrl?: string | undefined;
  /** The key of the source in the {@link ResumeStore} (default: `openFile`'s path key, a `File`'s name/size/date). */
  resumeKey?: string | undefined;
  /** Told the upload's absolute URL as soon as it is known (made or continued), e.g. to keep it. */
  onUploadUrl?: ((url: string) => void) | undefined;
  /** The byte count of a one-shot stream source (without it a stream cannot go through tus). */
  size?: number | undefined;
}

/** What the flow needs of the client: send a request (errors thrown as {@link VaultError}s), and resolve a path. */
export interface TusTransport {
  send(request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Body;
    expect: number[];
    signal?: AbortSignal | undefined;
  }): Promise<Response>;
  url(path: string): string;
  prefix: string;
  streamUploads: boolean;
}

/** Random access to a source's bytes: `read(start, end)` gives bytes `[start, end)`. */
interface Chunks {
  size: number;
  read(start: number, end: number): Promise<Uint8Array | Blob>;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== "undefined" && value instanceof Blob;
}

/** The byte count of `source` when it is known without reading it, else `undefined`. */
export function knownSize(source: UploadSource, size?: number): number | undefined {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source.byteLength;
  if (isBlob(source)) return source.size;
  const declared = (source as { size?: unknown }).size;
  return typeof declared === "number" ? declared : size;
}

/** The default {@link ResumeStore} key of a source: `openFile`'s, or a `File`'s name, size and modification time. */
function defaultKey(source: UploadSource): string | undefined {
  const { resumeKey, name, lastModified } = source as { resumeKey?: unknown; name?: unknown; lastModified?: unknown };
  if (typeof resumeKey === "string") return resumeKey;
  if (isBlob(source) && typeof name === "string" && typeof lastModified === "number") {
    return `file:${name}|${source.size}|${lastModified}`;
  }
  return undefined;
}

/** Read exactly `length` bytes from an iterator (`pending` holds what was read past them). */
async function collect(
  pieces: AsyncIterator<Uint8Array>,
  length: number,
  pending: { bytes: Uint8Array },
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    let piece = pending.bytes;
    if (piece.byteLength === 0) {
      const next = await pieces.next();
      if (next.done) throw new TypeError(`the source ended early (${length - filled} bytes short of its size)`);
      piece = next.value;
    }
    const take = Math.min(piece.byteLength, length - filled);
    out.set(piece.subarray(0, take), filled);
    pending.bytes = piece.subarray(take);
    filled += take;
  }
  return out;
}

/**
 * Chunks of a source: sliced (bytes, `Blob`), read by range (`openFile`'s `readRange`), or read once in order
 * (other file sources and one-shot streams; skipping forward, the last chunk kept to be sent again, whole or from
 * wherever in it the server's offset is: a `PATCH` cut off mid-body keeps the bytes that arrived).
 *
 * @throws TypeError the size is unknown.
 */
function chunksOf(source: UploadSource, size: number | undefined): Chunks {
  const total = knownSize(source, size);
  if (total === undefined) {
    throw new TypeError("a resumable upload needs the source's size: pass `size` for a stream");
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return { size: total, read: async (start, end) => bytes.subarray(start, end) };
  }
  if (isBlob(source)) return { size: total, read: async (start, end) => source.slice(start, end) };
  const file = source as FileSource;
  if (typeof file.readRange === "function") {
    const readRange = file.readRange.bind(file);
    return {
      size: total,
      read: (start, end) =>
        collect(iterate(readRange(start, end))[Symbol.asyncIterator](), end - start, { bytes: new Uint8Array(0) }),
    };
  }
  let pieces: AsyncIterator<Uint8Array> | undefined;
  let position = 0; // bytes taken from `pieces`
  const pending = { bytes: new Uint8Array(0) };
  let last: { start: number; bytes: Uint8Array } | undefined;
  const open = (): AsyncIterator<Uint8Array> => {
    if (typeof file.stream === "function") return iterate(file.stream())[Symbol.asyncIterator]();
    return iterate(source as ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  };
  return {
    size: total,
    async read(start, end) {
      // Of the bytes already read only the last chunk's are kept: the server may have stored part of it.
      let kept: Uint8Array = new Uint8Array(0);
      if (start < position) {
        if (last === undefined || start < last.start) {
          throw new TypeError(`a source read in order cannot go back to byte ${start}`);
        }
        kept = last.bytes.subarray(start - last.start, Math.min(end, position) - last.start);
        if (start + kept.byteLength === end) return kept;
      }
      pieces ??= open();
      while (position < start) {
        position += (await collect(pieces, Math.min(start - position, PIECE), pending)).byteLength;
      }
      const fresh = await collect(pieces, end - Math.max(start, position), pending);
      position = end;
      const bytes = kept.byteLength === 0 ? fresh : new Uint8Array(kept.byteLength + fresh.byteLength);
      if (bytes !== fresh) {
        bytes.set(kept);
        bytes.set(fresh, kept.byteLength);
      }
      last = { start, bytes };
      return bytes;
    },
  };
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** `Upload-Metadata`: `key base64(value)` pairs, comma-separated (tus 1.0.0, creation extension). */
export function encodeMetadata(fields: Record<string, string | undefined>): string {
  const encoder = new TextEncoder();
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key} ${base64(encoder.encode(value))}`)
    .join(",");
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle === undefined) throw new TypeError("checksum needs Web Crypto (crypto.subtle): browsers, Node.js 19+");
  return base64(new Uint8Array(await subtle.digest("SHA-256", bytes as BufferSource)));
}

/** A `PATCH` body of one chunk: streamed in pieces with progress (Node.js), else a `Blob` (browsers). */
function chunkBody(data: Uint8Array | Blob, stream: boolean, report: (sent: number) => void): Body {
  const length = isBlob(data) ? data.size : data.byteLength;
  const body: Body = {
    contentType: OFFSET_TYPE,
    length,
    fileSize: length,
    replayable: true,
    streamed: stream && !isBlob(data),
    open: () => (isBlob(data) ? data : new Blob([data as BlobPart])),
  };
  if (body.streamed) {
    const bytes = data as Uint8Array;
    body.open = () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= bytes.byteLength) {
            controller.close();
            return;
          }
          const piece = bytes.subarray(sent, sent + PIECE);
          sent += piece.byteLength;
          controller.enqueue(piece);
          report(sent);
        },
      });
    };
  }
  return body;
}

/** `Upload-Offset` and `X-Media-Id` (once the last byte is in) of a `HEAD` or `PATCH` answer. */
async function position(response: Response): Promise<[number, string | null]> {
  await response.body?.cancel();
  const raw = response.headers.get("Upload-Offset");
  const offset = raw === null ? NaN : Number(raw);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new VaultError(response.status, "http_error", `${response.url} answered without a valid Upload-Offset`);
  }
  return [offset, response.headers.get("X-Media-Id")];
}

/** The upload id in a kept URL, path or id (its last path segment). */
export function uploadIdOf(url: string): string {
  const id =
    url
      .replace(/[?#].*$/, "")
      .replace(/\/+$/, "")
      .split("/")
      .pop() ?? "";
  if (id === "") throw new TypeError(`not an upload URL: ${url}`);
  return decodeURIComponent(id);
}

/**
 * Send `source` through `/uploads`, continuing an upload of it when one is known; resolves with the media's id (a
 * new item's, or `fields.media_id`, the item whose bytes it replaces).
 *
 * @throws TypeError a size that is unknown, a chunk size under 1, a source that changed size or ended early, a kept
 *   upload of another length.
 * @throws NotFound a kept `uploadUrl` the server no longer has. @throws PayloadTooLarge, QuotaExceeded, ValidationError as `POST /uploads` answers.
 */
export async function sendResumable(
  transport: TusTransport,
  source: UploadSource,
  fields: Record<string, string | undefined>,
  options: ResumableOptions & {
    progress?: Progress | undefined;
    signal?: AbortSignal | undefined;
    store?: ResumeStore | undefined;
  },
): Promise<string> {
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new TypeError("chunkSize must be a whole number of bytes, at least 1");
  const chunks = chunksOf(source, options.size);
  const size = chunks.size;
  const { signal, progress } = options;
  const store = options.store;
  let key = store === undefined ? undefined : (options.resumeKey ?? defaultKey(source));
  if (key !== undefined && fields.media_id !== undefined) key += `|replaces ${fields.media_id}`; // not a new item's
  const uploads = `${transport.prefix}/uploads`;
  const head = async (uploadId: string) => {
    const response = await transport.send({
      method: "HEAD",
      path: `/uploads/${encodeURIComponent(uploadId)}`,
      headers: TUS,
      expect: [200],
      signal,
    });
    const length = response.headers.get("Upload-Length");
    if (length !== null && Number(length) !== size) {
      await response.body?.cancel();
      throw new TypeError(`upload ${uploadId} is of ${length} bytes, the source of ${size}: not the same file`);
    }
    return position(response);
  };

  let uploadId = options.uploadUrl === undefined ? undefined : uploadIdOf(options.uploadUrl);
  const explicit = uploadId !== undefined;
  if (uploadId === undefined && key !== undefined) uploadId = await store?.get(key);
  let offset = 0;
  let mediaId: string | null = null;
  if (uploadId !== undefined) {
    try {
      [offset, mediaId] = await head(uploadId);
    } catch (error) {
      if (explicit || !(error instanceof NotFound)) throw error;
      if (key !== undefined) await store?.set(key, undefined); // expired, deleted, or another server's
      uploadId = undefined;
    }
  }
  if (uploadId === undefined) {
    const headers = { ...TUS, "Upload-Length": String(size), "Upload-Metadata": encodeMetadata(fields) };
    const response = await transport.send({ method: "POST", path: "/uploads", headers, expect: [201], signal });
    await response.body?.cancel();
    const location = response.headers.get("Location");
    if (location === null) throw new VaultError(201, "http_error", "POST /uploads answered without a Location");
    uploadId = uploadIdOf(location);
    if (key !== undefined) await store?.set(key, uploadId);
  }
  options.onUploadUrl?.(transport.url(`${uploads}/${encodeURIComponent(uploadId)}`));
  progress?.(offset, size);
  let refused = 0; // chunks refused for their checksum in a row
  while (mediaId === null) {
    if (offset >= size) {
      [offset, mediaId] = await head(uploadId); // the last byte is in: HEAD names the media
      if (mediaId === null)
        throw new VaultError(200, "http_error", `upload ${uploadId} is complete but names no media`);
      break;
    }
    const start = offset;
    const data = await chunks.read(start, Math.min(start + chunkSize, size));
    const headers: Record<string, string> = { ...TUS, "Upload-Offset": String(start) };
    if (options.checksum) {
      const bytes = isBlob(data) ? new Uint8Array(await data.arrayBuffer()) : data;
      headers["Upload-Checksum"] = `sha256 ${await sha256(bytes)}`;
    }
    const body = chunkBody(data, transport.streamUploads, (sent) => progress?.(start + sent, size));
    try {
      const response = await transport.send({
        method: "PATCH",
        path: `/uploads/${encodeURIComponent(uploadId)}`,
        headers,
        body,
        expect: [204],
        signal,
      });
      [offset, mediaId] = await position(response);
      refused = 0;
      if (!body.streamed) progress?.(offset, size);
    } catch (error) {
      if (error instanceof Conflict) {
        [offset, mediaId] = await head(uploadId); // another client moved it on: continue from the server's offset
      } else if (error instanceof ChecksumMismatch && refused === 0) {
        refused += 1; // corrupted on the way: the server kept nothing of it; send it once more
      } else {
        throw error;
      }
    }
  }
  if (key !== undefined) await store?.set(key, undefined);
  return mediaId;
}
