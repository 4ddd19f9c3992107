import { CancelledError, gather, run, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { BoundedSemaphore, Semaphore } from "../src/index.js";
import { outcome, settle, spawn, turns } from "./helpers.js";

describe("Semaphore", () => {
  test("defaults to one permit", async () => {
    await run(function* () {
      const sem = new Semaphore();
      expect(sem.value).toBe(1);
      expect(sem.locked()).toBe(false);
      yield* sem.acquire();
      expect(sem.locked()).toBe(true);
    });
  });

  test("a negative, fractional or non-number value is refused at construction, naming it", () => {
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    expect(() => new Semaphore(-1)).toThrow(/value/);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(() => new Semaphore("2" as unknown as number)).toThrow(TypeError);
    expect(() => new BoundedSemaphore(-1)).toThrow(/BoundedSemaphore\(value\): value must be >= 0/);
  });

  test("waiters are served in arrival order (test_acquire)", async () => {
    await run(function* () {
      const sem = new Semaphore(3);
      const result: number[] = [];
      yield* sem.acquire();
      yield* sem.acquire();
      yield* sem.acquire();
      const tasks = [1, 2, 3, 4].map((n) =>
        spawn(function* () {
          yield* sem.acquire();
          result.push(n);
        }),
      );
      yield* turns(2);
      expect(result).toEqual([]);
      sem.release();
      sem.release();
      yield* turns(2);
      expect(result).toEqual([1, 2]);
      sem.release();
      yield* turns(2);
      expect(result).toEqual([1, 2, 3]);
      expect(tasks[3]!.done()).toBe(false);
      tasks[3]!.cancel();
      yield* settle(tasks);
      expect(sem.value).toBe(0);
    });
  });

  test("cancelled waiters before being woken do not take permits (test_acquire_cancel_before_awoken)", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const [t1, t2, t3, t4] = [0, 1, 2, 3].map(() => spawn(() => sem.acquire()));
      yield* turns(1);
      t1!.cancel();
      t2!.cancel();
      sem.release();
      yield* turns(2);
      expect(t3!.done()).toBe(true);
      expect(t4!.done()).toBe(false);
      t4!.cancel();
      yield* settle([t1!, t2!, t3!, t4!]);
      expect(sem.value).toBe(0);
    });
  });

  test("a waiter cancelled right after the release that woke it passes the permit on (test_acquire_hang)", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const t1 = spawn(() => sem.acquire());
      const t2 = spawn(() => sem.acquire());
      yield* turns(1);
      sem.release(); // handed to t1
      t1.cancel(); // before t1 runs
      yield* settle([t1, t2]);
      expect(outcome(t1)).toBe("cancelled");
      expect(outcome(t2)).toBe("ok:true");
      expect(sem.locked()).toBe(true);
    });
  });

  test("a holder releasing after cancelling the next waiter leaves the permit free (test_acquire_no_hang)", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      const reached: string[] = [];
      const t2Ref: { task?: ReturnType<typeof spawn> } = {};
      const t1 = spawn(() =>
        sem.withLock(function* () {
          yield* turns(1);
          t2Ref.task!.cancel();
        }),
      );
      t2Ref.task = spawn(() =>
        sem.withLock(function* () {
          reached.push("t2 body");
        }),
      );
      const [r1, r2] = yield* gather([t1, t2Ref.task], { returnExceptions: true });
      expect(r1).toBeUndefined();
      expect(r2).toBeInstanceOf(CancelledError);
      expect(reached).toEqual([]);
      expect(sem.value).toBe(1);
      expect(yield* sem.acquire()).toBe(true);
    });
  });

  test("a task that releases and re-acquires goes behind the tasks already waiting (test_acquire_fifo_order_2)", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      const result: number[] = [];
      yield* sem.acquire();
      const c1 = spawn(function* () {
        yield* sem.acquire();
        result.push(1);
      });
      const c2 = spawn(function* () {
        yield* sem.acquire();
        result.push(2);
        sem.release();
        yield* sem.acquire();
        result.push(4);
      });
      const c3 = spawn(function* () {
        yield* sem.acquire();
        result.push(3);
      });
      yield* turns(1);
      sem.release();
      sem.release();
      yield* turns(1);
      sem.release(); // c1 is done with its permit
      yield* settle([c1, c2, c3]);
      expect(result).toEqual([1, 2, 3, 4]);
    });
  });

  test("a cancelled first waiter does not disturb the order of the others (test_acquire_fifo_order_3)", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const result: number[] = [];
      const make = (n: number) =>
        spawn(function* () {
          yield* sem.acquire();
          result.push(n);
        });
      const tasks = [make(1), make(2), make(3)];
      yield* turns(1);
      tasks[0]!.cancel();
      yield* settle([tasks[0]!]);
      sem.release();
      sem.release();
      yield* settle(tasks);
      expect(result).toEqual([2, 3]);
    });
  });

  test("never more tasks inside than permits, and every permit comes back", async () => {
    await run(function* () {
      const sem = new Semaphore(3);
      let inside = 0;
      let most = 0;
      function* worker(n: number): Coroutine<void> {
        yield* sem.withLock(function* () {
          inside++;
          most = Math.max(most, inside);
          yield* turns(n % 4);
          inside--;
        });
      }
      const tasks = Array.from({ length: 40 }, (_, n) => spawn(() => worker(n)));
      yield* turns(3);
      tasks[7]!.cancel();
      tasks[20]!.cancel();
      yield* settle(tasks);
      expect(most).toBe(3);
      expect(sem.value).toBe(3);
    });
  });

  test("the waiter's future is labelled Semaphore.acquire", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const task = spawn(() => sem.acquire());
      yield* turns(1);
      expect(task.waitingOn()?.label).toBe("Semaphore.acquire");
      task.cancel();
      yield* settle([task]);
    });
  });

  test("toString shows the value and the waiters", async () => {
    await run(function* () {
      const sem = new Semaphore(2);
      expect(String(sem)).toBe("<Semaphore [unlocked, value: 2]>");
      yield* sem.acquire();
      yield* sem.acquire();
      const task = spawn(() => sem.acquire());
      yield* turns(1);
      expect(String(sem)).toBe("<Semaphore [locked, waiters: 1]>");
      task.cancel();
      yield* settle([task]);
    });
  });
});

describe("BoundedSemaphore", () => {
  test("releasing more often than acquired throws a RangeError (test_release_not_acquired)", async () => {
    await run(function* () {
      const sem = new BoundedSemaphore(2);
      expect(() => sem.release()).toThrow(RangeError);
      yield* sem.acquire();
      sem.release();
      expect(() => sem.release()).toThrow(/released too many times/);
      expect(sem.value).toBe(2);
    });
  });

  test("hands permits over to waiters like a Semaphore", async () => {
    await run(function* () {
      const sem = new BoundedSemaphore(1);
      yield* sem.acquire();
      const task = spawn(() => sem.acquire());
      yield* turns(1);
      sem.release();
      yield* task;
      expect(sem.locked()).toBe(true);
      sem.release();
      expect(() => sem.release()).toThrow(RangeError);
    });
  });
});
