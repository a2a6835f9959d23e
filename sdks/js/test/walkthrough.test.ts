/**
 * The walk-through of docs/sdk.md and README.md (login, upload with progress, list, download a range, share,
 * realtime) is examples/walkthrough.ts: the docs hold exactly its code, and it runs against a real server.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { startServer, writeJpeg } from "./server.js";

const here = dirname(fileURLToPath(import.meta.url)); // build/test
const sdk = join(here, "..", ".."); // sdks/js
const EXAMPLE = join(sdk, "examples", "walkthrough.ts");
const MARKER = "<!-- walkthrough: sdks/js/examples/walkthrough.ts -->";

/** The fenced code block that follows the walk-through marker in a Markdown file. */
async function walkthroughIn(markdown: string): Promise<string> {
  const text = await readFile(markdown, "utf8");
  const start = text.indexOf(MARKER);
  assert.ok(start >= 0, `${markdown} has no ${MARKER}`);
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(start));
  assert.ok(block?.[1], `${markdown}: no \`\`\`ts block after the marker`);
  return block[1];
}

test("the docs show exactly the walk-through's code", async () => {
  const example = await readFile(EXAMPLE, "utf8");
  assert.equal(await walkthroughIn(join(sdk, "..", "..", "docs", "sdk.md")), example);
  assert.equal(await walkthroughIn(join(sdk, "README.md")), example);
});

test("the walk-through runs against a real server", async () => {
  const server = await startServer();
  try {
    const photo = join(server.root, "photo.jpg");
    writeJpeg(photo, 640, 480);
    // Node.js 18 has no WebSocket: preload the ws package's, as the docs tell its users.
    const preload =
      typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined"
        ? ["--import", join(here, "ws-global.js")]
        : [];
    const child = spawn(process.execPath, [...preload, join(sdk, "build", "examples", "walkthrough.js")], {
      cwd: server.root,
      env: { ...process.env, MEDIAVAULT_URL: server.baseUrl },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, `walk-through failed:\n${stdout}\n${stderr}\n${await server.log()}`);

    const size = (await readFile(photo)).byteLength;
    const lines = stdout.trim().split("\n");
    assert.equal(
      lines.filter((line) => line.startsWith("uploaded ") && line.endsWith(" bytes")).at(-1),
      `uploaded ${size} of ${size} bytes`,
    );
    assert.match(stdout, /^uploaded [0-9a-f-]{36} image 640 480$/m);
    assert.match(stdout, new RegExp(`^listed photo\\.jpg ${size}$`, "m"));
    assert.match(stdout, new RegExp(`^range 206 \\{ start: 0, end: 99, size: ${size} \\} 100$`, "m"));
    // The link serves the photo without its metadata: a copy of its own size.
    assert.match(
      stdout,
      new RegExp(`^share ${server.baseUrl}/api/v1/s/[A-Za-z0-9_-]{43} photo\\.jpg [1-9][0-9]*$`, "m"),
    );
    assert.match(stdout, /^event media\.updated Holiday 2026$/m);
    assert.deepEqual(await readFile(join(server.root, "copy.jpg")), await readFile(photo));
  } finally {
    await server.stop();
  }
});
