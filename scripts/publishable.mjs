// The workspace packages that are published (not private), in dependency order, with
// their @loop dependencies. Shared by scripts/check-publish.mjs and tests/pack.test.ts.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * @typedef {{ name: string, dir: string, version: string, private: boolean, loopDeps: string[],
 *   manifest: Record<string, any> }} WorkspacePackage
 * @typedef {WorkspacePackage} PublishablePackage
 */

/**
 * The folders `pnpm-workspace.yaml` lists under `packages:` (entries `dir/*` or `dir`), so
 * that a new package is found without editing any list.
 * @returns {string[]}
 */
function workspaceDirs() {
  const yaml = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml);
  if (!block) throw new Error("pnpm-workspace.yaml: no `packages:` list");
  /** @type {string[]} */
  const dirs = [];
  for (const line of block[1].split("\n")) {
    const glob = line.replace(/^\s*-\s*/, "").replace(/^["']|["']$/g, "").trim();
    if (glob === "" || glob.startsWith("!")) continue;
    if (glob.endsWith("/*")) {
      const parent = join(root, glob.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent).sort()) dirs.push(join(parent, entry));
    } else {
      dirs.push(join(root, glob));
    }
  }
  return dirs.filter((d) => existsSync(join(d, "package.json")));
}

/**
 * Every workspace package, private ones included, with its @loop dependencies (runtime and
 * peer: what an installer must bring along).
 * @returns {WorkspacePackage[]}
 */
export function workspacePackages() {
  return workspaceDirs().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const loopDeps = [
      ...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]),
    ].filter((d) => d.startsWith("@loop/"));
    return { name: manifest.name, dir, version: manifest.version, private: manifest.private === true, loopDeps, manifest };
  });
}

/**
 * The published (not private) workspace packages, dependencies first.
 * @returns {PublishablePackage[]}
 */
export function publishablePackages() {
  const found = workspacePackages().filter((p) => !p.private);
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
