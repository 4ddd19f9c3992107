import { CancelledError, createTask, currentTask, getRunningLoop } from "@loop/core";
import { describe, expect, test } from "vitest";
import {
  interval,
  sleep,
  timeout,
  timeoutAt,
  type MissedTicks,
  type Timeout,
} from "../src/index.js";
import { caught, virtual, withPoller } from "./helpers.js";

// Behaviours that mutation testing (`pnpm test:mutation`, see CONTRIBUTING.md) found
// unpinned: each test here fails on a specific wrong implementation that passed the
// rest of the suite.

describe("interval when the loop itself is blocked while a task waits in tick()", () => {
  /** Ticks 4 times at period 100; while the ticker waits for its tick at 100, other code blocks the loop from `at` for `block` ms. */
  function blockedTicks(
    missed: MissedTicks,
    at: number,
    block: number,
  ): Promise<[number, number][]> {
    return withPoller(function* (poller) {
      const loop = getRunningLoop();
      const ticker = interval(100, { missed });
      createTask(
        (function* () {
          yield* sleep(at);
          poller.clock.jump(block); // blocking work: the loop cannot wake the ticker on time
        })(),
      );
      const out: [number, number][] = [];
      for (let i = 0; i < 4; i++) {
        const tick = yield* ticker.tick();
        out.push([tick, loop.time()]);
      }
      ticker.stop();
      return out;
    });
  }

  test('"skip" drops the ticks the blocked loop missed and keeps the k·period grid', async () => {
    expect(await blockedTicks("skip", 50, 300)).toEqual([
      [0, 0],
      [100, 350],
      [400, 400],
      [500, 500],
    ]);
  });

  test('"delay" restarts the schedule a whole period after the late tick', async () => {
    expect(await blockedTicks("delay", 50, 300)).toEqual([
      [0, 0],
      [100, 350],
      [450, 450],
      [550, 550],
    ]);
  });

  test('lateness below one period while waiting is the host\'s and keeps the schedule, even for "delay"', async () => {
    expect(await blockedTicks("delay", 90, 50)).toEqual([
      [0, 0],
      [100, 140],
      [200, 200],
      [300, 300],
    ]);
  });
});

describe("timeout", () => {
  test("a scope that did not expire keeps a cancel() of its task made inside the body pending", async () => {
    const out = await virtual(function* () {
      const me = currentTask()!;
      const result = yield* timeout(1_000, function* () {
        me.cancel(); // no suspension follows inside the body
        return "body done";
      });
      const cancelling = me.cancelling();
      const error = yield* caught(() => sleep(1));
      me.uncancel();
      return { result, cancelling, error };
    });
    expect(out.result).toBe("body done");
    expect(out.cancelling).toBe(1);
    expect(out.error).toBeInstanceOf(CancelledError);
  });

  test("a scope whose generator is closed from outside mid-body is disarmed: it finishes and never cancels the task", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const co = timeout(10, function* (s) {
        scope = s;
        yield* sleep(1_000);
      });
      const first = co.next();
      expect(first.done).toBe(false);
      co.return(undefined as never);
      const state = String(scope);
      // Past the deadline: an armed scope would cancel this task here.
      const error = yield* caught(() => sleep(50));
      return { state, expired: scope!.expired(), error, cancelling: currentTask()!.cancelling() };
    });
    expect(out.state).toBe("<Timeout [finished]>");
    expect(out.expired).toBe(false);
    expect(out.error).toBe("returned");
    expect(out.cancelling).toBe(0);
  });

  test('timeoutAt("5"): a string deadline is a TypeError at the call, naming whenMs', async () => {
    await virtual(function* () {
      expect(() => timeoutAt("5" as never, function* () {})).toThrow(TypeError);
      expect(() => timeoutAt("5" as never, function* () {})).toThrow(/whenMs/);
      expect(() => timeout("5" as never, function* () {})).toThrow(TypeError);
    });
  });
});
