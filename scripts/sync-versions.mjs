#!/usr/bin/env node
/**
 * After `changeset version`: copies each package's new version into its `src/version.ts`
 * (today only @loop/core has one: its duplicate-copy error names versions), so that the
 * version a package reports at run time is the one in its package.json.
 * `pnpm version-packages` runs both.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspacePackages } from "./publishable.mjs";

for (const pkg of workspacePackages()) {
  const file = join(pkg.dir, "src", "version.ts");
  if (!existsSync(file)) continue;
  const text = readFileSync(file, "utf8");
  const next = text.replace(/export const VERSION = "[^"]*";/, `export const VERSION = ${JSON.stringify(pkg.version)};`);
  if (next === text) continue;
  writeFileSync(file, next);
  console.log(`${pkg.name}: src/version.ts says ${pkg.version}`);
}
