import { describe, expect, expectTypeOf, test } from "vitest";
import * as core from "../src/index.js";
import { ensureFuture, createTask, gather, type Coroutine, type Future, type GatheringFuture, type Task } from "../src/index.js";
import { runVirtual, sleep } from "./helpers.js";

describe("public surface", () => {
  test("src/index.ts exports exactly these runtime names", () => {
    expect(Object.keys(core).sort()).toEqual([
      "ALL_COMPLETED",
      "CancelledError",
      "Context",
      "ContextVar",
      "DefaultPoller",
      "EventLoop",
      "ExceptionGroup",
      "ExitStack",
      "FIRST_COMPLETED",
      "FIRST_EXCEPTION",
      "Future",
      "GatheringFuture",
      "Handle",
      "InvalidStateError",
      "KeyboardInterrupt",
      "Task",
      "TaskGroup",
      "TimeoutError",
      "TimerHandle",
      "Token",
      "allTasks",
      "asCompleted",
      "call",
      "copyContext",
      "coroutineFrame",
      "createTask",
      "creationFrames",
      "currentTask",
      "defer",
      "describeWait",
      "each",
      "ensureFuture",
      "exitStack",
      "filter",
      "fromAsyncIterable",
      "fromEvent",
      "fromIterable",
      "gather",
      "getRunningLoop",
      "isCoroutine",
      "map",
      "mapConcurrent",
      "produce",
      "registerLibraryModule",
      "resource",
      "run",
      "shield",
      "stackFrames",
      "subscribe",
      "suspensionFrames",
      "take",
      "taskGroup",
      "taskSignal",
      "toAsyncIterable",
      "use",
      "userFrame",
      "wait",
    ]);
  });

  test("errors carry their class names", () => {
    for (const E of [core.CancelledError, core.InvalidStateError, core.TimeoutError]) {
      const e = new E("m");
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(E.name);
      expect(e.message).toBe("m");
    }
  });

  test("isCoroutine tells generator objects from the rest", () => {
    expect(core.isCoroutine((function* () {})())).toBe(true);
    expect(core.isCoroutine(function* () {})).toBe(false);
    expect(core.isCoroutine(Promise.resolve())).toBe(false);
    expect(core.isCoroutine(null)).toBe(false);
  });

  test("isCoroutine needs all three of next, throw and return: a task drives a coroutine with each", () => {
    const step = () => ({ done: true, value: undefined });
    expect(core.isCoroutine({ next: step, throw: step, return: step })).toBe(true);
    expect(core.isCoroutine({ throw: step, return: step })).toBe(false);
    expect(core.isCoroutine({ next: step, return: step })).toBe(false);
    expect(core.isCoroutine({ next: step, throw: step })).toBe(false);
    expect(core.isCoroutine({ next: 1, throw: step, return: step })).toBe(false);
  });
});

function* num(): Coroutine<number> {
  yield* sleep(1);
  return 1;
}
function* str(): Coroutine<string> {
  return "s";
}

describe("types users rely on", () => {
  test("yield* gather([a, b]) is a tuple in argument order", async () => {
    await runVirtual(function* () {
      const r = yield* gather([num(), str()]);
      expectTypeOf(r).toEqualTypeOf<[number, string]>();
      const withErrors = yield* gather([num(), str()], { returnExceptions: true });
      expectTypeOf(withErrors).toEqualTypeOf<[number | Error, string | Error]>();
      expect(r).toEqual([1, "s"]);
      // gather returns its GatheringFuture, so children() needs no cast.
      const g = gather([num(), str()]);
      expectTypeOf(g).toEqualTypeOf<GatheringFuture<[number, string]>>();
      expect(g.children()).toHaveLength(2);
      yield* g;
    });
  });

  test("yield* createTask(coro) is the coroutine's T", async () => {
    await runVirtual(function* () {
      const t = createTask(num());
      expectTypeOf(t).toEqualTypeOf<Task<number>>();
      const v = yield* t;
      expectTypeOf(v).toEqualTypeOf<number>();
    });
  });

  test("ensureFuture(promise) is a Future<T>", async () => {
    await runVirtual(function* () {
      const f = ensureFuture(Promise.resolve("x"));
      expectTypeOf(f).toEqualTypeOf<Future<string>>();
      expectTypeOf(yield* f).toEqualTypeOf<string>();
    });
  });

  test("a Future is PromiseLike and awaits to its T", () => {
    expectTypeOf<Future<number>>().toMatchTypeOf<PromiseLike<number>>();
    expectTypeOf<Awaited<Task<string>>>().toEqualTypeOf<string>();
  });
});
