/**
 * Resumable uploads (tus 1.0.0, docs/uploads.md) with the reference JavaScript client, tus-js-client, against a real
 * server: a chunked upload with its metadata, and an upload stopped half-way and resumed by a new client from the
 * server's offset.
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

  before(async () => {
    server = await startServer();
    vault = new Vault(server.baseUrl);
    const address = email("tus");
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
});
