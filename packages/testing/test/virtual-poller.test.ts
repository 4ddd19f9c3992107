import { promises as fs } from "node:fs";
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  CancelledError,
  EventLoop,
  createTask,
  currentTask,
  ensureFuture,
  gather,
  getRunningLoop,
  type Coroutine,
  type Future,
} from "@loop/core";
import { DeadlockError, VirtualPoller, runVirtual } from "../src/index.js";
import { propertyRuns } from "./property-runs.js";

// @loop/testing does not depend on @loop/timers (which tests with it): a minimal sleep.
function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const f = loop.createFuture<void>();
  f.label = `sleep(${ms})`;
  const h = loop.callLater(ms, () => f.setResult(undefined));
  try {
    yield* f;
  } finally {
    h.cancel();
  }
}

function* catching(aw: Iterable<unknown> & object): Coroutine<unknown> {
  try {
    yield* aw as Coroutine<unknown>;
  } catch (e) {
    return e;
  }
  return "returned";
}

describe("virtual time", () => {
  test("the clock starts at 0 and an hour-long sleep returns at once with the clock advanced by exactly an hour", async () => {
    const started = performance.now();
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const t0 = loop.time();
      yield* sleep(3_600_000);
      return [t0, loop.time()];
    });
    expect(out).toEqual([0, 3_600_000]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("startMs moves the origin", async () => {
    expect(await runVirtual(() => (function* () { return getRunningLoop().time(); })(), { startMs: 1_000 })).toBe(1_000);
  });

  test("time jumps from timer to timer, in deadline order", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const loop = getRunningLoop();
      for (const ms of [500, 20, 86_400_000, 20, 7]) loop.callLater(ms, () => log.push(`${ms}@${loop.time()}`));
      yield* sleep(86_400_001);
    });
    expect(log).toEqual(["7@7", "20@20", "20@20", "500@500", "86400000@86400000"]);
  });

  test("fractional deadlines far from zero are reached exactly, without spinning", async () => {
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      yield* sleep(1e12);
      const target = loop.time() + 0.1;
      const f = loop.createFuture<number>();
      loop.callAt(target, () => f.setResult(loop.time()));
      return [yield* f, target];
    });
    expect(out[0]).toBe(out[1]);
  });

  test("a Promise resolving in real time is waited for before the clock jumps (readFile)", async () => {
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const sleeper = createTask(
        (function* () {
          yield* sleep(1_000);
          log.push(`timer@${loop.time()}`);
        })(),
      );
      const text = yield* ensureFuture(fs.readFile(new URL(import.meta.url), "utf8"));
      log.push(`file@${loop.time()}:${text.includes("readFile")}`);
      yield* sleeper;
      return log;
    });
    expect(out).toEqual(["file@0:true", "timer@1000"]);
  });

  test("a slow real Promise still comes before a virtual timer that is due earlier: time stands still while it is pending", async () => {
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      loop.callLater(10, () => log.push(`timer@${loop.time()}`));
      const v = yield* ensureFuture(new Promise<string>((resolve) => setTimeout(() => resolve("real"), 30)));
      log.push(`${v}@${loop.time()}`);
      yield* sleep(10);
      return log;
    });
    expect(out).toEqual(["real@0", "timer@10"]);
  });

  test("a cancelled adoption of a Promise does not freeze the clock once the Promise settles", async () => {
    const t = await runVirtual(function* () {
      const f = ensureFuture(new Promise((resolve) => setTimeout(resolve, 5)));
      f.cancel();
      yield* sleep(60_000); // can only jump once the Promise settled and was uncounted
      return getRunningLoop().time();
    });
    expect(t).toBe(60_000);
  });

  test("outside work counted with refExternal keeps the loop waiting instead of deadlocking", async () => {
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const f = loop.createFuture<string>();
      loop.refExternal();
      setTimeout(() => {
        loop.unrefExternal();
        loop.callSoonThreadsafe(() => f.setResult("from outside"));
      }, 10);
      return yield* f;
    });
    expect(out).toBe("from outside");
  });

  test("clock.jump moves time forward at once and wakes the loop", async () => {
    const poller = new VirtualPoller();
    const loop = new EventLoop({ poller });
    const out = await loop.runUntilComplete(
      (function* () {
        const log: string[] = [];
        loop.callLater(50, () => log.push(`timer@${loop.time()}`));
        poller.clock.jump(100); // like a blocking call taking 100 ms
        log.push(`jumped@${loop.time()}`);
        yield;
        yield;
        return log;
      })(),
    );
    loop.close();
    expect(out).toEqual(["jumped@100", "timer@100"]);
    expect(() => poller.clock.jump(-1)).toThrow(RangeError);
  });

  test("ten thousand sleepers with random deadlines wake in order and the clock ends at the latest", async () => {
    const deadlines = Array.from({ length: 10_000 }, (_, i) => ((i * 7919) % 100_000) + 1);
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const woke: number[] = [];
      yield* gather(
        deadlines.map((ms) =>
          (function* () {
            yield* sleep(ms);
            woke.push(loop.time());
          })(),
        ),
      );
      return { woke, end: loop.time() };
    });
    expect(out.woke).toEqual([...deadlines].sort((a, b) => a - b));
    expect(out.end).toBe(Math.max(...deadlines));
  });
});

