import { EventLoop, ensureFuture, type Coroutine, type LoopDriver, type Poller } from "@loop/core";
import { signalChecks } from "./poller-conformance-signals.js";

/** The parts of a test runner the kit registers its checks with (vitest's or Jest's `describe`/`it`). */
export interface TestRegistrar {
  /** Opens a group of checks named `name`; `body` registers them. */
  describe(name: string, body: () => void): void;
  /** Registers one check; it fails when `body`'s Promise rejects or outlives `timeoutMs`. */
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
}

/** Options of the poller conformance kit. */
export interface PollerConformanceOptions {
  /** The suite's name; default `poller conformance: <poller.name>`. */
  name?: string;
  /** How long (real ms) to wait for a resume that must come before failing the check as stuck; default 4000. */
  stuckAfterMs?: number;
}

/** How long the kit waits for a resume that must come before it declares the poller stuck (a failure bound, not a timing). */
const STUCK_MS = 4_000;
let stuckMs = STUCK_MS;
/** The timeout used where the kit checks that a resume does not come early. */
const TIMEOUT_MS = 50;
/**
 * Host timers are relative to a clock the host caches per event-loop iteration, so a resume
 * may legitimately arrive this much before `TIMEOUT_MS` has passed on a fine-grained clock.
 */
const EARLY_ALLOWANCE_MS = 15;

