import { CancelledError, type Coroutine, type Future } from "@loop/core";
import { checkBody, checkCount } from "./checks.js";
import { Lock } from "./lock.js";
import { WithLock, guarded, type Guard } from "./scoped.js";
import { GRANTED, SimpleWaiterNode, WaiterList, outcomeOf } from "./waiters.js";

/**
 * A condition variable (asyncio.Condition): tasks holding its lock wait until another
 * task notifies them. Notified waiters wake in the order they began to wait, and each
 * re-acquires the lock before `wait()` returns — even when the wait is cancelled.
 * @example
 * const cond = new Condition();
 * // consumer
 * yield* cond.withLock(function* () {
 *   yield* cond.waitFor(() => items.length > 0);
 *   use(items.shift());
 * });
 * // producer
 * yield* cond.withLock(function* () {
 *   items.push(x);
 *   cond.notify();
 * });
 */
export class Condition {
  private readonly _lock: Lock;
  private readonly _waiters = new WaiterList();

  /** Uses `lock` when given (so that several conditions can share one lock), a new `Lock` otherwise. */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError("new Condition(lock): lock must be a Lock from @loop/sync, or omitted");
    }
    this._lock = lock ?? new Lock();
  }

  /** True while the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** Acquires the underlying lock. */
  acquire(): Coroutine<true> {
    return this._lock.acquire();
  }

  /** Releases the underlying lock. */
  release(): void {
    this._lock.release();
  }

  /** Runs `body` holding the underlying lock (`async with cond:`). */
  withLock<R>(body: () => Coroutine<R>): Coroutine<R> {
    checkBody("Condition", body);
    return new WithLock(this._lock, body, "Condition") as unknown as Coroutine<R>;
  }

  /** Acquires the underlying lock and returns a `Disposable` that releases it. */
  guard(): Coroutine<Guard> {
    return guarded(this._lock.acquire(), this._lock);
  }

  /**
   * Releases the lock, waits until notified, re-acquires the lock and returns true.
   * The caller must hold the lock (an `Error` otherwise). Cancelled, it still re-acquires
   * the lock before the `CancelledError` goes on; and a notification it had received
   * goes to the next waiter instead of being lost.
   */
  wait(): Coroutine<true> {
    return this._wait();
  }

  /**
   * Waits until `predicate()` is truthy and returns its value; checks it first, then
   * after every notification. The caller must hold the lock.
   * @example
   * yield* cond.waitFor(() => queue.length > 0);
   */
  waitFor<R>(predicate: () => R): Coroutine<R> {
    if (typeof predicate !== "function") {
      throw new TypeError(`Condition.waitFor(predicate): predicate must be a function, got ${predicate === null ? "null" : typeof predicate}`);
    }
    return this._waitFor(predicate);
  }

  /** Wakes up to `n` waiting tasks, oldest first. The caller must hold the lock (an `Error` otherwise). */
  notify(n = 1): void {
    checkCount("Condition.notify(n)", "n", n, 0);
    if (!this._lock.locked()) throw new Error("Condition.notify(): the lock is not acquired; call it while holding the lock");
    this._notify(n);
  }

  /** Wakes every waiting task. The caller must hold the lock. */
  notifyAll(): void {
    if (!this._lock.locked()) throw new Error("Condition.notifyAll(): the lock is not acquired; call it while holding the lock");
    this._notify(Infinity);
  }

  /** A short description for diagnostics, like asyncio's repr: `<Condition [locked]>`. */
  toString(): string {
    const waiters = this._waiters.countPending();
    return `<Condition [${this._lock.locked() ? "locked" : "unlocked"}${waiters > 0 ? `, waiters: ${waiters}` : ""}]>`;
  }

  private _notify(n: number): void {
    for (let i = 0; i < n; i++) {
      const node = this._waiters.takePending();
      if (node === null) return;
      (node.future as Future<number>).setResult(GRANTED);
    }
  }

  /** asyncio's Condition.wait (3.13), with the notification passed on only when one was received. */
  private *_wait(): Coroutine<true> {
    if (!this._lock.locked()) throw new Error("Condition.wait(): the lock is not acquired; call it while holding the lock");
    this._lock.release();
    const node = new SimpleWaiterNode("Condition.wait");
    this._waiters.push(node);
    let failure: { error: unknown } | null = null;
    try {
      yield* node.future;
    } catch (error) {
      failure = { error };
      this._waiters.remove(node);
    }
    // The lock must be held again when wait() ends, however it ends. Only cancellation
    // can interrupt Lock.acquire; keep the latest one and re-raise it afterwards.
    for (;;) {
      try {
        yield* this._lock.acquire();
        break;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        failure = { error };
      }
    }
    if (failure !== null) {
      // Notified, but leaving with an error: the notification must not be lost (3.13
      // notifies one more waiter here; only doing it when we were notified avoids a
      // spurious wake-up).
      if (outcomeOf(node) === GRANTED) this._notify(1);
      throw failure.error;
    }
    return true;
  }

  private *_waitFor<R>(predicate: () => R): Coroutine<R> {
    let result = predicate();
    while (!result) {
      yield* this._wait();
      result = predicate();
    }
    return result;
  }
}
