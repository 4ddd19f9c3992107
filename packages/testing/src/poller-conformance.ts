import { EventLoop, ensureFuture, type Coroutine, type Poller, type PollerHost } from "@loop/core";
import { signalChecks } from "./poller-conformance-signals.js";

/** The parts of a test runner the kit registers its checks with (vitest's or Jest's `describe`/`it`). */
export interface TestRegistrar {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
}

export interface PollerConformanceOptions {
  /** The suite's name; default `poller conformance: <poller.name>`. */
  name?: string;
  /** How long (real ms) to wait for a turn that must come before failing the check as stuck; default 4000. */
  stuckAfterMs?: number;
}

/** How long the kit waits for a turn that must come before it declares the poller stuck (a failure bound, not a timing). */
const STUCK_MS = 4_000;
let stuckMs = STUCK_MS;
/** The timeout used where the kit checks that a turn does not come early. */
const TIMEOUT_MS = 50;
/**
 * Host timers are relative to a clock the host caches per event-loop iteration, so a turn
 * may legitimately arrive this much before `TIMEOUT_MS` has passed on a fine-grained clock.
 */
const EARLY_ALLOWANCE_MS = 15;

/**
 * The poller conformance kit: registers, with your test runner, the checks of the whole
 * `Poller` contract (see CONTRIBUTING.md) against fresh pollers from `makePoller`:
 * the clock is monotonic; `schedule(0)` turns soon and `schedule(t)` not much before `t`
 * on the poller's clock; `schedule(null)` waits for `wakeup()` only; a newer request
 * replaces an older one; `runOnce` never runs synchronously inside `schedule`/`wakeup`;
 * a wake-up during a turn leads to one more turn; `close()` ends every turn and leaves no
 * host timer behind; an idle poller does not busy-wait; and a real `EventLoop` runs
 * callbacks, timers, Promises and outside wake-ups on it.
 *
 * The checks give the poller a host whose `externalPending()` reports outside work where
 * a test waits for `wakeup()`, so virtual-time pollers wait instead of jumping.
 * @example
 * import { describe, it } from "vitest";
 * import { pollerConformance } from "@loop/testing";
 * pollerConformance(() => new MyPoller(), { describe, it });
 */
