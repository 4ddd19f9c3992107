#!/usr/bin/env node
/**
 * Lints what would be published, for every public package: publint (package.json fields,
 * exports, files) and @arethetypeswrong/cli (types resolve for ESM consumers under
 * node16/nodenext and bundler resolution; the packages are ESM-only, hence
 * `--profile esm-only`, which ignores the CommonJS `require` resolutions).
 * Both look at the tarball `pnpm pack` makes (workspace: and catalog: versions rewritten),
 * which is exactly what `changeset publish` uploads. Needs `pnpm build` first.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { assertBuilt, publishablePackages, root } from "./publishable.mjs";

const packages = publishablePackages();
try {
  assertBuilt(packages);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const env = {
  ...process.env,
  PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH}`,
};
const shell = process.platform === "win32";
const work = mkdtempSync(join(tmpdir(), "loop-check-publish-"));
const failures = [];
try {
  for (const pkg of packages) {
    const dest = join(work, pkg.name.replace(/[@/]/g, "_"));
    const packed = spawnSync("pnpm", ["pack", "--pack-destination", dest], {
      cwd: pkg.dir,
      env,
      stdio: ["ignore", "ignore", "inherit"],
      shell,
    });
    const tarball = readdirSync(dest, { withFileTypes: true }).find((f) => f.name.endsWith(".tgz"));
    if (packed.status !== 0 || tarball === undefined) {
      failures.push(`pnpm pack ${pkg.name}`);
      continue;
    }
    const file = join(dest, tarball.name);
    /** @type {[string, string[]][]} */
    const checks = [
      ["publint", ["run", file, "--strict"]],
      ["attw", [file, "--profile", "esm-only", "--format", "table-flipped"]],
    ];
    for (const [tool, args] of checks) {
      console.log(`\n--- ${tool} ${pkg.name}`);
      const r = spawnSync(tool, args, { cwd: root, env, stdio: "inherit", shell });
      if (r.status !== 0) failures.push(`${tool} ${pkg.name}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\npublish checks failed: ${failures.join(", ")}`);
  process.exit(1);
}
console.log(`\npublish checks passed for ${packages.length} packages`);
