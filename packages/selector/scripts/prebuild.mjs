#!/usr/bin/env node
// Makes prebuilds/linux-x64/*.node with prebuildify (Node-API: one binary for every Node
// version), which install then uses instead of compiling. Built against this Node's own
// headers (no download), so it also works on machines without network access.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const prebuildify = require.resolve("prebuildify/bin.js");
const env = { ...process.env };
const nodedir = resolve(dirname(process.execPath), "..");
if (!env.npm_config_nodedir && existsSync(join(nodedir, "include", "node", "node_api.h"))) env.npm_config_nodedir = nodedir;
// prebuildify runs `node-gyp` from PATH: ours.
env.PATH = [dirname(require.resolve("node-gyp/bin/node-gyp.js")), join(root, "node_modules", ".bin"), env.PATH].join(delimiter);
const result = spawnSync(process.execPath, [prebuildify, "--napi", "--strip", "-t", process.versions.node], { cwd: root, env, stdio: "inherit" });
process.exit(result.status ?? 1);
