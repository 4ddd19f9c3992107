#!/usr/bin/env node
/**
 * `pnpm test:mutation [package…]`: StrykerJS over each package in turn (all of them
 * without arguments), with stryker.config.mjs. Runs are incremental: only mutants whose
 * code or covering tests changed since the checked-in `packages/<pkg>/stryker-incremental.json`
 * are tested again (`--force` re-tests everything). Reports go to reports/mutation/<pkg>/.
 * Prints each package's score beside its floor and exits non-zero if any is under it.
 *
 * `--baselined` (what CI runs, .ci/run) checks only the packages whose incremental file is
 * checked in and names every other one as having NO BASELINE: a full first run of a
 * package can take an hour, too long for CI, so committing that file is what turns the
 * check on for a package.
 *
 * `--mutate <globs>` (one package only) tests a part of it: Stryker keeps the results of
 * the files outside the part, so a package too big to run in one sitting gets its first
 * baseline in parts. Until its baseline exists the parts go to
 * `packages/<pkg>/stryker-incremental.partial.json`, which CI does not check; a run
 * without `--mutate` starts from that file and turns it into the baseline.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const rawArgs = process.argv.slice(2).filter((a) => a !== "--");
const force = rawArgs.includes("--force");
const baselinedOnly = rawArgs.includes("--baselined");
const mutateAt = rawArgs.indexOf("--mutate");
const mutate = mutateAt === -1 ? null : rawArgs[mutateAt + 1];
if (mutate === undefined || mutate?.startsWith("--")) {
  console.error(
    "test:mutation: --mutate needs a value, e.g. --mutate packages/core/src/task.ts,packages/core/src/future.ts",
  );
  process.exit(2);
}
const asked = rawArgs.filter(
  (a, i) =>
    a !== "--force" &&
    a !== "--baselined" &&
    (mutateAt === -1 || (i !== mutateAt && i !== mutateAt + 1)),
);

// The floors live in the config; LOOP_MUTATE_PACKAGE only has to name a known package to load it.
process.env.LOOP_MUTATE_PACKAGE = "core";
const { floors } = await import("../stryker.config.mjs");
const all = Object.keys(floors);
for (const name of asked) {
  if (!all.includes(name)) {
    console.error(
      `test:mutation: unknown package ${JSON.stringify(name)}; one of ${all.join(", ")}`,
    );
    process.exit(2);
  }
}
/** @param {string} name */
const incrementalFile = (name) => join(root, "packages", name, "stryker-incremental.json");
/** The results of a first baseline run in parts (`--mutate`), until the baseline exists. @param {string} name */
const partialFile = (name) => join(root, "packages", name, "stryker-incremental.partial.json");
if (mutate !== null && asked.length !== 1) {
  console.error("test:mutation: --mutate tests a part of one package; name exactly one");
  process.exit(2);
}
const chosen = asked.length > 0 ? asked : all;
const unbaselined = baselinedOnly
  ? chosen.filter((name) => !existsSync(incrementalFile(name)))
  : [];
const packages = chosen.filter((name) => !unbaselined.includes(name));
const noBaseline = unbaselined.map((name) => {
  const partial = existsSync(partialFile(name))
    ? ` (a first run in parts is under way: ${describePartial(partialFile(name))}; \`pnpm test:mutation ${name}\` finishes it)`
    : "";
  return `${name}: NO BASELINE, not mutation-tested${partial}: run \`pnpm test:mutation ${name}\`, raise it to its floor and commit packages/${name}/stryker-incremental.json`;
});
if (noBaseline.length > 0)
  console.log(`\n==== NO BASELINE: not checked ====\n${noBaseline.join("\n")}`);
const stryker = join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");

/**
 * Stryker's mutation score: detected (killed or timed out) over every valid mutant,
 * those no test covers included; compile and runtime errors and ignored mutants are left out.
 * @param {string} name
 */
function score(name) {
  const file = join(root, "reports", "mutation", name, "mutation.json");
  if (!existsSync(file)) return null;
  return countStatuses(JSON.parse(readFileSync(file, "utf8")));
}

/** @param {{ files: Record<string, { mutants: { status: string }[] }> }} report */
function countStatuses(report) {
  const counts = /** @type {Record<string, number>} */ ({});
  for (const { mutants } of Object.values(report.files))
    for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  return {
    score: (100 * detected) / Math.max(1, detected + undetected),
    detected,
    survived: counts.Survived ?? 0,
    noCoverage: counts.NoCoverage ?? 0,
  };
}

/**
 * How far a first run in parts got: the files and mutants it has results for, and the score over them.
 * @param {string} file
 */
function describePartial(file) {
  /** @type {{ files: Record<string, { mutants: { status: string }[] }> }} */
  const report = JSON.parse(readFileSync(file, "utf8"));
  const s = countStatuses(report);
  return `${Object.keys(report.files).length} files, ${s.detected + s.survived + s.noCoverage} mutants, ${s.score.toFixed(2)}% so far`;
}

