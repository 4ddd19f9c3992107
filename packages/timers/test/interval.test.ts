import { describe, expect, test } from "vitest";
import { CancelledError, InvalidStateError, createTask, getRunningLoop, type Coroutine } from "@loop/core";
import fc from "fast-check";
import { interval, sleep, type MissedTicks, type Ticker } from "../src/index.js";
import { caught, virtual } from "./helpers.js";

/** Ticks `n` times, doing `work(i)` ms of (virtual) work after each, and logs the tick's time and when it was taken. */
function* ticks(ticker: Ticker, n: number, work: (i: number) => number): Coroutine<[number, number][]> {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const at = yield* ticker.tick();
    out.push([at, getRunningLoop().time()]);
    const w = work(i);
    if (w > 0) yield* sleep(w);
  }
  return out;
}

describe("interval", () => {
  test("the first tick is immediate and the following ones come every period, drift-free", async () => {
    const out = await virtual(function* () {
      yield* sleep(5);
      const ticker = interval(100);
      // Work that takes part of the period does not shift the schedule.
      return yield* ticks(ticker, 5, () => 37);
    });
    expect(out).toEqual([
      [5, 5],
      [105, 105],
      [205, 205],
      [305, 305],
      [405, 405],
    ]);
  });

  test("a fractional period stays on start + k·period after many ticks (no accumulated error)", async () => {
    const out = await virtual(function* () {
      const ticker = interval(0.1);
      let last = 0;
      for (let i = 0; i <= 10_000; i++) last = yield* ticker.tick();
      return last;
    });
    expect(out).toBe(10_000 * 0.1);
  });

  const missedCases: [MissedTicks, [number, number][]][] = [
    // Tick 0 at 0 takes 350 ms of work: the ticks at 100, 200, 300 were missed.
    ["burst", [[0, 0], [100, 350], [200, 350], [300, 350], [400, 400], [500, 500]]],
    ["delay", [[0, 0], [100, 350], [450, 450], [550, 550], [650, 650], [750, 750]]],
    ["skip", [[0, 0], [100, 350], [400, 400], [500, 500], [600, 600], [700, 700]]],
  ];
  for (const [missed, expected] of missedCases) {
    test(`missed ticks with "${missed}" follow Tokio's MissedTickBehavior`, async () => {
      const out = await virtual(function* () {
        const ticker = interval(100, { missed });
        return yield* ticks(ticker, 6, (i) => (i === 0 ? 350 : 0));
      });
      expect(out).toEqual(expected);
    });
  }

  test("the default policy is burst", async () => {
    const missed = await virtual(function* () {
      return interval(10).missed;
    });
    expect(missed).toBe("burst");
  });

  test("a burst tick that is already due returns without suspending", async () => {
    const out = await virtual(function* () {
      const ticker = interval(10);
      yield* ticker.tick();
      yield* sleep(35);
      const log: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const g = ticker.tick();
        log.push(g.next().done === true);
      }
      return log;
    });
    expect(out).toEqual([true, true, true]);
  });

  test("property: every policy delivers ticks in order, never early, and on the k·period grid for burst and skip", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<MissedTicks>("burst", "delay", "skip"),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 20 }),
        async (missed, period, work) => {
          const out = await virtual(function* () {
            return yield* ticks(interval(period, { missed }), work.length, (i) => work[i]!);
          });
          for (let i = 0; i < out.length; i++) {
            const [at, taken] = out[i]!;
            expect(taken).toBeGreaterThanOrEqual(at); // never early
            if (i > 0) expect(at).toBeGreaterThan(out[i - 1]![0]);
            if (missed !== "delay") expect(at % period).toBe(0);
            if (missed === "skip" && i > 0) expect(at).toBeGreaterThan(out[i - 1]![1] - period);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test("stop() ends the ticker: a waiting tick() and any later one throw InvalidStateError", async () => {
    const out = await virtual(function* () {
      const ticker = interval(100);
      yield* ticker.tick();
      const waiter = createTask(ticker.tick());
      yield* sleep(10);
      ticker.stop();
      const e1 = yield* caught(() => waiter);
      let e2: unknown = null;
      try {
        // eslint-disable-next-line @loop/no-floating-coroutine -- tick() throws at the call, before it is run, when the ticker is stopped: that is what the test checks
        ticker.tick();
      } catch (e) {
        e2 = e;
      }
      return [e1, e2, ticker.stopped(), getRunningLoop().timerCount];
    });
    expect(out[0]).toBeInstanceOf(InvalidStateError);
    expect(out[1]).toBeInstanceOf(InvalidStateError);
    expect(out[2]).toBe(true);
    expect(out[3]).toBe(0);
  });

  test("`using` stops the ticker at the end of the block", async () => {
    const stopped = await virtual(function* () {
      let t: Ticker;
      {
        using ticker = interval(10);
        t = ticker;
        yield* ticker.tick();
      }
      return t.stopped();
    });
    expect(stopped).toBe(true);
  });

  test("a task cancelled in tick() leaves the ticker usable and its timer cancelled", async () => {
    const out = await virtual(function* () {
      const loop = getRunningLoop();
      const ticker = interval(100);
      yield* ticker.tick();
      const waiter = createTask(ticker.tick());
      yield* sleep(10);
      waiter.cancel();
      const e = yield* caught(() => waiter);
      const timers = loop.timerCount;
      const next = yield* ticker.tick();
      return [e instanceof CancelledError, timers, next, loop.time()];
    });
    expect(out).toEqual([true, 0, 100, 100]);
  });

  test("only one task at a time may wait on a ticker", async () => {
    await virtual(function* () {
      const ticker = interval(100);
      yield* ticker.tick();
      const first = createTask(ticker.tick());
      yield* sleep(0);
      expect(() => ticker.tick()).toThrow(/another task/);
      ticker.stop();
      yield* caught(() => first);
    });
  });

  test("arguments are checked at the call", async () => {
    await virtual(function* () {
      expect(() => interval(0)).toThrow(RangeError);
      expect(() => interval(-5)).toThrow(/periodMs/);
      expect(() => interval(Number.NaN)).toThrow(RangeError);
      expect(() => interval(Infinity)).toThrow(RangeError);
      expect(() => interval("5" as never)).toThrow(TypeError);
      expect(() => interval(5, { missed: "later" as never })).toThrow(/missed/);
      expect(() => interval(5, 3 as never)).toThrow(TypeError);
    });
    expect(() => interval(5)).toThrow(/event loop runs/);
  });
});
