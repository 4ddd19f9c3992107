import {
  CancelledError,
  Future,
  TimeoutError,
  ensureFuture,
  getRunningLoop,
  isCoroutine,
  type Awaitable,
  type AwaitableLike,
  type Coroutine,
} from "@loop/core";
import { checkOptionalDelay } from "./check.js";
import { timeout } from "./timeout.js";

/**
 * Waits for `aw` for at most `ms` milliseconds (asyncio.wait_for, 3.12+ semantics, built
 * on `timeout`). On expiry the awaited work is cancelled, `waitFor` waits until it has
 * finished cancelling, then throws `TimeoutError` — unless the work finished anyway (it
 * swallowed the cancellation and returned), in which case its result is returned. A
 * cancellation of the caller itself always propagates as `CancelledError`. A coroutine is
 * run inline in the calling task; a Future or Task is awaited (and cancelled on expiry).
 * `ms = 0` does not start a coroutine at all: a done future gives its result, anything
 * else is cancelled and `TimeoutError` thrown. `null` (or Infinity) waits without limit.
 * @throws RangeError for a negative or NaN `ms`, TypeError for an `aw` that cannot be awaited.
 * @example
 * const reply = yield* waitFor(client.request("ping"), 1_000);
 */
export function waitFor<T>(aw: Coroutine<T> | AwaitableLike<T>, ms: number | null): Coroutine<T> {
  if (!isAwaitableLike(aw)) {
    throw new TypeError("waitFor(aw, ms): aw must be a coroutine, a Future, a Task or a Promise");
  }
  const delay = checkOptionalDelay("waitFor(aw, ms)", "ms", ms);
  return delay === 0 ? waitNoTime(aw) : timeout(delay, () => awaitIt(aw));
}

function* awaitIt<T>(aw: AwaitableLike<T>): Coroutine<T> {
  if (isIterable(aw)) return yield* aw as Awaitable<T>;
  return yield* ensureFuture(aw);
}

/** CPython's `timeout <= 0` branch: never start the work; take a result that is there already. */
function* waitNoTime<T>(aw: AwaitableLike<T>): Coroutine<T> {
  const future = ensureFuture(aw);
  if (future.done()) return future.result();
  yield* cancelAndWait(future);
  try {
    return future.result();
  } catch (error) {
    if (!(error instanceof CancelledError)) throw error;
    const timeoutError = new TimeoutError("waitFor(aw, 0): aw was not done, and was cancelled");
    timeoutError.cause = error;
    throw timeoutError;
  }
}

/** asyncio's `_cancel_and_wait`: cancel `future` and wait until it is really done. */
function* cancelAndWait(future: Future<unknown>): Coroutine<void> {
  const waiter = getRunningLoop().createFuture<void>();
  waiter.label = "waitFor: the cancelled work to finish";
  const release = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  future.addDoneCallback(release);
  try {
    future.cancel();
    yield* waiter;
  } finally {
    future.removeDoneCallback(release);
  }
}

function isIterable(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as Awaitable<unknown>)[Symbol.iterator] === "function";
}

function isAwaitableLike(value: unknown): value is AwaitableLike<unknown> {
  if (value instanceof Future || isCoroutine(value) || isIterable(value)) return true;
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}