describe("deadlock detection", () => {
  test("a run where nothing can ever wake the loop rejects with DeadlockError naming each blocked task and what it waits on", async () => {
    const error = await runVirtual(function* () {
      const loop = getRunningLoop();
      currentTask()!.name = "main";
      const item: Future<string> = loop.createFuture<string>();
      item.label = "Queue.get";
      const consumer = createTask(
        (function* () {
          return yield* item;
        })(),
        { name: "consumer" },
      );
      yield* sleep(1_500);
      yield* consumer;
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    const d = error as DeadlockError;
    expect(d.time).toBe(1_500);
    expect(d.blocked.map((b) => [b.name, b.waitingOn])).toEqual([
      ["main", 'task "consumer"'],
      ["consumer", "Queue.get"],
    ]);
    expect(d.message).toContain('task "main" waiting on task "consumer"');
    expect(d.message).toContain('task "consumer" waiting on Queue.get');
    expect(d.message).toMatch(/deadlock at virtual time 1500 ms/);
  });

  test("blocked tasks are cancelled afterwards, so their cleanup runs", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      const f = getRunningLoop().createFuture<void>();
      try {
        yield* f;
      } catch (e) {
        log.push((e as Error).name);
        throw e;
      } finally {
        log.push("cleanup");
      }
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect(log).toEqual(["CancelledError", "cleanup"]);
  });

  test("an unlabelled future is described by its kind", async () => {
    const error = (await runVirtual(function* () {
      yield* getRunningLoop().createFuture<void>();
    }).catch((e: unknown) => e)) as DeadlockError;
    expect(error.blocked[0]!.waitingOn).toBe("an unlabelled Future");
  });

  test("with the poller used directly, the loop stops and `deadlock` holds the error", async () => {
    const poller = new VirtualPoller();
    const loop = new EventLoop({ poller });
    const outcome = await loop
      .runUntilComplete(
        (function* () {
          yield* loop.createFuture<void>();
        })(),
      )
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(Error);
    expect(poller.deadlock).toBeInstanceOf(DeadlockError);
    for (const t of loop.allTasks()) t.cancel();
    await loop.runUntilComplete(gather([...loop.allTasks()], { returnExceptions: true }));
    loop.close();
  });

  test("a custom onDeadlock hook is called instead of stopping the loop", async () => {
    const seen: DeadlockError[] = [];
    const poller = new VirtualPoller({
      onDeadlock: (error, loop) => {
        seen.push(error);
        for (const t of loop.allTasks()) t.cancel("deadlock");
      },
    });
    const loop = new EventLoop({ poller });
    const outcome = await loop
      .runUntilComplete(
        (function* () {
          yield* loop.createFuture<void>();
        })(),
      )
      .catch((e: unknown) => e);
    loop.close();
    expect(outcome).toBeInstanceOf(CancelledError);
    expect(seen).toHaveLength(1);
  });
});

describe("seeded task order", () => {
  function* roundRobin(log: string[]): Coroutine<void> {
    const tasks = ["a", "b", "c", "d", "e"].map((name) =>
      createTask(
        (function* () {
          for (let i = 0; i < 3; i++) {
            log.push(name);
            yield;
          }
        })(),
      ),
    );
    for (const t of tasks) yield* t;
  }

  async function orderFor(seed?: number): Promise<string> {
    const log: string[] = [];
    await runVirtual(() => roundRobin(log), seed === undefined ? undefined : { seed });
    return log.join("");
  }

  test("without a seed, tasks ready in the same turn run in the order they became ready", async () => {
    expect(await orderFor()).toBe("abcdeabcdeabcde");
  });

  test("a seed shuffles the order, the same seed replays it, and different seeds explore different orders", async () => {
    const orders = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => orderFor(s)));
    expect(new Set(orders).size).toBeGreaterThan(1);
    expect(await orderFor(3)).toBe(orders[2]);
    for (const o of orders) expect([...o].sort().join("")).toBe("aaabbbcccdddeee");
  });

  test("property: under any seed, plain callbacks keep their FIFO order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const log: number[] = [];
        await runVirtual(
          function* () {
            const loop = getRunningLoop();
            const tasks = [];
            for (let i = 0; i < 20; i++) {
              loop.callSoon(() => log.push(i));
              tasks.push(createTask((function* () {})()));
            }
            yield* gather(tasks);
          },
          { seed },
        );
        expect(log).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }),
      { numRuns: propertyRuns(30) },
    );
  });

  test("seeds find an ordering bug that the default order hides", async () => {
    // The "bug": the reader assumes the writer, created first, has run before it.
    function* racy(): Coroutine<string> {
      let value = "unset";
      const writer = createTask(
        (function* () {
          value = "written";
        })(),
      );
      const reader = createTask(
        (function* () {
          return value;
        })(),
      );
      yield* writer;
      return yield* reader;
    }
    expect(await runVirtual(racy)).toBe("written");
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) outcomes.add(await runVirtual(racy, { seed }));
    expect(outcomes).toEqual(new Set(["written", "unset"]));
  });

  test("a bad seed is rejected", () => {
    expect(() => new VirtualPoller({ seed: Number.NaN })).toThrow(RangeError);
    return expect(runVirtual(() => (function* () {})(), { seed: Infinity })).rejects.toThrow(/seed/);
  });
});

