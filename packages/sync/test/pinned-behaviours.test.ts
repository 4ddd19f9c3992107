import { run, type Future } from "@loop/core";
import { describe, expect, test } from "vitest";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
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

describe("PriorityQueue's natural order (Python's tuple order)", () => {
  function drain<T>(items: T[]): T[] {
    const q = new PriorityQueue<T>();
    for (const item of items) q.putNowait(item);
    const out: T[] = [];
    while (q.qsize() > 0) out.push(q.getNowait());
    return out;
  }

  test("strings and bigints are ordered by <", () => {
    expect(drain(["b", "c", "a"])).toEqual(["a", "b", "c"]);
    expect(drain([3n, 1n, 2n])).toEqual([1n, 2n, 3n]);
  });

  test("arrays compare element by element, equal elements deciding nothing", () => {
    expect(
      drain([
        [1, "c"],
        [1, "b"],
        [1, "a"],
      ]),
    ).toEqual([
      [1, "a"],
      [1, "b"],
      [1, "c"],
    ]);
  });

  test("a shorter array that is a prefix of a longer one comes first", () => {
    expect(drain([[1, 2], [1], [1, 2, 0]])).toEqual([[1], [1, 2], [1, 2, 0]]);
  });

  test("an array and a number, or a number and a string, cannot be ordered: TypeError naming both", () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(1);
    expect(() => q.putNowait([1])).toThrow(TypeError);
    expect(() => q.putNowait("1")).toThrow(
      new TypeError(
        "PriorityQueue: cannot order a string and a number; pass a compare function: new PriorityQueue(maxsize, (a, b) => a.priority - b.priority)",
      ),
    );
    expect(() => q.putNowait(null)).toThrow(/^PriorityQueue: cannot order null and a number;/);
    expect(() => q.putNowait({})).toThrow(
      /^PriorityQueue: cannot order an object \(Object\) and a number;/,
    );
    expect(() => q.putNowait(Object.create(null))).toThrow(
      /^PriorityQueue: cannot order an object \(Object\) and a number;/,
    );
    expect(() => q.putNowait(new Date(0))).toThrow(
      /^PriorityQueue: cannot order an object \(Date\) and a number;/,
    );
    expect(q.qsize()).toBe(1);
  });
});

describe("Barrier, Condition, Event and withLock details", () => {
  test("nWaiting is 0 while the barrier drains, even before the released tasks have left", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const tasks = [spawn(() => barrier.wait()), spawn(() => barrier.wait())];
      yield* turns(1); // the second arrival tripped the barrier; the first has not left yet
      expect(barrier.nWaiting).toBe(0);
      expect(String(barrier)).toBe("<Barrier [draining, waiters: 0/2]>");
      yield* settle(tasks);
    });
  });

  test("wait() on an aborted barrier says it was aborted", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      yield* barrier.abort();
      const error = yield* thrown(barrier.wait());
      expect(error).toBeInstanceOf(BrokenBarrierError);
      expect((error as Error).message).toBe("Barrier.wait(): the barrier was aborted");
    });
  });

  test("Condition.wait() without the lock throws an Error saying so, and toString shows the lock and the waiters", async () => {
    await run(function* () {
      const cond = new Condition();
      const error = yield* thrown(cond.wait());
      expect((error as Error).message).toBe(
        "Condition.wait(): the lock is not acquired; call it while holding the lock",
      );
      expect(String(cond)).toBe("<Condition [unlocked]>");
      const waiter = spawn(() => cond.withLock(() => cond.wait()));
      yield* turns(1);
      expect(String(cond)).toBe("<Condition [unlocked, waiters: 1]>");
      yield* cond.acquire();
      expect(String(cond)).toBe("<Condition [locked, waiters: 1]>");
      cond.notify();
      cond.release();
      yield* waiter;
    });
  });

  test("Event.toString counts only the tasks still waiting", async () => {
    await run(function* () {
      const event = new Event();
      const a = spawn(() => event.wait());
      const b = spawn(() => event.wait());
      yield* turns(1);
      expect(String(event)).toBe("<Event [unset, waiters: 2]>");
      a.cancel();
      yield* settle([a]);
      expect(String(event)).toBe("<Event [unset, waiters: 1]>");
      event.set();
      yield* b;
      expect(String(event)).toBe("<Event [set]>");
    });
  });

  test("throw() into a withLock that has finished rethrows the error, as a finished generator does", async () => {
    await run(function* () {
      const lock = new Lock();
      const op = lock.withLock(function* () {
        return 1;
      });
      expect(op.next()).toEqual({ done: true, value: 1 });
      const error = new Error("late");
      expect(() => op.throw(error)).toThrow(error);
      expect(op.return(2)).toEqual({ done: true, value: 2 });
      expect(op.next()).toEqual({ done: true, value: undefined });
      expect(lock.locked()).toBe(false);
    });
  });
});

describe("the messages of waiters woken by shutdown", () => {
  test("getters and putters woken by shutdown(), or promised something before it, say why they fail", async () => {
    await run(function* () {
      const empty = new Queue<number>();
      const getter = spawn(() => empty.get());
      const full = new Queue<number>(1);
      full.putNowait(0);
      const putter = spawn(() => full.put(1));
      const promisedFull = new Queue<number>(1);
      promisedFull.putNowait(0);
      const promisedPutter = spawn(() => promisedFull.put(1));
      const discarded = new Queue<number>();
      const promisedGetter = spawn(() => discarded.get());
      yield* turns(1);
      promisedFull.getNowait(); // a place is promised to promisedPutter
      discarded.putNowait(1); // an item is promised to promisedGetter
      for (const q of [empty, full, promisedFull]) q.shutdown();
      discarded.shutdown(true);
      yield* settle([getter, putter, promisedPutter, promisedGetter]);
      expect(
        [getter, putter, promisedPutter, promisedGetter].map(
          (t) => (t.exception() as Error).message,
        ),
      ).toEqual([
        "Queue.get(): the queue was shut down and is empty",
        "Queue.put(): the queue was shut down",
        "Queue.put(): the queue was shut down",
        "Queue.get(): the queue was shut down with immediate=true",
      ]);
    });
  });

  test("Condition.notify(n) checks n and names it", async () => {
    await run(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      expect(() => cond.notify(-1)).toThrow(
        new RangeError("Condition.notify(n): n must be >= 0, got -1"),
      );
      cond.release();
    });
  });
});
