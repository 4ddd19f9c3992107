import { CancelledError, run, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { BoundedSemaphore, Condition, Guard, Lock, Semaphore } from "../src/index.js";
import { outcome, settle, spawn, thrown, turns } from "./helpers.js";

type Lockable = Lock | Semaphore | Condition;
const kinds: [string, () => Lockable, (x: Lockable) => boolean][] = [
  ["Lock", () => new Lock(), (x) => x.locked()],
  ["Semaphore", () => new Semaphore(1), (x) => x.locked()],
  ["BoundedSemaphore", () => new BoundedSemaphore(1), (x) => x.locked()],
  ["Condition", () => new Condition(), (x) => x.locked()],
];

describe.each(kinds)("%s scoped forms", (_name, make, held) => {
  test("withLock returns the body's result and releases", async () => {
    await run(function* () {
      const lock = make();
      const result = yield* lock.withLock(function* () {
        expect(held(lock)).toBe(true);
        yield* turns(1);
        return 42;
      });
      expect(result).toBe(42);
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock releases when the body throws", async () => {
    await run(function* () {
      const lock = make();
      const error = yield* thrown(
        lock.withLock(function* () {
          throw new Error("boom");
        }),
      );
      expect((error as Error).message).toBe("boom");
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock releases when the task is cancelled inside the body", async () => {
    await run(function* () {
      const lock = make();
      const task = spawn(() =>
        lock.withLock(function* () {
          yield* turns(10);
        }),
      );
      yield* turns(2);
      expect(held(lock)).toBe(true);
      task.cancel();
      yield* settle([task]);
      expect(outcome(task)).toBe("cancelled");
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock cancelled while waiting for the lock never runs the body and releases nothing", async () => {
    await run(function* () {
      const lock = make();
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
      expect(ran).toBe(false);
      expect(held(lock)).toBe(true); // still ours
      lock.release();
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock: a body that catches the cancellation returns normally, and the lock is released after", async () => {
    await run(function* () {
      const lock = make();
      const task = spawn(() =>
        lock.withLock(function* () {
          try {
            yield* turns(10);
            return "finished";
          } catch (error) {
            if (!(error instanceof CancelledError)) throw error;
            return "recovered";
          }
        }),
      );
      yield* turns(2);
      task.cancel();
      expect(yield* task).toBe("recovered");
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock holds the lock through the body's asynchronous cleanup", async () => {
    await run(function* () {
      const lock = make();
      const seen: boolean[] = [];
      const task = spawn(() =>
        lock.withLock(function* () {
          try {
            yield* turns(10);
          } finally {
            yield* turns(2); // cleanup that waits, still inside the lock
            seen.push(held(lock));
          }
        }),
      );
      yield* turns(2);
      task.cancel();
      yield* settle([task]);
      expect(seen).toEqual([true]);
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock driven by hand: return() runs the body's finally and releases", async () => {
    await run(function* () {
      const lock = make();
      const log: string[] = [];
      const scoped = lock.withLock(function* () {
        try {
          yield;
          log.push("not reached");
        } finally {
          log.push("finally");
        }
        return 1;
      });
      expect(scoped.next().done).toBe(false); // acquired at once, now inside the body's yield
      expect(held(lock)).toBe(true);
      expect(scoped.return(7)).toEqual({ done: true, value: 7 });
      expect(log).toEqual(["finally"]);
      expect(held(lock)).toBe(false);
      expect(scoped.next()).toEqual({ done: true, value: undefined });
    });
  });

  test("withLock: a body that does not return a coroutine is a TypeError, and the lock is released", async () => {
    await run(function* () {
      const lock = make();
      const error = yield* thrown(lock.withLock((() => 42) as unknown as () => Coroutine<void>));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/withLock\(body\): body must return a coroutine/);
      expect(held(lock)).toBe(false);
    });
  });

  test("withLock checks its argument at the call", () => {
    const lock = make();
    expect(() => lock.withLock(42 as unknown as () => Coroutine<void>)).toThrow(TypeError);
  });

  test("guard() releases at the end of a using block, also on error", async () => {
    await run(function* () {
      const lock = make();
      function* body(fail: boolean): Coroutine<void> {
        using guard = yield* lock.guard();
        expect(guard).toBeInstanceOf(Guard);
        expect(guard.held).toBe(true);
        expect(held(lock)).toBe(true);
        yield* turns(1);
        if (fail) throw new Error("inside");
      }
      yield* body(false);
      expect(held(lock)).toBe(false);
      expect(((yield* thrown(body(true))) as Error).message).toBe("inside");
      expect(held(lock)).toBe(false);
    });
  });

  test("guard() releases once, however often it is disposed", async () => {
    await run(function* () {
      const lock = make();
      const guard = yield* lock.guard();
      guard.release();
      guard[Symbol.dispose]();
      guard.release();
      expect(guard.held).toBe(false);
      expect(held(lock)).toBe(false);
      // a second holder is unaffected by the first guard's extra disposals
      const second = yield* lock.guard();
      guard.release();
      expect(held(lock)).toBe(true);
      second.release();
    });
  });

  test("a guarded block cancelled while holding releases", async () => {
    await run(function* () {
      const lock = make();
      const task = spawn(function* () {
        using _held = yield* lock.guard();
        yield* turns(10);
      });
      yield* turns(2);
      task.cancel();
      const error = yield* thrown(task);
      expect(error).toBeInstanceOf(CancelledError);
      expect(held(lock)).toBe(false);
    });
  });
});
