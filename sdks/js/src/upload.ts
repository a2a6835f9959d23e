/**
 * `multipart/form-data` bodies (RFC 7578) for `POST /media/upload`, streamed: the file is never read whole into
 * memory, and `progress(sent, total)` is called as its bytes are handed to `fetch`.
 */

/** `progress(bytesSent, totalBytes)`; `total` is `undefined` when the size is not known in advance. */
export type Progress = (sent: number, total: number | undefined) => void;

/**
 * A file to upload, opened again for each attempt (so a request refused for an expired token can be re-sent).
 * `openFile(path)` of `@mediavault/sdk/node` makes one from a path; a `Blob`/`File` is one too.
 */
export interface FileSource {
  /** The file's bytes from the start, as a new stream each call. */
  stream(): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Its size in bytes when known: then the request has a `Content-Length` and an oversized file is refused at once. */
  readonly size?: number;
  /** Its name (a `File`'s or the path's base name); `filename` of the upload options wins. */
  readonly name?: string;
  /** Bytes `[start, end)` as a new stream (lets a resumable upload read any chunk, e.g. from the server's offset). */
  readRange?(start: number, end: number): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** The key a resumable upload of it is written down under in a `ResumeStore` (`openFile`: path, size, mtime). */
  readonly resumeKey?: string;
}

/**
 * What `upload` takes: a {@link FileSource} (a `Blob`/`File` included), bytes, or a one-shot stream or async
 * iterable of bytes (sent once, chunked: the client refreshes an expiring token before sending it).
 */
export type UploadSource =
  FileSource | Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The parts of an upload besides the file. */
export interface UploadFields {
  filename: string;
  title?: string | undefined;
  description?: string | undefined;
  tags?: string[] | undefined;
  /** Custom metadata, sent as JSON text. */
  metadata?: Record<string, unknown> | undefined;
}

/** A request body ready for `fetch`, and whether it may be sent again. */
export interface Body {
  contentType: string;
  /** Bytes in all, when known (sent as `Content-Length`). */
  length: number | undefined;
  /** The file's own bytes, when known (the `total` of `progress`). */
  fileSize: number | undefined;
  /** A new body for each attempt (a `ReadableStream` when streamed, else a `Blob`). */
  open(): ReadableStream<Uint8Array> | Blob;
  /** Whether {@link open} may be called again. */
  replayable: boolean;
  /** Whether `progress` is called as the bytes go (streamed); else the caller reports the whole size once sent. */
  streamed: boolean;
}

const encoder = new TextEncoder();

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== "undefined" && value instanceof ReadableStream;
}

/** A `filename="..."` / `name="..."` value as browsers write it (HTML's multipart/form-data encoding). */
function quoted(value: string): string {
  return value.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");
}

function boundary(): string {
  let text = "mediavault-";
  for (let i = 0; i < 4; i++)
    text += Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  return text;
}

/** The default file name of a source: a `File`'s or {@link FileSource}'s `name`, else `upload`. */
export function sourceName(source: UploadSource): string | undefined {
  const name = (source as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

/** Bytes of `source` as a fresh async iterable, its size when known, and whether it can be read again. */
function reader(source: UploadSource): {
  read: () => AsyncIterable<Uint8Array>;
  size: number | undefined;
  replayable: boolean;
} {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return { read: () => chunksOf(bytes), size: bytes.byteLength, replayable: true };
  }
  if (isReadableStream(source) || isAsyncIterable(source)) {
    let used = false;
    return {
      read: () => {
        if (used) throw new TypeError("a stream can be uploaded once only");
        used = true;
        return iterate(source);
      },
      size: undefined,
      replayable: false,
    };
  }
  if (typeof source === "object" && source !== null && typeof source.stream === "function") {
    const size = typeof source.size === "number" ? source.size : undefined;
    return { read: () => iterate(source.stream()), size, replayable: true };
  }
  throw new TypeError("upload source must be a Blob/File, bytes, a stream, an async iterable or { stream(), size? }");
}

const CHUNK = 256 * 1024;

async function* chunksOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let start = 0; start < bytes.byteLength; start += CHUNK) yield bytes.subarray(start, start + CHUNK);
}

