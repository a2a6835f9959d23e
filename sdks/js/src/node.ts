/**
 * Node.js helpers (`@mediavault/sdk/node`): upload a file by its path and save a download to a path, streamed,
 * never holding the file in memory. The main entry point stays free of Node.js modules, for browsers.
 */

import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import type { Download } from "./download.js";
import type { FileSource } from "./upload.js";

/** Bytes read from the disk at a time: 256 KiB. */
const CHUNK = 256 * 1024;

/**
 * A file on disk as an upload source: its size (so the request has a `Content-Length`) and name, opened anew for
 * each attempt and read 256 KiB at a time.
 *
 * @throws Error the path does not exist or is not a regular file (`ENOENT`, `EISDIR`...).
 */
export async function openFile(path: string): Promise<FileSource> {
  const info = await stat(path);
  if (!info.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: "EISDIR", path });
  return {
    name: basename(path),
    size: info.size,
    stream: () => createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Uint8Array>,
  };
}

/**
 * Write a {@link Download}'s body to `path`, streamed, and return the byte count. The bytes go to a temporary file
 * beside it, renamed over `path` when complete: an interrupted download never leaves half a file.
 *
 * @throws TypeError the download has no body (a 304).
 */
export async function saveFile(download: Download, path: string): Promise<number> {
  if (download.body === null) throw new TypeError(`nothing to save: the answer was ${download.status} without a body`);
  const temporary = join(dirname(path), `.${basename(path)}.part-${process.pid}-${Date.now().toString(36)}`);
  let written = 0;
  const source = Readable.fromWeb(download.body as Parameters<typeof Readable.fromWeb>[0]);
  source.on("data", (chunk: Uint8Array) => (written += chunk.byteLength));
  try {
    await pipeline(source, createWriteStream(temporary, { flags: "wx" }));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return written;
}
