import { Future } from "./future.js";
import type { Coroutine } from "./types.js";

/** True for generator objects (and look-alikes): what a task can run. */
export function isCoroutine(value: unknown): value is Coroutine<unknown> {
  // A Future is its own iterator (see Future.next) but is not a coroutine.
  if (typeof value !== "object" || value === null || value instanceof Future) return false;
  const g = value as Partial<Coroutine<unknown>>;
  return typeof g.next === "function" && typeof g.throw === "function" && typeof g.return === "function";
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Why `value` is not a coroutine, and what to write instead: the message of the
 * TypeError that `createTask`, `run` and friends throw.
 */
export function notACoroutineMessage(where: string, value: unknown): string {
  const base = `${where} expects a coroutine: the generator object returned by calling a function*`;
  if (isPromiseLike(value)) {
    return `${base}, but got a Promise. Adopt the Promise with ensureFuture(promise), which a coroutine can yield*, or run it in a task: createTask((function* () { return yield* ensureFuture(promise); })())`;
  }
  if (typeof value === "function") {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name;
    if (kind === "AsyncFunction") {
      return `${base}, but got an async function. Tasks run generator coroutines, which can be cancelled at every suspension point: rewrite it as a function* (await becomes yield*), or adopt its Promise with ensureFuture(fn())`;
    }
    if (kind === "GeneratorFunction") {
      return `${base}, but got the generator function itself: call it, e.g. createTask(main()) instead of createTask(main)`;
    }
    return `${base}, but got a function. Call a function* to get a coroutine`;
  }
  return `${base}, but got ${describeValue(value)}`;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "object":
      return `an object (${(value as object).constructor?.name ?? "Object"})`;
    case "undefined":
      return "undefined";
    default:
      return `a ${typeof value}`;
  }
}
