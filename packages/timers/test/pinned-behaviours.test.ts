import { CancelledError, createTask, currentTask, getRunningLoop } from "@loop/core";
import { describe, expect, test } from "vitest";
import {
  Timeout,
  interval,
  sleep,
  sleepUntil,
  timeout,
  timeoutAt,
  waitFor,
  type MissedTicks,
} from "../src/index.js";
import { caught, virtual, withPoller } from "./helpers.js";

// Behaviours that mutation testing (`pnpm test:mutation`, see CONTRIBUTING.md) found
// unpinned: each test here fails on a specific wrong implementation that passed the
// rest of the suite.

describe("interval when the loop itself is blocked while a task waits in tick()", () => {
  /** Ticks 4 times at period 100; while the ticker waits for its tick at 100, other code blocks the loop from `at` for `block` ms. */
  function blockedTicks(
    missed: MissedTicks,
    at: number,
    block: number,
  ): Promise<[number, number][]> {
    return withPoller(function* (poller) {
      const loop = getRunningLoop();
      const ticker = interval(100, { missed });
      createTask(
        (function* () {
          yield* sleep(at);
          poller.clock.jump(block); // blocking work: the loop cannot wake the ticker on time
        })(),
      );
      const out: [number, number][] = [];
      for (let i = 0; i < 4; i++) {
        const tick = yield* ticker.tick();
        out.push([tick, loop.time()]);
      }
      ticker.stop();
      return out;
    });
  }

  test('"skip" drops the ticks the blocked loop missed and keeps the k·period grid', async () => {
    expect(await blockedTicks("skip", 50, 300)).toEqual([
      [0, 0],
      [100, 350],
      [400, 400],
      [500, 500],
    ]);
  });

  test('"delay" restarts the schedule a whole period after the late tick', async () => {
    expect(await blockedTicks("delay", 50, 300)).toEqual([
      [0, 0],
      [100, 350],
      [450, 450],
      [550, 550],
    ]);
  });

  test('lateness below one period while waiting is the host\'s and keeps the schedule, even for "delay"', async () => {
    expect(await blockedTicks("delay", 90, 50)).toEqual([
      [0, 0],
      [100, 140],
      [200, 200],
      [300, 300],
    ]);
  });
});

describe("timeout", () => {
  test("a scope that did not expire keeps a cancel() of its task made inside the body pending", async () => {
    const out = await virtual(function* () {
      const me = currentTask()!;
      const result = yield* timeout(1_000, function* () {
        me.cancel(); // no suspension follows inside the body
        return "body done";
      });
      const cancelling = me.cancelling();
      const error = yield* caught(() => sleep(1));
      me.uncancel();
      return { result, cancelling, error };
    });
    expect(out.result).toBe("body done");
    expect(out.cancelling).toBe(1);
    expect(out.error).toBeInstanceOf(CancelledError);
  });

  test("a scope whose generator is closed from outside mid-body is disarmed: it finishes and never cancels the task", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const co = timeout(10, function* (s) {
        scope = s;
        yield* sleep(1_000);
      });
      const first = co.next();
      expect(first.done).toBe(false);
      co.return(undefined as never);
      const state = String(scope);
      // Past the deadline: an armed scope would cancel this task here.
      const error = yield* caught(() => sleep(50));
      return { state, expired: scope!.expired(), error, cancelling: currentTask()!.cancelling() };
    });
    expect(out.state).toBe("<Timeout [finished]>");
    expect(out.expired).toBe(false);
    expect(out.error).toBe("returned");
    expect(out.cancelling).toBe(0);
  });

  test('timeoutAt("5"): a string deadline is a TypeError at the call, naming whenMs', async () => {
    await virtual(function* () {
      expect(() => timeoutAt("5" as never, function* () {})).toThrow(TypeError);
      expect(() => timeoutAt("5" as never, function* () {})).toThrow(/whenMs/);
      expect(() => timeout("5" as never, function* () {})).toThrow(TypeError);
    });
  });
});

