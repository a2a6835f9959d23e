/**
 * Resumable uploads (tus 1.0.0, docs/uploads.md) with the reference JavaScript client, tus-js-client, against a real
 * server: a chunked upload with its metadata, an upload stopped half-way and resumed by a new client from the
 * server's offset, and one resumed by a new client after the server was killed (SIGKILL) in the middle of a PATCH.
 * sdks/js/ci.sh runs it on SQLite + files and again on PostgreSQL + Redis + S3 (`python -m tests.full_leg`).
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { Vault } from "@mediavault/sdk";
import { Upload, type HttpRequest, type HttpResponse, type UploadOptions } from "tus-js-client";

import { PASSWORD, email, startServer, type Server } from "./server.js";

const MIB = 1024 * 1024;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe("tus with tus-js-client", () => {
  let server: Server;
  let vault: Vault;
  let headers: Record<string, string>;
  const address = email("tus");

  before(async () => {
    server = await startServer();
    vault = new Vault(server.baseUrl);
    await vault.register(address, PASSWORD);
    await vault.login(address, PASSWORD);
    headers = { Authorization: `Bearer ${vault.tokens?.token ?? ""}` };
  });

  after(async () => {
    await server?.stop();
  });

  /** Run one tus-js-client upload to its end (or to `stopAt` bytes, then abort); what the server answered last. */
  function run(data: Buffer, options: UploadOptions, stopAt?: number): Promise<{ upload: Upload; last: HttpResponse }> {
    return new Promise((resolve, reject) => {
      let last: HttpResponse | undefined;
      const upload: Upload = new Upload(data, {
        endpoint: `${server.baseUrl}/api/v1/uploads`,
        headers,
        retryDelays: [],
        ...options,
        onAfterResponse: (_request: HttpRequest, response: HttpResponse) => {
          last = response;
        },
        onChunkComplete: (_chunk: number, sent: number) => {
          if (stopAt !== undefined && sent >= stopAt) {
            void upload.abort().then(() => resolve({ upload, last: last as HttpResponse }));
          }
        },
        onSuccess: () => resolve({ upload, last: last as HttpResponse }),
        onError: reject,
      });
      upload.start();
    });
  }

  it("uploads in chunks and makes the media, metadata included", async () => {
    const data = randomBytes(12 * MIB + 5);
    const { last } = await run(data, {
      chunkSize: 5 * MIB,
      metadata: { filename: "clip.bin", title: "From tus-js-client", tags: "js,tus" },
    });
    const mediaId = last.getHeader("X-Media-Id");
    assert.ok(mediaId, "the last PATCH names the media");
    const media = await vault.getMedia(mediaId);
    assert.equal(media.filename, "clip.bin");
    assert.equal(media.title, "From tus-js-client");
    assert.deepEqual(media.tags, ["js", "tus"]);
    assert.equal(media.size, data.byteLength);
    assert.equal(media.checksum_sha256, sha256(data));
  });

  it("resumes an upload a stopped client left half-way, from the server's offset", async () => {
    const data = randomBytes(10 * MIB);
    const first = await run(data, { chunkSize: 2 * MIB, metadata: { filename: "half.bin" } }, 4 * MIB);
    const url = first.upload.url;
    assert.ok(url);

    const offsets: string[] = [];
    const { last } = await run(data, {
      uploadUrl: url,
      chunkSize: 2 * MIB,
      onBeforeRequest: (request: HttpRequest) => {
        if (request.getMethod() === "PATCH") offsets.push(request.getHeader("Upload-Offset") ?? "");
      },
    });
    assert.equal(offsets[0], String(4 * MIB)); // continued where the server's HEAD said, not from 0
    const mediaId = last.getHeader("X-Media-Id");
    assert.ok(mediaId);
    const media = await vault.getMedia(mediaId);
    assert.equal(media.checksum_sha256, sha256(data));
  });

  it("resumes from the server's offset after the server was killed in the middle of a PATCH", async () => {
    const data = randomBytes(10 * MIB);
    let url: string | null = null;
    // The third PATCH (bytes 4-6 MiB) is under way when the server dies; the client, not retrying, gives up.
    await assert.rejects(
      new Promise((resolve, reject) => {
        let killed = false;
        const upload: Upload = new Upload(data, {
          endpoint: `${server.baseUrl}/api/v1/uploads`,
          headers,
          retryDelays: [],
          chunkSize: 2 * MIB,
          metadata: { filename: "crash.bin" },
          onProgress: (sent: number) => {
            url = upload.url;
            if (!killed && sent >= 5 * MIB) {
              killed = true;
              void server.kill();
            }
          },
          onSuccess: resolve,
          onError: reject,
        });
        upload.start();
      }),
    );
    assert.ok(url);
    server = await startServer({}, server.root);
    vault = new Vault(server.baseUrl);
    await vault.login(address, PASSWORD); // the same account, on the state the killed server left
    const location = new URL(url as string).pathname; // the same upload on the restarted server (a new port)

    const offsets: string[] = [];
    const { last } = await run(data, {
      uploadUrl: `${server.baseUrl}${location}`,
      chunkSize: 2 * MIB,
      onBeforeRequest: (request: HttpRequest) => {
        if (request.getMethod() === "PATCH") offsets.push(request.getHeader("Upload-Offset") ?? "");
      },
    });
    // Continued from what the server had stored before it died (whole chunks only), not from 0.
    assert.ok([String(4 * MIB), String(6 * MIB)].includes(offsets[0] ?? ""), `resumed at ${offsets[0]}`);
    const mediaId = last.getHeader("X-Media-Id");
    assert.ok(mediaId);
    const media = await vault.getMedia(mediaId);
    assert.equal(media.checksum_sha256, sha256(data));
  });
});
