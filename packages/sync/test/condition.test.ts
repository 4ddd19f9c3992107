import { CancelledError, getRunningLoop, run, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Condition, Lock } from "../src/index.js";
import { outcome, settle, spawn, thrown, turns } from "./helpers.js";

describe("Condition", () => {
  test("notify wakes waiters oldest first, each re-acquiring the lock (test_wait)", async () => {
    await run(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const make = (n: number) =>
        spawn(function* () {
          yield* cond.acquire();
          if (yield* cond.wait()) result.push(n);
          cond.release();
        });
      const tasks = [make(1), make(2), make(3)];
      yield* turns(2);
      expect(result).toEqual([]);
      expect(cond.locked()).toBe(false);

      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* turns(2);
      expect(result).toEqual([1]);

      yield* cond.acquire();
      cond.notify(2);
      cond.release();
      yield* settle(tasks);
      expect(result).toEqual([1, 2, 3]);
      expect(cond.locked()).toBe(false);
    });
  });

  test("notifyAll wakes every waiter (test_notify_all)", async () => {
    await run(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const tasks = [1, 2, 3].map((n) =>
        spawn(() =>
          cond.withLock(function* () {
            yield* cond.wait();
            result.push(n);
          }),
        ),
      );
      yield* turns(2);
      yield* cond.withLock(function* () {
        cond.notifyAll();
      });
      yield* settle(tasks);
      expect(result).toEqual([1, 2, 3]);
    });
  });

  test("wait, notify and notifyAll need the lock: an Error otherwise (test_*_unacquired)", async () => {
    await run(function* () {
      const cond = new Condition();
      expect(((yield* thrown(cond.wait())) as Error).message).toMatch(/not acquired/);
      expect(((yield* thrown(cond.waitFor(() => false))) as Error).message).toMatch(/not acquired/);
      expect(() => cond.notify()).toThrow(/not acquired/);
      expect(() => cond.notifyAll()).toThrow(/not acquired/);
    });
  });

  test("waitFor checks the predicate first, then after each notification, and returns its value (test_wait_for)", async () => {
    await run(function* () {
      const cond = new Condition();
      let presult: number | false = false;
      let calls = 0;
      const predicate = () => {
        calls++;
        return presult;
      };
      const task = spawn(() =>
        cond.withLock(function* () {
          return yield* cond.waitFor(predicate);
        }),
      );
      yield* turns(2);
      expect(calls).toBe(1);
      yield* cond.withLock(function* () {
        cond.notify();
      });
      yield* turns(2);
      expect(calls).toBe(2);
      presult = 7;
      yield* cond.withLock(function* () {
        cond.notify();
      });
      expect(yield* task).toBe(7);
      expect(calls).toBe(3);
    });
  });

  test("a cancelled wait still re-acquires the lock before the CancelledError goes on (test_wait_cancel)", async () => {
    await run(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      const holder = spawn(function* () {
        yield* cond.acquire();
        try {
          yield* cond.wait();
        } catch (error) {
          return cond.locked() && error instanceof CancelledError ? "locked on cancel" : "lock lost";
        }
        return "not cancelled";
      });
      cond.release();
      yield* turns(2);
      holder.cancel();
      expect(yield* holder).toBe("locked on cancel");
      expect(cond.locked()).toBe(true); // the holder never released it
    });
  });

  test("cancelled while the lock is contested, wait still ends holding it (test_wait_cancel_contested)", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const cond = new Condition();
      yield* cond.acquire();
      const waitTask = spawn(() => cond.wait());
      yield* turns(1);
      expect(cond.locked()).toBe(false);
      yield* cond.acquire();
      cond.notify();
      loop.callSoon(() => waitTask.cancel());
      loop.callSoon(() => cond.release());
      yield* settle([waitTask]);
      expect(cond.locked()).toBe(true);
    });
  });

  test("cancelled after being notified, while re-acquiring: the task ends cancelled (test_wait_cancel_after_notify)", async () => {
    await run(function* () {
      const cond = new Condition();
      let waited = false;
      const waiter = spawn(() =>
        cond.withLock(function* () {
          waited = true;
          yield* cond.wait();
        }),
      );
      yield* turns(2);
      yield* cond.acquire();
      cond.notify();
      yield* turns(1); // the waiter is now in acquire()
      waiter.cancel();
      yield* turns(1);
      cond.release();
      yield* settle([waiter]);
      expect(waiter.cancelled()).toBe(true);
      expect(waited).toBe(true);
      expect(cond.locked()).toBe(false);
    });
  });

  test("the CancelledError received while waiting is re-raised unchanged (test_cancelled_error_wakeup)", async () => {
    await run(function* () {
      const cond = new Condition();
      let raised: unknown = null;
      const task = spawn(() =>
        cond.withLock(function* () {
          try {
            yield* cond.waitFor(() => false);
          } catch (error) {
            raised = error;
            throw error;
          }
        }),
      );
      yield* turns(2);
      task.cancel("foo");
      const error = yield* thrown(task);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as Error).message).toBe("foo");
      expect(error).toBe(raised);
    });
  });

  test("the CancelledError received while re-acquiring is re-raised unchanged (test_cancelled_error_re_aquire)", async () => {
    await run(function* () {
      const cond = new Condition();
      let wake = false;
      let raised: unknown = null;
      const task = spawn(() =>
        cond.withLock(function* () {
          try {
            yield* cond.waitFor(() => wake);
          } catch (error) {
            raised = error;
            throw error;
          }
        }),
      );
      yield* turns(2);
      yield* cond.acquire();
      wake = true;
      cond.notify();
      yield* turns(1); // the task now waits to re-acquire
      task.cancel("foo");
      cond.release();
      const error = yield* thrown(task);
      expect((error as Error).message).toBe("foo");
      expect(error).toBe(raised);
    });
  });

  test("a notification received by a task cancelled before it ran goes to the next waiter (test_cancelled_wakeup)", async () => {
    await run(function* () {
      const cond = new Condition();
      let state = 0;
      function* consumer(): Coroutine<void> {
        yield* cond.withLock(function* () {
          for (;;) {
            yield* cond.waitFor(() => state !== 0);
            if (state < 0) return;
            state--;
          }
        });
      }
      const consumers = [spawn(consumer), spawn(consumer)];
      yield* turns(2);
      yield* cond.withLock(function* () {
        state++;
        cond.notify(1);
        consumers[0]!.cancel(); // cancelled at the moment it was notified
      });
      yield* turns(5);
      expect(state).toBe(0); // the other consumer got the notification
      yield* cond.withLock(function* () {
        state = -1;
        cond.notifyAll();
      });
      yield* settle(consumers);
      expect([outcome(consumers[0]!), outcome(consumers[1]!)]).toEqual(["cancelled", "ok:undefined"]);
    });
  });

  test("a waiter cancelled before notification causes no spurious wake-up of another", async () => {
    await run(function* () {
      const cond = new Condition();
      let wakeups = 0;
      const a = spawn(() => cond.withLock(() => cond.wait()));
      const b = spawn(() =>
        cond.withLock(function* () {
          yield* cond.wait();
          wakeups++;
        }),
      );
      yield* turns(2);
      a.cancel();
      yield* settle([a]);
      yield* turns(3);
      expect(wakeups).toBe(0);
      expect(b.done()).toBe(false);
      b.cancel();
      yield* settle([b]);
    });
  });

  test("several conditions can share one lock (test_explicit_lock)", async () => {
    await run(function* () {
      const lock = new Lock();
      const a = new Condition(lock);
      const b = new Condition(lock);
      yield* a.acquire();
      expect(lock.locked()).toBe(true);
      expect(b.locked()).toBe(true);
      b.release();
      expect(a.locked()).toBe(false);
    });
  });

  test("arguments are checked at the call", () => {
    expect(() => new Condition({} as Lock)).toThrow(TypeError);
    const cond = new Condition();
    expect(() => cond.waitFor("x" as unknown as () => boolean)).toThrow(TypeError);
    expect(() => cond.notify(-1)).toThrow(RangeError);
  });

  test("the waiter's future is labelled Condition.wait", async () => {
    await run(function* () {
      const cond = new Condition();
      const task = spawn(() => cond.withLock(() => cond.wait()));
      yield* turns(2);
      expect(task.waitingOn()?.label).toBe("Condition.wait");
      task.cancel();
      yield* settle([task]);
    });
  });
});
