import { getRunningLoop, type Coroutine, type Future, type TimerHandle } from "@loop/core";

/**
 * Suspends the calling coroutine for `ms` milliseconds and returns `value`
 * (asyncio.sleep). `sleep(0)` schedules no timer: it gives the loop exactly one turn.
 * Cancelling the task during the sleep cancels the timer.
 * @example
 * yield* sleep(100);               // a tenth of a second
 * const v = yield* sleep(10, "x"); // "x"
 */
export function sleep<T = void>(ms: number, value?: T): Coroutine<T> {
  checkDelay("sleep(ms)", "ms", ms);
  return ms === 0 ? yieldOnce(value as T) : sleepFor(ms, value as T);
}

/**
 * Suspends the calling coroutine until `loop.time()` reaches `whenMs`; returns at the
 * next turn if that time has passed.
 */
export function sleepUntil(whenMs: number): Coroutine<void> {
  if (typeof whenMs !== "number") throw new TypeError(`sleepUntil(whenMs): whenMs must be a loop time in milliseconds, got ${typeof whenMs}`);
  if (Number.isNaN(whenMs)) throw new RangeError("sleepUntil(whenMs): whenMs is NaN");
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

function* waitTimer<T>(future: Future<T>, when: number, value: T): Coroutine<T> {
  const handle: TimerHandle = future.getLoop().callAt(when, resolveUnlessDone, future, value);
  try {
    return yield* future;
  } finally {
    handle.cancel();
  }
}

function resolveUnlessDone<T>(future: Future<T>, value: T): void {
  if (!future.done()) future.setResult(value);
}

/** @internal Checks a delay in ms: a number, not NaN, not negative. Infinity is allowed (never). */
export function checkDelay(where: string, name: string, ms: unknown): asserts ms is number {
  if (typeof ms !== "number") throw new TypeError(`${where}: ${name} must be a number of milliseconds, got ${ms === null ? "null" : typeof ms}`);
  if (Number.isNaN(ms)) throw new RangeError(`${where}: ${name} is NaN; pass a number of milliseconds >= 0`);
  if (ms < 0) throw new RangeError(`${where}: ${name} must be >= 0 milliseconds, got ${ms}`);
}
