import type { EventLoop, LoopDriver, NetDriver, Poller, ProcessDriver, Task } from "@loop/core";
import { DeadlockError } from "./deadlock-error.js";
import { seededShuffle } from "./shuffle.js";
import { VirtualClock } from "./virtual-clock.js";
import { VirtualSignals } from "./virtual-signals.js";

/** Options of `new VirtualPoller(opts)` (and of `runVirtual`). */
export interface VirtualPollerOptions {
  /** A network driver for the loop's transports, e.g. `@loop/testing`'s in-memory network. */
  net?: NetDriver;
  /** A process driver for `@loop/process`, e.g. `@loop/testing`'s scripted `FakeProcesses`. */
  processes?: ProcessDriver;
  /**
   * Shuffle the order in which task steps made ready in the same turn run, with a
   * pseudo-random order drawn from this seed (see `EventLoop.setTaskOrder`); the same
   * seed replays the same order. Unset: first-ready first, as asyncio.
   */
  seed?: number;
  /** Where the virtual clock starts, in ms; default 0. */
  startMs?: number;
  /** The signals the loop sees (`poller.signals`); a new `VirtualSignals` by default. */
  signals?: VirtualSignals;
  /**
   * Called when the poller finds a deadlock; default: stop the loop (so that
   * `runUntilComplete` rejects, and `runVirtual` rejects with the `DeadlockError`).
   */
  onDeadlock?: (error: DeadlockError, loop: EventLoop) => void;
}

const RUN = 0;
const WAIT = 1;
const DEADLOCK = 2;

/**
 * A poller whose clock is virtual, trio's `MockClock` with autojump: time starts at 0 and,
 * whenever nothing is ready and no work outside the loop is pending
 * (`host.externalPending() === 0`), jumps straight to the next timer. `sleep(3_600_000)`
 * returns at once, with `loop.time()` advanced by exactly 3,600,000. While a Promise or
 * other outside work is pending, time stands still and the poller waits for it.
 *
 * When nothing is ready, no timer is pending and nothing outside can wake the loop, the
 * run can never go on: the poller records a `DeadlockError` naming every blocked task and
 * what it waits on (`deadlock`), and stops the loop.
 *
 * A clock jump needs no host round trip: `wait(t)` advances the clock and returns `true`,
 * and the loop goes on within its batch budget. Everything else — a wake-up, waiting for
 * outside work, declaring a deadlock — happens in a `setImmediate` callback, so that
 * Promise reactions and real I/O run in between.
 * @example
 * const poller = new VirtualPoller();
 * const loop = new EventLoop({ poller });
 * await loop.runUntilComplete(main());
 */
export class VirtualPoller implements Poller {
  /** "virtual". */
  readonly name: string = "virtual";
  /** The network driver given as `opts.net`, if any. */
  readonly net?: NetDriver;
  /** The process driver given as `opts.processes`, if any. */
  readonly processes?: ProcessDriver;
  /** Signals a test raises with `poller.signals.raise("SIGINT")`. */
  readonly signals: VirtualSignals;
  /** The virtual clock; `loop.time()` reads it. */
  readonly clock: VirtualClock;
  /** The first deadlock found, or null. */
  deadlock: DeadlockError | null = null;
  /** How many times the clock jumped to a timer (for tests and benchmarks). */
  jumps = 0;

  private _driver: LoopDriver | null = null;
  private readonly _seed: number | undefined;
  private readonly _onDeadlock: (error: DeadlockError, loop: EventLoop) => void;
  // Invariant: `_request` is the loop's pending wait: undefined when there is none (before
  // the first, after a resume, after a deadlock). `_woken`: wakeup() was called since.
  private _request: number | null | undefined = undefined;
  private _woken = false;
  private _checkQueued = false;
  private _closed = false;

