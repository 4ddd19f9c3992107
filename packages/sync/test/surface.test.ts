import { describe, expect, expectTypeOf, test } from "vitest";
import * as sync from "../src/index.js";
import type { Coroutine } from "@loop/core";

describe("public surface", () => {
  test("exports exactly these names", () => {
    expect(Object.keys(sync).sort()).toEqual(
      [
        "Barrier",
        "BoundedSemaphore",
        "BrokenBarrierError",
        "Condition",
        "Event",
        "Guard",
        "LifoQueue",
        "Lock",
        "PriorityQueue",
        "Queue",
        "QueueEmpty",
        "QueueFull",
        "QueueShutDown",
        "Semaphore",
        "fromQueue",
        "naturalOrder",
      ].sort(),
    );
  });

  test("errors are Error subclasses with their class name", () => {
    for (const E of [sync.QueueEmpty, sync.QueueFull, sync.QueueShutDown, sync.BrokenBarrierError]) {
      const e = new E();
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(E.name);
    }
  });

  test("blocking methods are coroutines with the expected types", () => {
    expectTypeOf(new sync.Queue<string>().get()).toEqualTypeOf<Coroutine<string>>();
    expectTypeOf(new sync.Queue<string>().put("x")).toEqualTypeOf<Coroutine<void>>();
    expectTypeOf(new sync.Lock().acquire()).toEqualTypeOf<Coroutine<true>>();
    expectTypeOf(new sync.Lock().withLock(function* () {
      return 1;
    })).toEqualTypeOf<Coroutine<number>>();
    expectTypeOf(new sync.Barrier(2).wait()).toEqualTypeOf<Coroutine<number>>();
    expectTypeOf(new sync.Condition().waitFor(() => "ready" as const)).toEqualTypeOf<Coroutine<"ready">>();
  });

  test("blocking operations can be driven like generators", () => {
    const op = new sync.Lock().acquire();
    expect(op[Symbol.iterator]()).toBe(op);
    expect(typeof op.next).toBe("function");
    expect(typeof op.throw).toBe("function");
    expect(typeof op.return).toBe("function");
  });
});
