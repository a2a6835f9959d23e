/**
 * `npm pack` makes an installable package: installed from the tarball into an empty project (no network: it has
 * no dependencies), it imports from Node.js (both entry points) and type-checks in a strict TypeScript project.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const sdk = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

test("npm pack makes a package that installs, imports and type-checks", async () => {
  const project = await mkdtemp(join(tmpdir(), "mediavault-sdk-pack-"));
  try {
    const packed = JSON.parse(
      execFileSync(npm, ["pack", "--json", "--pack-destination", project], { cwd: sdk, encoding: "utf8" }),
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((file) => file.path).sort();
    assert.ok(
      files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("dist/node.js"),
      files.join(", "),
    );
    assert.deepEqual(
      files.filter((path) => !path.startsWith("dist/") && !["README.md", "package.json"].includes(path)),
      [],
    );
    assert.deepEqual(
      files.filter((path) => /test|example/.test(path)),
      [],
    );

    await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    execFileSync(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", join(project, packed[0]!.filename)], {
      cwd: project,
      stdio: "pipe",
    });
    const manifest = JSON.parse(
      await readFile(join(project, "node_modules", "@mediavault", "sdk", "package.json"), "utf8"),
    ) as { dependencies?: object };
    assert.equal(manifest.dependencies, undefined); // nothing beyond the platform

    const script = [
      'import { Vault, NotFound, VaultError, RateLimited } from "@mediavault/sdk";',
      'import { openFile, saveFile } from "@mediavault/sdk/node";',
      'const vault = new Vault("http://127.0.0.1:1");',
      'const error = new NotFound(404, "not_found", "gone");',
      'console.log(typeof vault.iterMedia, typeof openFile, typeof saveFile, error instanceof VaultError, new RateLimited(429, "rate_limited", "slow", [], null, 7).retryAfter);',
    ].join("\n");
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: project,
      encoding: "utf8",
    });
    assert.equal(output.trim(), "function function function true 7");

    await writeFile(
      join(project, "consumer.ts"),
      [
        'import { Vault, type Media, type Page } from "@mediavault/sdk";',
        'import { openFile } from "@mediavault/sdk/node";',
        "export async function newest(vault: Vault): Promise<string | undefined> {",
        '  const page: Page<Media> = await vault.listMedia({ sort: "-created_at", per_page: 1 });',
        '  await vault.upload(await openFile("a.txt"), { tags: ["x"] });',
        "  return page.items[0]?.filename;",
        "}",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          types: [],
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["consumer.ts"],
      }),
    );
    execFileSync(process.execPath, [join(sdk, "node_modules", "typescript", "bin", "tsc"), "-p", project], {
      cwd: project,
      encoding: "utf8",
    });
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});
