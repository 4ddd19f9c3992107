import type { Coroutine, Future } from "@loop/core";
import { GRANTED, SimpleWaiterNode, WaiterList } from "./waiters.js";

/**
 * A flag that tasks can wait for (asyncio.Event): `set()` wakes every waiter, and
 * `wait()` returns at once while the flag is set.
 * @example
 * const ready = new Event();
 * createTask(worker(ready));
 * ready.set(); // every worker blocked in `yield* ready.wait()` goes on
 */
export class Event {
  private _value = false;
  private readonly _waiters = new WaiterList();

  /** True once `set()` was called (and `clear()` was not called since). */
  isSet(): boolean {
    return this._value;
  }

  /** Sets the flag and wakes every waiting task, in the order they began to wait. */
  set(): void {
    if (this._value) return;
    this._value = true;
    for (let node = this._waiters.takePending(); node !== null; node = this._waiters.takePending()) {
      (node.future as Future<number>).setResult(GRANTED);
    }
  }

  /** Resets the flag; later `wait()` calls block until the next `set()`. */
  clear(): void {
    this._value = false;
  }

  /** Waits until the flag is set and returns true; returns at once if it is set already. */
  wait(): Coroutine<true> {
    return this._wait();
  }

  /** A short description for diagnostics, like asyncio's repr: `<Event [set]>`. */
  toString(): string {
    const waiters = this._waiters.countPending();
    return `<Event [${this._value ? "set" : "unset"}${waiters > 0 ? `, waiters: ${waiters}` : ""}]>`;
  }

  private *_wait(): Coroutine<true> {
    if (this._value) return true;
    const node = new SimpleWaiterNode("Event.wait");
    this._waiters.push(node);
    try {
      yield* node.future;
      return true;
    } finally {
      // Gone when set() woke us; still there when the wait was cancelled.
      this._waiters.remove(node);
    }
  }
}