export function pollerConformance(makePoller: () => Poller, test: TestRegistrar, opts?: PollerConformanceOptions): void {
  if (typeof makePoller !== "function") throw new TypeError("pollerConformance(makePoller, test): makePoller must be a function returning a new Poller");
  if (typeof test !== "object" || test === null || typeof test.describe !== "function" || typeof test.it !== "function") {
    throw new TypeError("pollerConformance(makePoller, test): test must be { describe, it } from your test runner (e.g. vitest)");
  }
  let suite = opts?.name;
  if (suite === undefined) {
    const probe = makePoller();
    suite = `poller conformance: ${String(probe.name)}`;
    probe.close();
  }
  const limit = opts?.stuckAfterMs ?? STUCK_MS;
  const describe = test.describe;
  // Room for the kit's own "never came" limit to report first.
  const it = (name: string, body: () => Promise<void>): void =>
    test.it(
      name,
      async () => {
        stuckMs = limit;
        await body();
      },
      limit * 2 + 2_000,
    );

  describe(suite, () => {
    it("has a non-empty name and the Poller methods", async () => {
      const poller = makePoller();
      check(typeof poller.name === "string" && poller.name.length > 0, "poller.name must be a non-empty string");
      for (const m of ["attach", "time", "schedule", "wakeup", "close"] as const) {
        check(typeof poller[m] === "function", `poller.${m} must be a function`);
      }
      poller.close();
    });

    it("time() is a finite number that never goes back, within a turn and across turns", async () => {
      const h = harness(makePoller(), 0);
      let last = h.poller.time();
      for (let i = 0; i < 10_000; i++) {
        const now = h.poller.time();
        check(Number.isFinite(now), `time() returned ${now}`);
        check(now >= last, `time() went back from ${last} to ${now}`);
        last = now;
      }
      for (let i = 0; i < 3; i++) {
        h.poller.schedule(i === 1 ? 5 : 0);
        await h.untilTurns(i + 1, "schedule()");
        const now = h.poller.time();
        check(now >= last, `time() went back across a turn from ${last} to ${now}`);
        last = now;
      }
      h.close();
    });

    it("never calls runOnce synchronously inside schedule() or wakeup()", async () => {
      const h = harness(makePoller(), 1);
      h.poller.schedule(0);
      h.poller.wakeup();
      h.poller.schedule(0);
      check(h.turns === 0, "runOnce was called synchronously from inside schedule()/wakeup()");
      await h.untilTurns(1, "schedule(0)");
      h.close();
    });

    it("schedule(0) runs one turn soon, and no more turns follow without a new request", async () => {
      const h = harness(makePoller(), 1);
      h.poller.schedule(0);
      await h.untilTurns(1, "schedule(0)");
      await idle();
      check(h.turns === 1, `expected exactly 1 turn after one schedule(0), got ${h.turns}`);
      h.close();
    });

    it(`schedule(${TIMEOUT_MS}) turns once, not before ${TIMEOUT_MS} ms have passed on the poller's clock`, async () => {
      const h = harness(makePoller(), 0);
      await freshHostTick();
      const t0 = h.poller.time();
      h.poller.schedule(TIMEOUT_MS);
      await h.untilTurns(1, `schedule(${TIMEOUT_MS})`);
      const elapsed = (h.turnTimes[0] as number) - t0;
      check(elapsed >= TIMEOUT_MS - EARLY_ALLOWANCE_MS, `the turn came after ${elapsed} ms of the poller's clock, long before ${TIMEOUT_MS}`);
      h.close();
    });

    it("schedule(null) waits for wakeup() only; wakeup() from outside ends the wait", async () => {
      const h = harness(makePoller(), 1);
      h.poller.schedule(null);
      await idle();
      check(h.turns === 0, `runOnce was called ${h.turns} times while waiting with schedule(null)`);
      setTimeout(() => h.poller.wakeup(), 1);
      await h.untilTurns(1, "wakeup() after schedule(null)");
      h.close();
    });

    it("wakeup() ends a long timed wait early", async () => {
      const h = harness(makePoller(), 1);
      h.poller.schedule(60_000);
      setTimeout(() => h.poller.wakeup(), 5);
      await h.untilTurns(1, "wakeup() during schedule(60000)");
      h.close();
    });

    it("a newer request replaces an older one: schedule(60000) then schedule(0) turns at once", async () => {
      const h = harness(makePoller(), 1);
      h.poller.schedule(60_000);
      h.poller.schedule(0);
      await h.untilTurns(1, "schedule(0) after schedule(60000)");
      h.close();
    });

    it("a wake-up during a turn leads to one more turn, as the loop's schedule at the end of each turn does", async () => {
      const h = harness(makePoller(), 1);
      h.onTurn = (n) => {
        if (n === 1) h.poller.wakeup();
        h.poller.schedule(null);
      };
      h.poller.schedule(0);
      await h.untilTurns(1, "schedule(0)");
      await h.untilTurns(2, "wakeup() during a turn");
      await idle();
      check(h.turns === 2, `expected 2 turns, got ${h.turns}`);
      h.close();
    });

    it("many wake-ups are safe and coalesce into few turns", async () => {
      const h = harness(makePoller(), 1);
      h.onTurn = () => h.poller.schedule(null);
      h.poller.schedule(null);
      for (let i = 0; i < 100; i++) h.poller.wakeup();
      await h.untilTurns(1, "100 wakeup() calls");
      await idle();
      check(h.turns >= 1 && h.turns <= 2, `100 wake-ups in a row gave ${h.turns} turns; expected 1 (or 2)`);
      h.close();
    });

    it("close() ends pending turns, makes schedule()/wakeup() harmless and leaves no host timer behind", async () => {
      const baseline = hostTimers();
      const h = harness(makePoller(), 0);
      h.poller.schedule(0);
      h.poller.schedule(60_000);
      h.poller.close();
      h.poller.schedule(0);
      h.poller.wakeup();
      h.poller.close();
      await idle();
      check(h.turns === 0, `runOnce was called ${h.turns} times after close()`);
      let leftTimer = 0;
      let leftImmediate = 0;
      for (let i = 0; i < 3; i++) {
        const after = hostTimers();
        if (after !== null && baseline !== null && after.timeouts > baseline.timeouts) leftTimer++;
        if (after !== null && baseline !== null && after.immediates > baseline.immediates) leftImmediate++;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      check(leftTimer < 3, "close() left a host timer (setTimeout) running");
      check(leftImmediate < 3, "close() left a setImmediate queued");
    });

    it("does not busy-wait while idle: no turns and no queued host callbacks during a long wait", async () => {
      const baseline = hostTimers();
      const h = harness(makePoller(), 1);
      h.poller.schedule(0);
      await h.untilTurns(1, "schedule(0)");
      h.poller.schedule(null);
      // A spinning poller has a host callback queued at every sample; the runner's own
      // occasional ones do not fail the check.
      let busySamples = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
        const now = hostTimers();
        if (now !== null && baseline !== null && now.immediates > baseline.immediates) busySamples++;
      }
      check(busySamples < 5, "the idle poller keeps a setImmediate queued: it is busy-waiting");
      check(h.turns === 1, `the idle poller called runOnce ${h.turns - 1} extra times`);
      h.poller.schedule(60_000);
      await idle();
      check(h.turns === 1, `the poller waiting on schedule(60000) called runOnce ${h.turns - 1} extra times`);
      h.close();
    });

    it("runs a real EventLoop: callbacks in order, timers in deadline order, Promises and outside wake-ups", async () => {
      const baseline = hostTimers();
      const poller = makePoller();
      const loop = new EventLoop({ poller });
      const log: string[] = [];
      const result = await withLimit(
        loop.runUntilComplete(
          (function* (): Coroutine<string> {
            loop.callSoon(() => log.push("soon 1"));
            loop.callLater(20, () => log.push("later 20"));
            loop.callLater(10, () => log.push("later 10"));
            loop.callSoon(() => log.push("soon 2"));
            const t0 = loop.time();
            const timer = loop.createFuture<number>();
            loop.callLater(30, () => timer.setResult(loop.time() - t0));
            const elapsed = yield* timer;
            check(elapsed >= 30 - EARLY_ALLOWANCE_MS, `a 30 ms timer fired after ${elapsed} ms of loop time`);
            const viaPromise = yield* ensureFuture(new Promise<string>((resolve) => setTimeout(() => resolve("promise"), 5)));
            log.push(viaPromise);
            // Outside work the loop was told about (as sockets and workers do) wakes it.
            loop.refExternal();
            const outside = loop.createFuture<string>();
            setTimeout(() => {
              loop.unrefExternal();
              loop.callSoonThreadsafe(() => outside.setResult("outside"));
            }, 5);
            log.push(yield* outside);
            return "done";
          })(),
        ),
        "a program on a real EventLoop",
      );
      loop.close();
      check(result === "done", "the program did not finish");
      const expected = ["soon 1", "soon 2", "later 10", "later 20", "promise", "outside"];
      check(JSON.stringify(log) === JSON.stringify(expected), `event order ${JSON.stringify(log)}, expected ${JSON.stringify(expected)}`);
      await idle();
      const after = hostTimers();
      check(after === null || baseline === null || after.timeouts <= baseline.timeouts, "a closed loop's poller left a host timer running");
    });

    signalChecks(makePoller, it, limit);
  });
}