  constructor(opts?: VirtualPollerOptions) {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("new VirtualPoller(opts): opts must be an object like { seed, net }");
    }
    const seed = opts?.seed;
    if (seed !== undefined && (typeof seed !== "number" || !Number.isFinite(seed))) {
      throw new RangeError(`new VirtualPoller({ seed }): seed must be a finite number, got ${String(seed)}`);
    }
    this._seed = seed;
    if (opts?.net !== undefined) this.net = opts.net;
    if (opts?.processes !== undefined) this.processes = opts.processes;
    const signals = opts?.signals;
    if (signals !== undefined && !(signals instanceof VirtualSignals)) throw new TypeError("new VirtualPoller({ signals }): signals must be a VirtualSignals");
    this.signals = signals ?? new VirtualSignals();
    this.clock = new VirtualClock(opts?.startMs ?? 0);
    this._onDeadlock = opts?.onDeadlock ?? stopLoop;
  }

  /** Keeps the loop's driver, listens to the clock's changes, and applies `opts.seed`'s task order. */
  attach(driver: LoopDriver): void {
    this._driver = driver;
    this.clock._listen(() => this.wakeup());
    if (this._seed !== undefined) driver.loop.setTaskOrder(seededShuffle(this._seed));
  }

  /** The virtual clock's time, in ms. */
  time(): number {
    return this.clock.now();
  }

  /**
   * For a timeout > 0 with no outside work pending and no wake-up since: jumps the clock by
   * `timeoutMs` and returns `true`. Otherwise decides from a `setImmediate` callback:
   * resume the loop, wait for the outside work, or declare a deadlock.
   */
  wait(timeoutMs: number | null): boolean {
    if (this._closed) return false;
    const request = timeoutMs === null || !(timeoutMs < Infinity) ? null : timeoutMs > 0 ? timeoutMs : 0;
    // The common case of a simulation: nothing outside the loop can still happen first, so
    // the clock jumps to the timer at once.
    if (request !== null && request > 0 && !this._woken && this._driver !== null && this._driver.externalPending() === 0) {
      this._jump(request);
      this._request = undefined;
      return true;
    }
    this._request = request;
    this._queueCheck();
    return false;
  }

  /** Ends the pending wait from a `setImmediate` callback, without moving the clock. */
  wakeup(): void {
    if (this._closed || this._driver === null) return;
    this._woken = true;
    this._queueCheck();
  }

  /** Drops the pending wait and stops listening to the clock; no resume follows. */
  close(): void {
    this._closed = true;
    this._request = undefined;
    this.clock._listen(null);
  }

  private _queueCheck(): void {
    if (this._checkQueued) return;
    this._checkQueued = true;
    setImmediate(this._check);
  }

  private readonly _check = (): void => {
    this._checkQueued = false;
    const driver = this._driver;
    if (this._closed || driver === null) return;
    const action = this._decide(driver);
    if (action === WAIT) return;
    if (action === DEADLOCK) {
      this._declareDeadlock(driver.loop as EventLoop);
      return;
    }
    this._request = undefined;
    this._woken = false;
    driver.resume();
  };

  /**
   * What to do now. A wake-up or a zero timeout resumes at the current time. With a
   * timeout, time may jump to the timer only when no outside work is pending (it could
   * otherwise still deliver something "before" the timer); with none, outside work is the
   * only hope, and without it the loop is deadlocked.
   */
  private _decide(driver: LoopDriver): number {
    if (this._woken) return RUN;
    const request = this._request;
    if (request === undefined) return WAIT;
    if (request === 0) return RUN;
    if (driver.externalPending() > 0) return WAIT;
    if (request === null) return driver.loop.isRunning() ? DEADLOCK : WAIT;
    this._jump(request);
    return RUN;
  }

  private _jump(timeoutMs: number): void {
    const now = this.clock.now();
    const target = now + timeoutMs;
    // Far from 0, adding a tiny timeout may round back to `now`: step to the next double.
    this.clock._advanceTo(target > now ? target : nextUp(now));
    this.jumps++;
  }

  private _declareDeadlock(loop: EventLoop): void {
    this._request = undefined;
    const error = new DeadlockError(this.clock.now(), loop.allTasks() as Set<Task<unknown>>);
    if (this.deadlock === null) this.deadlock = error;
    this._onDeadlock(error, loop);
  }
}

function stopLoop(_error: DeadlockError, loop: EventLoop): void {
  loop.stop();
}

const scratch = new Float64Array(1);
const scratchBits = new BigInt64Array(scratch.buffer);

/** The smallest double above `x` (x >= 0). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  scratch[0] = x;
  scratchBits[0] = (scratchBits[0] as bigint) + 1n;
  return scratch[0] as number;
}