describe("argument errors name the call, the argument and what was passed", () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    [
      'sleep("5")',
      () => sleep("5" as never),
      TypeError,
      /^sleep\(ms\): ms must be a number of milliseconds, got the string "5"$/,
    ],
    [
      "sleep(NaN)",
      () => sleep(NaN),
      RangeError,
      /^sleep\(ms\): ms is NaN; pass a number of milliseconds >= 0$/,
    ],
    [
      "sleep(Infinity)",
      () => sleep(Infinity),
      RangeError,
      /^sleep\(ms\): ms must be finite, got Infinity$/,
    ],
    [
      "interval(null)",
      () => interval(null as never),
      TypeError,
      /^interval\(periodMs\): periodMs must be a number of milliseconds, got null$/,
    ],
    ["interval(undefined)", () => interval(undefined as never), TypeError, /got undefined$/],
    [
      "interval(0)",
      () => interval(0),
      RangeError,
      /^interval\(periodMs\): periodMs must be > 0 milliseconds, got 0$/,
    ],
    [
      "interval(10, null)",
      () => interval(10, null as never),
      TypeError,
      /^interval\(periodMs, opts\): opts must be an object like \{ missed: "skip" \}$/,
    ],
    ["interval(10, 5)", () => interval(10, 5 as never), TypeError, /opts must be an object/],
    [
      'timeout("5", body)',
      () => timeout("5" as never, function* () {}),
      TypeError,
      /^timeout\(ms, body\): ms must be a number of milliseconds, or null for no deadline, got the string "5"$/,
    ],
    [
      "timeout(10, null)",
      () => timeout(10, null as never),
      TypeError,
      /^timeout\(ms, body\): body must be a function\* \(scope\) => Coroutine, got null$/,
    ],
    [
      "timeout(10, 5)",
      () => timeout(10, 5 as never),
      TypeError,
      /body must be a function\* \(scope\) => Coroutine, got number$/,
    ],
    [
      "timeoutAt(NaN, body)",
      () => timeoutAt(NaN, function* () {}),
      RangeError,
      /^timeoutAt\(whenMs, body\): whenMs is NaN/,
    ],
    [
      "timeoutAt(-Infinity, body)",
      () => timeoutAt(-Infinity, function* () {}),
      RangeError,
      /^timeoutAt\(whenMs, body\): whenMs must be finite or null, got -Infinity$/,
    ],
    [
      "timeoutAt(0, null)",
      () => timeoutAt(0, null as never),
      TypeError,
      /^timeoutAt\(whenMs, body\): body must be a function\*/,
    ],
    [
      'sleepUntil("5")',
      () => sleepUntil("5" as never),
      TypeError,
      /^sleepUntil\(whenMs\): whenMs must be a loop time in milliseconds \(see loop.time\(\)\), got the string "5"$/,
    ],
    [
      "sleepUntil(NaN)",
      () => sleepUntil(NaN),
      RangeError,
      /^sleepUntil\(whenMs\): whenMs is NaN; pass a loop time/,
    ],
    [
      "sleepUntil(Infinity)",
      () => sleepUntil(Infinity),
      RangeError,
      /^sleepUntil\(whenMs\): whenMs must be finite, got Infinity$/,
    ],
    [
      'waitFor(aw, "5")',
      () => waitFor(sleep(1), "5" as never),
      TypeError,
      /^waitFor\(aw, ms\): ms must be a number of milliseconds, or null for no deadline/,
    ],
  ];
  for (const [call, make, errorClass, message] of cases) {
    test(call, async () => {
      await virtual(function* () {
        let error: unknown = "returned";
        try {
          make();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(errorClass);
        expect((error as Error).message).toMatch(message);
      });
    });
  }
});

