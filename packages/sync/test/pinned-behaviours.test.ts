import { run, type Future } from "@loop/core";
import { describe, expect, test } from "vitest";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  Semaphore,
} from "../src/index.js";
import { outcome, settle, spawn, thrown, turns } from "./helpers.js";

// Behaviours that mutation testing (`pnpm test:mutation`, see CONTRIBUTING.md) found
// unpinned: each test here fails on a specific wrong implementation that passed the
// rest of the suite.

describe("Queue", () => {
  test("consume() cancelled while waiting in get() ends cancelled, not as if the queue had shut down", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const seen: number[] = [];
      const worker = spawn(() =>
        q.consume(function* (item) {
          seen.push(item);
        }),
      );
      yield* turns(1);
      worker.cancel();
      yield* settle([worker]);
      expect(outcome(worker)).toBe("cancelled");
      expect(seen).toEqual([]);
    });
  });

  test("items come out first in, first out after the ring buffer grows past 16 from a wrapped head", () => {
    const q = new Queue<number>();
    // Move the head off 0 so that growing has to unwrap the ring.
    for (let i = 0; i < 10; i++) q.putNowait(-1);
    for (let i = 0; i < 10; i++) q.getNowait();
    for (let i = 0; i < 40; i++) q.putNowait(i);
    const out: number[] = [];
    for (let i = 0; i < 20; i++) out.push(q.getNowait());
    for (let i = 40; i < 50; i++) q.putNowait(i);
    while (q.qsize() > 0) out.push(q.getNowait());
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test("a put() that resumes while two places are free hands back the place it was promised", async () => {
    await run(function* () {
      const q = new Queue<string>(2);
      q.putNowait("a");
      q.putNowait("b");
      const putter = spawn(() => q.put("c"));
      yield* turns(1);
      q.getNowait(); // the freed place is promised to the putter
      q.getNowait(); // a second place, free for anyone
      yield* putter;
      expect(q.qsize()).toBe(1);
      expect(q.full()).toBe(false);
      q.putNowait("d"); // the second place really is free
      expect(q.full()).toBe(true);
      expect([q.getNowait(), q.getNowait()]).toEqual(["c", "d"]);
    });
  });

  test("after shutdown(true), a cancelled getter that had been promised an item does not make getNowait() return one", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const getter = spawn(() => q.get());
      yield* turns(1);
      q.putNowait(1); // promised to the getter
      getter.cancel(); // before it runs
      q.shutdown(true); // the promised item is thrown away too
      yield* settle([getter]);
      expect(outcome(getter)).toBe("cancelled");
      expect(q.empty()).toBe(true);
      expect(() => q.getNowait()).toThrow(QueueShutDown);
    });
  });
});

describe("Barrier", () => {
  test("a task arriving in the turn the barrier trips waits for the next cycle instead of going through", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      // All three start in the same turn: the second trips the barrier, the third arrives while it drains.
      const tasks = [
        spawn(() => barrier.wait()),
        spawn(() => barrier.wait()),
        spawn(() => barrier.wait()),
      ];
      const late = tasks[2]!;
      yield* settle(tasks.slice(0, 2));
      yield* turns(3);
      expect(late.done()).toBe(false);
      expect(barrier.nWaiting).toBe(1);
      const partner = spawn(() => barrier.wait());
      yield* settle([late, partner]);
      expect([late.result(), partner.result()]).toEqual([0, 1]);
    });
  });
});

describe("Lock.withLock", () => {
  test("return() on a withLock still waiting for the lock leaves the holder's lock held", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire(); // this task holds the lock
      let ran = false;
      const op = lock.withLock(function* () {
        ran = true;
      });
      const first = op.next();
      expect(first.done).toBe(false);
      expect(op.return(undefined)).toEqual({ done: true, value: undefined });
      expect((first.value as Future<unknown>).cancelled()).toBe(true);
      expect(lock.locked()).toBe(true); // still ours
      const other = spawn(() => lock.acquire());
      yield* turns(2);
      expect(other.done()).toBe(false);
      lock.release();
      expect(yield* other).toBe(true);
      expect(ran).toBe(false);
    });
  });

  test("a withLock cancelled while waiting never runs its body and takes nothing", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      let ran = false;
      const task = spawn(() =>
        lock.withLock(function* () {
          ran = true;
        }),
      );
      yield* turns(1);
      task.cancel();
      yield* settle([task]);
      expect(outcome(task)).toBe("cancelled");
      expect(lock.locked()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
      expect(ran).toBe(false);
    });
  });
});

