import { getRunningLoop, type AbstractTimerHandle, type Coroutine, type Future } from "@loop/core";
import { checkDelay, checkTime } from "./check.js";

/**
 * Suspends the calling coroutine for `ms` milliseconds and returns `value`
 * (asyncio.sleep). `sleep(0)` schedules no timer: it gives the loop exactly one turn.
 * Cancelling the task during the sleep cancels the timer.
 * @throws RangeError for a negative, NaN or infinite `ms`; TypeError for a non-number.
 * @example
 * yield* sleep(100);               // a tenth of a second
 * const v = yield* sleep(10, "x"); // "x"
 */
export function sleep<T = void>(ms: number, value?: T): Coroutine<T> {
  checkDelay("sleep(ms)", "ms", ms);
  return ms === 0 ? yieldOnce(value as T) : sleepFor(ms, value as T);
}

/**
 * Suspends the calling coroutine until `loop.time()` reaches `whenMs`; a time that has
 * passed still waits for the timer, which is due at once (one loop turn or two).
 * @throws RangeError for NaN or an infinite `whenMs`.
 * @example
 * const loop = getRunningLoop();
 * yield* sleepUntil(loop.time() + 1_000);
 */
export function sleepUntil(whenMs: number): Coroutine<void> {
  checkTime("sleepUntil(whenMs)", "whenMs", whenMs);
  return sleepAt(whenMs);
}

function* yieldOnce<T>(value: T): Coroutine<T> {
  yield;
  return value;
}

function* sleepFor<T>(ms: number, value: T): Coroutine<T> {
  const loop = getRunningLoop();
  const future = loop.createFuture<T>();
  future.label = `sleep(${ms})`;
  return yield* waitTimer(future, loop.time() + ms, value);
}

function* sleepAt(whenMs: number): Coroutine<void> {
  const loop = getRunningLoop();
  const future = loop.createFuture<void>();
  future.label = `sleepUntil(${whenMs})`;
  yield* waitTimer(future, whenMs, undefined);
}

/** @internal Waits on `future`, which a timer at `when` resolves with `value`; the timer goes with the wait. */
export function* waitTimer<T>(future: Future<T>, when: number, value: T): Coroutine<T> {
  const handle: AbstractTimerHandle = future.getLoop().callAt(when, resolveUnlessDone, future, value);
  try {
    return yield* future;
  } finally {
    handle.cancel();
  }
}

function resolveUnlessDone<T>(future: Future<T>, value: T): void {
  if (!future.done()) future.setResult(value);
}
