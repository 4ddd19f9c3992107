import { run, type Future } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Barrier, Lock, Queue, QueueShutDown } from "../src/index.js";
import { outcome, settle, spawn, turns } from "./helpers.js";

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
