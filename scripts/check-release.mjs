#!/usr/bin/env node
/**
 * Proves that a release works, without releasing: in a throwaway copy of the repository it
 * runs `pnpm version-packages` (changeset version, then scripts/sync-versions.mjs) and
 * `pnpm publish -r --dry-run`, and checks what they did:
 *   - every published package named by a pending changeset gets a new version and a
 *     CHANGELOG.md, and every changeset is consumed;
 *   - private packages (the demo, the benchmarks) are never versioned, even when a
 *     changeset names them, and have no changelog;
 *   - each package keeps its own version (independent versioning);
 *   - every package's peer range of @loop/core admits the new core;
 *   - core's src/version.ts says core's new version;
 *   - the dry-run publishes exactly the public packages, at their new versions.
 * Needs `pnpm build` first (the dry-run packs dist/). The working tree is not touched.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { assertBuilt, publishablePackages, root, workspacePackages } from "./publishable.mjs";

/** @type {string[]} */
const failures = [];
const check = (/** @type {boolean} */ ok, /** @type {string} */ what) => {
  if (!ok) failures.push(what);
};

/** @param {string} cmd @param {string[]} args @param {string} cwd */
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", shell: process.platform === "win32", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed in the release copy (exit ${r.status})`);
  }
  return `${r.stdout}\n${r.stderr}`;
}

/** `a.b.c` compared with `x.y.z`: negative, zero or positive. Pre-releases are not used here. */
function compare(/** @type {string} */ a, /** @type {string} */ b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Whether `version` satisfies a range of the forms this repository uses: `>=a <b`, `^a`. */
function satisfies(/** @type {string} */ version, /** @type {string} */ range) {
  return range.split("||").some((alt) => {
    const parts = alt.trim().split(/\s+/);
    return parts.every((p) => {
      const m = /^(>=|<|\^)?(\d+\.\d+\.\d+)$/.exec(p);
      if (!m) throw new Error(`check-release: cannot read the range "${range}"`);
      const [, op, v] = m;
      if (op === ">=") return compare(version, v) >= 0;
      if (op === "<") return compare(version, v) < 0;
      if (op === "^") {
        const [maj, min] = v.split(".").map(Number);
        const upper = maj > 0 ? `${maj + 1}.0.0` : `0.${min + 1}.0`;
        return compare(version, v) >= 0 && compare(version, upper) < 0;
      }
      return compare(version, v) === 0;
    });
  });
}

const published = publishablePackages();
assertBuilt(published);
const copy = mkdtempSync(join(tmpdir(), "loop-release-"));
try {
  // The files git knows (tracked or new, not ignored), plus the built dist folders.
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) throw new Error("git ls-files failed: the release check runs in a git checkout");
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted, not yet staged
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(root, file), join(copy, file));
  }
  for (const pkg of published) cpSync(join(pkg.dir, "dist"), join(copy, relative(root, pkg.dir), "dist"), { recursive: true });
  // Installed from pnpm's store (no downloads once the workspace is installed): publish
  // resolves workspace:^ through the copy's own links.
  run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--ignore-scripts", "--reporter=silent"], copy);

  const before = new Map(workspacePackages().map((p) => [p.name, p.version]));
  const pending = readdirSync(join(root, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
  /** @type {Set<string>} */
  const named = new Set();
  const privateNames = new Set(workspacePackages().filter((p) => p.private).map((p) => p.name));
  for (const f of pending) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(root, ".changeset", f), "utf8"))?.[1] ?? "";
    const names = [...front.matchAll(/^"?([^":]+)"?\s*:/gm)].map((m) => m[1].trim());
    names.forEach((n) => named.add(n));
    // changeset version skips private packages, so such a file would wait forever.
    check(
      !names.every((n) => privateNames.has(n)),
      `.changeset/${f} names only private packages (${names.join(", ")}), which are never versioned: delete it`,
    );
  }

  console.log(run("pnpm", ["run", "--silent", "version-packages"], copy).trim());

  const copyRoot = copy;
  const after = new Map(
    workspacePackages().map((p) => {
      const manifest = JSON.parse(readFileSync(join(copyRoot, relative(root, p.dir), "package.json"), "utf8"));
      return [p.name, { pkg: p, manifest, dir: join(copyRoot, relative(root, p.dir)) }];
    }),
  );
  const left = readdirSync(join(copy, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
  check(left.length === 0, `changesets left after changeset version: ${left.join(", ")}`);
  for (const [name, { pkg, manifest, dir }] of after) {
    const old = before.get(name);
    const hasChangelog = existsSync(join(dir, "CHANGELOG.md"));
    if (pkg.private) {
      check(manifest.version === old, `${name} is private and must not be versioned (${old} → ${manifest.version})`);
      check(!hasChangelog, `${name} is private and must not get a CHANGELOG.md`);
      continue;
    }
    if (named.has(name)) {
      check(compare(manifest.version, old ?? "0.0.0") > 0, `${name} is named by a changeset but stayed at ${old}`);
      check(hasChangelog, `${name} has no CHANGELOG.md`);
    }
    console.log(`${name}: ${old} → ${manifest.version}`);
  }
  const core = after.get("@loop/core");
  if (core) {
    const coreVersion = core.manifest.version;
    const versionTs = readFileSync(join(core.dir, "src", "version.ts"), "utf8");
    check(versionTs.includes(`export const VERSION = "${coreVersion}";`), `@loop/core src/version.ts does not say ${coreVersion}`);
    for (const [name, { pkg, manifest }] of after) {
      const range = manifest.peerDependencies?.["@loop/core"];
      if (pkg.private || range === undefined) continue;
      check(satisfies(coreVersion, range), `${name}'s peer range of @loop/core, "${range}", does not admit ${coreVersion}`);
    }
  }
  // Independent versions: no package's version is tied to another's.
  const config = JSON.parse(readFileSync(join(root, ".changeset", "config.json"), "utf8"));
  check((config.fixed ?? []).length === 0 && (config.linked ?? []).length === 0, ".changeset/config.json must not fix or link versions");
  for (const [name, { pkg, manifest }] of after) {
    if (!pkg.private && !named.has(name) && !(core && pkg.loopDeps.includes("@loop/core"))) {
      check(manifest.version === before.get(name), `${name} is named by no changeset but moved to ${manifest.version}`);
    }
  }

  const dry = run("pnpm", ["publish", "-r", "--dry-run", "--no-git-checks", "--report-summary"], copy);
  const summaryFile = join(copy, "pnpm-publish-summary.json");
  /** @type {{ name: string, version: string }[]} */
  const wouldPublish = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, "utf8")).publishedPackages ?? [] : [];
  const expected = published.map((p) => `${p.name}@${after.get(p.name)?.manifest.version}`).sort();
  const actual = wouldPublish.map((p) => `${p.name}@${p.version}`).sort();
  check(JSON.stringify(actual) === JSON.stringify(expected), `pnpm publish -r --dry-run would publish [${actual.join(", ")}], expected [${expected.join(", ")}]\n${dry}`);
  console.log(`pnpm publish -r --dry-run: ${actual.join(", ")}`);
} finally {
  rmSync(copy, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\nrelease check failed:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("\nrelease check passed");