/** An async iterable over a web stream (Node 18 streams are not async-iterable in every version, so read by hand). */
export async function* iterate(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  if (!isReadableStream(source)) {
    yield* source;
    return;
  }
  const streamReader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await streamReader.read();
      if (done) return;
      yield value;
    }
  } finally {
    streamReader.releaseLock();
  }
}

/**
 * The multipart body of an upload: the text fields, then the `file` part from `source`.
 *
 * With `stream` the body is a `ReadableStream` that reads the file chunk by chunk and reports `progress`
 * (Node.js and other runtimes whose `fetch` streams request bodies). Without it (browsers: their `fetch` streams
 * a request body over HTTP/2 only), a `Blob` or bytes source is sent as a `Blob` made of the parts, which the
 * browser reads from its file without copying it into memory; other sources are refused.
 *
 * @throws TypeError a tag holding a comma (the form sends tags comma-separated), or an unusable source.
 */
export function multipartBody(source: UploadSource, fields: UploadFields, stream: boolean, progress?: Progress): Body {
  if (fields.tags?.some((tag) => tag.includes(","))) {
    throw new TypeError("a tag cannot contain a comma (the upload form sends tags comma-separated)");
  }
  const file = reader(source);
  const mark = boundary();
  const text: [string, string][] = [];
  if (fields.title !== undefined) text.push(["title", fields.title]);
  if (fields.description !== undefined) text.push(["description", fields.description]);
  if (fields.tags !== undefined) text.push(["tags", fields.tags.join(",")]);
  if (fields.metadata !== undefined) text.push(["metadata", JSON.stringify(fields.metadata)]);
  let head = "";
  for (const [name, value] of text) {
    head += `--${mark}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${mark}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(fields.filename)}"\r\n` +
    "Content-Type: application/octet-stream\r\n\r\n";
  const headBytes = encoder.encode(head);
  const tailBytes = encoder.encode(`\r\n--${mark}--\r\n`);
  const total = file.size;
  const contentType = `multipart/form-data; boundary=${mark}`;
  const length = total === undefined ? undefined : headBytes.byteLength + total + tailBytes.byteLength;
  if (!stream) {
    if (!(source instanceof Blob || source instanceof Uint8Array || source instanceof ArrayBuffer)) {
      throw new TypeError("this platform's fetch cannot stream a request body: upload a Blob/File or bytes");
    }
    return {
      contentType,
      length,
      fileSize: total,
      replayable: true,
      streamed: false,
      open: () => new Blob([headBytes, source as BlobPart, tailBytes]),
    };
  }
  return {
    contentType,
    length,
    fileSize: total,
    replayable: file.replayable,
    streamed: true,
    open: () => {
      const chunks = file.read()[Symbol.asyncIterator]();
      let stage: "head" | "file" | "tail" | "done" = "head";
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (stage === "head") {
            stage = "file";
            controller.enqueue(headBytes);
            return;
          }
          if (stage === "file") {
            const next = await chunks.next();
            if (!next.done) {
              sent += next.value.byteLength;
              if (total !== undefined && sent > total) {
                throw new TypeError(`the file grew while it was being sent (more than ${total} bytes)`);
              }
              controller.enqueue(next.value);
              progress?.(sent, total);
              return;
            }
            if (total !== undefined && sent !== total) {
              throw new TypeError(`the file changed size while it was being sent (${sent} of ${total} bytes)`);
            }
            stage = "tail";
            controller.enqueue(tailBytes);
            return;
          }
          stage = "done";
          controller.close();
        },
        async cancel() {
          await chunks.return?.();
        },
      });
    },
  };
}
