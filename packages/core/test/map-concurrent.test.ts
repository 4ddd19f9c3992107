import { describe, expect, test } from "vitest";
import { CancelledError, allTasks, createTask, currentTask, each, fromIterable, mapConcurrent, produce, subscribe, type Coroutine } from "../src/index.js";
import { catching, releasedWhileWaiting, runVirtual, sleep, turns } from "./helpers.js";

/** Sleeps `ms` then returns `ms`, logging how many run at once. */
function tracker(): { fn: (ms: number) => Coroutine<number>; most: () => number; log: string[] } {
  let running = 0;
  let most = 0;
  const log: string[] = [];
  function* fn(ms: number): Coroutine<number> {
    running++;
    most = Math.max(most, running);
    try {
      yield* sleep(ms);
      return ms;
    } catch (error) {
      if (error instanceof CancelledError) log.push(`cancelled ${ms}`);
      throw error;
    } finally {
      running--;
    }
  }
  return { fn, most: () => most, log };
}

function* collect<T>(s: Parameters<typeof each<T>>[0]): Coroutine<T[]> {
  const out: T[] = [];
  for (const v of yield* each(s)) {
    out.push(v);
    yield* each.next();
  }
  return out;
}

describe("mapConcurrent", () => {
  test("ordered: results in source order, at most `limit` running at once", async () => {
    const t = tracker();
    const out = await runVirtual(function* () {
      return yield* collect(mapConcurrent(fromIterable([50, 10, 40, 20, 30, 5]), 3, t.fn));
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 5]);
    expect(t.most()).toBe(3);
  });

  test("unordered: results as they finish", async () => {
    const t = tracker();
    const out = await runVirtual(function* () {
      return yield* collect(mapConcurrent(fromIterable([50, 10, 40, 20]), 4, t.fn, { ordered: false }));
    });
    expect(out).toEqual([10, 20, 40, 50]);
  });

  test("a slow consumer stops the source: at most `limit` values are pulled ahead", async () => {
    const pulled: number[] = [];
    await runVirtual(function* () {
      const source = produce<number>(function* (send) {
        for (let i = 0; i < 100; i++) {
          pulled.push(i);
          yield* send(i);
        }
      });
      const sub = yield* subscribe(mapConcurrent(source, 4, function* (n) { return n; }));
      expect(yield* sub.next()).toEqual({ done: false, value: 0 });
      yield* sleep(1000); // the consumer dawdles
      // 1..4 are outstanding (limit 4); the producer is blocked sending 5 at most.
      expect(pulled.length).toBeLessThanOrEqual(6);
      sub.return();
    });
  });

  test("the first failure cancels the running fns and is thrown at the consumer's pull; nothing is left running", async () => {
    const t = tracker();
    let tasksAfter = -1;
    const error = await runVirtual(function* () {
      function* fn(ms: number): Coroutine<number> {
        if (ms === 15) {
          yield* sleep(ms);
          throw new Error("fn 15 failed");
        }
        return yield* t.fn(ms);
      }
      const e = yield* catching(collect(mapConcurrent(fromIterable([100, 200, 15, 300, 400]), 3, fn)));
      yield* turns(3);
      tasksAfter = allTasks().size;
      return e;
    });
    expect((error as Error).message).toBe("fn 15 failed");
    expect(t.log.sort()).toEqual(["cancelled 100", "cancelled 200"]);
    expect(tasksAfter).toBe(1); // only the main task
  });

  test("breaking out cancels the running fns and releases the source", async () => {
    const t = tracker();
    let released = false;
    let tasksAfter = -1;
    await runVirtual(function* () {
      const source = produce<number>(function* (send) {
        try {
          for (let i = 1; ; i++) yield* send(i * 10);
        } finally {
          released = true;
        }
      });
      for (const v of yield* each(mapConcurrent(source, 3, t.fn))) {
        if (v === 10) break;
        yield* each.next();
      }
      yield* turns(3);
      tasksAfter = allTasks().size;
    });
    expect(released).toBe(true);
    expect(t.log.sort()).toEqual(["cancelled 20", "cancelled 30"]);
    expect(tasksAfter).toBe(1);
  });

  test("cancelling the consumer while it waits cancels everything", async () => {
    const t = tracker();
    await runVirtual(function* () {
      const consumer = createTask(collect(mapConcurrent(fromIterable([100, 200]), 2, t.fn)));
      yield* sleep(50);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      yield* turns(3);
      expect(allTasks().size).toBe(1);
    });
    expect(t.log.sort()).toEqual(["cancelled 100", "cancelled 200"]);
  });

  test("a failing source is thrown at the consumer's pull", async () => {
    const error = await runVirtual(function* () {
      const source = produce<number>(function* (send) {
        yield* send(1);
        throw new Error("source failed");
      });
      return yield* catching(collect(mapConcurrent(source, 2, function* (n) { yield* sleep(10); return n; })));
    });
    expect((error as Error).message).toBe("source failed");
  });

  test("fn gets each value's index in the source, from 0", async () => {
    const out = await runVirtual(() => collect(mapConcurrent(fromIterable(["a", "b", "c"]), 2, function* (v, i) { return `${v}${i}`; })));
    expect(out).toEqual(["a0", "b1", "c2"]);
  });

  test("limit 1 runs one fn at a time", async () => {
    const t = tracker();
    const out = await runVirtual(() => collect(mapConcurrent(fromIterable([30, 10, 20]), 1, t.fn)));
    expect(out).toEqual([30, 10, 20]);
    expect(t.most()).toBe(1);
  });

  test("the feeder and each fn run in tasks named for debugging tools", async () => {
    const names = await runVirtual(function* () {
      const sub = yield* subscribe(mapConcurrent(fromIterable([10, 20]), 2, function* (ms) { yield* sleep(ms); return ms; }));
      const pending = catching(sub.next());
      const waiting = createTask(pending);
      yield* turns(3);
      const names = [...allTasks()].map((t) => t.getName()).filter((n) => n.startsWith("mapConcurrent")).sort();
      sub.return();
      yield* catching(waiting);
      return names;
    });
    expect(names).toEqual(["mapConcurrent", "mapConcurrent", "mapConcurrent feeder"]);
  });

  test("released before the first pull: return() does not throw, nothing starts, the source is never subscribed, next() is done", async () => {
    const log: string[] = [];
    const result = await runVirtual(function* () {
      const source = { subscribe: () => { log.push("subscribed"); return fromIterable([1]).subscribe(); } };
      const sub = yield* subscribe(mapConcurrent(source, 2, function* (n) { return n; }));
      sub.return();
      const result = yield* sub.next();
      yield* turns(3);
      log.push(`tasks ${allTasks().size}`);
      return result;
    });
    expect(result).toEqual({ done: true, value: undefined });
    expect(log).toEqual(["tasks 1"]);
  });

  test("a consumer cancelled while it waits cancels each running fn once (cancelling() is 1)", async () => {
    const seen: string[] = [];
    await runVirtual(function* () {
      function* fn(ms: number): Coroutine<number> {
        try {
          yield* sleep(ms);
          return ms;
        } catch (error) {
          seen.push(`${(error as Error).constructor.name} ${String(currentTask()?.cancelling())}`);
          throw error;
        }
      }
      const consumer = createTask(collect(mapConcurrent(fromIterable([100, 200]), 2, fn)));
      yield* sleep(50);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      yield* turns(3);
    });
    expect(seen).toEqual(["CancelledError 1", "CancelledError 1"]);
  });

  test("subscribing outside a coroutine on a loop is an Error", () => {
    expect(() => mapConcurrent(fromIterable([1]), 1, function* (n) { return n; }).subscribe()).toThrow(
      new Error("a mapConcurrent() stream must be subscribed inside a coroutine running on a loop"),
    );
  });

  test("bad arguments: exact TypeErrors and RangeErrors at the call", () => {
    const s = fromIterable([1]);
    const fn = function* (n: number): Coroutine<number> { return n; };
    expect(() => mapConcurrent(null as never, 1, fn)).toThrow(
      new TypeError("mapConcurrent(stream, limit, fn): stream must be a Stream (an object with subscribe()), such as fromAsyncIterable(x), queue.stream() or produce(fn)"),
    );
    for (const limit of [0, -1, 1.5, NaN, "2"]) {
      expect(() => mapConcurrent(s, limit as never, fn)).toThrow(new RangeError(`mapConcurrent(stream, limit, fn): limit must be an integer >= 1, got ${String(limit)}`));
    }
    expect(() => mapConcurrent(s, 2, null as never)).toThrow(new TypeError("mapConcurrent(stream, limit, fn): fn must be a function* (value, index) => Coroutine"));
    expect(() => mapConcurrent(s, 2, fn, { ordered: "yes" as never })).toThrow(new TypeError("mapConcurrent(stream, limit, fn, { ordered }): ordered must be a boolean"));
  });

  test("bad arguments throw at the call", () => {
    const s = fromIterable([1]);
    expect(() => mapConcurrent(s, 0, function* (n) { return n; })).toThrow(RangeError);
    expect(() => mapConcurrent(s, 2, null as never)).toThrow(TypeError);
    expect(() => mapConcurrent(s, 2, function* (n) { return n; }, { ordered: "yes" as never })).toThrow(TypeError);
  });
});

describe("mapConcurrent released from another task", () => {
  test("a consumer waiting in next() with no fn running sees done", async () => {
    // A source that never yields: the feeder waits on it, and no fn is running.
    const never = produce<number>(function* () {
      yield* sleep(1e9);
    });
    const log = await runVirtual(() => releasedWhileWaiting(mapConcurrent(never, 2, function* (n) { return n; })));
    expect(log).toEqual(["released", "consumer got done=true"]);
  });
});
