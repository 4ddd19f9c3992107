#!/usr/bin/env node
/**
 * `pnpm test:mutation [package…]`: StrykerJS over each package in turn (all of them
 * without arguments), with stryker.config.mjs. Runs are incremental: only mutants whose
 * code or covering tests changed since the checked-in `packages/<pkg>/stryker-incremental.json`
 * are tested again (`--force` re-tests everything). Reports go to reports/mutation/<pkg>/.
 * Prints each package's score beside its floor and exits non-zero if any is under it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const rawArgs = process.argv.slice(2).filter((a) => a !== "--");
const force = rawArgs.includes("--force");
const asked = rawArgs.filter((a) => a !== "--force");

// The floors live in the config; LOOP_MUTATE_PACKAGE only has to name a known package to load it.
process.env.LOOP_MUTATE_PACKAGE = "core";
const { floors } = await import("../stryker.config.mjs");
const all = Object.keys(floors);
for (const name of asked) {
  if (!all.includes(name)) {
    console.error(`test:mutation: unknown package ${JSON.stringify(name)}; one of ${all.join(", ")}`);
    process.exit(2);
  }
}
const packages = asked.length > 0 ? asked : all;
const stryker = join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");

/**
 * Stryker's mutation score: detected (killed or timed out) over every valid mutant,
 * those no test covers included; compile and runtime errors and ignored mutants are left out.
 * @param {string} name
 */
function score(name) {
  const file = join(root, "reports", "mutation", name, "mutation.json");
  if (!existsSync(file)) return null;
  /** @type {{ files: Record<string, { mutants: { status: string }[] }> }} */
  const report = JSON.parse(readFileSync(file, "utf8"));
  const counts = /** @type {Record<string, number>} */ ({});
  for (const { mutants } of Object.values(report.files)) for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  return { score: (100 * detected) / Math.max(1, detected + undetected), detected, survived: counts.Survived ?? 0, noCoverage: counts.NoCoverage ?? 0 };
}

const lines = [];
let failed = false;
for (const name of packages) {
  const started = Date.now();
  console.log(`\n==== mutation testing @loop/${name} ====`);
  const args = [stryker, "run", "stryker.config.mjs"];
  if (force) args.push("--force");
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, LOOP_MUTATE_PACKAGE: name } });
  const seconds = Math.round((Date.now() - started) / 1000);
  const floor = floors[/** @type {keyof typeof floors} */ (name)];
  const s = result.status === 0 || result.status === 1 ? score(name) : null;
  if (s === null) {
    failed = true;
    lines.push(`${name}: no score (stryker exited with ${result.status ?? result.signal}) in ${seconds}s`);
    continue;
  }
  const ok = s.score >= floor && result.status === 0;
  if (!ok) failed = true;
  lines.push(`${name}: ${s.score.toFixed(2)}% (floor ${floor}%) ${ok ? "ok" : "UNDER THE FLOOR"}: ${s.detected} detected, ${s.survived} survived, ${s.noCoverage} not covered; ${seconds}s`);
}
console.log(`\n==== mutation scores ====\n${lines.join("\n")}`);
process.exit(failed ? 1 : 0);
