/**
 * Downloads: the bytes of a media item, a thumbnail or a share link, with `Range` (RFC 9110 §14) and
 * conditional requests (`If-None-Match`, `If-Range`), streamed (the body is read as the caller reads it).
 */

import type { Progress } from "./upload.js";

/**
 * A byte range: `{start, end}` (both inclusive, as in HTTP), `{start}` (to the end), `{suffix}` (the last
 * `suffix` bytes), or a raw `Range` header value (`"bytes=0-99"`).
 */
export type ByteRange = { start: number; end?: number } | { suffix: number } | string;

/** Options of every download. */
export interface DownloadOptions {
  /** Ask for part of the bytes: the answer is 206 with {@link Download.contentRange}; none satisfiable: `RangeNotSatisfiable`. */
  range?: ByteRange;
  /** An `ETag` you hold: when the bytes did not change the answer is 304 ({@link Download.notModified}, no body). */
  ifNoneMatch?: string;
  /** With `range`: honour the range only while the bytes still have this `ETag` (else the whole, 200): safe resuming. */
  ifRange?: string;
  /** `progress(received, total)` as the body is read (`total`: its `Content-Length`). */
  progress?: Progress;
  /** Aborts the request and the body's reading. */
  signal?: AbortSignal;
}

/** `Content-Range: bytes start-end/size` of a 206 answer (`end` inclusive). */
export interface ContentRange {
  start: number;
  end: number;
  /** The whole representation's size in bytes. */
  size: number;
}

/** The `Range` header value of a {@link ByteRange}. */
export function rangeHeader(range: ByteRange): string {
  if (typeof range === "string") return range;
  if ("suffix" in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ""}`;
}

function parseContentRange(value: string | null): ContentRange | null {
  const match = value === null ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) return null;
  return { start: Number(match[1]), end: Number(match[2]), size: Number(match[3]) };
}

/** The file name of a `Content-Disposition` header (`filename*=UTF-8''...` preferred, RFC 6266). */
function parseFilename(value: string | null): string | null {
  if (value === null) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(value);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;]+)/i.exec(value);
  if (!plain) return null;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : (plain[2]?.trim() ?? null);
}

/** An answer carrying bytes: its status and validators, and its body to read once. */
export class Download {
  /** 200 (all the bytes), 206 (the asked range) or 304 (not modified: no body). */
  readonly status: number;
  readonly headers: Headers;
  /** The strong `ETag` of the bytes (the quoted SHA-256), for `ifNoneMatch`/`ifRange` later. */
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly contentType: string | null;
  /** Bytes in this answer's body (`Content-Length`), when the server said. */
  readonly contentLength: number | null;
  /** What part a 206 holds; `null` otherwise. */
  readonly contentRange: ContentRange | null;
  /** The file name the server gives (`Content-Disposition`). */
  readonly filename: string | null;
  /** The bytes as a stream (`null` for a 304). Read it once: with {@link bytes}, {@link blob}, {@link text} or yourself. */
  readonly body: ReadableStream<Uint8Array> | null;

  constructor(response: Response, progress?: Progress) {
    this.status = response.status;
    this.headers = response.headers;
    this.etag = response.headers.get("etag");
    this.lastModified = response.headers.get("last-modified");
    this.contentType = response.headers.get("content-type");
    const length = response.headers.get("content-length");
    this.contentLength = length !== null && /^\d+$/.test(length) ? Number(length) : null;
    this.contentRange = parseContentRange(response.headers.get("content-range"));
    this.filename = parseFilename(response.headers.get("content-disposition"));
    const total = this.contentLength ?? undefined;
    let received = 0;
    this.body =
      response.status === 304 || response.body === null
        ? null
        : progress === undefined
          ? response.body
          : response.body.pipeThrough(
              new TransformStream<Uint8Array, Uint8Array>({
                transform(chunk, controller) {
                  received += chunk.byteLength;
                  controller.enqueue(chunk);
                  progress(received, total);
                },
              }),
            );
  }

  /** `true` for a 304: the `ifNoneMatch` ETag is still current. */
  get notModified(): boolean {
    return this.status === 304;
  }

  /** The whole body in memory (fine for small files and ranges; stream large ones). */
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await new Response(this.body).arrayBuffer());
  }

  /** The body as a `Blob` of {@link contentType}. */
  async blob(): Promise<Blob> {
    const blob = await new Response(this.body).blob();
    return this.contentType ? new Blob([blob], { type: this.contentType }) : blob;
  }

  /** The body decoded as UTF-8. */
  async text(): Promise<string> {
    return new Response(this.body).text();
  }
}
