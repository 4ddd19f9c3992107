import { describe, expect, test } from "vitest";
import {
  CancelledError,
  TimeoutError,
  createTask,
  ensureFuture,
  getRunningLoop,
  wait,
  type Coroutine,
} from "@loop/core";
import { sleep, waitFor } from "../src/index.js";
import { caught, virtual } from "./helpers.js";

// The behaviour set of CPython's Lib/test/test_asyncio/test_waitfor.py (3.12+), in virtual time.

/** CPython's SlowTask: runs for `ms`, ignoring cancel requests. */
function slowTask(ms: number, state: { exited: boolean }): Coroutine<void> {
  return (function* () {
    const loop = getRunningLoop();
    const exitAt = loop.time() + ms;
    for (;;) {
      const left = exitAt - loop.time();
      if (left <= 0) break;
      try {
        yield* sleep(left);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
    }
    state.exited = true;
  })();
}

describe("waitFor", () => {
  test("the result comes back when the work finishes in time (test_wait_for_race_condition)", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      loop.callLater(100, () => fut.setResult("ok"));
      const res = yield* waitFor(fut, 200);
      return [res, loop.time()];
    });
    expect(out).toEqual(["ok", 100]);
  });

  test("expiry cancels the awaited task and throws TimeoutError (test_wait_for)", async () => {
    const out = await virtual(function* () {
      let running: boolean | null = null;
      const task = createTask(
        (function* (): Coroutine<string> {
          running = true;
          try {
            yield* sleep(10_000);
          } finally {
            running = false;
          }
          return "done";
        })(),
      );
      const e = yield* caught(() => waitFor(task, 100));
      return { e, done: task.done(), cancelled: task.cancelled(), running, now: getRunningLoop().time() };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out).toMatchObject({ done: true, cancelled: true, running: false, now: 100 });
  });

  test("it waits for the awaited task to finish cancelling before throwing (test_wait_for_waits_for_task_cancellation)", async () => {
    const out = await virtual(function* () {
      let taskDone = false;
      const inner = createTask(
        (function* (): Coroutine<void> {
          try {
            yield* sleep(10_000);
          } catch (e) {
            yield* sleep(50); // slow cleanup
            throw e;
          } finally {
            taskDone = true;
          }
        })(),
      );
      const e = yield* caught(() => waitFor(inner, 10));
      return { e, taskDone, now: getRunningLoop().time() };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect((out.e as Error).cause).toBeInstanceOf(CancelledError);
    expect(out.taskDone).toBe(true);
    expect(out.now).toBe(60);
  });

  test("with ms = 0 it cancels a running task, waits for it, and throws TimeoutError (test_wait_for_waits_for_task_cancellation_w_timeout_0)", async () => {
    const out = await virtual(function* () {
      let taskDone = false;
      const inner = createTask(
        (function* (): Coroutine<void> {
          try {
            yield* sleep(10_000);
          } catch (e) {
            yield* sleep(1);
            throw e;
          } finally {
            taskDone = true;
          }
        })(),
      );
      yield* sleep(1);
      const e = yield* caught(() => waitFor(inner, 0));
      return { e, taskDone };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect((out.e as Error).cause).toBeInstanceOf(CancelledError);
    expect(out.taskDone).toBe(true);
  });

  test("an error raised while the task cancels replaces TimeoutError (test_wait_for_reraises_exception_during_cancellation)", async () => {
    class FooError extends Error {}
    const e = await virtual(function* () {
      const inner = createTask(
        (function* (): Coroutine<void> {
          try {
            yield* sleep(200);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new FooError();
          }
        })(),
      );
      return yield* caught(() => waitFor(inner, 1));
    });
    expect(e).toBeInstanceOf(FooError);
  });

  test("if the work swallows the cancellation and returns, its result is returned (test_wait_for_cancellation_race_condition, test_wait_for_cancel_suppressed)", async () => {
    const out = await virtual(function* () {
      function* inner(): Coroutine<number> {
        try {
          yield* sleep(1_000);
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
          return 42;
        }
        return 1;
      }
      const inline = yield* waitFor(inner(), 10);
      const asTask = yield* waitFor(createTask(inner()), 10);
      return [inline, asTask];
    });
    expect(out).toEqual([42, 42]);
  });

  test("with ms = 0 a done future gives its result at once (test_wait_for_timeout_less_then_0_or_0_future_done)", async () => {
    const out = await virtual(function* () {
      const fut = getRunningLoop().createFuture<string>();
      fut.setResult("done");
      return yield* waitFor(fut, 0);
    });
    expect(out).toBe("done");
  });

  test("with ms = 0 a coroutine is never started (test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started)", async () => {
    const out = await virtual(function* () {
      let started = false;
      const e = yield* caught(() =>
        waitFor(
          (function* (): Coroutine<void> {
            started = true;
          })(),
          0,
        ),
      );
      return { e, started, now: getRunningLoop().time() };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out.started).toBe(false);
    expect(out.now).toBe(0);
  });

  test("with ms = 0 a running task is cancelled and has finished when TimeoutError arrives (test_wait_for_timeout_less_then_0_or_0)", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      let running: boolean | null = null;
      const started = loop.createFuture<void>();
      const task = createTask(
        (function* (): Coroutine<string> {
          running = true;
          started.setResult(undefined);
          try {
            yield* sleep(10_000);
          } finally {
            running = false;
          }
          return "done";
        })(),
      );
      yield* started;
      const e = yield* caught(() => waitFor(task, 0));
      return { e, cancelled: task.cancelled(), running };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out.cancelled).toBe(true);
    expect(out.running).toBe(false);
  });

  test("null waits without limit (test_wait_for_blocking)", async () => {
    const out = await virtual(function* () {
      const a = yield* waitFor(
        (function* (): Coroutine<string> {
          yield* sleep(86_400_000);
          return "done";
        })(),
        null,
      );
      const b = yield* waitFor(sleep(1, "inf"), Infinity);
      return [a, b];
    });
    expect(out).toEqual(["done", "inf"]);
  });

  test("cancelling waitFor delivers the cancellation to the awaited work and waits for it (test_asyncio_wait_for_cancelled)", async () => {
    const state = { exited: false };
    await virtual(function* () {
      const waiting = createTask(waitFor(slowTask(200, state), 400));
      yield* sleep(0);
      waiting.cancel();
      yield* wait([waiting]);
      // The coroutine runs inline in the waiting task, took the cancellation and ignored it.
      expect(waiting.cancelled()).toBe(false);
      expect(getRunningLoop().time()).toBe(200);
    });
    expect(state.exited).toBe(true);
  });

  test("on expiry it waits for work that ignores cancellation to finish (test_asyncio_wait_for_timeout)", async () => {
    const state = { exited: false };
    const out = await virtual(function* () {
      const e = yield* caught(() => waitFor(slowTask(200, state), 100));
      return [e, getRunningLoop().time()];
    });
    // The work ignored the cancellation and returned: its (void) result is returned.
    expect(out).toEqual(["returned", 200]);
    expect(state.exited).toBe(true);
  });

  test("waitFor itself stays cancellable while the awaited task holds the cancellation up (test_wait_for_self_cancellation)", async () => {
    const out = await virtual(function* () {
      const inner = createTask(
        (function* (): Coroutine<number> {
          try {
            yield* sleep(300);
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- an awaitable that resists cancellation twice is what this test is about
            try {
              yield* sleep(300);
            } catch { // eslint-disable-line @loop/no-swallowed-cancel -- an awaitable that resists cancellation twice is what this test is about
              yield* sleep(300);
            }
          }
          return 42;
        })(),
      );
      const waiting = createTask(waitFor(inner, 100));
      waiting.cancel();
      const e = yield* caught(() => waiting);
      return [e, yield* inner];
    });
    expect(out[0]).toBeInstanceOf(CancelledError);
    expect(out[1]).toBe(42);
  });

  for (const ms of [null, 60_000]) {
    test(`cancelling waitFor(task, ${ms}) also cancels the task (test_cancel_wait_for, python issue 23219)`, async () => {
      const out = await virtual(function* () {
        const loop = getRunningLoop();
        const task = createTask(
          (function* (): Coroutine<void> {
            yield* loop.createFuture<void>();
          })(),
        );
        const waiting = createTask(waitFor(task, ms));
        loop.callSoon(() => waiting.cancel());
        const e = yield* caught(() => waiting);
        return [e, task.cancelled()];
      });
      expect(out[0]).toBeInstanceOf(CancelledError);
      expect(out[1]).toBe(true);
    });
  }

  test("the caller's own cancellation is never swallowed, even when it comes with the expiry (test_wait_for_issue86296)", async () => {
    const out = await virtual(function* () {
      let reachedEnd = false;
      const task = createTask(
        (function* (): Coroutine<void> {
          yield* waitFor((function* (): Coroutine<void> {})(), 100_000);
          yield* sleep(1_000);
          reachedEnd = true;
        })(),
      );
      yield* sleep(0);
      task.cancel();
      const e = yield* caught(() => task);
      return [e, reachedEnd];
    });
    expect(out[0]).toBeInstanceOf(CancelledError);
    expect(out[1]).toBe(false);
  });

  test("a cancellation of the caller in the same turn as the expiry propagates as CancelledError", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const inner = createTask(sleep(1_000, "late"));
      const waiting = createTask(waitFor(inner, 10));
      loop.callLater(10, () => waiting.cancel());
      const e = yield* caught(() => waiting);
      return [e, inner.cancelled()];
    });
    expect(out[0]).toBeInstanceOf(CancelledError);
    expect(out[1]).toBe(true);
  });

  test("a Promise can be awaited with a limit", async () => {
    const out = await virtual(function* () {
      const ok = yield* waitFor(Promise.resolve("resolved"), 10);
      const e = yield* caught(() => waitFor(new Promise<never>(() => {}), 0));
      return [ok, e];
    });
    expect(out[0]).toBe("resolved");
    expect(out[1]).toBeInstanceOf(TimeoutError);
  });

  test("real Promise work is awaited in virtual time before the clock moves", async () => {
    const out = await virtual(function* () {
      const fs = yield* ensureFuture(import("node:fs"));
      const text = yield* waitFor(fs.promises.readFile(new URL(import.meta.url), "utf8"), 5);
      return [text.includes("real Promise work"), getRunningLoop().time()];
    });
    expect(out).toEqual([true, 0]);
  });

  test("arguments are checked at the call", () => {
    expect(() => waitFor(sleep(1), -1)).toThrow(RangeError);
    expect(() => waitFor(sleep(1), Number.NaN)).toThrow(/ms/);
    expect(() => waitFor(sleep(1), "1" as never)).toThrow(TypeError);
    expect(() => waitFor(42 as never, 1)).toThrow(TypeError);
    expect(() => waitFor(null as never, 1)).toThrow(/aw/);
  });
});
