import { describe, expect, test } from "vitest";
import { CancelledError, TimeoutError, asCompleted, createTask, getRunningLoop, type Coroutine, type Future } from "../src/index.js";
import { catching, forever, runVirtual, sleep, virtualLoop } from "./helpers.js";

function* after<T>(ms: number, value: T): Coroutine<T> {
  yield* sleep(ms);
  return value;
}

describe("asCompleted", () => {
  test("the i-th future taken resolves to the i-th result to finish", async () => {
    const out = await runVirtual(function* () {
      const got: [string, number][] = [];
      for (const next of asCompleted([after(30, "a"), after(10, "b"), after(20, "c")])) {
        got.push([yield* next, getRunningLoop().time()]);
      }
      return got;
    });
    expect(out).toEqual([
      ["b", 10],
      ["c", 20],
      ["a", 30],
    ]);
  });

  test("taking every future first, then waiting on them, gives the same order", async () => {
    const out = await runVirtual(function* () {
      const slots = [...asCompleted([after(30, "a"), after(10, "b"), after(20, "c")])];
      const got: string[] = [];
      for (const s of slots) got.push(yield* s);
      return got;
    });
    expect(out).toEqual(["b", "c", "a"]);
  });

  test("futures already done are delivered in input order, and errors and cancellations are passed on", async () => {
    const out = await runVirtual(function* () {
      const boom = new Error("boom");
      const failing = createTask(
        (function* () {
          yield* sleep(5);
          throw boom;
        })(),
      );
      const cancelled = createTask(forever());
      getRunningLoop().callLater(10, () => cancelled.cancel("c"));
      const results: unknown[] = [];
      for (const next of asCompleted([failing, cancelled, after(15, "ok")])) {
        try {
          results.push(yield* next);
        } catch (e) {
          results.push(e instanceof CancelledError ? `cancelled:${(e as Error).message}` : e === boom ? "boom" : e);
        }
      }
      return results;
    });
    expect(out).toEqual(["boom", "cancelled:c", "ok"]);
  });

  test("past the timeout every future not yet resolved fails with TimeoutError; inputs are not cancelled", async () => {
    const out = await runVirtual(function* () {
      const slow = createTask(after(100, "slow"));
      const results: unknown[] = [];
      for (const next of asCompleted([after(10, "fast"), slow], { timeout: 50 })) {
        try {
          results.push(yield* next);
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
          results.push(`timeout@${getRunningLoop().time()}: ${e.message}`);
        }
      }
      results.push(slow.cancelled(), yield* slow);
      return results;
    });
    expect(out).toEqual(["fast", "timeout@50: asCompleted() timed out before this result was ready", false, "slow"]);
  });

  test("a timeout after everything finished changes nothing and the timer is cancelled", async () => {
    const out = await runVirtual(function* () {
      const it = asCompleted([after(1, 1)], { timeout: 50 });
      const r = yield* it.next().value!;
      return [r, it.next().done, getRunningLoop().timerCount];
    });
    expect(out).toEqual([1, true, 0]);
  });

  test("each argument error says what asCompleted wants and what it got", async () => {
    await runVirtual(function* () {
      // null and a string are the two a looser check lets through (typeof null is
      // "object"; a string is iterable, and its characters would be the awaitables).
      for (const bad of [null, undefined, 5, "ab", {}]) {
        expect(() => asCompleted(bad as never)).toThrow(new TypeError("asCompleted(aws): aws must be an iterable of awaitables"));
      }
      expect(() => asCompleted([], { timeout: -1 })).toThrow(new RangeError("asCompleted(aws, { timeout }): timeout must be >= 0 ms, got -1"));
      yield* sleep(0);
    });
  });

  test("argument errors are thrown at the call", async () => {
    expect(() => asCompleted([])).toThrow(/no running event loop/);
    await runVirtual(function* () {
      expect(() => asCompleted(5 as never)).toThrow(TypeError);
      expect(() => asCompleted([], { timeout: -1 })).toThrow(RangeError);
      expect([...asCompleted([])]).toEqual([]);
      const e = yield* catching(
        (function* () {
          for (const f of asCompleted([forever()], { timeout: 0 })) yield* f;
        })(),
      );
      expect(e).toBeInstanceOf(TimeoutError);
    });
  });

  test("futures taken after their inputs finished are resolved at once, in the order the inputs finished", async () => {
    const out = await runVirtual(function* () {
      const it = asCompleted([after(30, "a"), after(10, "b"), after(20, "c")]);
      yield* sleep(40);
      const slots = [...it];
      expect(slots.map((s) => s.done())).toEqual([true, true, true]);
      const got: string[] = [];
      for (const s of slots) got.push(yield* s);
      return got;
    });
    expect(out).toEqual(["b", "c", "a"]);
  });

  test("without a timeout, the last input finishing reports nothing to the loop's exception handler", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(context.exception ?? context.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const got: string[] = [];
        for (const next of asCompleted([after(2, "a"), after(1, "b")])) got.push(yield* next);
        yield* sleep(0);
        return got;
      })(),
    );
    loop.close();
    expect(out).toEqual(["b", "a"]);
    expect(reported).toEqual([]);
  });

  test("a timeout over no inputs arms no timer", async () => {
    const out = await runVirtual(function* () {
      const it = asCompleted([], { timeout: 50 });
      return [getRunningLoop().timerCount, it.next().done];
    });
    expect(out).toEqual([0, true]);
  });

  test("a taken future cancelled before its input finishes stays cancelled; the inputs finishing or timing out after it report nothing", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(context.exception ?? context.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const it = asCompleted([after(10, "a"), after(20, "b"), after(100, "c")], { timeout: 50 });
        const [first, second, third] = [...it] as [Future<string>, Future<string>, Future<string>];
        first.cancel();
        third.cancel();
        const b = yield* second; // the second input to finish: the first went to the cancelled future
        yield* sleep(60); // past the timeout, which would have failed the third
        return [first.cancelled(), b, third.cancelled(), loop.time()];
      })(),
    );
    loop.close();
    expect(out).toEqual([true, "b", true, 80]);
    expect(reported).toEqual([]);
  });
});
