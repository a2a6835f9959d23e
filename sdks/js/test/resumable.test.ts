/**
 * The SDK's own resumable uploads (tus 1.0.0 on `/uploads`) against a real server, with a small threshold and
 * chunks (1 MiB, 256 KiB) for speed: `upload` picks tus over the threshold, byte-exact; an upload interrupted after
 * two chunks is continued by a fresh client from the server's offset (through the resume file, and through a kept
 * upload URL), ending in one media; `replaceContent` through tus (a new version of the item, resumable); a `409` is
 * answered from `HEAD`; chunk checksums, a corrupted chunk sent again, and termination. The requests are watched
 * through the client's `fetch` option (the real `fetch` underneath).
 * sdks/js/ci.sh runs it on SQLite + files and again on PostgreSQL + Redis + S3 (`python -m tests.full_leg`).
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { ChecksumMismatch, NotFound, Vault, type VaultOptions } from "@mediavault/sdk";
import { openFile, resumeFile } from "@mediavault/sdk/node";

import { PASSWORD, email, python, startServer, type Server } from "./server.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const CHUNK = 256 * KIB;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
/** `size` random bytes (a copy in a plain `ArrayBuffer`, which `Blob` takes). */
const random = (size: number) => new Uint8Array(randomBytes(size));

/** One request a client sent: method, path, `Upload-Offset`; and the answer's status and `Upload-Offset`. */
interface Seen {
  method: string;
  path: string;
  offset: string | null;
  status: number;
  answeredOffset: string | null;
}

/** Headers of a `fetch` call as a plain object (the SDK passes one). */
function headersOf(init: RequestInit | undefined): Record<string, string> {
  return { ...(init?.headers as Record<string, string> | undefined) };
}

/** The bytes of a request body the SDK passed to `fetch` (a stream in Node.js, a Blob otherwise). */
async function bodyBytes(init: RequestInit): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(init.body as BodyInit).arrayBuffer());
}

/**
 * A `fetch` that records every request and its answer; `before(url, init, seen)` may act first (abort, corrupt
 * the body, send another request) and return the `init` to send.
 */
function watching(
  seen: Seen[],
  before?: (url: string, init: RequestInit, earlier: Seen[]) => Promise<RequestInit> | RequestInit,
): typeof fetch {
  return async (input, init = {}) => {
    const url = String(input);
    const sent = before ? await before(url, init, seen) : init;
    const headers = headersOf(sent);
    const response = await fetch(url, sent);
    seen.push({
      method: sent.method ?? "GET",
      path: new URL(url).pathname,
      offset: headers["Upload-Offset"] ?? null,
      status: response.status,
      answeredOffset: response.headers.get("Upload-Offset"),
    });
    return response;
  };
}

