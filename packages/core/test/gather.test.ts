import { describe, expect, test } from "vitest";
import { CancelledError, Future, GatheringFuture, createTask, currentTask, gather, type Coroutine } from "../src/index.js";
import { catching, forever, runVirtual, sleep, virtualLoop } from "./helpers.js";

function* after<T>(ms: number, value: T, log?: string[]): Coroutine<T> {
  yield* sleep(ms);
  log?.push(String(value));
  return value;
}

function* failAfter(ms: number, error: unknown): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

describe("gather", () => {
  test("a task awaiting a gather resumes one turn after the last child finishes (asyncio takes two)", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      createTask(
        (function* (): Coroutine<void> {
          for (let i = 0; i < 4; i++) {
            log.push(`turn ${i + 1}`);
            yield;
          }
        })(),
      );
      yield* gather([
        (function* (): Coroutine<void> {
          log.push("child done");
        })(),
      ]);
      log.push("parent resumed");
    });
    // asyncio: ["turn 1", "child done", "turn 2", "turn 3", "parent resumed", …]
    expect(log.slice(0, 4)).toEqual(["turn 1", "child done", "turn 2", "parent resumed"]);
  });

  test("gives the results in argument order, whatever the finishing order", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const results = yield* gather([after(30, "a", log), after(10, "b", log), after(20, "c", log)]);
      return [results, log];
    });
    expect(out).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
    ]);
  });

  test("takes futures, tasks, coroutines and promises together", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      f.getLoop().callLater(5, () => f.setResult(1));
      const t = createTask(after(1, "t"));
      return yield* gather([f, t, after(2, true), Promise.resolve(null)]);
    });
    expect(out).toEqual([1, "t", true, null]);
  });

  test("the same awaitable twice is awaited once and reported twice", async () => {
    const out = await runVirtual(function* () {
      let runs = 0;
      const t = createTask(
        (function* () {
          runs++;
          yield* sleep(1);
          return "x";
        })(),
      );
      const g = gather([t, t, after(2, "y"), t]);
      const r = yield* g;
      return [r, runs, (g as GatheringFuture<unknown>).children().length];
    });
    expect(out).toEqual([["x", "x", "y", "x"], 1, 4]);
  });

  test("gather([]) resolves with an empty array", async () => {
    const out = await runVirtual(function* () {
      return yield* gather([]);
    });
    expect(out).toEqual([]);
  });

  test("the first error fails the gather at once while the others keep running", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const boom = new Error("boom");
      const slow = createTask(after(50, "slow", log));
      const e = yield* catching(gather([slow, failAfter(10, boom), failAfter(20, new Error("second"))]));
      log.push(`caught ${(e as Error).message}`);
      const r = yield* slow;
      return [e === boom, log, r, slow.cancelled()];
    });
    expect(out).toEqual([true, ["caught boom", "slow"], "slow", false]);
  });

  test("with returnExceptions, errors and cancellations are results in argument order", async () => {
    const out = await runVirtual(function* () {
      const boom = new Error("boom");
      const cancelled = createTask(forever());
      const g = gather([after(20, 1), failAfter(10, boom), cancelled], { returnExceptions: true });
      yield* sleep(1);
      cancelled.cancel("gone");
      const r = yield* g;
      return [r[0], r[1] === boom, r[2] instanceof CancelledError, (r[2] as Error).message];
    });
    expect(out).toEqual([1, true, true, "gone"]);
  });

  test("a cancelled child fails the gather with CancelledError (without returnExceptions)", async () => {
    const out = await runVirtual(function* () {
      const child = createTask(forever());
      const other = createTask(after(20, "other"));
      const g = gather([child, other]);
      yield* sleep(1);
      child.cancel("child gone");
      const e = yield* catching(g);
      return [e instanceof CancelledError, (e as Error).message, g.cancelled(), other.done()];
    });
    // The gather failed with the CancelledError; it was not itself cancelled.
    expect(out).toEqual([true, "child gone", false, false]);
  });

  test("cancelling the gather cancels every child; the outer ends with CancelledError even with returnExceptions", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const child = (name: string) =>
        createTask(
          (function* () {
            try {
              yield* sleep(100);
            } finally {
              log.push(`${name} cleanup`);
            }
          })(),
        );
      const a = child("a");
      const b = child("b");
      const g = gather([a, b], { returnExceptions: true });
      yield* sleep(1);
      expect(g.cancel("stop")).toBe(true);
      const e = yield* catching(g);
      return [log, e instanceof CancelledError, a.cancelled(), b.cancelled(), g.cancel()];
    });
    expect(out).toEqual([["a cleanup", "b cleanup"], true, true, true, false]);
  });

  test("cancelling a task that waits on a gather cancels the gather's children", async () => {
    const out = await runVirtual(function* () {
      const a = createTask(forever());
      const b = createTask(forever());
      const waiter = createTask(
        (function* () {
          return yield* gather([a, b]);
        })(),
      );
      yield* sleep(1);
      waiter.cancel();
      const e = yield* catching(waiter);
      return [e instanceof CancelledError, a.cancelled(), b.cancelled(), waiter.cancelled()];
    });
    expect(out).toEqual([true, true, true, true]);
  });

  test("cancelling a gather whose children are all done returns false", async () => {
    await runVirtual(function* () {
      const g = gather([after(1, 1)]);
      yield* sleep(5);
      expect(g).toBeInstanceOf(GatheringFuture);
      expect(g.cancel()).toBe(false);
    });
  });

  test("a child that swallows the gather's cancellation still ends the gather cancelled", async () => {
    const out = await runVirtual(function* () {
      const stubborn = createTask(
        (function* () {
          try {
            yield* sleep(100);
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a child that ignores its cancellation is what this test is about
            // ignore the cancellation
          }
          return "kept going";
        })(),
      );
      const g = gather([stubborn], { returnExceptions: true });
      yield* sleep(1);
      g.cancel();
      const e = yield* catching(g);
      return [e instanceof CancelledError, stubborn.result()];
    });
    expect(out).toEqual([true, "kept going"]);
  });

  test("a gather none of whose running children takes the cancellation is not cancelled: cancel() is false and the results come", async () => {
    // A future that refuses cancellation (asyncio's _GatheringFuture.cancel counts only the
    // children whose cancel() returned true).
    class Stubborn<T> extends Future<T> {
      override cancel(): boolean {
        return false;
      }
    }
    const out = await runVirtual(function* () {
      const child = new Stubborn<number>();
      const g = gather([child]);
      const refused = g.cancel("stop");
      child.setResult(7);
      return [refused, yield* g];
    });
    expect(out).toEqual([false, [7]]);
  });

  test("with returnExceptions, the gather's CancelledError carries the cancel() message even when the last child to finish swallowed it", async () => {
    const e = await runVirtual(function* () {
      const cancelled = createTask(forever());
      const swallower = createTask(
        (function* () {
          try {
            yield* forever();
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the child finishing last ignores its cancellation
            // ignore the cancellation
          }
          return "kept going";
        })(),
      );
      // returnExceptions: the first cancelled child does not end the gather at once.
      const g = gather([cancelled, swallower], { returnExceptions: true });
      yield;
      g.cancel("stop");
      return yield* catching(g);
    });
    expect(e).toBeInstanceOf(CancelledError);
    expect((e as CancelledError).message).toBe("stop");
  });

  test("errors of children finishing after the gather failed are retrieved, not reported", async () => {
    const out = await runVirtual(function* () {
      const first = createTask(failAfter(1, new Error("a")));
      const second = createTask(failAfter(2, new Error("b")));
      yield* catching(gather([first, second]));
      yield* sleep(5);
      return [first._logTraceback, second._logTraceback, second.done()];
    });
    expect(out).toEqual([false, false, true]);
  });

  test("(control) a failed task nobody looked at is still marked for the never-retrieved report", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(failAfter(1, new Error("a")));
      yield* sleep(5);
      const marked = t._logTraceback;
      t.exception();
      return [marked, t._logTraceback];
    });
    expect(out).toEqual([true, false]);
  });

  test("gather checks its argument and needs a loop", () => {
    expect(() => gather(42 as never)).toThrow(TypeError);
    expect(() => gather([])).toThrow(/no running event loop/);
    expect(() => gather([(function* () {})()])).toThrow(/no running event loop/);
  });

  test("anything but an iterable of awaitables is a TypeError at the call that says what gather wants", () => {
    // null and a string are the two that slip past a looser check: typeof null is "object",
    // and a string is iterable (its characters would become the awaitables).
    for (const bad of [null, undefined, 42, "ab", {}, () => []]) {
      expect(() => gather(bad as never)).toThrow(TypeError);
      expect(() => gather(bad as never)).toThrow("gather(aws): aws must be an array of awaitables (coroutines, futures, tasks or promises)");
    }
  });

  test("gather of coroutines outside the loop names gather, not the task it would have made", () => {
    const coro = (function* () {})();
    expect(() => gather([coro])).toThrow("no running event loop: gather() of coroutines must be called inside the loop");
  });

  test("gather([]) has no children", async () => {
    const children = await runVirtual(function* () {
      const g = gather([]);
      expect(g.done()).toBe(true);
      return g.children();
    });
    expect(children).toEqual([]);
  });

  test("gather of futures works outside the loop, on their loop", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    const g = gather([f]);
    expect(g.getLoop()).toBe(loop);
    loop.callSoon(() => f.setResult(3));
    expect(await loop.runUntilComplete(g)).toEqual([3]);
    loop.close();
  });

  test("gather refuses futures of different loops", async () => {
    const a = virtualLoop().loop;
    const b = virtualLoop().loop;
    expect(() => gather([a.createFuture(), b.createFuture()])).toThrow(/different loop/);
    a.close();
    b.close();
  });

  test("the current task is not a gather child", async () => {
    await runVirtual(function* () {
      const me = currentTask();
      const g = gather([after(1, 1)]);
      expect((g as GatheringFuture<unknown>).children().includes(me as never)).toBe(false);
      yield* g;
    });
  });
});
