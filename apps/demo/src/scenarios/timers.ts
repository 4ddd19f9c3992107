import { TimeoutError, getRunningLoop, run, type Coroutine } from "@loop/core";
import { interval, sleep, timeout, waitFor } from "@loop/timers";
import type { Scenario } from "../scenario.js";

/** A call to a slow service: answers after `ms` milliseconds. */
function* slowCall(what: string, ms: number): Coroutine<string> {
  yield* sleep(ms);
  return `${what} answered after ${ms} ms`;
}

/**
 * The timers of @loop/timers in a few hundred milliseconds: a `timeout` scope around a
 * call too slow for it (the body is cancelled, the scope throws `TimeoutError`), `waitFor`
 * on a call that makes it and one that does not, and an `interval` ticking three times on
 * a drift-free schedule. Times are printed relative to the start; returns the lines' data.
 */
export function* timersTour(print: (line: string) => void): Coroutine<void> {
  const loop = getRunningLoop();
  const start = loop.time();
  const at = (): string => `${Math.round(loop.time() - start)} ms`.padStart(7);

  try {
    yield* timeout(200, function* () {
      try {
        print(`${at()}  timeout(200): calling a service that takes 1000 ms`);
        yield* slowCall("slow service", 1_000);
      } finally {
        print(`${at()}  the slow call was cancelled; its cleanup ran`);
      }
    });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    print(`${at()}  caught ${error.name}: ${error.message}`);
  }

  const fast = yield* waitFor(slowCall("fast service", 50), 100);
  print(`${at()}  waitFor(…, 100): ${fast}`);
  try {
    yield* waitFor(slowCall("sluggish service", 300), 100);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    print(`${at()}  waitFor(…, 100) on a 300 ms call: ${error.name}`);
  }

  using ticker = interval(100);
  for (let i = 1; i <= 3; i++) {
    const scheduled = yield* ticker.tick();
    print(`${at()}  tick ${i} (scheduled at ${Math.round(scheduled - start)} ms)`);
    yield* sleep(30); // work shorter than the period does not shift the schedule
  }
}

export const timersScenario: Scenario = {
  name: "timers",
  description: "timeout around a slow call (TimeoutError), waitFor, and an interval ticking three times",
  async run() {
    await run(timersTour((line) => console.log(line)));
  },
};
