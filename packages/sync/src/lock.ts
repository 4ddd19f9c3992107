import type { Coroutine, Future } from "@loop/core";
import { checkBody } from "./checks.js";
import { WithLock, guarded, type Guard } from "./scoped.js";
import {
  DONE_TRUE,
  FINISHED,
  FRESH,
  GRANTED,
  OperationBase,
  outcomeOf,
  stepOperation,
  WaiterList,
} from "./waiters.js";

/**
 * A mutual-exclusion lock (asyncio.Lock). Waiters get the lock strictly in arrival order:
 * `release()` hands it straight to the oldest waiter, so it stays locked through the
 * hand-over and no task that arrives meanwhile can take it first.
 * @example
 * const lock = new Lock();
 * yield* lock.withLock(function* () {
 *   yield* writeAll(file, data); // one writer at a time
 * });
 */
export class Lock {
  /** @internal */ _locked = false;
  /** @internal */ readonly _waiters = new WaiterList();

  /** True while some task holds the lock (or it is being handed to the next waiter). */
  locked(): boolean {
    return this._locked;
  }

  /**
   * Waits until the lock is free, takes it, and returns true. A task cancelled while
   * waiting does not take the lock — even when it had just been handed the lock: it then
   * passes it on to the next waiter.
   */
  acquire(): Coroutine<true> {
    return new LockAcquire(this) as unknown as Coroutine<true>;
  }

  /** Releases the lock, handing it to the oldest waiter if there is one. Throws an `Error` if the lock is not held. */
  release(): void {
    if (!this._locked) throw new Error("Lock.release(): the lock is not acquired; release() must follow a successful acquire()");
    this._handOver();
  }

  /**
   * Runs `body` holding the lock and releases it however `body` ends — asyncio's
   * `async with lock:`.
   * @example
   * const n = yield* lock.withLock(function* () { return yield* readCounter(); });
   */
  withLock<R>(body: () => Coroutine<R>): Coroutine<R> {
    checkBody("Lock", body);
    return new WithLock(this, body, "Lock") as unknown as Coroutine<R>;
  }

  /**
   * Acquires the lock and returns a `Disposable` that releases it: `using _held = yield* lock.guard();`.
   */
  guard(): Coroutine<Guard> {
    return guarded(this.acquire(), this);
  }

  /** A short description for diagnostics, like asyncio's repr: `<Lock [locked, waiters: 2]>`. */
  toString(): string {
    const waiters = this._waiters.countPending();
    return `<Lock [${this._locked ? "locked" : "unlocked"}${waiters > 0 ? `, waiters: ${waiters}` : ""}]>`;
  }

  /** @internal The lock leaves its holder: to the oldest waiter, or free. */
  _handOver(): void {
    const next = this._waiters.takePending();
    if (next === null) this._locked = false;
    else (next.future as Future<number>).setResult(GRANTED);
  }
}

/** `lock.acquire()`: see `Operation`. */
class LockAcquire extends OperationBase<true> {
  constructor(private readonly _lock: Lock) {
    super();
  }

  next(): IteratorResult<Future<unknown> | undefined, true> {
    const lock = this._lock;
    // Nobody can be waiting while the lock is free: release() hands it to a waiter first.
    // Stryker disable next-line BlockStatement: an emptied fast path falls through to stepOperation, whose _tryNow() does the same thing one call later
    if (this._state === FRESH && !lock._locked) {
      this._state = FINISHED;
      lock._locked = true;
      return DONE_TRUE;
    }
    return stepOperation(this, "Lock.acquire");
  }

  _tryNow(): IteratorReturnResult<true> | null {
    if (this._lock._locked) return null;
    this._lock._locked = true;
    return DONE_TRUE;
  }

  _wait(): void {
    this._lock._waiters.push(this);
  }

  _resume(): IteratorReturnResult<true> {
    return DONE_TRUE; // release() left the lock locked for us
  }

  _abandon(): void {
    if (outcomeOf(this) === GRANTED) this._lock._handOver(); // handed the lock, cancelled before running: pass it on
    else this._lock._waiters.remove(this);
  }
}
