import { describe, expect, test } from "vitest";
import {
  CancelledError,
  TimeoutError,
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  type Coroutine,
  type Future,
} from "@loop/core";
import { sleep, timeout, timeoutAt, type Timeout } from "../src/index.js";
import { caught, virtual, withPoller } from "./helpers.js";

// The behaviour set of CPython's Lib/test/test_asyncio/test_timeouts.py, in virtual time
// (seconds become milliseconds ×1000 where it helps reading).

describe("timeout: expiry", () => {
  test("a body that outlives the deadline is cancelled and the scope throws TimeoutError (test_timeout_basic)", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const error = yield* caught(() =>
        timeout(10, function* (s) {
          scope = s;
          yield* sleep(10_000);
        }),
      );
      return { error, expired: scope!.expired(), now: getRunningLoop().time() };
    });
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.expired).toBe(true);
    expect(out.now).toBe(10);
  });

  test("timeoutAt takes an absolute loop time, and when() reports it (test_timeout_at_basic)", async () => {
    const out = await virtual(function* () {
      yield* sleep(5);
      const deadline = getRunningLoop().time() + 10;
      let scope: Timeout | null = null;
      const error = yield* caught(() =>
        timeoutAt(deadline, function* (s) {
          scope = s;
          yield* sleep(10_000);
        }),
      );
      return { error, deadline, when: scope!.when(), expired: scope!.expired() };
    });
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.when).toBe(out.deadline);
    expect(out.when).toBe(15);
    expect(out.expired).toBe(true);
  });

  test("the body sees CancelledError at its suspension point and can clean up (test_waiter_cancelled)", async () => {
    const log: string[] = [];
    const error = await virtual(function* () {
      return yield* caught(() =>
        timeout(10, function* () {
          try {
            yield* sleep(10_000);
          } catch (e) {
            log.push(`body saw ${(e as Error).name}`);
            throw e;
          } finally {
            yield* sleep(5); // asynchronous cleanup still runs
            log.push(`cleanup done at ${getRunningLoop().time()}`);
          }
        }),
      );
    });
    expect(error).toBeInstanceOf(TimeoutError);
    expect(log).toEqual(["body saw CancelledError", "cleanup done at 15"]);
  });

  test("the TimeoutError's cause is the CancelledError the body ended with (test_timeout_exception_cause)", async () => {
    const error = await virtual(function* () {
      return yield* caught(() => timeout(0, () => sleep(1_000)));
    });
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).cause).toBeInstanceOf(CancelledError);
  });

  test("the TimeoutError says which deadline expired", async () => {
    const messages = await virtual(function* () {
      const out: string[] = [];
      out.push(((yield* caught(() => timeout(10, () => sleep(100)))) as Error).message);
      out.push(((yield* caught(() => timeoutAt(50, () => sleep(100)))) as Error).message);
      out.push(
        ((yield* caught(() =>
          timeout(null, function* (s) {
            s.reschedule(120);
            yield* sleep(100);
          }),
        )) as Error).message,
      );
      return out;
    });
    expect(messages).toEqual(["timeout(10) expired", "timeoutAt(50) expired", "Timeout.reschedule(120) expired"]);
  });

  test("an hour-long timeout expires after exactly an hour of virtual time", async () => {
    const out = await virtual(function* () {
      const error = yield* caught(() => timeout(3_600_000, () => sleep(7_200_000)));
      return [error, getRunningLoop().time()];
    });
    expect(out[0]).toBeInstanceOf(TimeoutError);
    expect(out[1]).toBe(3_600_000);
  });

  test("the task running the scope is not left cancelled (test_outer_task_is_not_cancelled)", async () => {
    const out = await virtual(function* () {
      const task = createTask(
        (function* (): Coroutine<unknown> {
          const e = yield* caught(() => timeout(1, () => sleep(10_000)));
          return [e instanceof TimeoutError, currentTask()!.cancelling()];
        })(),
      );
      const result = yield* task;
      return { result, cancelled: task.cancelled(), done: task.done() };
    });
    expect(out).toEqual({ result: [true, 0], cancelled: false, done: true });
  });
});

