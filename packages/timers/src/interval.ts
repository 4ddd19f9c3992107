import { InvalidStateError, getRunningLoop, type Coroutine, type EventLoop, type Future } from "@loop/core";
import { checkDelay } from "./check.js";
import { waitTimer } from "./sleep.js";

/**
 * What a ticker does about ticks it could not deliver on time (Tokio's `MissedTickBehavior`):
 * - `"burst"` (default): deliver every missed tick at once, then go on with the original
 *   schedule (ticks stay at `start + k·period`);
 * - `"delay"`: deliver the late tick now, and schedule the next one a whole period after it
 *   (the schedule shifts by the delay);
 * - `"skip"`: deliver the late tick now, drop the missed ones, and go on with the original
 *   schedule at its next tick after now.
 */
export type MissedTicks = "burst" | "delay" | "skip";

/** Options of `interval()`. */
export interface IntervalOptions {
  /** What to do about missed ticks; default `"burst"`. */
  missed?: MissedTicks;
}

const MISSED: readonly string[] = ["burst", "delay", "skip"];

/**
 * A ticker that fires every `periodMs` milliseconds, drift-free: tick `k` is due at
 * `start + k·periodMs`, computed, not accumulated. The first tick is due at once (as in
 * Tokio). `yield* ticker.tick()` waits for the next tick and returns its scheduled loop time.
 * Must be called while a loop runs (from a coroutine).
 * @throws RangeError for a `periodMs` that is not a finite number > 0 or an unknown `missed`.
 * @example
 * const ticker = interval(1_000, { missed: "skip" });
 * for (let i = 0; i < 3; i++) {
 *   const at = yield* ticker.tick();
 *   console.log(`tick at ${at} ms`);
 * }
 * ticker.stop();
 */
export function interval(periodMs: number, opts?: IntervalOptions): Ticker {
  checkDelay("interval(periodMs)", "periodMs", periodMs);
  if (periodMs === 0) throw new RangeError("interval(periodMs): periodMs must be > 0 milliseconds, got 0");
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError("interval(periodMs, opts): opts must be an object like { missed: \"skip\" }");
  }
  const missed = opts?.missed ?? "burst";
  if (!MISSED.includes(missed)) {
    throw new RangeError(`interval(periodMs, { missed }): missed must be "burst", "delay" or "skip", got ${JSON.stringify(missed)}`);
  }
  let loop: EventLoop;
  try {
    loop = getRunningLoop();
  } catch {
    throw new Error("interval() must be called while an event loop runs: call it from a coroutine");
  }
  return new Ticker(loop, periodMs, missed);
}

/** The ticker `interval` returns. One task at a time may wait on `tick()`. */
export class Ticker implements Disposable {
  /** The period in ms. */
  readonly period: number;
  /** The missed-tick policy. */
  readonly missed: MissedTicks;
  private readonly _loop: EventLoop;
  // Invariant: the next tick is due at `_start + _index * period`; only `delay` moves `_start`.
  private _start: number;
  private _index = 0;
  private _stopped = false;
  private _waiter: Future<number> | null = null;

  /** @internal Use `interval()`. */
  constructor(loop: EventLoop, periodMs: number, missed: MissedTicks) {
    this._loop = loop;
    this.period = periodMs;
    this.missed = missed;
    this._start = loop.time();
  }

  /** The loop time at which the next tick is due. */
  nextTick(): number {
    return this._start + this._index * this.period;
  }

  /** True after `stop()`. */
  stopped(): boolean {
    return this._stopped;
  }

  /**
   * Waits for the next tick and returns the loop time it was scheduled for. A tick that is
   * already due returns without suspending.
   * @throws InvalidStateError once the ticker is stopped (also for a task waiting when it stops).
   */
  tick(): Coroutine<number> {
    if (this._stopped) throw new InvalidStateError("Ticker.tick(): the ticker is stopped");
    if (this._waiter !== null) throw new Error("Ticker.tick(): another task is already waiting on this ticker; one task at a time may tick it");
    return this._tick();
  }

  /** Stops the ticker: no more ticks; a task waiting in `tick()` gets an `InvalidStateError`. */
  stop(): void {
    if (this._stopped) return;
    this._stopped = true;
    const waiter = this._waiter;
    if (waiter !== null && !waiter.done()) waiter.setException(new InvalidStateError("Ticker.tick(): the ticker was stopped"));
  }

  /** `using ticker = interval(…)` stops it at the end of the block. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /** `<Ticker period=… missed=… next=…>`, for diagnostics. */
  toString(): string {
    return `<Ticker period=${this.period} missed=${this.missed} next=${this.nextTick()}${this._stopped ? " stopped" : ""}>`;
  }

  private *_tick(): Coroutine<number> {
    const loop = this._loop;
    const period = this.period;
    const deadline = this.nextTick();
    let now = loop.time();
    let waited = false;
    if (now < deadline) {
      const future = loop.createFuture<number>();
      future.label = `Ticker.tick(every ${period} ms)`;
      this._waiter = future;
      try {
        yield* waitTimer(future, deadline, deadline);
      } finally {
        this._waiter = null;
      }
      now = loop.time();
      waited = true;
    }
    // A tick is missed when the consumer came for it after its deadline, or when the
    // loop woke the waiting ticker a whole period late; lateness below that, while
    // waiting, is the host timer's, and keeps the schedule.
    const late = now - deadline;
    if (waited ? late < period : late <= 0) {
      this._index++;
      return deadline;
    }
    switch (this.missed) {
      case "delay":
        this._start = now;
        this._index = 1;
        break;
      case "skip":
        this._index += Math.floor(late / period) + 1;
        break;
      default:
        this._index++;
    }
    return deadline;
  }
}
