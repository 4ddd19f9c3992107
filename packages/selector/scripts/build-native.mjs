#!/usr/bin/env node
// Builds the native addon from source with node-gyp: run on install (the addon is an
// optional part: a failed build prints why and exits 0, and @loop/selector then falls back
// to Node's socket driver with a clear message) and by `pnpm build` in this repository.
// LOOP_SELECTOR_REQUIRE_NATIVE=1 (set in CI) makes a failed build fail.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const required = process.env.LOOP_SELECTOR_REQUIRE_NATIVE === "1";
const onInstall = process.argv.includes("--install");

function prebuilt() {
  const dir = join(root, "prebuilds", `${process.platform}-${process.arch}`);
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".node"));
}

function nodeGyp() {
  // The bundled one of the package manager running us, else ours, else PATH.
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  try {
    const require = createRequire(join(root, "package.json"));
    return [process.execPath, require.resolve("node-gyp/bin/node-gyp.js")];
  } catch {
    return ["node-gyp"];
  }
}

if (process.platform === "win32") {
  console.warn("@loop/selector: no native selector on Windows yet; SelectorPoller will use Node's driver.");
  process.exit(0);
}
if (onInstall && prebuilt()) process.exit(0);

const args = ["rebuild"];
// Node's own headers, when installed beside the binary (Debian's nodejs, the official
// tarballs): no download needed, which matters on machines without network access.
const nodedir = resolve(dirname(process.execPath), "..");
if (!process.env.npm_config_nodedir && existsSync(join(nodedir, "include", "node", "node_api.h"))) args.push(`--nodedir=${nodedir}`);
const [cmd, ...pre] = nodeGyp();
const result = spawnSync(cmd, [...pre, ...args], { cwd: root, stdio: ["ignore", onInstall ? "inherit" : "pipe", "inherit"] });
if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
  console.warn(`@loop/selector: could not build the native addon (${why}); SelectorPoller will fall back to Node's socket driver.`);
  process.exit(required ? 1 : 0);
}