describe("resumable uploads of the SDK (tus)", () => {
  let server: Server;
  let apiKey: string;
  let folder: string;

  before(async () => {
    server = await startServer();
    const vault = new Vault(server.baseUrl);
    const address = email("resumable");
    await vault.register(address, PASSWORD);
    await vault.login(address, PASSWORD);
    apiKey = (await vault.createApiKey("resumable")).key;
    folder = await mkdtemp(join(tmpdir(), "mediavault-sdk-resumable-"));
  });

  after(async () => {
    await server?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  /** A client with the test's small threshold and chunks, watched through `fetch`. */
  function client(seen: Seen[], options: VaultOptions = {}, before?: Parameters<typeof watching>[1]): Vault {
    return new Vault(server.baseUrl, {
      apiKey,
      resumableThreshold: MIB,
      chunkSize: CHUNK,
      fetch: watching(seen, before),
      ...options,
    });
  }

  const patches = (seen: Seen[]) => seen.filter((request) => request.method === "PATCH");

  it("upload() sends a file of the threshold or more through tus in chunks, byte-exact, with progress", async () => {
    const data = random(MIB + 1000);
    const path = join(folder, "big.bin");
    await writeFile(path, data);
    const seen: Seen[] = [];
    const progress: [number, number | undefined][] = [];
    const media = await client(seen).upload(await openFile(path), {
      title: "Through tus",
      tags: ["tus", "sdk"],
      checksum: true,
      progress: (sent, total) => progress.push([sent, total]),
    });
    assert.equal(media.size, data.byteLength);
    assert.equal(media.checksum_sha256, sha256(data));
    assert.equal(media.filename, "big.bin");
    assert.equal(media.title, "Through tus");
    assert.deepEqual(media.tags, ["tus", "sdk"]);
    assert.deepEqual(
      seen.map((request) => `${request.method} ${request.path.replace(/[0-9a-f-]{32,}/g, "<id>")}`),
      ["POST /api/v1/uploads", ...Array(5).fill("PATCH /api/v1/uploads/<id>"), "GET /api/v1/media/<id>"],
    );
    assert.deepEqual(
      patches(seen).map((request) => request.offset),
      ["0", "262144", "524288", "786432", "1048576"],
    );
    assert.deepEqual(progress[0], [0, data.byteLength]);
    assert.deepEqual(progress.at(-1), [data.byteLength, data.byteLength]);
    assert.ok(
      progress.every(([sent], i) => i === 0 || sent > (progress[i - 1]?.[0] ?? 0)),
      "progress only grows",
    );

    // Under the threshold, or with custom metadata (tus has no place for it): one POST /media/upload.
    const small: Seen[] = [];
    await client(small).upload(data.subarray(0, MIB - 1), { filename: "small.bin" });
    await client(small).upload(data, { filename: "meta.bin", metadata: { camera: "x" } });
    assert.deepEqual(
      small.map((request) => `${request.method} ${request.path}`),
      ["POST /api/v1/media/upload", "POST /api/v1/media/upload"],
    );
    await assert.rejects(client([]).uploadResumable(data, { ...({ metadata: {} } as object) }), TypeError);
  });

  it("a fresh client continues an interrupted upload from the server's offset (resume file): one media", async () => {
    const data = random(MIB + 300 * KIB);
    const path = join(folder, "interrupted.bin");
    await writeFile(path, data);
    const storePath = join(folder, "state", "uploads.json");

    // The first client is stopped as it starts its third chunk: two chunks (512 KiB) are on the server.
    const stop = new AbortController();
    const first: Seen[] = [];
    const interrupted = client(first, { resumeStore: resumeFile(storePath) }, (_url, init, earlier) => {
      if (init.method === "PATCH" && patches(earlier).length === 2) stop.abort();
      return { ...init, signal: stop.signal };
    });
    let uploadUrl = "";
    await assert.rejects(
      interrupted.upload(await openFile(path), { signal: stop.signal, onUploadUrl: (url) => (uploadUrl = url) }),
      (error: Error) => error.name === "AbortError",
    );
    const uploadId = uploadUrl.split("/").pop() ?? "";
    const source = await openFile(path);
    assert.deepEqual(JSON.parse(await readFile(storePath, "utf8")), { [source.resumeKey ?? ""]: uploadId });
    // <real path>|<size>|<mtime ns>: the Python SDK's own key of the file (so either SDK continues the other's upload)
    const pythonKey = python(
      "import sys\nfrom pathlib import Path\nfrom mediavault_sdk._resumable import ResumeFile\nprint(ResumeFile.key(Path(sys.argv[1])))",
      [path],
    );
    assert.equal(source.resumeKey, pythonKey.trim());
    assert.match(source.resumeKey ?? "", /\|1355776\|\d+$/);

    // A new client (a new process would do the same) finds the upload in the file and sends only the rest.
    const second: Seen[] = [];
    const progress: number[] = [];
    const media = await client(second, { resumeStore: resumeFile(storePath) }).upload(source, {
      progress: (sent) => progress.push(sent),
    });
    assert.deepEqual(
      second.slice(0, 2).map((request) => [request.method, request.path, request.offset, request.answeredOffset]),
      [
        ["HEAD", `/api/v1/uploads/${uploadId}`, null, String(2 * CHUNK)],
        ["PATCH", `/api/v1/uploads/${uploadId}`, String(2 * CHUNK), String(3 * CHUNK)],
      ],
    );
    assert.equal(progress[0], 2 * CHUNK); // reported from where the server was
    assert.equal(second.filter((request) => request.method === "POST").length, 0);
    assert.equal(media.checksum_sha256, sha256(data));
    assert.deepEqual(JSON.parse(await readFile(storePath, "utf8")), {}); // done: the entry is gone
    const same = await new Vault(server.baseUrl, { apiKey }).listMedia({ checksum_sha256: sha256(data) });
    assert.equal(same.pagination.total, 1);
  });

  it("replaceContent of a large file goes through tus naming the item: same id, a new version, resumable", async () => {
    const vault = new Vault(server.baseUrl, { apiKey });
    const item = await vault.upload(random(1000), { filename: "v1.bin" });
    const data = random(MIB + 5);
    const path = join(folder, "v2.bin");
    await writeFile(path, data);
    const storePath = join(folder, "replace-state", "uploads.json");
    const stop = new AbortController();
    await assert.rejects(
      client([], { resumeStore: resumeFile(storePath) }, (_url, init, earlier) => {
        if (init.method === "PATCH" && patches(earlier).length === 2) stop.abort();
        return { ...init, signal: stop.signal };
      }).replaceContent(item.id, await openFile(path), { signal: stop.signal }),
      (error: Error) => error.name === "AbortError",
    );
    // Written down apart from an upload of the same file as a new item.
    const key = (await openFile(path)).resumeKey ?? "";
    assert.deepEqual(Object.keys(JSON.parse(await readFile(storePath, "utf8"))), [`${key}|replaces ${item.id}`]);

    const seen: Seen[] = [];
    const replaced = await client(seen, { resumeStore: resumeFile(storePath) }).replaceContent(
      item.id,
      await openFile(path),
    );
    assert.deepEqual(seen.map((request) => [request.method, request.offset ?? request.answeredOffset]).slice(0, 2), [
      ["HEAD", String(2 * CHUNK)],
      ["PATCH", String(2 * CHUNK)],
    ]);
    assert.equal(replaced.id, item.id);
    assert.equal(replaced.version, 2);
    assert.equal(replaced.filename, "v2.bin");
    assert.equal(replaced.checksum_sha256, sha256(data));
    assert.equal((await vault.listVersions(item.id)).length, 2);
  });

  it("continues an upload by the URL a caller kept (Blob chunks, then a stream) and answers a 409 from HEAD", async () => {
    const data = random(MIB + 10);
    const blob = new Blob([data]);
    const stop = new AbortController();
    let uploadUrl = "";
    const first: Seen[] = [];
    const browserLike = { streamUploads: false };
    await assert.rejects(
      client(first, browserLike, (_url, init, earlier) => {
        if (init.method === "PATCH" && patches(earlier).length === 2) stop.abort();
        return { ...init, signal: stop.signal };
      }).uploadResumable(blob, { filename: "kept.bin", onUploadUrl: (url) => (uploadUrl = url) }),
      (error: Error) => error.name === "AbortError",
    );
    assert.match(uploadUrl, new RegExp(`^${server.baseUrl}/api/v1/uploads/[0-9a-f-]+$`));
    // Another file (another length) is not sent into it.
    const wrong: Seen[] = [];
    await assert.rejects(
      client(wrong).uploadResumable(random(1000), { uploadUrl }),
      /of 1048586 bytes, the source of 1000/,
    );
    assert.deepEqual(
      wrong.map((request) => request.method),
      ["HEAD"],
    );

    // Continued from a one-shot stream of the whole file (read in order): another client sends half of the next
    // chunk just before this one's first PATCH, the server answers 409, and the client asks the offset again and
    // goes on from there, mid-chunk (the rest of the chunk it had read).
    let raced = false;
    const second: Seen[] = [];
    const media = await client(second, browserLike, async (url, init) => {
      if (init.method === "PATCH" && !raced) {
        raced = true;
        const other = await fetch(url, {
          method: "PATCH",
          headers: { ...headersOf(init), "Upload-Offset": String(2 * CHUNK) },
          body: new Blob([data.subarray(2 * CHUNK, 2 * CHUNK + CHUNK / 2)]),
        });
        assert.equal(other.status, 204);
      }
      return init;
    }).uploadResumable(new Blob([data]).stream(), { filename: "kept.bin", uploadUrl, size: data.byteLength });
    assert.deepEqual(
      second.map((request) => [request.method, request.offset ?? request.answeredOffset, request.status]),
      [
        ["HEAD", String(2 * CHUNK), 200],
        ["PATCH", String(2 * CHUNK), 409],
        ["HEAD", String(2.5 * CHUNK), 200],
        ["PATCH", String(2.5 * CHUNK), 204],
        ["PATCH", String(3.5 * CHUNK), 204],
        ["GET", null, 200],
      ],
    );
    assert.equal(media.checksum_sha256, sha256(data));
    assert.equal(media.filename, "kept.bin");
  });

  it("sends a chunk corrupted on the way once more (460), and fails with ChecksumMismatch the second time", async () => {
    const data = random(MIB);
    const corrupt = (times: number) => {
      let left = times;
      return async (_url: string, init: RequestInit) => {
        if (init.method !== "PATCH" || left === 0) return init;
        left -= 1;
        const bytes = await bodyBytes(init);
        bytes[7] = (bytes[7] ?? 0) ^ 0xff; // one bit pattern flipped after the client hashed it
        const { duplex: _, ...rest } = init as RequestInit & { duplex?: string };
        return { ...rest, body: new Blob([bytes]) };
      };
    };
    const once: Seen[] = [];
    const media = await client(once, {}, corrupt(1)).uploadResumable(data, { filename: "sum.bin", checksum: true });
    assert.deepEqual(
      patches(once).map((request) => [request.offset, request.status]),
      [
        ["0", 460],
        ["0", 204],
        [String(CHUNK), 204],
        [String(2 * CHUNK), 204],
        [String(3 * CHUNK), 204],
      ],
    );
    assert.equal(media.checksum_sha256, sha256(data));

    let uploadUrl = "";
    await assert.rejects(
      client([], {}, corrupt(2)).uploadResumable(data, {
        filename: "sum.bin",
        checksum: true,
        onUploadUrl: (url) => (uploadUrl = url),
      }),
      (error: Error) => error instanceof ChecksumMismatch && error.status === 460 && error.code === "checksum_mismatch",
    );
    // Nothing of the refused chunks was kept; terminating the upload removes it.
    const vault = new Vault(server.baseUrl, { apiKey });
    const head = await fetch(uploadUrl, { method: "HEAD", headers: { "X-API-Key": apiKey, "Tus-Resumable": "1.0.0" } });
    assert.equal(head.headers.get("Upload-Offset"), "0");
    await vault.deleteUpload(uploadUrl);
    await assert.rejects(vault.uploadResumable(data, { uploadUrl }), NotFound);
  });
});
