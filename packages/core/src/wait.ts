import { isCoroutine } from "./coroutine.js";
import { ensureFuture } from "./ensure-future.js";
import { Future } from "./future.js";
import type { TimerHandle } from "./handle.js";
import { getRunningLoop } from "./loop.js";
import type { AwaitableLike, AwaitedOf, Coroutine } from "./types.js";

/** When `wait()` returns (asyncio's `return_when`). */
export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";
/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait()` returns when any future fails, or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait()` returns when every future is done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";
const RETURN_WHEN: readonly string[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];

/** Options of `wait()`. */
export interface WaitOptions {
  /** Give up after this many ms and report what is done so far; no TimeoutError is thrown. */
  timeout?: number | null;
  /** When to return; default `ALL_COMPLETED`. */
  returnWhen?: ReturnWhen;
}

/** What `wait()` returns: the futures given, split by whether they are done. */
export interface WaitResult<F> {
  /** The futures that finished (with a result or an error) or were cancelled. */
  done: Set<F>;
  /** The others; still running, not cancelled. */
  pending: Set<F>;
}

/**
 * Waits for futures and tasks until the `returnWhen` condition holds or the timeout
 * passes (asyncio.wait); nothing is cancelled. Coroutines must be wrapped in tasks first,
 * as in asyncio 3.11+, so that what is returned is what you passed.
 * @example
 * const { done, pending } = yield* wait([a, b], { returnWhen: "FIRST_COMPLETED" });
 */
export function wait<F extends Future<unknown>>(aws: Iterable<F>, opts?: WaitOptions): Coroutine<WaitResult<F>>;
/**
 * The same for other awaitables (Promises): each becomes a Future first, and the sets
 * hold those Futures.
 */
export function wait<A extends AwaitableLike<unknown>>(aws: Iterable<A>, opts?: WaitOptions): Coroutine<WaitResult<Future<AwaitedOf<A>>>>;
export function wait(aws: Iterable<AwaitableLike<unknown>>, opts?: WaitOptions): Coroutine<WaitResult<Future<unknown>>> {
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("wait(aws): aws must be an iterable of futures or tasks");
  }
  const list = Array.from(new Set(aws));
  if (list.length === 0) throw new RangeError("wait(aws): aws is empty; pass at least one future or task");
  for (const aw of list) {
    if (isCoroutine(aw)) {
      throw new TypeError("wait(aws): passing coroutines is not allowed; wrap each in a task first: wait([createTask(coro)])");
    }
  }
  const returnWhen = opts?.returnWhen ?? ALL_COMPLETED;
  if (!RETURN_WHEN.includes(returnWhen)) {
    throw new RangeError(`wait(aws, { returnWhen }): returnWhen must be "FIRST_COMPLETED", "FIRST_EXCEPTION" or "ALL_COMPLETED", got ${JSON.stringify(returnWhen)}`);
  }
  const timeout = checkTimeout("wait(aws, { timeout })", opts?.timeout);
  return waitUntilReturnWhen(list, timeout, returnWhen);
}

// asyncio's _wait: the checks are done, the waiting begins.
function* waitUntilReturnWhen(list: AwaitableLike<unknown>[], timeout: number | null, returnWhen: string): Coroutine<WaitResult<Future<unknown>>> {
  const loop = getRunningLoop();
  const futures = list.map((aw) => (aw instanceof Future ? aw : ensureFuture(aw, loop)));
  const waiter = loop.createFuture<void>();
  let timer: TimerHandle | null = null;
  if (timeout !== null) timer = loop.callLater(timeout, releaseWaiter, waiter);
  let remaining = futures.length;
  const onCompletion = (f: Future<unknown>): void => {
    remaining--;
    if (
      remaining <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !f.cancelled() && f.exception() !== null)
    ) {
      timer?.cancel();
      if (!waiter.done()) waiter.setResult(undefined);
    }
  };
  for (const f of futures) f.addDoneCallback(onCompletion);
  try {
    yield* waiter;
  } finally {
    timer?.cancel();
    for (const f of futures) f.removeDoneCallback(onCompletion);
  }
  const done = new Set<Future<unknown>>();
  const pending = new Set<Future<unknown>>();
  for (const f of futures) (f.done() ? done : pending).add(f);
  return { done, pending };
}

function releaseWaiter(waiter: Future<void>): void {
  if (!waiter.done()) waiter.setResult(undefined);
}

/** @internal Checks an optional timeout in ms: null/undefined mean none. */
export function checkTimeout(where: string, timeout: unknown): number | null {
  if (timeout === undefined || timeout === null) return null;
  if (typeof timeout !== "number") throw new TypeError(`${where}: timeout must be a number of milliseconds or null, got ${typeof timeout}`);
  if (Number.isNaN(timeout)) throw new RangeError(`${where}: timeout is NaN`);
  if (timeout < 0) throw new RangeError(`${where}: timeout must be >= 0 ms, got ${timeout}`);
  return timeout === Infinity ? null : timeout;
}
