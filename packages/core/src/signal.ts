import type { AbortSignalLike } from "./host-globals.js";
import { requireCurrentTask } from "./task.js";

/**
 * The host's `AbortSignal` type where the program has one (DOM or Node typings), resolved
 * in the user's compilation; core itself compiles without those typings.
 */
export type TaskAbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalLike;

/**
 * An AbortSignal that aborts, with a `CancelledError` as its reason, when the current
 * task is cancelled: the bridge to Promise-based APIs that take a `signal` (fetch, timers,
 * streams), so cancelling the task also stops the work it started.
 * @example
 * function* download(url: string): Coroutine<Response> {
 *   return yield* ensureFuture(fetch(url, { signal: taskSignal() }));
 * }
 */
export function taskSignal(): TaskAbortSignal {
  const task = requireCurrentTask("taskSignal()");
  return task._abortController().signal as TaskAbortSignal;
}
