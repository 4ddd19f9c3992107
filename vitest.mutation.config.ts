import { resolve } from "node:path";
import { defineConfig, defineProject, mergeConfig } from "vitest/config";
import { loopProject } from "./vitest.shared.ts";

/**
 * The Vitest config StrykerJS runs (see stryker.config.mjs): one package's project, rooted
 * at that package inside Stryker's sandbox. It has no `execArgv`: Stryker's runner uses
 * Vitest's thread pool, where node flags cannot be set per worker, so core's
 * `--expose-gc` is passed to the runner process instead (`testRunnerNodeArgs`).
 */
const name = process.env.LOOP_MUTATE_PACKAGE;
if (name === undefined || name === "")
  throw new Error("vitest.mutation.config.ts: set LOOP_MUTATE_PACKAGE (run `pnpm test:mutation`)");

// Property tests try a fifth of their cases (at least 30; test/property-runs.ts): each
// one runs again for every mutant it covers, and a mutant it can kill fails early.
// LOOP_MUTATION_RUN: the sandbox holds no build output (dist/ is git-ignored), so tests
// of the built package skip there; a built package carries no mutant anyway.
const env = { LOOP_PROPERTY_RUNS_DIVISOR: "5", LOOP_MUTATION_RUN: "1" };

const own = mergeConfig(
  loopProject(name),
  defineProject({ root: resolve(import.meta.dirname, "packages", name), test: { env } }),
);

/**
 * @loop/selector's processes driver (processes.ts, pipes.ts) is tested by @loop/process's
 * tests run on a SelectorPoller (packages/process/vitest.selector.config.ts). Under
 * mutation they run beside selector's own, with `@loop/selector` pointed at the mutated
 * sources: through node_modules it would resolve to the unmutated checkout.
 */
function processOnSelector() {
  const processRoot = resolve(import.meta.dirname, "packages", "process");
  return mergeConfig(
    loopProject("process-selector"),
    defineProject({
      root: processRoot,
      resolve: {
        alias: [
          { find: /^@loop\/core$/, replacement: resolve(processRoot, "test/selector-core.ts") },
          { find: /^@loop\/selector$/, replacement: resolve(import.meta.dirname, "packages/selector/src/index.ts") },
        ],
      },
      test: {
        exclude: ["test/fake-processes.test.ts", "test/surface.test.ts"],
        env: { ...env, LOOP_PROCESS_DRIVER: "selector" },
      },
    }),
  );
}

export default name === "selector" ? defineConfig({ test: { projects: [own, processOnSelector()] } }) : own;
