#!/usr/bin/env node
/**
 * `npm run demo` and `npm test` on a machine that has only Node and npm.
 *
 * Dependency-free on purpose: it runs before anything is installed. It finds pnpm (the
 * one running us, one on PATH, else `npx pnpm@<the version in packageManager>`), installs
 * when node_modules is missing or older than the lockfile, builds through turbo (a no-op
 * when its cache is warm), then
 *   demo [args…]  runs apps/demo/dist/main.js (with source maps) with the arguments passed through;
 *   test [args…]  runs `vitest run` at the root (every project), arguments passed through.
 * The exit code of that last command is ours.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [mode, ...rawArgs] = process.argv.slice(2);
// `pnpm demo -- --debug` passes the "--" along; `npm run demo -- --debug` does not.
const args = rawArgs[0] === "--" ? rawArgs.slice(1) : rawArgs;
const isWindows = process.platform === "win32";

/** @param {string} message */
function log(message) {
  console.error(`\x1b[2m[quickstart]\x1b[0m ${message}`);
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`[quickstart] ${message}`);
  process.exit(1);
}

/**
 * Runs a command with inherited stdio and returns its exit status (signals re-raised).
 * @param {string} command
 * @param {string[]} commandArgs
 * @returns {number}
 */
function run(command, commandArgs, { exitOnFailure = true } = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: "inherit",
    shell: isWindows,
  });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.signal) process.kill(process.pid, result.signal);
  const status = result.status ?? 1;
  if (status !== 0 && exitOnFailure) process.exit(status);
  return status;
}

/** @returns {[string, string[]]} */
function pnpmCommand() {
  // Started by `pnpm demo` / `pnpm test`: reuse that pnpm.
  const execPath = process.env.npm_execpath ?? "";
  if (/pnpm(\.c?js)?$/i.test(execPath) && existsSync(execPath)) {
    return [process.execPath, [execPath]];
  }
  const onPath = spawnSync("pnpm", ["--version"], { stdio: "ignore", shell: isWindows });
  if (onPath.status === 0) return ["pnpm", []];
  const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager;
  const version = /^pnpm@([^+]+)/.exec(pinned ?? "")?.[1] ?? "10";
  log(`pnpm not found on PATH; using npx pnpm@${version}`);
  return ["npx", ["--yes", `pnpm@${version}`]];
}

/** @param {string} path */
function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

if (mode !== "demo" && mode !== "test") {
  fail("usage: node scripts/quickstart.mjs <demo|test> [args…]");
}

const [pnpm, pnpmArgs] = pnpmCommand();
const stamp = join(root, "node_modules", ".quickstart-installed");
const installedAt = mtime(stamp);
if (
  installedAt < 0 ||
  installedAt < mtime(join(root, "pnpm-lock.yaml")) ||
  installedAt < mtime(join(root, "package.json"))
) {
  log("installing dependencies (pnpm install --frozen-lockfile)");
  run(pnpm, [...pnpmArgs, "install", "--frozen-lockfile"]);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

log("building (turbo run build; cached when nothing changed)");
// Quiet unless it fails: the banner and task list of turbo are noise in a quick start.
const build = spawnSync(
  pnpm,
  [...pnpmArgs, "exec", "turbo", "run", "build", "--output-logs=errors-only"],
  {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    shell: isWindows,
    maxBuffer: 64 * 1024 * 1024,
  },
);
if (build.error) fail(`could not run turbo: ${build.error.message}`);
if (build.status !== 0) {
  process.stdout.write(build.stdout);
  process.stderr.write(build.stderr);
  fail("build failed (output above)");
}

if (mode === "test") {
  // The published types (API Extractor's rollups, which the pack test installs) and the API
  // reports, as `pnpm build` makes them; skipped per package when nothing changed.
  run(process.execPath, [join(root, "scripts/api.mjs")]);
}

if (mode === "demo") {
  // Source maps on: stack frames name the demo's and the packages' .ts files.
  process.exitCode = run(process.execPath, ["--enable-source-maps", join(root, "apps/demo/dist/main.js"), ...args], {
    exitOnFailure: false,
  });
} else {
  process.exitCode = run(pnpm, [...pnpmArgs, "exec", "vitest", "run", ...args], {
    exitOnFailure: false,
  });
}
