import type { Coroutine } from "./types.js";
import { isPromiseLike } from "./coroutine.js";
import { ensureFuture } from "./ensure-future.js";
import { CancelledError } from "./errors.js";
import { hostGlobals as host } from "./host-globals.js";
import type { TaskAbortSignal } from "./signal.js";

/**
 * Runs Promise-returning work from a coroutine, in one step: `fn` gets an `AbortSignal`
 * that aborts (with the `CancelledError` as its reason) if the calling task is cancelled
 * while it waits, and the Promise's value is returned (its rejection thrown). The signal
 * belongs to this call alone, so a cancellation that was caught and withdrawn earlier
 * (a `timeout` that expired) does not abort later calls.
 *
 * A `fn` that declares no parameter gets a shared signal that never aborts (making an
 * `AbortController` per call costs more than the call itself).
 *
 * Cancellation does not wait for `fn`: the task goes on with its `CancelledError` at once,
 * and a Promise that ignores its signal is left to settle on its own, its late value
 * dropped and a late rejection marked handled.
 * @example
 * function* getJson(url: string): Coroutine<unknown> {
 *   return yield* call(async (signal) => (await fetch(url, { signal })).json());
 * }
 */
export function call<T>(fn: (signal: TaskAbortSignal) => PromiseLike<T>): Coroutine<T> {
  if (typeof fn !== "function") throw new TypeError("call(fn): fn must be a function (signal) => Promise, e.g. call((signal) => fetch(url, { signal }))");
  return callNow(fn);
}

/** The signal given to a fn that declares no parameter: it never aborts. */
let quietSignal: TaskAbortSignal | null = null;

function* callNow<T>(fn: (signal: TaskAbortSignal) => PromiseLike<T>): Coroutine<T> {
  const Controller = host.AbortController;
  if (Controller === undefined) throw new Error("call(fn) needs AbortController, which this JavaScript host lacks");
  // An AbortController costs microseconds on Node; a fn that names no parameter cannot use
  // one, so it shares a signal that never aborts. Others get one each: sharing a live signal
  // between calls would pile up listeners, since fetch (undici) leaves one per request on it.
  const controller = fn.length === 0 ? null : new Controller();
  const signal = controller === null ? (quietSignal ??= new Controller().signal as TaskAbortSignal) : (controller.signal as TaskAbortSignal);
  const promise = fn(signal);
  if (!isPromiseLike(promise)) {
    throw new TypeError("call(fn): fn must return a Promise (or any thenable); for a plain value, no call() is needed");
  }
  try {
    return yield* ensureFuture(promise);
  } catch (error) {
    if (error instanceof CancelledError) controller?.abort(error);
    throw error;
  }
}