/**
 * Stryker writes the absolute path of the checkout into the incremental file (projectRoot,
 * and the sandbox's paths in stack traces); the checked-in file names paths relative to
 * the repository instead, so that it is the same on every machine. Returns the new text.
 * @param {string} file
 */
function dropMachinePaths(file) {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8");
  const inJson = JSON.stringify(root).slice(1, -1);
  // Stryker shortens long failure messages with "…", which can cut the path short too.
  const cut = new RegExp(
    `${inJson.slice(0, 2).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}[^"\\s…]*…`,
    "g",
  );
  const relative = text
    .split(inJson)
    .join(".")
    .replace(cut, (m) => (inJson.startsWith(m.slice(0, -1)) ? "…" : m));
  if (relative !== text) writeFileSync(file, relative);
  return relative;
}

/**
 * What an incremental file says, without what changes from run to run (Stryker numbers
 * the tests afresh each time): each file's source, each mutant's place and status, each
 * test file's source and test names. Two runs with no change give the same string.
 * @param {string | null} text
 */
function meaning(text) {
  if (text === null) return null;
  /** @typedef {{ line: number, column: number }} Position */
  /** @type {{ files: Record<string, { source: string, mutants: { mutatorName: string, replacement?: string, status: string, location: { start: Position, end: Position } }[] }>, testFiles?: Record<string, { source?: string, tests: { name: string }[] }> }} */
  const report = JSON.parse(text);
  const where = (/** @type {Position} */ p) => `${p.line}:${p.column}`;
  const files = Object.entries(report.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { source, mutants }]) => [
      name,
      source,
      mutants
        .map(
          (m) =>
            `${m.mutatorName} ${where(m.location.start)}-${where(m.location.end)} ${m.replacement ?? ""} ${m.status}`,
        )
        .sort(),
    ]);
  const tests = Object.entries(report.testFiles ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { source, tests }]) => [name, source ?? "", tests.map((t) => t.name).sort()]);
  return JSON.stringify([files, tests]);
}

const lines = [];
let failed = false;
for (const name of packages) {
  const started = Date.now();
  // Without a baseline, a run in parts (--mutate) adds to the partial file; a whole run starts
  // from it and, once it has a score, becomes the baseline.
  const hasBaseline = existsSync(incrementalFile(name));
  const inParts = mutate !== null && !hasBaseline;
  const resultsFile =
    hasBaseline || !existsSync(partialFile(name)) ? incrementalFile(name) : partialFile(name);
  const before = existsSync(resultsFile) ? readFileSync(resultsFile, "utf8") : null;
  // A run that fails before reporting must not be scored from the last run's report.
  rmSync(join(root, "reports", "mutation", name, "mutation.json"), { force: true });
  console.log(`\n==== mutation testing @loop/${name} ====`);
  const args = [stryker, "run", "stryker.config.mjs"];
  if (force) args.push("--force");
  if (mutate !== null) args.push("--mutate", mutate);
  // Relative to the root: Stryker copies the option into the file it writes.
  if (inParts || resultsFile === partialFile(name))
    args.push("--incrementalFile", `packages/${name}/stryker-incremental.partial.json`);
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, LOOP_MUTATE_PACKAGE: name },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const written = inParts ? partialFile(name) : resultsFile;
  const after = dropMachinePaths(written);
  const floor = floors[/** @type {keyof typeof floors} */ (name)];
  const s = result.status === 0 || result.status === 1 ? score(name) : null;
  if (s !== null && mutate === null && written === partialFile(name)) {
    // The whole package has results now: the partial file is its baseline.
    renameSync(written, incrementalFile(name));
  }
  if (s === null) {
    failed = true;
    lines.push(
      `${name}: no score (stryker exited with ${result.status ?? result.signal}) in ${seconds}s`,
    );
    continue;
  }
  if (inParts) {
    lines.push(
      `${name}: part done in ${seconds}s (${mutate}); results so far in packages/${name}/stryker-incremental.partial.json: ${describePartial(partialFile(name))} (floor ${floor}%, held once the whole package has run)`,
    );
    continue;
  }
  const ok = s.score >= floor && result.status === 0;
  if (!ok) failed = true;
  const stale =
    before !== null && meaning(after) !== meaning(before)
      ? "; results changed: commit its stryker-incremental.json with your change"
      : "";
  lines.push(
    `${name}: ${s.score.toFixed(2)}% (floor ${floor}%) ${ok ? "ok" : "UNDER THE FLOOR"}: ${s.detected} detected, ${s.survived} survived, ${s.noCoverage} not covered; ${seconds}s${stale}`,
  );
}
console.log(`\n==== mutation scores ====\n${[...lines, ...noBaseline].join("\n")}`);
process.exit(failed ? 1 : 0);
