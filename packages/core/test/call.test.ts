import { describe, expect, test } from "vitest";
import { CancelledError, call, createTask, taskSignal, type Coroutine } from "../src/index.js";
import { catching, forever, runVirtual, turns } from "./helpers.js";

describe("call", () => {
  test("returns the Promise's value and throws its rejection", async () => {
    const out = await runVirtual(function* () {
      const v = yield* call(() => Promise.resolve(7));
      const e = yield* catching(call(() => Promise.reject(new Error("rejected"))));
      return [v, (e as Error).message];
    });
    expect(out).toEqual([7, "rejected"]);
  });

  test("the signal aborts with the CancelledError when the calling task is cancelled", async () => {
    let signal: AbortSignal | undefined;
    await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<void> {
          yield* call(
            (s) =>
              new Promise<void>((_, reject) => {
                signal = s;
                s.addEventListener("abort", () => reject(s.reason));
              }),
          );
        })(),
      );
      yield* turns(2);
      expect(signal?.aborted).toBe(false);
      task.cancel("stop it");
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(CancelledError);
    });
  });

  test("a cancellation thrown in at the yield* (the task was woken already) aborts the signal too", async () => {
    let signal: AbortSignal | undefined;
    const log = await runVirtual(function* () {
      const log: string[] = [];
      // A thenable settled from inside this task's step: the waiting task is woken, not run.
      let fulfil: (() => void) | undefined;
      const task = createTask(
        (function* (): Coroutine<void> {
          try {
            yield* call((s) => {
              signal = s;
              return { then: ((onFulfilled: () => void) => void (fulfil = onFulfilled)) as never } as PromiseLike<void>;
            });
            log.push("returned");
          } catch (error) {
            log.push(error instanceof CancelledError ? "cancelled" : "other");
          }
        })(),
      );
      yield* turns(1);
      fulfil?.();
      expect(task.state()).toBe("woken");
      task.cancel("late");
      yield* task; // it caught the CancelledError
      return log;
    });
    expect(log).toEqual(["cancelled"]);
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as CancelledError).message).toBe("late");
  });

  test("like a generator, fn runs when the coroutine is first resumed, and never once it was closed", async () => {
    const calls: string[] = [];
    await runVirtual(function* () {
      const op = call(() => {
        calls.push("ran");
        return Promise.resolve(1);
      });
      expect(calls).toEqual([]);
      expect(yield* op).toBe(1);
      expect(calls).toEqual(["ran"]);
      const returned = call(() => {
        calls.push("after return");
        return Promise.resolve(2);
      });
      const r1 = returned.return(5);
      expect([r1.done, r1.value]).toEqual([true, 5]);
      const r2 = returned.next();
      expect([r2.done, r2.value]).toEqual([true, undefined]);
      const thrown = call(() => {
        calls.push("after throw");
        return Promise.resolve(3);
      });
      expect(() => thrown.throw(new Error("closed"))).toThrow("closed");
      const r3 = thrown.next();
      expect([r3.done, r3.value]).toEqual([true, undefined]);
    });
    expect(calls).toEqual(["ran"]);
  });

  test("a fn that ignores its signal: the task ends at once; the late value is dropped, a late rejection handled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    let rejectLate: ((e: unknown) => void) | undefined;
    let resolveLate: ((v: number) => void) | undefined;
    try {
      await runVirtual(function* () {
        const a = createTask(call(() => new Promise<number>((_, reject) => (rejectLate = reject))));
        const b = createTask(call(() => new Promise<number>((resolve) => (resolveLate = resolve))));
        yield* turns(2);
        a.cancel();
        b.cancel();
        // Both end within two turns, though neither Promise has settled.
        yield* turns(2);
        expect(a.cancelled()).toBe(true);
        expect(b.cancelled()).toBe(true);
      });
      rejectLate?.(new Error("late"));
      resolveLate?.(1);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  test("a withdrawn cancellation (a caught timeout) does not abort later calls", async () => {
    const states = await runVirtual(function* () {
      const states: boolean[] = [];
      const task = createTask(
        (function* (): Coroutine<void> {
          taskSignal(); // the task's own signal exists, and the cancel below aborts it for good
          try {
            yield* forever();
          } catch (error) {
            if (!(error instanceof CancelledError)) throw error;
          } // caught and withdrawn, as timeout() does
          yield* call(async (signal) => void states.push(signal.aborted));
        })(),
      );
      yield* turns(1);
      task.cancel();
      task.uncancel();
      yield* task;
      return states;
    });
    expect(states).toEqual([false]);
  });

  test("bad arguments: TypeError at the call, and when fn returns no Promise", async () => {
    expect(() => call(5 as never)).toThrow(TypeError);
    const e = await runVirtual(function* () {
      return yield* catching(call(() => 5 as never));
    });
    expect(e).toBeInstanceOf(TypeError);
  });

  test("bad arguments: the TypeErrors name the fix", async () => {
    expect(() => call(5 as never)).toThrow(
      new TypeError("call(fn): fn must be a function (signal) => Promise, e.g. call((signal) => fetch(url, { signal }))"),
    );
    const e = await runVirtual(function* () {
      return yield* catching(call(() => 5 as never));
    });
    expect(e).toEqual(new TypeError("call(fn): fn must return a Promise (or any thenable); for a plain value, no call() is needed"));
    expect(e).toBeInstanceOf(TypeError);
  });

  test("driven outside a loop: an Error saying call(fn) runs inside a coroutine, and fn is not run", () => {
    let ran = false;
    const op = call(() => {
      ran = true;
      return Promise.resolve(1);
    });
    expect(() => op.next()).toThrow(new Error("no running event loop: call(fn) runs inside a coroutine, run by the loop"));
    expect(ran).toBe(false);
  });

  test("a fn that declares no parameter gets one shared signal, which never aborts, even when its task is cancelled", async () => {
    const signals: unknown[] = [];
    // A rest parameter is not counted in fn.length: this fn declares none, yet can see what it is given.
    const noParameter = (...args: unknown[]): Promise<void> => {
      signals.push(args[0]);
      return new Promise<void>(() => {});
    };
    await runVirtual(function* () {
      const first = createTask(call(noParameter));
      const second = createTask(call(noParameter));
      yield* turns(2);
      first.cancel();
      second.cancel();
      yield* catching(first);
      yield* catching(second);
    });
    expect(signals).toHaveLength(2);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect(signals[1]).toBe(signals[0]);
    expect((signals[0] as AbortSignal).aborted).toBe(false);
  });

  test("a host without AbortController: a fn that takes the signal gets an Error saying so", async () => {
    const saved = globalThis.AbortController;
    (globalThis as { AbortController?: unknown }).AbortController = undefined;
    try {
      const e = await runVirtual(function* () {
        return yield* catching(call((signal) => Promise.resolve(signal)));
      });
      expect(e).toEqual(new Error("call(fn) needs AbortController, which this JavaScript host lacks"));
    } finally {
      globalThis.AbortController = saved;
    }
  });
});
