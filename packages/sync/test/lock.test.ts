import { CancelledError, getRunningLoop, run, type Coroutine, type Future } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Lock } from "../src/index.js";
import { outcome, settle, spawn, thrown, turns } from "./helpers.js";

describe("Lock", () => {
  test("acquire on a free lock returns true at once and locks it", async () => {
    await run(function* () {
      const lock = new Lock();
      expect(lock.locked()).toBe(false);
      expect(yield* lock.acquire()).toBe(true);
      expect(lock.locked()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
    });
  });

  test("an uncontended acquire does not suspend the task", async () => {
    await run(function* () {
      const lock = new Lock();
      const log: string[] = [];
      spawn(function* () {
        log.push("other task ran");
      });
      yield* lock.acquire(); // would let the other task run if it suspended
      log.push("acquired");
      lock.release();
      yield* turns(1);
      expect(log).toEqual(["acquired", "other task ran"]);
    });
  });

  test("releasing an unlocked lock throws an Error", () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow(Error);
    expect(() => lock.release()).toThrow(/not acquired/);
  });

  test("waiters get the lock in arrival order (test_acquire)", async () => {
    await run(function* () {
      const lock = new Lock();
      const result: number[] = [];
      yield* lock.acquire();
      const tasks = [1, 2, 3].map((n) =>
        spawn(function* () {
          yield* lock.acquire();
          result.push(n);
          yield* turns(1);
          lock.release();
        }),
      );
      yield* turns(2);
      expect(result).toEqual([]);
      lock.release();
      yield* settle(tasks);
      expect(result).toEqual([1, 2, 3]);
      expect(lock.locked()).toBe(false);
    });
  });

  test("a newcomer cannot take the lock between its release and the woken waiter's turn", async () => {
    await run(function* () {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      const waiter = spawn(function* () {
        yield* lock.acquire();
        log.push("waiter");
        lock.release();
      });
      yield* turns(1);
      lock.release();
      expect(lock.locked()).toBe(true); // handed over, not free
      yield* lock.acquire(); // the releasing task comes straight back: it must queue
      log.push("newcomer");
      lock.release();
      yield* waiter;
      expect(log).toEqual(["waiter", "newcomer"]);
    });
  });

  test("a waiter cancelled before being woken leaves the line (test_acquire_cancel)", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const task = spawn(() => lock.acquire());
      yield* turns(1);
      task.cancel();
      yield* settle([task]);
      expect(outcome(task)).toBe("cancelled");
      lock.release();
      expect(lock.locked()).toBe(false);
    });
  });

  test("a waiter cancelled after being handed the lock passes it on (test_cancel_race)", async () => {
    await run(function* () {
      const lock = new Lock();
      const loop = getRunningLoop();
      const blocker: Future<void> = loop.createFuture();
      const order: string[] = [];
      function lockit(name: string, wait: Future<void> | null): () => Coroutine<void> {
        return function* () {
          yield* lock.acquire();
          order.push(name);
          try {
            if (wait !== null) yield* wait;
          } finally {
            lock.release();
          }
        };
      }
      const ta = spawn(lockit("A", blocker));
      yield* turns(1);
      expect(lock.locked()).toBe(true);
      const tb = spawn(lockit("B", null));
      yield* turns(1);
      const tc = spawn(lockit("C", null));
      yield* turns(1);
      blocker.setResult();
      tb.cancel();
      yield* settle([ta, tb, tc]);
      expect(outcome(tb)).toBe("cancelled");
      expect(order).toEqual(["A", "C"]);
      expect(lock.locked()).toBe(false);
    });
  });

  test("cancelling the woken waiter and releasing at once takes the lock only once (test_cancel_release_race)", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      function* lockit(): Coroutine<void> {
        callCount++;
        yield* lock.acquire();
        lockCount++;
      }
      yield* lock.acquire();
      const t1 = spawn(lockit);
      const t2 = spawn(lockit);
      const t3 = spawn(lockit);
      yield* turns(1);
      loop.callSoon(() => {
        t1.cancel();
        lock.release();
      });
      expect(yield* thrown(t1)).toBeInstanceOf(CancelledError);
      yield* turns(1);
      expect(lockCount).toBe(1);
      expect(callCount).toBe(3);
      expect(t1.cancelled() && t2.done()).toBe(true);
      t3.cancel();
      yield* turns(1);
      expect(t3.cancelled()).toBe(true);
    });
  });

  test("a lock handed to a task that is then cancelled goes to the next waiter (test_finished_waiter_cancelled)", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const tb = spawn(() => lock.acquire());
      yield* turns(1);
      const tc = spawn(() => lock.acquire());
      yield* turns(1);
      lock.release(); // handed to tb
      tb.cancel(); // ... which is cancelled before it runs
      yield* settle([tb, tc]);
      expect(outcome(tb)).toBe("cancelled");
      expect(outcome(tc)).toBe("ok:true");
      expect(lock.locked()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
    });
  });

  test("the waiter's future is labelled Lock.acquire", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const task = spawn(() => lock.acquire());
      yield* turns(1);
      expect(task.waitingOn()?.label).toBe("Lock.acquire");
      lock.release();
      yield* task;
    });
  });

  test("acquire() can run as a task's coroutine by itself", async () => {
    await run(function* () {
      const lock = new Lock();
      const task = spawn(() => lock.acquire());
      expect(yield* task).toBe(true);
      expect(lock.locked()).toBe(true);
    });
  });

  test("an acquire abandoned by hand with return() leaves the line", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const op = lock.acquire();
      const first = op.next();
      expect(first.done).toBe(false);
      expect(op.return(true)).toEqual({ done: true, value: true });
      expect((first.value as Future<unknown>).cancelled()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false); // nobody was left in the line to hand it to
    });
  });

  test("toString shows the state and the waiters", async () => {
    await run(function* () {
      const lock = new Lock();
      expect(String(lock)).toBe("<Lock [unlocked]>");
      yield* lock.acquire();
      const task = spawn(() => lock.acquire());
      yield* turns(1);
      expect(String(lock)).toBe("<Lock [locked, waiters: 1]>");
      lock.release();
      yield* task;
    });
  });
});