/**
 * The poller conformance kit: registers, with your test runner, the checks of the whole
 * `Poller` contract (see CONTRIBUTING.md) against fresh pollers from `makePoller`:
 * the clock is monotonic; `wait(0)` resumes soon and `wait(t)` not much before `t` on the
 * poller's clock (or returns `true` having advanced its clock by `t`); `wait(null)` waits
 * for `wakeup()` only; a newer wait replaces an older one; `resume()` never runs
 * synchronously inside `wait`/`wakeup`; many wake-ups coalesce; `close()` ends every wait
 * and leaves no host timer behind; an idle poller does not busy-wait; and a real
 * `EventLoop` runs callbacks, timers, Promises and outside wake-ups on it. (The pump's own
 * rules — batching, its budget, a resume during a turn — are core's, tested in core.)
 *
 * The checks give the poller a driver whose `externalPending()` reports outside work where
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
      for (const m of ["attach", "time", "wait", "wakeup", "close"] as const) {
        check(typeof poller[m] === "function", `poller.${m} must be a function`);
      }
      poller.close();
    });

    it("time() is a finite number that never goes back, within a turn and across waits", async () => {
      const h = harness(makePoller(), 0);
      let last = h.poller.time();
      for (let i = 0; i < 10_000; i++) {
        const now = h.poller.time();
        check(Number.isFinite(now), `time() returned ${now}`);
        check(now >= last, `time() went back from ${last} to ${now}`);
        last = now;
      }
      for (let i = 0; i < 3; i++) {
        h.poller.wait(0);
        await h.untilTurns(i + 1, "wait(0)");
        const now = h.poller.time();
        check(now >= last, `time() went back across a wait from ${last} to ${now}`);
        last = now;
      }
      h.close();
    });

    it("never calls resume() synchronously inside wait() or wakeup()", async () => {
      const h = harness(makePoller(), 1);
      h.poller.wait(0);
      h.poller.wakeup();
      h.poller.wait(0);
      check(h.turns === 0, "resume() was called synchronously from inside wait()/wakeup()");
      await h.untilTurns(1, "wait(0)");
      h.close();
    });

    it("wait(0) resumes once soon, and no more resumes follow without a new wait", async () => {
      const h = harness(makePoller(), 1);
      h.poller.wait(0);
      await h.untilTurns(1, "wait(0)");
      await idle();
      check(h.turns === 1, `expected exactly 1 resume after one wait(0), got ${h.turns}`);
      h.close();
    });

    it(`wait(${TIMEOUT_MS}) resumes once, not before ${TIMEOUT_MS} ms have passed on the poller's clock (or returns true, ${TIMEOUT_MS} ms later)`, async () => {
      const h = harness(makePoller(), 0);
      await freshHostTick();
      const t0 = h.poller.time();
      if (h.poller.wait(TIMEOUT_MS) === true) {
        // A poller whose wait is over at once: its clock has moved by the whole timeout.
        const elapsed = h.poller.time() - t0;
        check(elapsed >= TIMEOUT_MS, `wait(${TIMEOUT_MS}) returned true after ${elapsed} ms of the poller's clock`);
        await idle();
        check(h.turns === 0, `wait(${TIMEOUT_MS}) returned true and still resumed ${h.turns} times`);
        h.close();
        return;
      }
      await h.untilTurns(1, `wait(${TIMEOUT_MS})`);
      const elapsed = (h.turnTimes[0] as number) - t0;
      check(elapsed >= TIMEOUT_MS - EARLY_ALLOWANCE_MS, `the resume came after ${elapsed} ms of the poller's clock, long before ${TIMEOUT_MS}`);
      await idle();
      check(h.turns === 1, `expected exactly 1 resume after one wait(${TIMEOUT_MS}), got ${h.turns}`);
      h.close();
    });

    it("wait(null) waits for wakeup() only; wakeup() from outside ends the wait", async () => {
      const h = harness(makePoller(), 1);
      h.poller.wait(null);
      await idle();
      check(h.turns === 0, `resume() was called ${h.turns} times while waiting with wait(null)`);
      setTimeout(() => h.poller.wakeup(), 1);
      await h.untilTurns(1, "wakeup() after wait(null)");
      h.close();
    });

    it("wakeup() ends a long timed wait early", async () => {
      const h = harness(makePoller(), 1);
      h.poller.wait(60_000);
      setTimeout(() => h.poller.wakeup(), 5);
      await h.untilTurns(1, "wakeup() during wait(60000)");
      h.close();
    });

    it("a newer wait replaces an older one: wait(60000) then wait(0) resumes at once, wait(0) then wait(null) not at all", async () => {
      const h = harness(makePoller(), 1);
      h.poller.wait(60_000);
      h.poller.wait(0);
      await h.untilTurns(1, "wait(0) after wait(60000)");
      await idle();
      const before = h.turns;
      h.poller.wait(5);
      h.poller.wait(null);
      await idle();
      check(h.turns === before, `wait(null) after wait(5) still resumed ${h.turns - before} times`);
      h.close();
    });

    it("many wake-ups are safe and coalesce into few resumes", async () => {
      const h = harness(makePoller(), 1);
      h.onTurn = () => h.poller.wait(null);
      h.poller.wait(null);
      for (let i = 0; i < 100; i++) h.poller.wakeup();
      await h.untilTurns(1, "100 wakeup() calls");
      await idle();
      check(h.turns >= 1 && h.turns <= 2, `100 wake-ups in a row gave ${h.turns} resumes; expected 1 (or 2)`);
      h.close();
    });

    it("close() ends pending waits, makes wait()/wakeup() harmless and leaves no host timer behind", async () => {
      const baseline = hostTimers();
      const h = harness(makePoller(), 0);
      h.poller.wait(0);
      h.poller.wait(60_000);
      h.poller.close();
      h.poller.wait(0);
      h.poller.wakeup();
      h.poller.close();
      await idle();
      check(h.turns === 0, `resume() was called ${h.turns} times after close()`);
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
      h.poller.wait(0);
      await h.untilTurns(1, "wait(0)");
      h.poller.wait(null);
      // A spinning poller has a host callback queued at every sample; the runner's own
      // occasional ones do not fail the check.
      let busySamples = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
        const now = hostTimers();
        if (now !== null && baseline !== null && now.immediates > baseline.immediates) busySamples++;
      }
      check(busySamples < 5, "the idle poller keeps a setImmediate queued: it is busy-waiting");
      check(h.turns === 1, `the idle poller called resume() ${h.turns - 1} extra times`);
      h.poller.wait(60_000);
      await idle();
      check(h.turns === 1, `the poller waiting on wait(60000) called resume() ${h.turns - 1} extra times`);
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

/** A poller attached to a recording driver ("turns" are its resumes). */
interface Harness {
  readonly poller: Poller;
  turns: number;
  readonly turnTimes: number[];
  onTurn: ((n: number) => void) | null;
  /** Resolves once `resume` has been called `n` times in all. */
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
  // The loop a driver names; never run here (a virtual poller reads only `isRunning()` from it).
  const inertLoop = new EventLoop({ poller: inertPoller() });
  const driver: LoopDriver = {
    loop: inertLoop,
    resume(): void {
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
  poller.attach(driver);
  return h;
}

function inertPoller(): Poller {
  return { name: "inert", attach() {}, time: () => 0, wait() {}, wakeup() {}, close() {} };
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