describe("timeout: no expiry", () => {
  test("a body that finishes in time returns its value and the scope is not expired (test_timeout_not_called)", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const value = yield* timeout(10_000, function* (s) {
        scope = s;
        yield* sleep(10);
        return "fast";
      });
      return { value, expired: scope!.expired(), when: scope!.when(), now: getRunningLoop().time() };
    });
    expect(out).toEqual({ value: "fast", expired: false, when: 10_000, now: 10 });
  });

  test("timeout(null) and timeoutAt(null) set no deadline; when() is null (test_timeout_disabled)", async () => {
    const out = await virtual(function* () {
      const whens: (number | null)[] = [];
      yield* timeout(null, function* (s) {
        yield* sleep(86_400_000);
        whens.push(s.when());
      });
      yield* timeoutAt(null, function* (s) {
        yield* sleep(10);
        whens.push(s.when());
      });
      yield* timeout(Infinity, function* (s) {
        whens.push(s.when());
      });
      return whens;
    });
    expect(out).toEqual([null, null, null]);
  });

  test("timeout(0) around a body that never suspends does not fire", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const v = yield* timeout(0, function* (s) {
        scope = s;
        return 42;
      });
      yield* sleep(0); // the disarmed expiry must not reach the task later either
      yield* sleep(10);
      return { v, expired: scope!.expired(), cancelling: currentTask()!.cancelling() };
    });
    expect(out).toEqual({ v: 42, expired: false, cancelling: 0 });
  });

  test("a foreign error passes through and the scope is not expired (test_foreign_exception_passed)", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const error = yield* caught(() =>
        timeout(10, function* (s) {
          scope = s;
          throw new RangeError("key");
        }),
      );
      return { error, expired: scope!.expired() };
    });
    expect(out.error).toBeInstanceOf(RangeError);
    expect(out.expired).toBe(false);
  });

  test("an error raised while handling the expiry wins over TimeoutError (test_foreign_exception_on_timeout)", async () => {
    const error = await virtual(function* () {
      function* crash(): Coroutine<void> {
        try {
          yield* sleep(1_000);
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new EvalError("1/0");
        }
      }
      return yield* caught(() => timeout(10, () => crash()));
    });
    expect(error).toBeInstanceOf(EvalError);
  });

  test("a body that swallows the cancellation and returns gives its value; the expiry is withdrawn", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const v = yield* timeout(10, function* (s) {
        scope = s;
        try {
          yield* sleep(1_000);
        } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a body that swallows the timeout's cancellation is what this test is about
          return "swallowed";
        }
        return "slept";
      });
      yield* sleep(1); // a leftover cancellation would hit here
      return { v, expired: scope!.expired(), cancelling: currentTask()!.cancelling() };
    });
    expect(out).toEqual({ v: "swallowed", expired: true, cancelling: 0 });
  });
});

describe("timeout: cancellation from elsewhere", () => {
  test("a cancellation of the task passes through as CancelledError (test_foreign_cancel_doesnt_timeout_if_not_expired)", async () => {
    const out = await virtual(function* () {
      const inner = createTask(
        (function* (): Coroutine<unknown> {
          let scope: Timeout | null = null;
          const e = yield* caught(() =>
            timeout(10_000, function* (s) {
              scope = s;
              currentTask()!.cancel();
              yield* sleep(10_000);
            }),
          );
          return [e, scope!.expired()];
        })(),
      );
      return (yield* inner) as [unknown, boolean];
    });
    expect(out[0]).toBeInstanceOf(CancelledError);
    expect(out[1]).toBe(false);
  });

  test("a cancellation arriving in the same turn as the expiry passes through as CancelledError", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      let scope: Timeout | null = null;
      const task = createTask(
        timeout(10, function* (s) {
          scope = s;
          yield* sleep(1_000);
        }),
      );
      // Due at the same time as the scope's deadline, scheduled after it: same turn.
      loop.callLater(10, () => task.cancel("from outside"));
      const e = yield* caught(() => task);
      return { e, expired: scope!.expired(), cancelled: task.cancelled() };
    });
    expect(out.e).toBeInstanceOf(CancelledError);
    expect(out.expired).toBe(true);
    expect(out.cancelled).toBe(true);
  });

  test("a cancellation caught earlier and not withdrawn does not stop a later scope from timing out (test_timeout_after_cancellation)", async () => {
    const error = await virtual(function* () {
      try {
        currentTask()!.cancel();
        yield* sleep(1_000);
      } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a body that swallows a cancellation is what this test is about
        // swallowed, and cancelling() stays 1
      }
      return yield* caught(() => timeout(0, () => sleep(1_000)));
    });
    expect(error).toBeInstanceOf(TimeoutError);
  });

  test("a new cancellation inside a scope entered after an old one still passes through (test_cancel_in_timeout_after_cancellation)", async () => {
    const error = await virtual(function* () {
      try {
        currentTask()!.cancel();
        yield* sleep(1_000);
      } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a body that swallows a cancellation is what this test is about
        // swallowed
      }
      return yield* caught(() =>
        timeout(1_000, function* () {
          currentTask()!.cancel();
          yield* sleep(2_000);
        }),
      );
    });
    expect(error).toBeInstanceOf(CancelledError);
  });
});

