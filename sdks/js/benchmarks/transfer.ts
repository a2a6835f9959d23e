/**
 * Upload and download throughput and memory of the SDK next to plain Node.js baselines, in the same run, against a
 * real `mediavault serve` on loopback (started like the tests' server).
 *
 *   npm run build && npm run build:test && node build/benchmarks/transfer.js [--size MiB] [--runs N]
 *
 * "held" is the growth of the JS heap plus array buffers after a collection, sampled every 100 ms while the transfer
 * runs: memory the transfer keeps, not garbage waiting for the collector.
 */

import { createReadStream, createWriteStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { Vault } from "@mediavault/sdk";
import { openFile, saveFile } from "@mediavault/sdk/node";

import { PASSWORD, startServer } from "../test/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: { size: { type: "string", default: "64" }, runs: { type: "string", default: "2" } },
});
const size = Number(values.size) * MiB;
const runs = Number(values.runs);

/** Run `work` `runs` times; the best throughput and the largest memory held. */
async function measure(work: () => Promise<void>): Promise<{ rate: number; held: number }> {
  let rate = 0;
  let held = 0;
  for (let run = 0; run < runs; run++) {
    gc();
    const baseline = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      const now = process.memoryUsage();
      peak = Math.max(peak, now.heapUsed - baseline.heapUsed + now.arrayBuffers - baseline.arrayBuffers);
    }, 100);
    const started = performance.now();
    await work();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    rate = Math.max(rate, size / MiB / seconds);
    held = Math.max(held, peak);
  }
  return { rate, held };
}

function row(name: string, result: { rate: number; held: number }): void {
  const held = `${(result.held / MiB).toFixed(1)} MiB`;
  console.log(`${name.padEnd(52)}${result.rate.toFixed(0).padStart(6)} MiB/s${held.padStart(14)}`);
}

const server = await startServer({ MEDIAVAULT_MAX_UPLOAD_SIZE: String(size + MiB) });
try {
  const path = join(server.root, "bench.bin");
  const file = await open(path, "w");
  const chunk = new Uint8Array(MiB);
  for (let written = 0; written < size; written += MiB) {
    crypto.getRandomValues(chunk.subarray(0, 65536)); // a little randomness per MiB keeps blocks distinct
    await file.write(chunk);
  }
  await file.close();

  const vault = new Vault(server.baseUrl);
  await vault.register("bench@example.com", PASSWORD);
  await vault.login("bench@example.com", PASSWORD);
  const url = `${server.baseUrl}/api/v1/media/upload`;
  const auth = { Authorization: `Bearer ${vault.tokens!.token}` };
  const boundary = "benchmark-boundary";
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
  const headers = {
    ...auth,
    "Content-Type": `multipart/form-data; boundary=${boundary}`,
    "Content-Length": String(length),
  };
  async function* multipart() {
    yield Buffer.from(head);
    yield* createReadStream(path, { highWaterMark: 256 * 1024 });
    yield Buffer.from(tail);
  }
  let mediaId = "";

  console.log(`one ${size / MiB} MiB file, best of ${runs} (held: the largest memory kept during a transfer)`);
  console.log(`${"".padEnd(52)}${"rate".padStart(12)}${"held".padStart(14)}`);
  row(
    "upload: node:http request, file piped (baseline)",
    await measure(async () => {
      await new Promise<void>((resolve, reject) => {
        const sending = request(url, { method: "POST", headers }, (response) => {
          response
            .resume()
            .on("end", () => (response.statusCode === 201 ? resolve() : reject(new Error(`${response.statusCode}`))));
        });
        sending.on("error", reject);
        Readable.from(multipart()).pipe(sending);
      });
    }),
  );
  row(
    "upload: fetch, ReadableStream body (baseline)",
    await measure(async () => {
      const body = Readable.toWeb(Readable.from(multipart())) as ReadableStream<Uint8Array>;
      const response = await fetch(url, { method: "POST", headers, body, duplex: "half" } as RequestInit);
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`${response.status}`);
    }),
  );
  row(
    "upload: vault.upload(openFile(path))",
    await measure(async () => {
      mediaId = (await vault.upload(await openFile(path))).id;
    }),
  );

  const copy = join(server.root, "copy.bin");
  row(
    "download: fetch, body piped to a file (baseline)",
    await measure(async () => {
      const response = await fetch(`${server.baseUrl}/api/v1/media/${mediaId}/content`, { headers: auth });
      await pipeline(
        Readable.fromWeb(response.body! as Parameters<typeof Readable.fromWeb>[0]),
        createWriteStream(copy),
      );
      await rm(copy);
    }),
  );
  row(
    "download: saveFile(vault.download(id), path)",
    await measure(async () => {
      await saveFile(await vault.download(mediaId), copy);
      await rm(copy);
    }),
  );
} finally {
  await server.stop();
}
