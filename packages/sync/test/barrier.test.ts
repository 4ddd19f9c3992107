import { run, type Task } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Barrier, BrokenBarrierError } from "../src/index.js";
import { outcome, settle, spawn, turns } from "./helpers.js";

describe("Barrier", () => {
  test("parties must be an integer >= 1, checked at construction (test_barrier_parties)", () => {
    expect(() => new Barrier(0)).toThrow(RangeError);
    expect(() => new Barrier(0)).toThrow(/parties/);
    expect(() => new Barrier(-1)).toThrow(RangeError);
    expect(() => new Barrier(1.5)).toThrow(RangeError);
    expect(new Barrier(3).parties).toBe(3);
  });

  test("wait blocks until parties tasks wait, then returns each one's arrival index (test_barrier)", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const tasks: Task<number>[] = [0, 1, 2].map(() => spawn(() => barrier.wait()));
      yield* settle(tasks);
      expect(tasks.map((t) => t.result()).sort()).toEqual([0, 1, 2]);
      expect(tasks.map((t) => t.result())).toEqual([0, 1, 2]); // arrival order
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  test("nWaiting counts the tasks waiting for the barrier to fill", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const a = spawn(() => barrier.wait());
      const b = spawn(() => barrier.wait());
      yield* turns(2);
      expect(barrier.nWaiting).toBe(2);
      const c = spawn(() => barrier.wait());
      yield* settle([a, b, c]);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  test("the barrier can be used again once every task has gone through (test_barrier_multiple_cycles)", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const results: number[][] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const tasks = [spawn(() => barrier.wait()), spawn(() => barrier.wait())];
        yield* settle(tasks);
        results.push(tasks.map((t) => t.result()));
      }
      expect(results).toEqual([
        [0, 1],
        [0, 1],
        [0, 1],
      ]);
    });
  });

  test("a task arriving while the barrier drains waits for the next cycle (test_blocking_tasks_while_draining)", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const first = [spawn(() => barrier.wait()), spawn(() => barrier.wait())];
      yield* turns(1); // the second arrival released the barrier: it drains now
      const late = spawn(() => barrier.wait());
      yield* settle(first);
      yield* turns(3);
      expect(late.done()).toBe(false);
      expect(barrier.nWaiting).toBe(1);
      const partner = spawn(() => barrier.wait());
      yield* settle([late, partner]);
      expect([late.result(), partner.result()]).toEqual([0, 1]);
    });
  });

  test("a task cancelled while the barrier fills leaves it (test_filling_tasks_cancel_one)", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const a = spawn(() => barrier.wait());
      const b = spawn(() => barrier.wait());
      yield* turns(2);
      expect(barrier.nWaiting).toBe(2);
      a.cancel();
      yield* settle([a]);
      expect(barrier.nWaiting).toBe(1);
      const c = spawn(() => barrier.wait());
      const d = spawn(() => barrier.wait());
      yield* settle([b, c, d]);
      expect(outcome(a)).toBe("cancelled");
      expect([b.result(), c.result(), d.result()]).toEqual([0, 1, 2]);
    });
  });

  test("abort breaks the barrier for the waiting tasks and for later ones (test_abort_barrier)", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const a = spawn(() => barrier.wait());
      yield* turns(2);
      yield* barrier.abort();
      yield* settle([a]);
      expect(outcome(a)).toBe("BrokenBarrierError");
      expect(barrier.broken).toBe(true);
      const later = spawn(() => barrier.wait());
      yield* settle([later]);
      expect(later.exception()).toBeInstanceOf(BrokenBarrierError);
    });
  });

  test("reset breaks the current cycle for the waiting tasks and makes the barrier usable again (test_reset_barrier)", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const a = spawn(() => barrier.wait());
      yield* turns(2);
      yield* barrier.reset();
      yield* settle([a]);
      expect(outcome(a)).toBe("BrokenBarrierError");
      expect(barrier.broken).toBe(false);
      const pair = [spawn(() => barrier.wait()), spawn(() => barrier.wait())];
      yield* settle(pair);
      expect(pair.map((t) => t.result())).toEqual([0, 1]);
    });
  });

  test("reset after abort repairs a broken barrier (test_abort_and_reset)", async () => {
    await run(function* () {
      const barrier = new Barrier(1);
      yield* barrier.abort();
      expect(barrier.broken).toBe(true);
      yield* barrier.reset();
      expect(barrier.broken).toBe(false);
      expect(yield* barrier.wait()).toBe(0);
    });
  });

  test("toString shows the state and the waiters", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const a = spawn(() => barrier.wait());
      yield* turns(2);
      expect(String(barrier)).toBe("<Barrier [filling, waiters: 1/2]>");
      a.cancel();
      yield* settle([a]);
    });
  });
});