describe("timeout: nesting", () => {
  test("nested scopes with the same deadline: only the outer throws TimeoutError, the inner lets CancelledError through (test_nested_timeouts)", async () => {
    const out = await virtual(function* () {
      const deadline = getRunningLoop().time() + 10;
      const scopes: Timeout[] = [];
      let innerSaw: unknown = null;
      const error = yield* caught(() =>
        timeoutAt(deadline, function* (outer) {
          scopes.push(outer);
          try {
            yield* timeoutAt(deadline, function* (inner) {
              scopes.push(inner);
              yield* sleep(10_000);
            });
          } catch (e) {
            innerSaw = e;
            throw e;
          }
        }),
      );
      return { error, innerSaw, expired: scopes.map((s) => s.expired()) };
    });
    expect(out.innerSaw).toBeInstanceOf(CancelledError);
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.expired).toEqual([true, true]);
  });

  test("an outer deadline passing while the loop is blocked interrupts the body through an unexpired inner scope (test_nested_timeouts_concurrent)", async () => {
    const out = await withPoller(function* (poller) {
      let innerSaw: unknown = null;
      const error = yield* caught(() =>
        timeout(2, function* () {
          try {
            yield* timeout(100, function* () {
              poller.clock.jump(10); // blocking work: time passes inside the step
              yield* sleep(1_000);
            });
          } catch (e) {
            innerSaw = e;
            throw e;
          }
        }),
      );
      return { error, innerSaw };
    });
    expect(out.innerSaw).toBeInstanceOf(CancelledError);
    expect(out.error).toBeInstanceOf(TimeoutError);
  });

  test("both deadlines passing in one turn after a blocked loop: the outer scope raises, the code after the inner never runs (test_nested_timeouts_loop_busy)", async () => {
    const out = await withPoller(function* (poller) {
      const loop = getRunningLoop();
      const t0 = loop.time();
      const log: string[] = [];
      const error = yield* caught(() =>
        timeout(100, function* () {
          try {
            yield* timeout(10, function* () {
              poller.clock.jump(100);
              yield* sleep(1_000);
            });
          } catch (e) {
            log.push(`inner: ${(e as Error).name}`);
            if (!(e instanceof TimeoutError)) throw e; // assertRaises(TimeoutError) lets others through
          }
          yield* sleep(10_000);
          log.push("not reached");
        }),
      );
      return { error, log, elapsed: loop.time() - t0 };
    });
    // Both timers fire in the same turn, so the inner sees two cancellation requests, one not
    // its own: it lets CancelledError through and the outer turns it into TimeoutError.
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.log).toEqual(["inner: CancelledError"]);
    expect(out.elapsed).toBe(100);
  });

  test("an inner scope that expires alone raises TimeoutError inside the outer, which goes on", async () => {
    const out = await virtual(function* () {
      return yield* timeout(1_000, function* (outer) {
        const inner = yield* caught(() => timeout(10, () => sleep(500)));
        yield* sleep(20);
        return [(inner as Error).name, outer.expired(), getRunningLoop().time()];
      });
    });
    expect(out).toEqual(["TimeoutError", false, 30]);
  });

  test("a scope inside the finally of an expiring scope times out on its own (test_nested_timeout_in_finally)", async () => {
    const out = await virtual(function* () {
      let innerError: unknown = null;
      const error = yield* caught(() =>
        timeout(10, function* () {
          try {
            yield* sleep(1_000);
          } finally {
            innerError = yield* caught(() => timeout(10, () => sleep(10_000)));
          }
        }),
      );
      return { error, innerError, now: getRunningLoop().time() };
    });
    expect(out.innerError).toBeInstanceOf(TimeoutError);
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.now).toBe(20);
  });

  test("property: of nested scopes whose deadlines pass, the outermost expired one raises TimeoutError", async () => {
    const fc = await import("fast-check");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }), async (deadlines) => {
        const out = await virtual(function* () {
          const seen: string[] = [];
          function* nest(level: number): Coroutine<void> {
            if (level === deadlines.length) {
              yield* sleep(1_000);
              return;
            }
            try {
              yield* timeout(deadlines[level]!, () => nest(level + 1));
            } catch (e) {
              seen.push(`${level}:${(e as Error).name}`);
              throw e;
            }
          }
          const top = yield* caught(() => nest(0));
          return { seen, top: (top as Error).name };
        });
        // The earliest deadline fires first; the outermost scope holding it converts.
        const min = Math.min(...deadlines);
        const converting = deadlines.indexOf(min);
        expect(out.top).toBe("TimeoutError");
        expect(out.seen[out.seen.length - 1]).toBe("0:TimeoutError");
        for (const entry of out.seen) {
          const level = Number(entry.split(":")[0]);
          expect(entry.endsWith(level >= converting ? (level === converting ? "TimeoutError" : "CancelledError") : "TimeoutError")).toBe(true);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe("Timeout.reschedule", () => {
  test("another task can move and remove the deadline; when() follows (test_reschedule)", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const ready: Future<Timeout> = loop.createFuture<Timeout>();
      const deadline1 = loop.time() + 10_000;
      const deadline2 = deadline1 + 20_000;
      const task = createTask(
        timeoutAt(deadline1, function* (s) {
          ready.setResult(s);
          yield* sleep(50_000);
        }),
      );
      const scope = yield* ready;
      const whens = [scope.when()];
      scope.reschedule(deadline2);
      whens.push(scope.when());
      scope.reschedule(null);
      whens.push(scope.when());
      task.cancel();
      const error = yield* caught(() => task);
      return { whens, error, expired: scope.expired(), deadline1, deadline2 };
    });
    expect(out.whens).toEqual([out.deadline1, out.deadline2, null]);
    expect(out.error).toBeInstanceOf(CancelledError);
    expect(out.expired).toBe(false);
  });

  test("reschedule(null) disables the timeout: the body runs to the end", async () => {
    const out = await virtual(function* () {
      return yield* timeout(10, function* (s) {
        s.reschedule(null);
        yield* sleep(3_600_000);
        return [s.expired(), getRunningLoop().time()];
      });
    });
    expect(out).toEqual([false, 3_600_000]);
  });

  test("moving the deadline later extends the body's time; earlier cuts it short", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const later = yield* timeout(10, function* (s) {
        s.reschedule(loop.time() + 100);
        yield* sleep(50);
        return loop.time();
      });
      const start = loop.time();
      const e = yield* caught(() =>
        timeout(1_000, function* (s) {
          s.reschedule(loop.time() + 5);
          yield* sleep(500);
        }),
      );
      return [later, (e as Error).name, loop.time() - start];
    });
    expect(out).toEqual([50, "TimeoutError", 5]);
  });

  test("a deadline moved into the past expires at the next turn, not synchronously", async () => {
    const out = await virtual(function* () {
      const log: string[] = [];
      const e = yield* caught(() =>
        timeout(1_000, function* (s) {
          s.reschedule(getRunningLoop().time() - 5);
          log.push(`after reschedule expired=${s.expired()}`);
          yield* sleep(0);
          log.push("not reached");
        }),
      );
      return { log, e };
    });
    expect(out.log).toEqual(["after reschedule expired=false"]);
    expect(out.e).toBeInstanceOf(TimeoutError);
  });

  test("rescheduling a finished or expired scope throws (test_timeout_finished)", async () => {
    const out = await virtual(function* () {
      let finished: Timeout | null = null;
      yield* timeout(10, function* (s) {
        finished = s;
      });
      let expired: Timeout | null = null;
      yield* caught(() =>
        timeout(1, function* (s) {
          expired = s;
          yield* sleep(10);
        }),
      );
      return [() => finished!.reschedule(20), () => expired!.reschedule(20)];
    });
    expect(out[0]).toThrow(/finished/);
    expect(out[1]).toThrow(/expired/);
  });

  test("reschedule checks its argument", async () => {
    await virtual(function* () {
      yield* timeout(10, function* (s) {
        expect(() => s.reschedule(Number.NaN)).toThrow(RangeError);
        expect(() => s.reschedule("5" as never)).toThrow(TypeError);
        expect(() => s.reschedule(-Infinity)).toThrow(RangeError);
        s.reschedule(Infinity);
        expect(s.when()).toBe(null);
      });
    });
  });
});

