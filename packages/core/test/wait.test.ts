import { describe, expect, test } from "vitest";
import { ALL_COMPLETED, CancelledError, FIRST_COMPLETED, FIRST_EXCEPTION, Future, createTask, getRunningLoop, wait, type Coroutine } from "../src/index.js";
import { catching, forever, runVirtual, sleep, virtualLoop } from "./helpers.js";

function* after<T>(ms: number, value: T): Coroutine<T> {
  yield* sleep(ms);
  return value;
}

function* failAfter(ms: number, error: unknown): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

describe("wait", () => {
  test("ALL_COMPLETED (the default) waits for every future and cancels nothing", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(10, "a"));
      const b = createTask(failAfter(20, new Error("b")));
      const { done, pending } = yield* wait([a, b]);
      return [done.size, pending.size, done.has(a), done.has(b), getRunningLoop().time()];
    });
    expect(out).toEqual([2, 0, true, true, 20]);
  });

  test("FIRST_COMPLETED returns when one finishes; the rest keep running", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(10, "a"));
      const b = createTask(after(20, "b"));
      const { done, pending } = yield* wait([a, b], { returnWhen: FIRST_COMPLETED });
      const t = getRunningLoop().time();
      const br = yield* b;
      return [[...done], [...pending], t, br];
    });
    expect(out[2]).toBe(10);
    expect((out[0] as unknown[]).length).toBe(1);
    expect((out[1] as unknown[]).length).toBe(1);
    expect(out[3]).toBe("b");
  });

  test("FIRST_EXCEPTION returns at the first error, not at a success", async () => {
    const out = await runVirtual(function* () {
      const ok = createTask(after(5, "ok"));
      const bad = createTask(failAfter(10, new Error("bad")));
      const slow = createTask(after(30, "slow"));
      const { done, pending } = yield* wait([ok, bad, slow], { returnWhen: FIRST_EXCEPTION });
      return [done.has(ok), done.has(bad), pending.has(slow), getRunningLoop().time()];
    });
    expect(out).toEqual([true, true, true, 10]);
  });

  test("FIRST_EXCEPTION with no error waits for all; a cancellation is not an exception", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(5, "a"));
      const c = createTask(forever());
      const b = createTask(after(20, "b"));
      getRunningLoop().callLater(10, () => c.cancel());
      const { done, pending } = yield* wait([a, c, b], { returnWhen: "FIRST_EXCEPTION" });
      return [done.size, pending.size, getRunningLoop().time()];
    });
    expect(out).toEqual([3, 0, 20]);
  });

  test("a timeout returns what is done so far, without TimeoutError and without cancelling", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(5, "a"));
      const b = createTask(after(100, "b"));
      const { done, pending } = yield* wait([a, b], { timeout: 50, returnWhen: ALL_COMPLETED });
      const t = getRunningLoop().time();
      return [done.has(a), pending.has(b), t, b.cancelled(), yield* b];
    });
    expect(out).toEqual([true, true, 50, false, "b"]);
  });

  test("done futures are reported as done at once; timeout 0 still returns them", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      f.setResult(1);
      const g = new Future<number>();
      const { done, pending } = yield* wait([f, g], { timeout: 0 });
      return [done.has(f), pending.has(g)];
    });
    expect(out).toEqual([true, true]);
  });

  test("accepts a Promise and wraps it; duplicates count once", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(after(1, 1));
      const { done } = yield* wait([t, t, Promise.resolve(2) as never]);
      return done.size;
    });
    expect(out).toBe(2);
  });

  test("each argument error says what wait wants and what it got", async () => {
    await runVirtual(function* () {
      // null and a string are the two a looser check lets through (typeof null is
      // "object"; a string is iterable, and its characters would be the awaitables).
      for (const bad of [null, undefined, 42, "ab", {}]) {
        expect(() => wait(bad as never)).toThrow(new TypeError("wait(aws): aws must be an iterable of futures or tasks"));
      }
      const t = createTask(after(1, 1));
      expect(() => wait([t], { returnWhen: "SOMETIMES" as never })).toThrow(
        new RangeError('wait(aws, { returnWhen }): returnWhen must be "FIRST_COMPLETED", "FIRST_EXCEPTION" or "ALL_COMPLETED", got "SOMETIMES"'),
      );
      expect(() => wait([t], { timeout: "1" as never })).toThrow(new TypeError("wait(aws, { timeout }): timeout must be a number of milliseconds or null, got string"));
      expect(() => wait([t], { timeout: NaN })).toThrow(new RangeError("wait(aws, { timeout }): timeout is NaN"));
      expect(() => wait([t], { timeout: -1 })).toThrow(new RangeError("wait(aws, { timeout }): timeout must be >= 0 ms, got -1"));
      yield* t;
    });
  });

  test("FIRST_EXCEPTION looks at a cancelled future without raising its CancelledError in the loop", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(context.exception ?? context.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const c = createTask(forever());
        const b = createTask(after(20, "b"));
        loop.callLater(10, () => c.cancel());
        const { done, pending } = yield* wait([c, b], { returnWhen: "FIRST_EXCEPTION" });
        return [done.size, pending.size, loop.time()];
      })(),
    );
    loop.close();
    expect(out).toEqual([2, 0, 20]);
    expect(reported).toEqual([]);
  });

  test("argument errors are thrown at the call", async () => {
    await runVirtual(function* () {
      expect(() => wait([])).toThrow(RangeError);
      expect(() => wait([])).toThrow(/aws is empty/);
      const t = createTask(after(1, 1));
      expect(() => wait([t], { returnWhen: "SOMETIMES" as never })).toThrow(RangeError);
      expect(() => wait([after(1, 1)] as never)).toThrow(TypeError);
      expect(() => wait([after(1, 1)] as never)).toThrow(/wrap each in a task first/);
      expect(() => wait(42 as never)).toThrow(TypeError);
      expect(() => wait([t], { timeout: -1 })).toThrow(RangeError);
      expect(() => wait([t], { timeout: NaN })).toThrow(RangeError);
      expect(() => wait([t], { timeout: "1" as never })).toThrow(TypeError);
      const { done } = yield* wait([t], { timeout: Infinity });
      expect(done.has(t)).toBe(true);
      const again = yield* wait([t], { timeout: null });
      expect(again.done.size).toBe(1);
    });
  });

  test("a cancelled wait cancels nothing it waited on and leaves no callbacks behind", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(50, "a"));
      const w = createTask(wait([a], { timeout: 30 }));
      yield* sleep(1);
      w.cancel();
      try {
        yield* w;
      } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the waiter was cancelled by this test, which expects exactly that error
        // cancelled
      }
      return [a.cancelled(), a._callback === null, getRunningLoop().timerCount];
    });
    expect(out).toEqual([false, true, 1]);
  });

  test("returnWhen takes its names as plain strings, which are what the constants hold (asyncio's are strings too)", async () => {
    expect([FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED]).toEqual(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]);
    const out = await runVirtual(function* () {
      const a = createTask(after(10, "a"));
      const b = createTask(after(20, "b"));
      const first = yield* wait([a, b], { returnWhen: "FIRST_COMPLETED" });
      const t1 = getRunningLoop().time();
      const all = yield* wait([a, b], { returnWhen: "ALL_COMPLETED" });
      return [first.done.has(a), first.pending.has(b), t1, all.done.size, getRunningLoop().time()];
    });
    expect(out).toEqual([true, true, 10, 2, 20]);
  });

  test("ALL_COMPLETED does not return at an error: only FIRST_EXCEPTION does", async () => {
    const out = await runVirtual(function* () {
      const bad = createTask(failAfter(5, new Error("bad")));
      const ok = createTask(after(20, "ok"));
      const { done, pending } = yield* wait([bad, ok]);
      return [done.has(bad), done.has(ok), pending.size, getRunningLoop().time()];
    });
    expect(out).toEqual([true, true, 0, 20]);
  });

  test("FIRST_COMPLETED with two futures finishing in the same turn reports both done and releases the waiter once", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(context.exception ?? context.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const f = loop.createFuture<number>();
        const g = loop.createFuture<number>();
        loop.callLater(5, () => {
          f.setResult(1);
          g.setResult(2);
        });
        const { done, pending } = yield* wait([f, g], { returnWhen: FIRST_COMPLETED });
        return [done.size, pending.size, loop.time()];
      })(),
    );
    loop.close();
    expect(out).toEqual([2, 0, 5]);
    expect(reported).toEqual([]);
  });

  test("a wait cancelled in the turn its timeout fires, before the timer runs, ends cancelled and reports nothing", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(context.exception ?? context.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const pending = loop.createFuture<number>();
        // Armed before the wait's own timer, for the same time: it runs first in that turn.
        const log: string[] = [];
        let w: Future<unknown> | null = null;
        loop.callLater(30, () => {
          log.push("cancel");
          w?.cancel();
        });
        w = createTask(wait([pending], { timeout: 30 }));
        const e = yield* catching(w);
        return [e instanceof CancelledError, log, loop.time(), pending.done(), loop.timerCount];
      })(),
    );
    loop.close();
    expect(out).toEqual([true, ["cancel"], 30, false, 0]);
    expect(reported).toEqual([]);
  });

  test("timeout Infinity arms no timer, like null", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(after(10, "a"));
      const counts: number[] = [];
      const w = createTask(wait([a], { timeout: Infinity }));
      yield* sleep(0);
      counts.push(getRunningLoop().timerCount); // a's sleep only
      yield* w;
      return counts;
    });
    expect(out).toEqual([1]);
  });
});