/** A poller attached to a recording host. */
interface Harness {
  readonly poller: Poller;
  turns: number;
  readonly turnTimes: number[];
  onTurn: ((n: number) => void) | null;
  /** Resolves once `runOnce` has been called `n` times in all. */
  untilTurns(n: number, what: string): Promise<void>;
  close(): void;
}

function harness(poller: Poller, externalPending: number): Harness {
  const waiting: { n: number; resolve: () => void }[] = [];
  const h: Harness = {
    poller,
    turns: 0,
    turnTimes: [],
    onTurn: null,
    untilTurns(n: number, what: string): Promise<void> {
      if (h.turns >= n) return Promise.resolve();
      return withLimit(new Promise<void>((resolve) => waiting.push({ n, resolve })), `turn ${n}, after ${what},`);
    },
    close(): void {
      poller.close();
      inertLoop.close();
    },
  };
  // The loop a host names; never run here (a virtual poller reads only `isRunning()` from it).
  const inertLoop = new EventLoop({ poller: inertPoller() });
  const host: PollerHost = {
    loop: inertLoop,
    runOnce(): void {
      h.turns++;
      h.turnTimes.push(poller.time());
      h.onTurn?.(h.turns);
      for (let i = waiting.length - 1; i >= 0; i--) {
        const w = waiting[i] as { n: number; resolve: () => void };
        if (h.turns >= w.n) {
          waiting.splice(i, 1);
          w.resolve();
        }
      }
    },
    externalPending: () => externalPending,
  };
  poller.attach(host);
  return h;
}

function inertPoller(): Poller {
  return { name: "inert", attach() {}, time: () => 0, schedule() {}, wakeup() {}, close() {} };
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`Poller contract: ${message}`);
}

function withLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Poller contract: ${what} never came (waited ${stuckMs} ms): the poller is stuck`)), stuckMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Lets the host run a few turns of its own event loop, and a short timer: long enough to see spurious turns. */
async function idle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 30));
}

/** Continues in a fresh host timer callback, where the host's cached clock has just been updated. */
function freshHostTick(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Counts of active host timers and immediates (Node), or null where the host cannot tell. */
function hostTimers(): { timeouts: number; immediates: number } | null {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  if (typeof info !== "function") return null;
  let timeouts = 0;
  let immediates = 0;
  for (const kind of info.call(process)) {
    if (kind === "Timeout") timeouts++;
    else if (kind === "Immediate") immediates++;
  }
  return { timeouts, immediates };
}
