/**
 * Runs every benchmark suite in `suites/` (or those named on the command line), each in
 * its own Node process so that one suite's garbage and JIT state cannot skew the next.
 *
 *   pnpm bench                       all suites (builds the packages first)
 *   pnpm --filter @loop/bench bench -- sync     suites whose file name contains "sync"
 *
 * Suites import the built packages (dist/), the code users run, not the sources.
 * A suite is `suites/<name>.bench.ts`: it builds a tinybench `Bench`, runs it and prints
 * `console.table(bench.table())`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => a !== "--");
const suites = readdirSync(join(here, "suites"))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (suites.length === 0) {
  console.log(
    filters.length ? `no suite matches ${filters.join(", ")}` : "no benchmark suites yet",
  );
}
let failed = 0;
for (const suite of suites) {
  console.log(`\n## ${suite}`);
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(here, "suites", suite)],
    {
      stdio: "inherit",
      cwd: here,
    },
  );
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