describe("interval edges", () => {
  test('a consumer late by less than a period, without waiting, still counts as late: "delay" restarts from it', async () => {
    const out = await virtual(function* () {
      const ticker = interval(100, { missed: "delay" });
      const ticks = [yield* ticker.tick()];
      yield* sleep(130); // tick 1 was due at 100
      ticks.push(yield* ticker.tick(), ticker.nextTick());
      return ticks;
    });
    expect(out).toEqual([0, 100, 230]);
  });

  test('a waiting ticker the blocked loop wakes exactly one period late has missed a tick: "skip" drops it', async () => {
    const out = await withPoller(function* (poller) {
      const ticker = interval(100, { missed: "skip" });
      yield* ticker.tick();
      createTask(
        (function* () {
          yield* sleep(50);
          poller.clock.jump(150); // the tick due at 100 is delivered at 200
        })(),
      );
      const late = yield* ticker.tick();
      return [late, getRunningLoop().time(), ticker.nextTick()];
    });
    expect(out).toEqual([100, 200, 300]);
  });

  test("a tick due exactly now returns without suspending", async () => {
    await virtual(function* () {
      const ticker = interval(100);
      expect(ticker.tick().next()).toEqual({ done: true, value: 0 });
    });
  });

  test("toString shows the period, the policy, the next tick and whether it stopped", async () => {
    await virtual(function* () {
      const ticker = interval(100, { missed: "skip" });
      yield* ticker.tick();
      expect(String(ticker)).toBe("<Ticker period=100 missed=skip next=100>");
      ticker.stop();
      expect(String(ticker)).toBe("<Ticker period=100 missed=skip next=100 stopped>");
    });
  });
});

describe("timeout scope states", () => {
  test("reschedule() on a scope never entered, finished, or expired throws an Error saying which", async () => {
    await virtual(function* () {
      expect(() => new Timeout(null).reschedule(1)).toThrow(/^Timeout has not been entered$/);
      let finished: Timeout | null = null;
      yield* timeout(10, function* (s) {
        finished = s;
      });
      expect(() => finished!.reschedule(1)).toThrow(
        /^Cannot change state of finished Timeout: its body has finished$/,
      );
      let expired: Timeout | null = null;
      yield* caught(() =>
        timeout(10, function* (s) {
          expired = s;
          yield* sleep(100);
        }),
      );
      expect(() => expired!.reschedule(1)).toThrow(
        /^Cannot change state of expired Timeout: its body has expired$/,
      );
    });
  });

  test("expired() is already true inside the body once the deadline passed, and toString shows a missing deadline as null", async () => {
    const out = await virtual(function* () {
      const seen: unknown[] = [];
      yield* caught(() =>
        timeout(null, function* (s) {
          seen.push(String(s));
          s.reschedule(getRunningLoop().time() + 10);
          try {
            yield* sleep(100);
          } finally {
            seen.push(s.expired());
          }
        }),
      );
      return seen;
    });
    expect(out).toEqual(["<Timeout [active] when=null>", true]);
  });

  test("a body that swallows its expiry and returns: the scope withdraws its cancellation and the result comes back", async () => {
    const out = await virtual(function* () {
      const result = yield* timeout(10, function* () {
        try {
          yield* sleep(100);
        } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a body that swallows its expiry is what this test is about
          // swallowed on purpose
        }
        return "kept";
      });
      const cancelling = currentTask()!.cancelling();
      yield* sleep(1); // not cancelled
      return { result, cancelling };
    });
    expect(out).toEqual({ result: "kept", cancelling: 0 });
  });

  test("a scope closed from outside after it expired ends expired", async () => {
    const out = await virtual(function* () {
      let scope: Timeout | null = null;
      const co = timeout(10, function* (s) {
        scope = s;
        yield* sleep(1_000);
      });
      co.next();
      const error = yield* caught(() => sleep(50)); // the deadline cancels this task
      co.return(undefined as never);
      currentTask()!.uncancel();
      return { error, state: String(scope), expired: scope!.expired() };
    });
    expect(out.error).toBeInstanceOf(CancelledError);
    expect(out.state).toBe("<Timeout [expired]>");
    expect(out.expired).toBe(true);
  });

  test("timeout() started outside any task throws an Error saying it needs one", async () => {
    const error = await virtual(function* () {
      const loop = getRunningLoop();
      const seen = loop.createFuture<unknown>();
      loop.callSoon(() => {
        try {
          timeout(10, function* () {}).next();
          seen.setResult("returned");
        } catch (e) {
          seen.setResult(e);
        }
      });
      return yield* seen;
    });
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      "timeout() must be used inside a task (a coroutine the loop runs)",
    );
  });
});

