/**
 * Uploads and downloads against a real server: every kind of source, progress, streaming without holding the file
 * in memory, the size limit, Range / ETag / If-Range downloads, saving to a path, processing and thumbnails.
 */

import assert from "node:assert/strict";
import { File } from "node:buffer";
import { createHash } from "node:crypto";
import { open, readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import {
  NotFound,
  PayloadTooLarge,
  RangeNotSatisfiable,
  ValidationError,
  Vault,
  type Media,
  type MediaProcessing,
} from "@mediavault/sdk";
import { openFile, saveFile } from "@mediavault/sdk/node";

import { PASSWORD, email, eventually, startServer, writeJpeg, type Server } from "./server.js";
import { assertShape } from "./shapes.js";

const MAX_UPLOAD = 40 * 1024 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** A file of `size` pseudo-random bytes (no two chunks alike, so nothing compresses or deduplicates). */
async function writeLargeFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(path, "w");
  const chunk = new Uint8Array(1024 * 1024);
  let seed = 12345;
  for (let written = 0; written < size; written += chunk.byteLength) {
    for (let i = 0; i < chunk.length; i += 4) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      chunk[i] = seed & 255;
      chunk[i + 1] = (seed >>> 8) & 255;
      chunk[i + 2] = (seed >>> 16) & 255;
      chunk[i + 3] = seed >>> 24;
    }
    const part = chunk.subarray(0, Math.min(chunk.byteLength, size - written));
    hash.update(part);
    await file.write(part);
  }
  await file.close();
  return hash.digest("hex");
}

