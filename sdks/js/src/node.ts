/**
 * Node.js helpers (`@mediavault/sdk/node`): upload a file by its path and save a download to a path, streamed,
 * never holding the file in memory. The main entry point stays free of Node.js modules, for browsers.
 */

import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import type { Download } from "./download.js";
import type { ResumeStore } from "./resumable.js";
import type { FileSource } from "./upload.js";

/** Bytes read from the disk at a time: 256 KiB. */
const CHUNK = 256 * 1024;

/**
 * A file on disk as an upload source: its size (so the request has a `Content-Length`) and name, opened anew for
 * each attempt and read 256 KiB at a time; a resumable upload reads its chunks by range, and writes it down under
 * the Python SDK's key (`<real path>|<size>|<mtime in ns>`: a file changed since is sent again from the start).
 *
 * @throws Error the path does not exist or is not a regular file (`ENOENT`, `EISDIR`...).
 */
export async function openFile(path: string): Promise<FileSource> {
  const info = await stat(path, { bigint: true });
  if (!info.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: "EISDIR", path });
  return {
    name: basename(path),
    size: Number(info.size),
    resumeKey: `${await realpath(path)}|${info.size}|${info.mtimeNs}`,
    stream: () => createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Uint8Array>,
    readRange: (start, end) =>
      createReadStream(path, { highWaterMark: CHUNK, start, end: end - 1 }) as AsyncIterable<Uint8Array>,
  };
}

/** `$XDG_STATE_HOME/mediavault/uploads.json` (`~/.local/state` when unset): the Python SDK's resume file. */
export function defaultResumeFile(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "mediavault", "uploads.json");
}

/**
 * A {@link ResumeStore} in a JSON file, `{"<key>": "<upload id>"}` (folder 0700, file 0600), replaced atomically
 * on each change: the Python SDK's resume file, so `mediavault upload` and this SDK continue each other's uploads
 * of the same file. Changes made through one store are applied one at a time.
 */
export function resumeFile(path: string = defaultResumeFile()): ResumeStore {
  let queue: Promise<unknown> = Promise.resolve();
  const read = async (): Promise<Record<string, unknown>> => {
    try {
      const entries: unknown = JSON.parse(await readFile(path, "utf8"));
      return typeof entries === "object" && entries !== null && !Array.isArray(entries)
        ? (entries as Record<string, unknown>)
        : {};
    } catch {
      return {}; // missing or unreadable: nothing written down
    }
  };
  const change = async (key: string, uploadId: string | undefined): Promise<void> => {
    const entries = await read();
    if (uploadId === undefined) {
      if (!(key in entries)) return;
      delete entries[key];
    } else {
      entries[key] = uploadId;
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = join(
      dirname(path),
      `.${basename(path)}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`,
    );
    try {
      await writeFile(temporary, JSON.stringify(entries), { mode: 0o600, flag: "wx" });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  };
  return {
    async get(key) {
      const value = (await read())[key];
      return typeof value === "string" ? value : undefined;
    },
    set(key, uploadId) {
      const done = queue.then(() => change(key, uploadId));
      queue = done.catch(() => undefined);
      return done;
    },
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
