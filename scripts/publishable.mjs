// The workspace packages that are published (not private), in dependency order, with
// their @loop dependencies. Shared by scripts/check-publish.mjs and tests/pack.test.ts.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** @typedef {{ name: string, dir: string, version: string, loopDeps: string[] }} PublishablePackage */

/** @returns {PublishablePackage[]} */
export function publishablePackages() {
  /** @type {PublishablePackage[]} */
  const found = [];
  for (const entry of readdirSync(join(root, "packages")).sort()) {
    const dir = join(root, "packages", entry);
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
    if (pkg.private) continue;
    const loopDeps = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith("@loop/"));
    found.push({ name: pkg.name, dir, version: pkg.version, loopDeps });
  }
  // Dependencies first.
  const byName = new Map(found.map((p) => [p.name, p]));
  /** @type {PublishablePackage[]} */
  const ordered = [];
  /** @param {PublishablePackage} p */
  const visit = (p) => {
    if (ordered.includes(p)) return;
    for (const d of p.loopDeps) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    ordered.push(p);
  };
  found.forEach(visit);
  return ordered;
}

/**
 * Every @loop package `name` needs at install time, itself excluded, transitively.
 * @param {string} name
 * @returns {string[]}
 */
export function loopClosure(name, packages = publishablePackages()) {
  const byName = new Map(packages.map((p) => [p.name, p]));
  /** @type {Set<string>} */
  const seen = new Set();
  /** @param {string} n */
  const walk = (n) => {
    for (const d of byName.get(n)?.loopDeps ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        walk(d);
      }
    }
  };
  walk(name);
  return [...seen];
}

/** Throws a clear error when a package has not been built. */
export function assertBuilt(packages = publishablePackages()) {
  const missing = packages.filter((p) => !existsSync(join(p.dir, "dist", "index.js")));
  if (missing.length > 0) {
    throw new Error(
      `${missing.map((p) => p.name).join(", ")}: dist/index.js is missing. ` +
        "Run `pnpm build` first (npm test does it for you).",
    );
  }
}
