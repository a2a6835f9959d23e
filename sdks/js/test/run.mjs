// Runs the compiled tests (build/test/*.test.js) with Node.js's own test runner. Where this Node.js has a
// WebSocket behind a flag (20.10+), it is turned on through NODE_OPTIONS (inherited by the test processes and the
// walk-through they start), so the realtime tests also run on the platform's WebSocket, not only the ws package's.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env };
const flag = "--experimental-websocket";
if (typeof globalThis.WebSocket === "undefined" && spawnSync(process.execPath, [flag, "-e", "0"]).status === 0) {
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} ${flag}`.trim();
}
const tests = join(root, "build", "test");
const files = readdirSync(tests)
  .filter((name) => name.endsWith(".test.js"))
  .sort()
  .map((name) => join(tests, name));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((file) => only.some((name) => file.includes(name))) : files;
const result = spawnSync(process.execPath, ["--test", ...selected], { stdio: "inherit", env, cwd: root });
process.exit(result.status ?? 1);
