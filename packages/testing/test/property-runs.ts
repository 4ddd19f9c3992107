/**
 * How many cases a fast-check property tries: `full` in the test suite; under mutation
 * testing (vitest.mutation.config.ts sets LOOP_PROPERTY_RUNS_DIVISOR) a fraction of it, never
 * under 30 (nor above `full`). Stryker runs a property once per mutant it covers, and a
 * mutant a property can kill almost always fails within its first few cases; the full
 * count is for the rare states the ordinary suite should still reach.
 */
export function propertyRuns(full: number): number {
  const divisor = Number(process.env["LOOP_PROPERTY_RUNS_DIVISOR"] ?? "1");
  if (!(divisor > 1)) return full;
  return Math.min(full, Math.max(30, Math.ceil(full / divisor)));
}
