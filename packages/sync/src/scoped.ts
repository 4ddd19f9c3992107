import type { AbstractFuture, Coroutine } from "@loop/core";
import { startBody } from "./checks.js";

/** Anything with a `release()`: a Lock, a Semaphore, a Condition. */
interface Releasable {
  release(): void;
}

/**
 * What `guard()` returns: a `Disposable` that releases what was acquired exactly once,
 * so that a `using` declaration releases on every way out of the block.
 * @example
 * function* critical(): Coroutine<void> {
 *   using _held = yield* lock.guard();
 *   yield* sleep(10); // released even if this throws or the task is cancelled
 * }
 */
export class Guard implements Disposable {
  #owner: Releasable | null;

  /** @internal */
  constructor(owner: Releasable) {
    this.#owner = owner;
  }

  /** True until the guard has released. */
  get held(): boolean {
    return this.#owner !== null;
  }

  /** Releases now; later calls (and the `using` disposal) do nothing. */
  release(): void {
    const owner = this.#owner;
    if (owner === null) return;
    this.#owner = null;
    owner.release();
  }

  /** Releases what the guard holds: the end of a `using` block. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/** What `withLock` needs of its owner: a Lock, a Semaphore, a Condition's lock. */
interface Lockable extends Releasable {
  acquire(): Coroutine<true>;
}

type Step = IteratorResult<AbstractFuture<unknown> | undefined, unknown>;

const ACQUIRING = 0;
const RUNNING = 1;
const ENDED = 2;

/**
 * `withLock(body)`: acquire, run `body`, release on every way out — the generator
 *
 *     yield* owner.acquire();
 *     try { return yield* body(); } finally { owner.release(); }
 *
 * written out as a state machine that forwards `next`/`throw`/`return` to the acquire
 * operation, then to the body. One generator frame less on every step of the body
 * matters when thousands of tasks wait in `withLock` at once (the semaphore benchmark:
 * about a third of the cost of the contended path).
 */
export class WithLock<R> {
  private _phase = ACQUIRING;
  private _inner: Iterator<AbstractFuture<unknown> | undefined, unknown, unknown>;

  constructor(
    private readonly _owner: Lockable,
    private readonly _body: () => Coroutine<R>,
    private readonly _what: string,
  ) {
    this._inner = _owner.acquire();
  }

  next(value?: unknown): IteratorResult<AbstractFuture<unknown> | undefined, R> {
    return this._advance(NEXT, value);
  }

  throw(error: unknown): IteratorResult<AbstractFuture<unknown> | undefined, R> {
    return this._advance(THROW, error);
  }

  return(value?: R): IteratorResult<AbstractFuture<unknown> | undefined, R> {
    return this._advance(RETURN, value);
  }

  [Symbol.iterator](): this {
    return this;
  }

  private _advance(mode: number, arg: unknown): IteratorResult<AbstractFuture<unknown> | undefined, R> {
    if (this._phase === ENDED) {
      if (mode === THROW) throw arg;
      return { done: true, value: (mode === RETURN ? arg : undefined) as R };
    }
    const inner = this._inner;
    let step: Step;
    try {
      step = mode === NEXT ? inner.next(arg) : mode === THROW ? (inner.throw as (e: unknown) => Step)(arg) : (inner.return as (v: unknown) => Step)(arg);
    } catch (error) {
      // The body threw: release. The acquire threw (cancelled while waiting): it holds nothing.
      const held = this._phase === RUNNING;
      this._phase = ENDED;
      if (held) this._owner.release();
      throw error;
    }
    if (step.done !== true) return step;
    if (this._phase === RUNNING || mode === RETURN) {
      // The body ended (or the acquire was abandoned by return()): release if held.
      const held = this._phase === RUNNING;
      this._phase = ENDED;
      if (held) this._owner.release();
      return step as IteratorReturnResult<R>;
    }
    // Acquired: start the body.
    this._phase = RUNNING;
    try {
      this._inner = startBody(`${this._what}.withLock(body)`, this._body);
    } catch (error) {
      this._phase = ENDED;
      this._owner.release();
      throw error;
    }
    return this._advance(NEXT, undefined);
  }
}

const NEXT = 0;
const THROW = 1;
const RETURN = 2;

/** The body of every `guard()`. */
export function* guarded(acquire: Coroutine<unknown>, owner: Releasable): Coroutine<Guard> {
  yield* acquire;
  return new Guard(owner);
}
