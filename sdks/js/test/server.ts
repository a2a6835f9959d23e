/**
 * A REAL `mediavault serve` for the tests: the Python of `MEDIAVAULT_PYTHON` (default `python3`, the active
 * virtual environment's) runs `-m mediavault serve` on a free loopback port with its own temporary data dir and
 * cheap Argon2id settings, and is stopped (SIGTERM, then SIGKILL) by `stop()` or when the test process exits.
 * It keeps its state in that data dir (SQLite and local files) unless `MEDIAVAULT_SDK_TEST_SERVER_ENV` holds a JSON
 * object of `MEDIAVAULT_*` settings for every server: `python -m tests.full_leg` sets it to PostgreSQL + Redis + S3
 * on moto (sdks/js/ci.sh runs the tus test so).
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PASSWORD = "correct horse battery";
export const PYTHON = process.env.MEDIAVAULT_PYTHON ?? "python3";

/** Cheap Argon2id (tests only), no plugins from the environment, and room for many logins from one address. */
const BASE_ENV: Record<string, string> = {
  MEDIAVAULT_ARGON2_TIME_COST: "1",
  MEDIAVAULT_ARGON2_MEMORY_COST: "8",
  MEDIAVAULT_ARGON2_PARALLELISM: "1",
  MEDIAVAULT_LOAD_ENTRY_POINTS: "false",
  MEDIAVAULT_RATE_LIMIT_ANONYMOUS: "100000",
};

/** The engines every server runs on (`MEDIAVAULT_SDK_TEST_SERVER_ENV`, see above); none: its data dir. */
const BACKEND_ENV: Record<string, string> = JSON.parse(process.env.MEDIAVAULT_SDK_TEST_SERVER_ENV ?? "{}");

/** Bounds for a hang only: a server that starts or stops promptly is never waited for. */
const STARTUP_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

export interface Server {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The temporary folder holding the data dir and the log. */
  root: string;
  /** The server's output so far (for failure messages). */
  log(): Promise<string>;
  stop(): Promise<void>;
  /** Kill the server with SIGKILL (a crash) and keep its data dir, for `startServer(env, server.root)`. */
  kill(): Promise<void>;
}

const running = new Map<ChildProcess, string>(); // each server and its temporary folder
const killAll = () => {
  for (const [child, root] of running) {
    child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
};
process.on("exit", killAll);
// A test process stopped by a signal (Ctrl-C, a runner's timeout) takes its servers with it too.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Start a server with extra `MEDIAVAULT_*` settings and wait until `GET /api/v1/health` answers 200; on the data dir
 * of a killed server when `killedRoot` is its `root` (a restart after a crash), else on a new one.
 */
export async function startServer(env: Record<string, string> = {}, killedRoot?: string): Promise<Server> {
  const root = killedRoot ?? (await mkdtemp(join(tmpdir(), "mediavault-sdk-js-")));
  const port = await freePort();
  const logPath = join(root, "server.log");
  const log = createWriteStream(logPath, { flags: "a" });
  await once(log, "open");
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("MEDIAVAULT_")));
  const child = spawn(
    PYTHON,
    ["-m", "mediavault", "serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", join(root, "data")],
    { env: { ...inherited, ...BASE_ENV, ...BACKEND_ENV, ...env }, stdio: ["ignore", log, log] },
  );
  running.set(child, root);
  const exited = once(child, "exit");
  const baseUrl = `http://127.0.0.1:${port}`;
  const server: Server = {
    baseUrl,
    root,
    log: () => readFile(logPath, "utf8").catch(() => "<no log>"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      log.end();
      await rm(root, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      running.delete(child);
      log.end();
    },
  };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const output = await server.log();
      await server.stop(); // removes the data dir
      throw new Error(`mediavault serve exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/api/v1/health`);
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const output = await server.log();
  await server.stop();
  throw new Error(`mediavault serve not ready after ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
}

/** Run a Python snippet with the server's interpreter (e.g. Pillow making a real image); returns its stdout. */
export function python(code: string, args: string[] = []): string {
  const result = spawnSync(PYTHON, ["-c", code, ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout;
}

/** Write a real JPEG of `width` x `height` pixels (made by Pillow) to `path`. */
export function writeJpeg(path: string, width = 64, height = 48): void {
  python(
    "import sys\nfrom PIL import Image\nImage.new('RGB', (int(sys.argv[2]), int(sys.argv[3])), (200, 60, 20)).save(sys.argv[1], 'JPEG')",
    [path, String(width), String(height)],
  );
}

/** Poll `check` until it returns a value other than `undefined` (bounded, for a hang only). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let counter = 0;
/** A fresh email for each user a test registers. */
export function email(name: string): string {
  counter += 1;
  return `${name}-${process.pid}-${counter}@example.com`;
}
