import type { Coroutine } from "@loop/core";
import { checkCount } from "./checks.js";
import { Condition } from "./condition.js";
import { BrokenBarrierError } from "./errors.js";

// asyncio's _BarrierState.
const FILLING = 0;
const DRAINING = 1;
const RESETTING = 2;
const BROKEN = 3;

/**
 * A meeting point for a fixed number of tasks (asyncio.Barrier): each `wait()` blocks
 * until `parties` tasks are waiting, then all go on together, and the barrier can be
 * used again. `wait()` returns the task's arrival index, 0 to `parties - 1`.
 * @example
 * const start = new Barrier(3);
 * // in each of three tasks:
 * const index = yield* start.wait(); // all three return together
 */
export class Barrier {
  private readonly _parties: number;
  private readonly _cond = new Condition();
  private _state = FILLING;
  /** Tasks inside `wait()`: filling while it fills, then leaving while it drains. */
  private _count = 0;
  /**
   * The tasks waiting for the barrier to fill, in arrival order; each one's `index` is
   * its place here. A task that leaves (cancelled) is taken out and the later ones move
   * up, so that the tasks that go through get 0 to `parties - 1` exactly once — asyncio
   * gives a task's index at arrival, and hands out duplicates after a cancellation.
   */
  private _arrivals: { index: number }[] = [];

  constructor(parties: number) {
    checkCount("new Barrier(parties)", "parties", parties, 1);
    this._parties = parties;
  }

  /** How many tasks must wait for the barrier to let them through. */
  get parties(): number {
    return this._parties;
  }

  /** How many tasks are waiting for the barrier to fill. */
  get nWaiting(): number {
    return this._state === FILLING ? this._count : 0;
  }

  /** True after `abort()`, until `reset()`. */
  get broken(): boolean {
    return this._state === BROKEN;
  }

  /**
   * Waits until `parties` tasks are waiting, and returns this task's arrival index.
   * Throws `BrokenBarrierError` if the barrier is aborted or reset meanwhile, or is
   * broken already. A task cancelled while waiting leaves, and no longer counts.
   */
  wait(): Coroutine<number> {
    return this._wait();
  }

  /**
   * Returns the barrier to its empty state; tasks waiting in it get `BrokenBarrierError`.
   */
  reset(): Coroutine<void> {
    return this._reset();
  }

  /** Breaks the barrier: current and future `wait()` calls throw `BrokenBarrierError` until `reset()`. */
  abort(): Coroutine<void> {
    return this._abort();
  }

  /** A short description for diagnostics, like asyncio's repr: `<Barrier [filling, waiters: 1/3]>`. */
  toString(): string {
    const state = ["filling", "draining", "resetting", "broken"][this._state] as string;
    return `<Barrier [${state}, waiters: ${this.nWaiting}/${this._parties}]>`;
  }

  private *_wait(): Coroutine<number> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      // Block while the barrier drains or resets.
      yield* cond.waitFor(() => this._state !== DRAINING && this._state !== RESETTING);
      if (this._state === BROKEN) throw new BrokenBarrierError("Barrier.wait(): the barrier was aborted");
      const arrival = { index: this._arrivals.length };
      this._arrivals.push(arrival);
      this._count++;
      try {
        if (arrival.index + 1 === this._parties) {
          this._state = DRAINING; // the last arrival releases the others
          this._arrivals = [];
          cond.notifyAll();
        } else {
          yield* cond.waitFor(() => this._state !== FILLING);
          if (this._state === BROKEN || this._state === RESETTING) {
            throw new BrokenBarrierError("Barrier.wait(): the barrier was aborted or reset while waiting");
          }
        }
        return arrival.index;
      } finally {
        this._leave(arrival);
        this._count--;
        this._exit();
      }
    } finally {
      cond.release();
    }
  }

  /** Takes a task that leaves before the barrier filled out of the arrivals. */
  private _leave(arrival: { index: number }): void {
    const arrivals = this._arrivals;
    if (arrivals[arrival.index] !== arrival) return; // released already
    arrivals.splice(arrival.index, 1);
    for (let i = arrival.index; i < arrivals.length; i++) (arrivals[i] as { index: number }).index = i;
  }

  /** The last task out of a draining or resetting barrier makes it fill again. */
  private _exit(): void {
    if (this._count === 0) {
      if (this._state === RESETTING || this._state === DRAINING) this._state = FILLING;
      this._cond.notifyAll();
    }
  }

  private *_reset(): Coroutine<void> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      if (this._count > 0) {
        if (this._state !== RESETTING) this._state = RESETTING;
      } else {
        this._state = FILLING;
      }
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  private *_abort(): Coroutine<void> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      this._state = BROKEN;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }
}
