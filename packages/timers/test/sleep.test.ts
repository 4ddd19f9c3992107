import { describe, expect, test } from "vitest";
import { CancelledError, createTask, getRunningLoop, run, type Coroutine } from "@loop/core";
import { sleep, sleepUntil } from "../src/index.js";
import { caught, virtual } from "./helpers.js";

describe("sleep", () => {
  test("sleep(3_600_000) returns at once in virtual time, with the clock advanced by exactly that", async () => {
    const started = performance.now();
    const t = await virtual(function* () {
      yield* sleep(3_600_000);
      return getRunningLoop().time();
    });
    expect(t).toBe(3_600_000);
    expect(performance.now() - started).toBeLessThan(10_000); // not an hour
  });

  test("returns its value", async () => {
    expect(await virtual(() => sleep(10, "x"))).toBe("x");
    expect(await virtual(() => sleep(0, 7))).toBe(7);
  });

  test("sleep(0) yields to the loop exactly once and schedules no timer", async () => {
    const log: string[] = [];
    await virtual(function* (): Coroutine<void> {
      const loop = getRunningLoop();
      const other = createTask(
        (function* (): Coroutine<void> {
          for (let i = 0; i < 3; i++) {
            log.push(`other ${i}`);
            yield;
          }
        })(),
      );
      yield; // let `other` take its first step
      log.push("before");
      const s = sleep(0);
      const first = s.next();
      log.push(`timers while sleeping: ${loop.timerCount}`);
      expect(first.done).toBe(false);
      expect(first.value).toBeUndefined(); // a bare yield: one turn
      yield first.value as undefined;
      expect(s.next().done).toBe(true);
      log.push("after");
      yield* other;
    });
    expect(log).toEqual(["other 0", "before", "timers while sleeping: 0", "other 1", "after", "other 2"]);
  });

  test("sleepers wake in deadline order, equal deadlines in call order", async () => {
    const log: string[] = [];
    await virtual(function* () {
      const tasks = [
        ["a", 30],
        ["b", 10],
        ["c", 20],
        ["d", 10],
      ].map(([name, ms]) =>
        createTask(
          (function* (): Coroutine<void> {
            yield* sleep(ms as number);
            log.push(`${name}@${getRunningLoop().time()}`);
          })(),
        ),
      );
      for (const t of tasks) yield* t;
    });
    expect(log).toEqual(["b@10", "d@10", "c@20", "a@30"]);
  });

  test("cancelling a sleeping task cancels its timer", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const t = createTask(sleep(1_000));
      yield* sleep(0);
      const during = loop.timerCount;
      t.cancel();
      const e = yield* caught(() => t);
      return [during, loop.timerCount, e instanceof CancelledError, loop.time()];
    });
    expect(out).toEqual([1, 0, true, 0]);
  });

  test("the sleep future is labelled for task dumps", async () => {
    const label = await virtual(function* () {
      const t = createTask(sleep(250));
      yield* sleep(0);
      const l = t.waitingOn()?.label;
      t.cancel();
      yield* caught(() => t);
      return l;
    });
    expect(label).toBe("sleep(250)");
  });

  test("works on the default poller in real time", async () => {
    const out = await run(function* () {
      const loop = getRunningLoop();
      const t0 = loop.time();
      yield* sleep(5);
      return loop.time() - t0;
    });
    expect(out).toBeGreaterThanOrEqual(4); // host timers have 1 ms granularity
  });

  test("arguments are checked at the call: RangeError for negative, NaN and Infinity, TypeError for a non-number", () => {
    expect(() => sleep(-1)).toThrow(RangeError);
    expect(() => sleep(-1)).toThrow(/sleep\(ms\): ms/);
    expect(() => sleep(Number.NaN)).toThrow(RangeError);
    expect(() => sleep(Infinity)).toThrow(RangeError);
    expect(() => sleep("1" as never)).toThrow(TypeError);
    expect(() => sleep(null as never)).toThrow(TypeError);
  });
});

describe("sleepUntil", () => {
  test("wakes at the given loop time", async () => {
    const out = await virtual(function* () {
      yield* sleepUntil(1_234);
      const a = getRunningLoop().time();
      yield* sleepUntil(1_000); // already passed: returns at once, time unchanged
      return [a, getRunningLoop().time()];
    });
    expect(out).toEqual([1_234, 1_234]);
  });

  test("arguments are checked at the call", () => {
    expect(() => sleepUntil(Number.NaN)).toThrow(/whenMs/);
    expect(() => sleepUntil(Infinity)).toThrow(RangeError);
    expect(() => sleepUntil("5" as never)).toThrow(TypeError);
  });
});