describe("runVirtual", () => {
  test("is shaped like run: result, errors, leftover tasks cancelled and cleaned up", async () => {
    const log: string[] = [];
    const result = await runVirtual(function* () {
      createTask(
        (function* () {
          try {
            yield* sleep(10_000);
          } finally {
            log.push(`leftover cleaned at ${getRunningLoop().time()}`);
          }
        })(),
      );
      yield* sleep(5);
      return "main";
    });
    expect(result).toBe("main");
    expect(log).toEqual(["leftover cleaned at 5"]);
    await expect(
      runVirtual(function* () {
        yield* sleep(1);
        throw new SyntaxError("boom");
      }),
    ).rejects.toThrow(SyntaxError);
  });

  test("rejects a non-coroutine and bad options", async () => {
    await expect(runVirtual(42 as never)).rejects.toThrow(TypeError);
    await expect(runVirtual(() => (function* () {})(), 5 as never)).rejects.toThrow(TypeError);
  });

  test("refuses to run inside a running loop", async () => {
    const inner = await runVirtual(function* () {
      return yield* catching(ensureFuture(runVirtual(() => (function* () {})())));
    });
    expect(String(inner)).toMatch(/yield\*/);
  });

  test("the jumps counter counts clock jumps", async () => {
    const poller = new VirtualPoller();
    const loop = new EventLoop({ poller });
    await loop.runUntilComplete(
      (function* () {
        yield* sleep(10);
        yield* sleep(10);
      })(),
    );
    loop.close();
    expect(poller.jumps).toBe(2);
    expect(poller.name).toBe("virtual");
  });
});