describe("errors name the call, the argument and what was passed", () => {
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "new Queue(-1)",
      () => new Queue(-1),
      RangeError,
      "new Queue(maxsize): maxsize must be >= 0, got -1",
    ],
    [
      "new Queue(2.5)",
      () => new Queue(2.5),
      RangeError,
      "new Queue(maxsize): maxsize must be an integer >= 0, got 2.5",
    ],
    [
      'new Queue("3")',
      () => new Queue("3" as never),
      TypeError,
      "new Queue(maxsize): maxsize must be a number, got string",
    ],
    [
      "new Queue(null)",
      () => new Queue(null as never),
      TypeError,
      "new Queue(maxsize): maxsize must be a number, got null",
    ],
    [
      "new LifoQueue(-1)",
      () => new LifoQueue(-1),
      RangeError,
      "new LifoQueue(maxsize): maxsize must be >= 0, got -1",
    ],
    [
      "new Barrier(0)",
      () => new Barrier(0),
      RangeError,
      "new Barrier(parties): parties must be >= 1, got 0",
    ],
    [
      "new Semaphore(-1)",
      () => new Semaphore(-1),
      RangeError,
      "new Semaphore(value): value must be >= 0, got -1",
    ],
    [
      "new BoundedSemaphore(1.5)",
      () => new BoundedSemaphore(1.5),
      RangeError,
      "new BoundedSemaphore(value): value must be an integer >= 0, got 1.5",
    ],
    [
      "new PriorityQueue(0, 3)",
      () => new PriorityQueue(0, 3 as never),
      TypeError,
      "new PriorityQueue(maxsize, compare): compare must be a function (a, b) => number, got number",
    ],
    [
      "new PriorityQueue(0, null)",
      () => new PriorityQueue(0, null as never),
      TypeError,
      "new PriorityQueue(maxsize, compare): compare must be a function (a, b) => number, got null",
    ],
    [
      "new Condition(5)",
      () => new Condition(5 as never),
      TypeError,
      "new Condition(lock): lock must be a Lock from @loop/sync, or omitted",
    ],
    [
      "queue.shutdown(1)",
      () => new Queue().shutdown(1 as never),
      TypeError,
      "Queue.shutdown(immediate): immediate must be a boolean, got number",
    ],
    [
      "queue.shutdown(null)",
      () => new Queue().shutdown(null as never),
      TypeError,
      "Queue.shutdown(immediate): immediate must be a boolean, got null",
    ],
    [
      "queue.consume(5)",
      () => new Queue().consume(5 as never),
      TypeError,
      "Queue.consume(body): body must be a function* taking an item, got number",
    ],
    [
      "queue.consume(null)",
      () => new Queue().consume(null as never),
      TypeError,
      "Queue.consume(body): body must be a function* taking an item, got null",
    ],
    [
      "queue.taskDone() once too often",
      () => new Queue().taskDone(),
      RangeError,
      "Queue.taskDone(): called more times than items were put",
    ],
    [
      "queue.getNowait() on an empty queue",
      () => new Queue().getNowait(),
      QueueEmpty as never,
      "Queue.getNowait(): the queue is empty",
    ],
    [
      "lock.withLock(5)",
      () => new Lock().withLock(5 as never),
      TypeError,
      "Lock.withLock(body): body must be a function* (or a function returning a coroutine), got number",
    ],
    [
      "lock.withLock(null)",
      () => new Lock().withLock(null as never),
      TypeError,
      "Lock.withLock(body): body must be a function* (or a function returning a coroutine), got null",
    ],
    [
      "condition.withLock(5)",
      () => new Condition().withLock(5 as never),
      TypeError,
      "Condition.withLock(body): body must be a function* (or a function returning a coroutine), got number",
    ],
    [
      "condition.waitFor(5)",
      () => new Condition().waitFor(5 as never),
      TypeError,
      "Condition.waitFor(predicate): predicate must be a function, got number",
    ],
    [
      "condition.waitFor(null)",
      () => new Condition().waitFor(null as never),
      TypeError,
      "Condition.waitFor(predicate): predicate must be a function, got null",
    ],
    [
      "lock.release() unlocked",
      () => new Lock().release(),
      Error,
      "Lock.release(): the lock is not acquired; release() must follow a successful acquire()",
    ],
    [
      "condition.notify() unlocked",
      () => new Condition().notify(),
      Error,
      "Condition.notify(): the lock is not acquired; call it while holding the lock",
    ],
    [
      "condition.notifyAll() unlocked",
      () => new Condition().notifyAll(),
      Error,
      "Condition.notifyAll(): the lock is not acquired; call it while holding the lock",
    ],
  ];
  for (const [call, make, errorClass, message] of cases) {
    test(call, () => {
      let error: unknown = "returned";
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toBe(message);
    });
  }

  test("the queue errors and BrokenBarrierError have their names and default messages", () => {
    const made = [new QueueEmpty(), new QueueFull(), new QueueShutDown(), new BrokenBarrierError()];
    expect(made.map((e) => [e.name, e.message])).toEqual([
      ["QueueEmpty", "the queue is empty"],
      ["QueueFull", "the queue is full"],
      ["QueueShutDown", "the queue was shut down"],
      ["BrokenBarrierError", "the barrier is broken"],
    ]);
  });

  test("messages of a full or shut-down queue and of a body that returns no coroutine", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      q.putNowait(1);
      expect(() => q.putNowait(2)).toThrow(
        new QueueFull("Queue.putNowait(): the queue is full (maxsize 1)"),
      );
      q.shutdown();
      expect(() => q.putNowait(2)).toThrow("Queue.putNowait(): the queue was shut down");
      expect((yield* thrown(q.put(2))) as Error).toHaveProperty(
        "message",
        "Queue.put(): the queue was shut down",
      );
      q.getNowait();
      expect(() => q.getNowait()).toThrow(
        "Queue.getNowait(): the queue was shut down and is empty",
      );
      expect((yield* thrown(q.get())) as Error).toHaveProperty(
        "message",
        "Queue.get(): the queue was shut down and is empty",
      );
      const lock = new Lock();
      const error = yield* thrown(lock.withLock((() => 5) as never));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe(
        "Lock.withLock(body): body must return a coroutine; write it as a function* (await becomes yield*)",
      );
      expect(lock.locked()).toBe(false);
      const bounded = new BoundedSemaphore(1);
      expect(() => bounded.release()).toThrow(
        "BoundedSemaphore.release(): released too many times (value 1 is already the bound 1)",
      );
    });
  });

  test("toString of a queue lists waiting getters, putters, unfinished tasks and shutdown", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      const getter = spawn(() => q.get());
      yield* turns(1);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=0 getters=1>");
      q.putNowait(1);
      yield* getter;
      q.putNowait(2);
      const putter = spawn(() => q.put(3));
      yield* turns(1);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=1 putters=1 tasks=2>");
      q.shutdown();
      yield* settle([putter]);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=1 tasks=2 shutdown>");
    });
  });
});
