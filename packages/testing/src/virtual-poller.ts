import type { EventLoop, NetDriver, Poller, PollerHost, ProcessDriver, Task } from "@loop/core";
import { DeadlockError } from "./deadlock-error.js";
import { seededShuffle } from "./shuffle.js";
import { VirtualClock } from "./virtual-clock.js";

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
  /**
   * Called when the poller finds a deadlock; default: stop the loop (so that
   * `runUntilComplete` rejects, and `runVirtual` rejects with the `DeadlockError`).
   */
  onDeadlock?: (error: DeadlockError, loop: EventLoop) => void;
}

// The poller turns the loop several times per host callback while it can go on without
// outside help, like the default poller; the caps keep real I/O and Promise reactions
// from waiting long behind a busy simulation.
const BATCH_MAX_TURNS = 1024;
const BATCH_BUDGET_MS = 2;

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
 * It turns the loop with `setImmediate`, never synchronously inside `schedule`.
 * @example
 * const poller = new VirtualPoller();
 * const loop = new EventLoop({ poller });
 * await loop.runUntilComplete(main());
 */
export class VirtualPoller implements Poller {
  readonly name: string = "virtual";
  readonly net?: NetDriver;
  readonly processes?: ProcessDriver;
  /** The virtual clock; `loop.time()` reads it. */
  readonly clock: VirtualClock;
  /** The first deadlock found, or null. */
  deadlock: DeadlockError | null = null;
  /** How many times the clock jumped to a timer (for tests and benchmarks). */
  jumps = 0;

  private _host: PollerHost | null = null;
  private readonly _seed: number | undefined;
  private readonly _onDeadlock: (error: DeadlockError, loop: EventLoop) => void;
  // Invariant: `_request` is the loop's latest `schedule` argument not yet served:
  // undefined when none is pending (before the first, after a turn, or after a deadlock).
  private _request: number | null | undefined = undefined;
  private _woken = false;
  private _turnQueued = false;
  private _inTurn = false;
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
    this.clock = new VirtualClock(opts?.startMs ?? 0);
    this._onDeadlock = opts?.onDeadlock ?? stopLoop;
  }

  attach(host: PollerHost): void {
    this._host = host;
    this.clock._listen(() => this.wakeup());
    if (this._seed !== undefined) host.loop.setTaskOrder(seededShuffle(this._seed));
  }

  time(): number {
    return this.clock.now();
  }

  schedule(timeoutMs: number | null): void {
    if (this._closed) return;
    this._request = timeoutMs === null || !(timeoutMs < Infinity) ? null : timeoutMs > 0 ? timeoutMs : 0;
    this._requestTurn();
  }

  wakeup(): void {
    if (this._closed || this._host === null) return;
    this._woken = true;
    this._requestTurn();
  }

  close(): void {
    this._closed = true;
    this._request = undefined;
    this.clock._listen(null);
  }

  private _requestTurn(): void {
    // Inside a batch the loop below looks at the new request itself.
    if (this._turnQueued || this._inTurn) return;
    this._turnQueued = true;
    setImmediate(this._onImmediate);
  }

  private readonly _onImmediate = (): void => {
    this._turnQueued = false;
    const host = this._host;
    if (this._closed || host === null) return;
    const budgetEnd = performance.now() + BATCH_BUDGET_MS;
    let turns = 0;
    let more = false;
    this._inTurn = true;
    try {
      for (;;) {
        if (this._closed) return;
        if (turns > 0 && (turns >= BATCH_MAX_TURNS || performance.now() > budgetEnd)) {
          more = true;
          break;
        }
        const action = this._decide(host);
        if (action === WAIT) break;
        if (action === DEADLOCK) {
          this._declareDeadlock(host.loop);
          continue;
        }
        turns++;
        this._request = undefined;
        this._woken = false;
        host.runOnce();
      }
    } finally {
      this._inTurn = false;
    }
    if (more) this._requestTurn();
  };

  /**
   * What to do now. A wake-up or a zero timeout runs a turn at the current time. With a
   * timeout, time may jump to the timer only when no outside work is pending (it could
   * otherwise still deliver something "before" the timer); with none, outside work is the
   * only hope, and without it the loop is deadlocked.
   */
  private _decide(host: PollerHost): number {
    if (this._woken) return RUN;
    const request = this._request;
    if (request === undefined) return WAIT;
    if (request === 0) return RUN;
    if (host.externalPending() > 0) return WAIT;
    if (request === null) return host.loop.isRunning() ? DEADLOCK : WAIT;
    const now = this.clock.now();
    const target = now + request;
    // Far from 0, adding a tiny timeout may round back to `now`: step to the next double.
    this.clock._advanceTo(target > now ? target : nextUp(now));
    this.jumps++;
    return RUN;
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
