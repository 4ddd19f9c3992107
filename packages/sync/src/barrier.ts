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
      const index = this._count++;
      try {
        if (index + 1 === this._parties) {
          this._state = DRAINING; // the last arrival releases the others
          cond.notifyAll();
        } else {
          yield* cond.waitFor(() => this._state !== FILLING);
          if (this._state === BROKEN || this._state === RESETTING) {
            throw new BrokenBarrierError("Barrier.wait(): the barrier was aborted or reset while waiting");
          }
        }
        return index;
      } finally {
        this._count--;
        this._exit();
      }
    } finally {
      cond.release();
    }
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
