/**
 * The SDK in a real browser: headless Chromium (Debian's, `$CHROMIUM` or `chromium` on the PATH) loads a page that
 * imports the built ES modules (dist/) and walks through login, an upload of a `File` with progress, a list, a
 * range download, a share link, a realtime event and a resumable (tus) upload of a larger `File` with chunk
 * checksums against a real `mediavault serve` on another origin (CORS), then posts what it saw back to the page's
 * server.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { PASSWORD, startServer } from "./server.js";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");
const CHROMIUM = process.env.CHROMIUM ?? "chromium";
const RESULT_TIMEOUT_MS = 120_000; // a bound for a hang only

/** The page's script: runs in the browser, posts `{ok, ...}` or `{error}` to /result. */
function page(vaultUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>sdk</title><script type="module">
import { Vault, NotFound, storageResumeStore } from "/sdk/index.js";
const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
try {
  const vault = new Vault(${JSON.stringify(vaultUrl)}, {
    resumableThreshold: 2000,
    chunkSize: 1024,
    resumeStore: storageResumeStore(localStorage),
  });
  await vault.register("browser@example.com", ${JSON.stringify(PASSWORD)});
  await vault.login("browser@example.com", ${JSON.stringify(PASSWORD)});
  const file = new File([new TextEncoder().encode("0123456789".repeat(100))], "from-browser.txt");
  const progress = [];
  const media = await vault.upload(file, { tags: ["web"], progress: (sent, total) => progress.push([sent, total]) });
  const listed = [];
  for await (const item of vault.iterMedia({ tag: "web" })) listed.push(item.filename);
  const range = await vault.download(media.id, { range: { start: 10, end: 14 } });
  const share = await vault.createShare({ media_id: media.id });
  const shared = await (await new Vault(vault.baseUrl).downloadShared(share.token)).blob();
  const live = await vault.realtime();
  await live.subscribe("media_updates", media.id);
  await vault.updateMedia(media.id, { title: "Seen in a browser" });
  let event;
  for await (const received of live) { event = received; break; }
  live.close();
  const missing = await vault.getMedia("missing").catch((error) => error);
  // Over the threshold: a resumable upload (tus) in Blob slices, each with its SHA-256 (Web Crypto).
  const large = new File([new Uint8Array(2500).map((_, i) => i % 251)], "large.bin", { lastModified: 1 });
  const chunks = [];
  const resumed = await vault.upload(large, { checksum: true, progress: (sent) => chunks.push(sent) });
  await report({
    ok: true,
    userAgent: navigator.userAgent,
    size: media.size,
    progress,
    listed,
    range: [range.status, range.contentRange, await range.text()],
    sharedSize: shared.size,
    event: [event.event, event.data.title],
    notFound: [missing instanceof NotFound, missing.code, typeof missing.requestId],
    resumable: [resumed.size, resumed.checksum_sha256, chunks, localStorage.length],
  });
} catch (error) {
  await report({ error: String(error && error.stack || error) });
}
</script>`;
}

test("the SDK works in a real browser (headless Chromium)", async () => {
  let resolveResult: (value: Record<string, unknown>) => void = () => undefined;
  const result = new Promise<Record<string, unknown>>((resolve) => (resolveResult = resolve));
  let vaultUrl = "";
  const pages = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://page");
    if (request.method === "POST" && url.pathname === "/result") {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        response.writeHead(204).end();
        resolveResult(JSON.parse(body) as Record<string, unknown>);
      });
    } else if (url.pathname === "/") {
      response.writeHead(200, { "Content-Type": "text/html" }).end(page(vaultUrl));
    } else if (url.pathname.startsWith("/sdk/")) {
      const file = normalize(join(dist, url.pathname.slice("/sdk/".length)));
      readFile(file).then(
        (bytes) => response.writeHead(200, { "Content-Type": "text/javascript" }).end(bytes),
        () => response.writeHead(404).end(),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  pages.listen(0, "127.0.0.1");
  await once(pages, "listening");
  const origin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
  const server = await startServer({ MEDIAVAULT_CORS_ALLOW_ORIGINS: origin });
  vaultUrl = server.baseUrl;
  const profile = await mkdtemp(join(tmpdir(), "mediavault-sdk-chromium-"));
  const browser = spawn(
    CHROMIUM,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      `${origin}/`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  browser.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(browser, "exit");
  try {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no result from the browser:\n${stderr.slice(-2000)}`)),
        RESULT_TIMEOUT_MS,
      ).unref(),
    );
    const failed = exited.then(([code]) => {
      throw new Error(`${CHROMIUM} exited with ${String(code)} before the page reported:\n${stderr.slice(-2000)}`);
    });
    const seen = await Promise.race([result, timeout, failed]);
    assert.equal(seen.error, undefined, String(seen.error));
    assert.match(String(seen.userAgent), /Chrome\//);
    assert.equal(seen.size, 1000);
    // A File goes as one Blob in a browser (fetch streams request bodies over HTTP/2 only): progress once, at the end.
    assert.deepEqual(seen.progress, [[1000, 1000]]);
    assert.deepEqual(seen.listed, ["from-browser.txt"]);
    assert.deepEqual(seen.range, [206, { start: 10, end: 14, size: 1000 }, "01234"]);
    assert.equal(seen.sharedSize, 1000);
    assert.deepEqual(seen.event, ["media.updated", "Seen in a browser"]);
    assert.deepEqual(seen.notFound, [true, "not_found", "string"]);
    const large = new Uint8Array(2500).map((_, i) => i % 251);
    const digest = createHash("sha256").update(large).digest("hex");
    // Three PATCHes of 1024, 1024 and 452 bytes; progress from the start offset, then after each chunk; the
    // localStorage entry is gone once the media is made.
    assert.deepEqual(seen.resumable, [2500, digest, [0, 1024, 2048, 2500], 0]);
  } finally {
    browser.kill("SIGKILL");
    await exited.catch(() => undefined);
    pages.close();
    await server.stop();
    await rm(profile, { recursive: true, force: true });
  }
});
