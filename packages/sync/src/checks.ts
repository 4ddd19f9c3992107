import { isCoroutine, type Coroutine } from "@loop/core";

/** Checks a count argument: an integer >= `min`. TypeError for a wrong type, RangeError for a wrong value. */
export function checkCount(where: string, name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${where}: ${name} must be a number, got ${value === null ? "null" : typeof value}`);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`${where}: ${name} must be an integer >= ${min}, got ${value}`);
  }
  if (value < min) throw new RangeError(`${where}: ${name} must be >= ${min}, got ${value}`);
}

/** Checks the body of a scoped helper: a function returning a coroutine. */
export function checkBody(what: string, body: unknown): asserts body is () => Coroutine<unknown> {
  if (typeof body !== "function") {
    throw new TypeError(`${what}.withLock(body): body must be a function* (or a function returning a coroutine), got ${body === null ? "null" : typeof body}`);
  }
}

/** Calls a scoped helper's body and checks that it gave a coroutine. */
export function startBody<R>(where: string, body: () => Coroutine<R>): Coroutine<R> {
  const coro = body();
  if (!isCoroutine(coro)) {
    throw new TypeError(`${where}: body must return a coroutine; write it as a function* (await becomes yield*)`);
  }
  return coro;
}
