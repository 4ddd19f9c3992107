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

/** The mutated sources of a package, for an alias: through node_modules a package resolves to the unmutated checkout. */
const mutated = (pkg: string) => resolve(import.meta.dirname, "packages", pkg, "src/index.ts");

/**
 * A project running another package's tests against this one's mutated sources: for code
 * whose behaviour is pinned by the tests of the package that uses it.
 */
function borrowed(project: string, root: string, alias: { find: RegExp; replacement: string }[], test: Record<string, unknown>) {
  const config = mergeConfig(
    loopProject(project),
    defineProject({ root: resolve(import.meta.dirname, "packages", root), resolve: { alias }, test: { ...test, env: { ...env, ...(test.env as object | undefined) } } }),
  );
  // mergeConfig appends arrays: a list of files replaces the package's `test/**/*.test.ts`.
  if (test.include !== undefined && config.test !== undefined) config.test.include = test.include as string[];
  return config;
}

/**
 * Tests borrowed from other packages, per mutated package. @loop/selector's processes
 * driver (processes.ts, pipes.ts) is tested by @loop/process's tests run on a
 * SelectorPoller (packages/process/vitest.selector.config.ts). @loop/testing's memory
 * network and datagrams are tested by @loop/net's suites run over them, and its fake
 * processes by @loop/process's tests of them.
 */
const borrowedTests: Record<string, () => ReturnType<typeof loopProject>[]> = {
  selector: () => [
    borrowed(
      "process-selector",
      "process",
      [
        { find: /^@loop\/core$/, replacement: resolve(import.meta.dirname, "packages/process/test/selector-core.ts") },
        { find: /^@loop\/selector$/, replacement: mutated("selector") },
      ],
      { exclude: ["test/fake-processes.test.ts", "test/surface.test.ts"], env: { LOOP_PROCESS_DRIVER: "selector" } },
    ),
  ],
  testing: () => {
    const alias = [{ find: /^@loop\/testing$/, replacement: mutated("testing") }];
    return [
      borrowed("net-memory", "net", alias, {
        include: ["test/streams-memory.test.ts", "test/datagram-memory.test.ts", "test/reader-streams.test.ts", "test/connect-timeout.test.ts"],
      }),
      borrowed("process-fakes", "process", alias, { include: ["test/fake-processes.test.ts"] }),
    ];
  },
};

const extra = borrowedTests[name]?.() ?? [];
export default extra.length > 0 ? defineConfig({ test: { projects: [own, ...extra] } }) : own;
