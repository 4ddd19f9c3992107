import type { Coroutine } from "@loop/core";
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

  [Symbol.dispose](): void {
    this.release();
  }
}

/** The body of every `withLock`: acquire, run, release on every exit path. */
export function* withAcquired<R>(acquire: Coroutine<unknown>, owner: Releasable, where: string, body: () => Coroutine<R>): Coroutine<R> {
  yield* acquire;
  try {
    return yield* startBody(where, body);
  } finally {
    owner.release();
  }
}

/** The body of every `guard()`. */
export function* guarded(acquire: Coroutine<unknown>, owner: Releasable): Coroutine<Guard> {
  yield* acquire;
  return new Guard(owner);
}
