import { describe, expect, test } from "vitest";
import { EventLoop, run, createTask, getRunningLoop, type Coroutine, type Poller, type LoopDriver } from "../src/index.js";

// Core's tests typecheck without Node's types: reach the host's macrotask queue through globalThis.
const later = (cb: () => void): void => {
  (globalThis as unknown as { setTimeout(cb: () => void, ms: number): unknown }).setTimeout(cb, 0);
};

function* step(log: string[], name: string, turns: number): Coroutine<void> {
  for (let i = 0; i < turns; i++) {
    log.push(`${name}${i}`);
    yield;
  }
}

describe("EventLoop.setTaskOrder", () => {
  test("the hook reorders the task steps of a turn and plain callbacks keep their FIFO slots", async () => {
    const log: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      loop.setTaskOrder((tasks) => tasks.reverse());
      const a = createTask(step(log, "a", 1));
      loop.callSoon(() => log.push("cb1"));
      const b = createTask(step(log, "b", 1));
      loop.callSoon(() => log.push("cb2"));
      const c = createTask(step(log, "c", 1));
      yield* a;
      yield* b;
      yield* c;
      loop.setTaskOrder(null);
    });
    // Queue order was a, cb1, b, cb2, c: tasks reversed into the task slots, callbacks untouched.
    expect(log.slice(0, 5)).toEqual(["c0", "cb1", "b0", "cb2", "a0"]);
  });

  test("without a hook tasks run first-queued first", async () => {
    const log: string[] = [];
    await run(function* () {
      const tasks = ["a", "b", "c"].map((n) => createTask(step(log, n, 2)));
      for (const t of tasks) yield* t;
    });
    expect(log).toEqual(["a0", "b0", "c0", "a1", "b1", "c1"]);
  });

  test("a hook that throws or resizes the array is reported and the turn runs in queue order", async () => {
    const log: string[] = [];
    const reports: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
      loop.setTaskOrder((tasks) => {
        tasks.pop();
      });
      const tasks = ["a", "b"].map((n) => createTask(step(log, n, 1)));
      for (const t of tasks) yield* t;
      loop.setTaskOrder(null);
    });
    expect(log).toEqual(["a0", "b0"]);
    expect(reports[0]).toMatch(/task-order hook/);
  });

  test("setTaskOrder rejects a non-function", () => {
    const loop = new EventLoop();
    expect(() => loop.setTaskOrder(42 as never)).toThrow(TypeError);
    loop.close();
  });
});

describe("EventLoop.unrefExternal", () => {
  test("ending the last outside operation wakes the poller, from outside a turn only", async () => {
    let wakeups = 0;
    let host: LoopDriver | null = null;
    const poller: Poller = {
      name: "counting",
      attach(h) {
        host = h;
      },
      time: () => 0,
      wait(timeout) {
        if (timeout === 0) later(() => host?.resume());
      },
      wakeup() {
        wakeups++;
        later(() => host?.resume());
      },
      close() {},
    };
    const loop = new EventLoop({ poller });
    loop.refExternal();
    loop.refExternal();
    const done = loop.runUntilComplete(
      (function* (): Coroutine<number[]> {
        const fut = loop.createFuture<number[]>();
        later(() => {
          const counts = [wakeups];
          loop.unrefExternal();
          counts.push(wakeups);
          loop.unrefExternal();
          counts.push(wakeups);
          loop.callSoonThreadsafe(() => fut.setResult(counts.map((n) => n - (counts[0] as number))));
        });
        return yield* fut;
      })(),
    );
    // 2 -> 1 does not wake the poller; 1 -> 0 does.
    expect(await done).toEqual([0, 0, 1]);
    loop.close();
  });
});
