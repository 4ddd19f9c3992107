// @ts-check
import { readFileSync } from "node:fs";
/**
 * Mutation testing with StrykerJS, one package per run: `pnpm test:mutation [package…]`
 * (scripts/mutation.mjs sets LOOP_MUTATE_PACKAGE and runs `stryker run` once per package).
 * Each package's src/ is mutated and only its own tests run against the mutants. The
 * incremental file is checked in, so a run re-tests only the mutants whose code or
 * covering tests changed. Reading a surviving mutant: CONTRIBUTING.md, "Mutation testing".
 */

/** The lowest mutation score (%) each package may have; a run under it fails. */
export const floors = {
  core: 90,
  sync: 90,
  timers: 90,
  testing: 80,
  net: 80,
  debug: 80,
  workers: 80,
  process: 80,
  selector: 80,
  "eslint-plugin": 80,
};

const name = process.env.LOOP_MUTATE_PACKAGE ?? "";
if (!(name in floors)) {
  throw new Error(
    `stryker.config.mjs: LOOP_MUTATE_PACKAGE must be one of ${Object.keys(floors).join(", ")}, got ${JSON.stringify(name)}`,
  );
}
const floor = floors[/** @type {keyof typeof floors} */ (name)];

/**
 * The sandbox Stryker copies the repository into holds what a fresh clone holds: every
 * path .gitignore names is left out (build output, reports, and in CI the Node.js binaries
 * in .cache/, hundreds of megabytes). Tests then see the same files on a developer's
 * machine as in CI, where the run starts from a clone. Workspace packages the tests import
 * resolve through the node_modules symlinks to the real checkout, not to the sandbox.
 */
const gitIgnored = readFileSync(new URL(".gitignore", import.meta.url), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"))
  // In .gitignore a pattern with no slash but a trailing one matches at any depth;
  // Stryker's patterns match from the root unless they start with **/.
  .map((line) => (line.replace(/\/$/, "").includes("/") ? line : `**/${line}`));

export default {
  packageManager: "pnpm",
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  // core's tests force garbage collections (globalThis.gc).
  testRunnerNodeArgs: name === "core" ? ["--expose-gc"] : [],
  coverageAnalysis: "perTest",
  mutate: [`packages/${name}/src/**/*.ts`],
  ignorePatterns: [...gitIgnored, "/reports"],
  incremental: true,
  incrementalFile: `packages/${name}/stryker-incremental.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `reports/mutation/${name}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${name}/mutation.json` },
  clearTextReporter: {
    allowColor: false,
    logTests: false,
    reportTests: false,
    reportMutants: false,
    reportScoreTable: true,
  },
  // Stryker wants high > low; a floor of 95 or more must still load.
  thresholds: {
    high: Math.min(100, Math.max(95, floor + 1)),
    low: Math.min(floor, 99),
    break: floor,
  },
  // Two cores are shared on the CI and dev machines: one test runner at a time, unless
  // LOOP_MUTATION_CONCURRENCY says the machine is free (a first baseline on a quiet one).
  concurrency: Number(process.env.LOOP_MUTATION_CONCURRENCY ?? 1),
  timeoutMS: 10_000,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