describe("waitFor(aw, 0) and sleep edges", () => {
  test("waitFor(done, 0) returns the result without suspending", async () => {
    await virtual(function* () {
      const done = getRunningLoop().createFuture<string>();
      done.setResult("ready");
      expect(waitFor(done, 0).next()).toEqual({ done: true, value: "ready" });
    });
  });

  test("waitFor(task, 0): an error the task throws while being cancelled comes through as itself, not a TimeoutError", async () => {
    const error = await virtual(function* () {
      const task = createTask(
        (function* () {
          try {
            yield* sleep(100);
          } catch {
            throw new SyntaxError("cleanup failed");
          }
        })(),
      );
      yield* sleep(1);
      return yield* caught(() => waitFor(task, 0));
    });
    expect(error).toBeInstanceOf(SyntaxError);
  });

  test("a sleep cancelled in the turn its timer fires is cancelled, and the timer does not trip over the cancelled future", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const reported: unknown[] = [];
      loop.setExceptionHandler((_loop, context) =>
        reported.push(context.exception ?? context.message),
      );
      // Scheduled first, so it runs before the sleep's own timer at the same time.
      const sleeper = createTask(
        (function* () {
          yield; // let the callAt below be scheduled first
          yield* sleep(10);
        })(),
      );
      loop.callAt(10, () => sleeper.cancel());
      const error = yield* caught(() => sleeper);
      loop.setExceptionHandler(null);
      return { error, reported };
    });
    expect(out.error).toBeInstanceOf(CancelledError);
    expect(out.reported).toEqual([]);
  });
});

describe("more timer edges the mutants found", () => {
  test("a scope that exits before its deadline leaves no timer scheduled", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const before = loop.timerCount;
      yield* timeout(1_000, function* () {
        yield* sleep(1);
      });
      return [before, loop.timerCount];
    });
    expect(out).toEqual([0, 0]);
  });

  test("toString of an active scope shows its deadline; reschedule() names itself when given a string", async () => {
    await virtual(function* () {
      yield* timeoutAt(10, function* (s) {
        expect(String(s)).toBe("<Timeout [active] when=10>");
        expect(() => s.reschedule("5" as never)).toThrow(
          /^Timeout\.reschedule\(whenMs\): whenMs must be a loop time/,
        );
      });
    });
  });

  test("the InvalidStateErrors of a stopped ticker say what happened", async () => {
    await virtual(function* () {
      const ticker = interval(100);
      yield* ticker.tick();
      const waiting = createTask(ticker.tick());
      yield* sleep(1);
      ticker.stop();
      const error = yield* caught(() => waiting);
      expect((error as Error).message).toBe("Ticker.tick(): the ticker was stopped");
      expect(() => ticker.tick()).toThrow(/^Ticker\.tick\(\): the ticker is stopped$/);
    });
  });

  test("waitFor(aw, 0) on work that is not done throws a TimeoutError saying it cancelled it", async () => {
    const error = await virtual(function* () {
      return yield* caught(() => waitFor(sleep(10), 0));
    });
    expect((error as Error).message).toBe("waitFor(aw, 0): aw was not done, and was cancelled");
  });

  test("waitFor accepts a thenable function as it accepts any PromiseLike", async () => {
    const out = await virtual(function* () {
      const thenable = Object.assign(() => undefined, {
        then(resolve: (value: number) => void) {
          resolve(5);
        },
      });
      return yield* waitFor(thenable as unknown as PromiseLike<number>, 100);
    });
    expect(out).toBe(5);
  });
});