describe("uploads and downloads", () => {
  let server: Server;
  let vault: Vault;

  before(async () => {
    server = await startServer({ MEDIAVAULT_MAX_UPLOAD_SIZE: String(MAX_UPLOAD) });
    vault = new Vault(server.baseUrl);
    const address = email("transfer");
    await vault.register(address, PASSWORD);
    await vault.login(address, PASSWORD);
  });

  after(async () => {
    await server?.stop();
  });

  it("uploads bytes, a Blob, a File, a stream of unknown size and an async iterable, with progress", async () => {
    const text = new TextEncoder().encode("hello vault\n".repeat(1000));
    const calls: [number, number | undefined][] = [];
    const fromBytes = await vault.upload(text, {
      filename: "bytes.txt",
      progress: (sent, total) => calls.push([sent, total]),
    });
    assert.equal(fromBytes.size, text.byteLength);
    assert.equal(fromBytes.checksum_sha256, sha256(text));
    assert.deepEqual(calls.at(-1), [text.byteLength, text.byteLength]);

    const fromBlob = await vault.upload(new Blob([text]), { filename: "blob.txt" });
    assert.equal(fromBlob.checksum_sha256, fromBytes.checksum_sha256);
    const file = new File([text], "named.txt"); // node:buffer's File is the platform's (global from Node.js 20)
    assert.equal((await vault.upload(file as unknown as Blob)).filename, "named.txt");

    const streamed: [number, number | undefined][] = [];
    const parts = [text.subarray(0, 5000), text.subarray(5000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const fromStream = await vault.upload(stream, {
      filename: "stream.txt",
      progress: (sent, total) => streamed.push([sent, total]),
    });
    assert.equal(fromStream.checksum_sha256, fromBytes.checksum_sha256);
    assert.deepEqual(streamed, [
      [5000, undefined],
      [text.byteLength, undefined],
    ]);

    async function* generate() {
      yield text.subarray(0, 10);
      yield text.subarray(10);
    }
    const fromIterable = await vault.upload(generate(), {
      filename: "iterable.txt",
      title: "T",
      description: "D",
      tags: ["a", "b"],
    });
    assert.equal(fromIterable.size, text.byteLength);
    assert.deepEqual([fromIterable.title, fromIterable.description, fromIterable.tags], ["T", "D", ["a", "b"]]);
    assert.equal(fromIterable.filename, "iterable.txt");
  });

  it("sends a Blob whole where fetch cannot stream (as in browsers), reporting progress once", async () => {
    const blobs = new Vault(server.baseUrl, { apiKey: (await vault.createApiKey("blob")).key, streamUploads: false });
    const calls: [number, number | undefined][] = [];
    const data = new TextEncoder().encode("from a browser");
    const media = await blobs.upload(new Blob([data]), {
      filename: "browser.txt",
      progress: (sent, total) => calls.push([sent, total]),
    });
    assert.equal(media.checksum_sha256, sha256(data));
    assert.deepEqual(calls, [[data.byteLength, data.byteLength]]); // the file's bytes, not the multipart body's
    await assert.rejects(blobs.upload(new ReadableStream<Uint8Array>()), TypeError);
  });

  it("streams a large file from disk and back without holding it in memory", async () => {
    const size = 32 * 1024 * 1024;
    const path = join(server.root, "large.bin");
    const digest = await writeLargeFile(path, size);
    const source = await openFile(path);
    assert.deepEqual([source.name, source.size], ["large.bin", size]);

    // Memory held (after a collection, so garbage not yet collected does not count), sampled every 16 chunks.
    gc();
    const baseline = process.memoryUsage();
    let peak = 0;
    let calls = 0;
    let last = 0;
    let samples = 0;
    const sample = () => {
      if (++samples % 16 !== 0) return;
      gc();
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers - baseline.arrayBuffers + now.heapUsed - baseline.heapUsed);
    };
    const media = await vault.upload(source, {
      progress: (sent, total) => {
        assert.equal(total, size);
        assert.ok(sent > last && sent - last <= 256 * 1024, `chunk of ${sent - last} bytes`);
        last = sent;
        calls += 1;
        sample();
      },
    });
    assert.equal(last, size);
    assert.ok(calls >= size / (256 * 1024));
    assert.equal(media.size, size);
    assert.equal(media.checksum_sha256, digest);
    assert.ok(samples >= 16 && peak < size / 4, `memory held grew by ${peak} bytes while uploading ${size}`);

    peak = 0;
    samples = 0;
    const copy = join(server.root, "copy.bin");
    let received = 0;
    const download = await vault.download(media.id, {
      progress: (got, total) => {
        assert.equal(total, size);
        received = got;
        sample();
      },
    });
    assert.equal(await saveFile(download, copy), size);
    assert.equal(received, size);
    assert.ok(samples >= 16 && peak < size / 4, `memory held grew by ${peak} bytes while downloading ${size}`);
    assert.equal((await stat(copy)).size, size);
    assert.equal(
      createHash("sha256")
        .update(await readFile(copy))
        .digest("hex"),
      digest,
    );
    assert.deepEqual(
      (await readdir(server.root)).filter((name) => name.includes(".part-")),
      [],
    );
  });

  it("gets PayloadTooLarge over the server's limit, whether the size is known or not", async () => {
    const path = join(server.root, "too-large.bin");
    const handle = await open(path, "w");
    await handle.truncate(MAX_UPLOAD + 1); // sparse: costs no disk
    await handle.close();
    await assert.rejects(vault.upload(await openFile(path)), PayloadTooLarge);
    async function* endless() {
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i <= MAX_UPLOAD / chunk.byteLength; i++) yield chunk;
    }
    await assert.rejects(vault.upload(endless(), { filename: "endless.bin" }), PayloadTooLarge);
    await assert.rejects(vault.upload(new Uint8Array(0), { filename: "empty.txt" }), ValidationError);
    await assert.rejects(openFile(join(server.root, "missing.bin")), { code: "ENOENT" });
    await assert.rejects(openFile(server.root), { code: "EISDIR" });
  });

  it("downloads ranges, honours ETags and If-Range, and refuses unsatisfiable ranges", async () => {
    const data = new TextEncoder().encode("0123456789abcdefghij");
    const media = await vault.upload(data, { filename: "digits.txt" });
    const whole = await vault.download(media.id);
    assert.equal(whole.status, 200);
    assert.equal(whole.etag, `"${media.checksum_sha256}"`);
    assert.equal(whole.contentLength, 20);
    assert.equal(whole.filename, "digits.txt");
    assert.deepEqual(await whole.bytes(), data);

    const first = await vault.download(media.id, { range: { start: 0, end: 9 } });
    assert.equal(first.status, 206);
    assert.deepEqual(first.contentRange, { start: 0, end: 9, size: 20 });
    assert.equal(await first.text(), "0123456789");
    assert.equal(await (await vault.download(media.id, { range: { start: 15 } })).text(), "fghij");
    assert.equal(await (await vault.download(media.id, { range: { suffix: 3 } })).text(), "hij");
    assert.equal(await (await vault.download(media.id, { range: "bytes=10-11" })).text(), "ab");

    const cached = await vault.download(media.id, { ifNoneMatch: whole.etag! });
    assert.equal(cached.status, 304);
    assert.ok(cached.notModified);
    assert.equal(cached.body, null);
    await assert.rejects(saveFile(cached, join(server.root, "nothing")), TypeError);

    const resumed = await vault.download(media.id, { range: { start: 18 }, ifRange: whole.etag! });
    assert.equal(await resumed.text(), "ij");
    const changed = await vault.download(media.id, { range: { start: 18 }, ifRange: '"another"' });
    assert.equal(changed.status, 200); // the validator does not match: the whole representation
    assert.equal(await changed.text(), "0123456789abcdefghij");

    const refused = await vault.download(media.id, { range: { start: 50 } }).catch((error: unknown) => error);
    assert.ok(refused instanceof RangeNotSatisfiable);
    assert.equal(refused.status, 416);
    await assert.rejects(vault.download("missing"), NotFound);
  });

  it("reports processing and serves thumbnails of a real image", async () => {
    const path = join(server.root, "photo.jpg");
    writeJpeg(path, 640, 480);
    const photo: Media = await vault.upload(await openFile(path));
    assert.deepEqual([photo.type, photo.width, photo.height, photo.content_type], ["image", 640, 480, "image/jpeg"]);
    const processed = await eventually<MediaProcessing>(async () => {
      const state = await vault.getMetadata(photo.id);
      return state.status === "pending" ? undefined : state;
    }, "processing to finish");
    assertShape(processed, "processing");
    assert.equal(processed.status, "done");
    const thumbnail = processed.variants.find((variant) => variant.url !== null);
    assert.ok(thumbnail);
    assertShape(thumbnail, "variant");
    const small = await vault.downloadThumbnail(photo.id, { size: 256 });
    assert.equal(small.status, 200);
    const image = await small.bytes();
    assert.equal(image.byteLength, small.contentLength);
    assert.ok(small.contentType?.startsWith("image/"));
    await assert.rejects(vault.downloadThumbnail(photo.id, { size: 7 }), ValidationError);

    const again = await vault.reprocess(photo.id);
    assertShape(again, "processing");
    assert.equal(again.status, "pending");
    const redone = await eventually<MediaProcessing>(async () => {
      const state = await vault.getMetadata(photo.id);
      return state.status === "pending" ? undefined : state;
    }, "processing to finish again");
    assert.equal(redone.status, "done");
    await assert.rejects(vault.reprocess("missing"), NotFound);
  });
});
