import { gather, getRunningLoop, run, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";
import type { Scenario } from "../scenario.js";

/** A request that takes `ms` milliseconds: asyncio's introductory example. */
function* fetchOne(name: string, ms: number): Coroutine<string> {
  yield* sleep(ms);
  return `${name} done`;
}

/**
 * The example every asyncio introduction starts with: three requests of 1, 3 and 2
 * seconds, awaited one after another (about 6 s), then concurrently with `gather`
 * (about 3 s, the longest of the three). Prints both timings; returns them in ms.
 */
export function* sequentialThenGather(print: (line: string) => void): Coroutine<{ sequentialMs: number; gatheredMs: number }> {
  const loop = getRunningLoop();
  let start = loop.time();
  for (const [name, ms] of [["a", 1000], ["b", 3000], ["c", 2000]] as const) {
    print(`  ${yield* fetchOne(name, ms)}`);
  }
  const sequentialMs = loop.time() - start;
  print(`one after another: ${(sequentialMs / 1000).toFixed(2)} s`);

  start = loop.time();
  const results = yield* gather([fetchOne("a", 1000), fetchOne("b", 3000), fetchOne("c", 2000)]);
  const gatheredMs = loop.time() - start;
  print(`  ${results.join(", ")}`);
  print(`with gather:       ${(gatheredMs / 1000).toFixed(2)} s`);
  return { sequentialMs, gatheredMs };
}

export const hello: Scenario = {
  name: "hello",
  description: "three requests of 1, 3 and 2 s: one after another (~6 s), then with gather (~3 s)",
  async run() {
    await run(sequentialThenGather((line) => console.log(line)));
  },
};