describe("timeout: zero and past deadlines", () => {
  test("timeout(0) around a suspending body expires at the first suspension (test_timeout_zero)", async () => {
    const out = await virtual(function* () {
      const t0 = getRunningLoop().time();
      let scope: Timeout | null = null;
      const e = yield* caught(() =>
        timeout(0, function* (s) {
          scope = s;
          yield* sleep(10_000);
        }),
      );
      return { e, expired: scope!.expired(), when: scope!.when(), t0, t1: getRunningLoop().time() };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out.expired).toBe(true);
    expect(out.t0).toBeLessThanOrEqual(out.when!);
    expect(out.when!).toBeLessThanOrEqual(out.t1);
  });

  test("timeout(0) around sleep(0) expires (test_timeout_zero_sleep_zero)", async () => {
    const e = await virtual(function* () {
      return yield* caught(() => timeout(0, () => sleep(0)));
    });
    expect(e).toBeInstanceOf(TimeoutError);
  });

  test("timeoutAt a past time around sleep(0) expires (test_timeout_in_the_past_sleep_zero)", async () => {
    const out = await virtual(function* () {
      yield* sleep(100);
      let scope: Timeout | null = null;
      const e = yield* caught(() =>
        timeoutAt(getRunningLoop().time() - 11, function* (s) {
          scope = s;
          yield* sleep(0);
        }),
      );
      return { e, when: scope!.when() };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out.when).toBe(89);
  });
});

describe("timeout: misuse and arguments", () => {
  test("a negative, NaN or non-number delay throws at the call, naming the argument", () => {
    const body = function* (): Coroutine<void> {};
    expect(() => timeout(-1, body)).toThrow(RangeError);
    expect(() => timeout(-1, body)).toThrow(/ms/);
    expect(() => timeout(Number.NaN, body)).toThrow(RangeError);
    expect(() => timeout(-Infinity, body)).toThrow(RangeError);
    expect(() => timeout("10" as never, body)).toThrow(TypeError);
    expect(() => timeout(undefined as never, body)).toThrow(TypeError);
    expect(() => timeoutAt(Number.NaN, body)).toThrow(/whenMs/);
    expect(() => timeoutAt(-Infinity, body)).toThrow(RangeError);
    expect(() => timeout(10, null as never)).toThrow(TypeError);
    expect(() => timeout(10, "body" as never)).toThrow(/body/);
  });

  test("a body that is not a function* gives a TypeError inside the scope", async () => {
    const e = await virtual(function* () {
      return yield* caught(() => timeout(10, (() => 42) as never));
    });
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/function\*/);
  });

  test("toString shows the state like asyncio's repr (test_repr_*)", async () => {
    const out = await virtual(function* () {
      const reprs: string[] = [];
      let finished: Timeout | null = null;
      yield* timeout(10_000, function* (s) {
        finished = s;
        reprs.push(String(s));
        yield* sleep(0);
      });
      reprs.push(String(finished));
      let expired: Timeout | null = null;
      yield* caught(() =>
        timeout(10, function* (s) {
          expired = s;
          yield* sleep(10_000);
        }),
      );
      reprs.push(String(expired));
      yield* timeout(null, function* (s) {
        reprs.push(String(s));
      });
      return reprs;
    });
    expect(out).toEqual(["<Timeout [active] when=10000>", "<Timeout [finished]>", "<Timeout [expired]>", "<Timeout [active] when=null>"]);
  });

  test("timeouts in concurrent tasks are independent", async () => {
    const out = await virtual(function* () {
      function* job(limit: number, work: number): Coroutine<string> {
        const e = yield* caught(() => timeout(limit, () => sleep(work)));
        return `${limit}/${work}:${e === "returned" ? "ok" : (e as Error).name}@${getRunningLoop().time()}`;
      }
      return yield* gather([job(10, 5), job(10, 20), job(30, 25), job(5, 100)]);
    });
    expect(out).toEqual(["10/5:ok@5", "10/20:TimeoutError@10", "30/25:ok@25", "5/100:TimeoutError@5"]);
  });
});

describe("timeout under shuffled task orders", () => {
  test("property: deadlines, results and TimeoutErrors of concurrent scopes do not depend on the order ready tasks run in", async () => {
    const fc = await import("fast-check");
    const { runVirtual } = await import("@loop/testing");
    function* scenario(): Coroutine<string[]> {
      function* job(limit: number, work: number): Coroutine<string> {
        const e = yield* caught(() =>
          timeout(limit, function* () {
            yield* sleep(work);
            yield* sleep(0);
          }),
        );
        return `${limit}/${work}:${e === "returned" ? "ok" : (e as Error).name}@${getRunningLoop().time()}`;
      }
      return yield* gather([job(10, 5), job(10, 10), job(10, 20), job(30, 25), job(5, 100), job(0, 0)]);
    }
    const reference = await virtual(scenario);
    expect(reference).toEqual(["10/5:ok@5", "10/10:TimeoutError@10", "10/20:TimeoutError@10", "30/25:ok@25", "5/100:TimeoutError@5", "0/0:TimeoutError@0"]);
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        expect(await runVirtual(scenario, { seed })).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });
});
