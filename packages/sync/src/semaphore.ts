import type { Coroutine, Future } from "@loop/core";
import { checkBody, checkCount } from "./checks.js";
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
 * A counter of permits (asyncio.Semaphore): `acquire()` takes one, waiting while there
 * are none; `release()` gives one back. Like CPython 3.13, a release hands its permit
 * straight to the oldest waiter, so waiters are served in arrival order and a newcomer
 * never takes a permit a waiter was promised.
 * @example
 * const slots = new Semaphore(10);
 * yield* slots.withLock(function* () {
 *   yield* fetchPage(url); // at most 10 at a time
 * });
 */
export class Semaphore {
  /** @internal Free permits. Invariant: 0 whenever a waiter is pending. */ _value: number;
  /** @internal */ readonly _waiters = new WaiterList();

  constructor(value = 1) {
    checkCount(`new ${new.target.name}(value)`, "value", value, 0);
    this._value = value;
  }

  /** True when `acquire()` would have to wait. */
  locked(): boolean {
    return this._value === 0;
  }

  /** Free permits right now. */
  get value(): number {
    return this._value;
  }

  /**
   * Takes a permit, waiting for one if needed, and returns true. A task cancelled while
   * waiting takes none — and passes on a permit it had just been handed.
   */
  acquire(): Coroutine<true> {
    return new SemaphoreAcquire(this) as unknown as Coroutine<true>;
  }

  /** Gives a permit back: to the oldest waiter if there is one. */
  release(): void {
    this._handOver();
  }

  /** Runs `body` holding a permit and gives it back however `body` ends (`async with sem:`). */
  withLock<R>(body: () => Coroutine<R>): Coroutine<R> {
    const what = this.constructor.name;
    checkBody(what, body);
    return new WithLock(this, body, what) as unknown as Coroutine<R>;
  }

  /** Takes a permit and returns a `Disposable` that gives it back: `using _permit = yield* sem.guard();`. */
  guard(): Coroutine<Guard> {
    return guarded(this.acquire(), this);
  }

  /** A short description for diagnostics, like asyncio's repr: `<Semaphore [unlocked, value: 1]>`. */
  toString(): string {
    const waiters = this._waiters.countPending();
    const state = this._value === 0 ? "locked" : `unlocked, value: ${this._value}`;
    return `<${this.constructor.name} [${state}${waiters > 0 ? `, waiters: ${waiters}` : ""}]>`;
  }

  /** @internal One permit comes back: to the oldest pending waiter, or to the counter. */
  _handOver(): void {
    const next = this._waiters.takePending();
    if (next === null) this._value++;
    else (next.future as Future<number>).setResult(GRANTED);
  }
}

/**
 * A semaphore that refuses to be released more often than acquired
 * (asyncio.BoundedSemaphore): a `release()` that would raise the count above the
 * initial value throws a `RangeError`.
 */
export class BoundedSemaphore extends Semaphore {
  /** The initial value, which the count may never exceed. */
  readonly boundValue: number;

  constructor(value = 1) {
    super(value);
    this.boundValue = value;
  }

  /**
   * Gives a permit back.
   * @throws RangeError when that would raise the value above the initial value.
   */
  override release(): void {
    if (this._value >= this.boundValue) {
      throw new RangeError(`BoundedSemaphore.release(): released too many times (value ${this._value} is already the bound ${this.boundValue})`);
    }
    this._handOver();
  }
}

/** `semaphore.acquire()`: see `Operation`. */
class SemaphoreAcquire extends OperationBase<true> {
  constructor(private readonly _semaphore: Semaphore) {
    super();
  }

  next(): IteratorResult<Future<unknown> | undefined, true> {
    const semaphore = this._semaphore;
    // A permit is never left on the counter while someone waits (release hands it over).
    // Stryker disable next-line BlockStatement: an emptied fast path falls through to stepOperation, whose _tryNow() does the same thing one call later
    if (this._state === FRESH && semaphore._value > 0) {
      this._state = FINISHED;
      semaphore._value--;
      return DONE_TRUE;
    }
    return stepOperation(this, "Semaphore.acquire");
  }

  _tryNow(): IteratorReturnResult<true> | null {
    if (this._semaphore._value === 0) return null;
    this._semaphore._value--;
    return DONE_TRUE;
  }

  _wait(): void {
    this._semaphore._waiters.push(this);
  }

  _resume(): IteratorReturnResult<true> {
    return DONE_TRUE; // the releaser handed its permit to us
  }

  _abandon(): void {
    if (outcomeOf(this) === GRANTED) this._semaphore._handOver(); // a permit in hand, cancelled before running: pass it on
    else this._semaphore._waiters.remove(this);
  }
}
