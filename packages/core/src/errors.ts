/**
 * The exceptions of @loop/core. Each sets `name` so that stack traces and the default
 * exception handler print the class, as Python prints the exception type.
 */

/**
 * Thrown into a coroutine at its suspension point when its task is cancelled
 * (asyncio.CancelledError). Catching it and going on is allowed; a task whose
 * coroutine lets it escape ends cancelled.
 */
export class CancelledError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = "CancelledError";
  }
}

/** An operation not allowed in the future's current state (asyncio.InvalidStateError). */
export class InvalidStateError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = "InvalidStateError";
  }
}

/** A deadline passed (asyncio's TimeoutError, raised by `timeout`, `waitFor`, `wait`, `asCompleted`). */
export class TimeoutError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Several errors raised together, as Python's ExceptionGroup: a task group that had
 * failing children raises one of these with every child error in `exceptions`.
 * It is an `AggregateError`, so `errors` holds the same array.
 * @example
 * try {
 *   yield* taskGroup(function* (tg) {
 *     tg.createTask(fetchOne("a", 100));
 *     tg.createTask(fetchOne("b", 200));
 *   });
 * } catch (error) {
 *   if (!(error instanceof ExceptionGroup)) throw error;
 *   for (const e of error.exceptions) console.error(e);
 * }
 */
export class ExceptionGroup extends AggregateError {
  /** The errors, in the order they happened. */
  readonly exceptions: unknown[];

  constructor(message: string, exceptions: readonly unknown[]) {
    if (typeof message !== "string") {
      throw new TypeError("ExceptionGroup(message, exceptions): message must be a string");
    }
    if (!Array.isArray(exceptions) || exceptions.length === 0) {
      throw new TypeError("ExceptionGroup(message, exceptions): exceptions must be a non-empty array");
    }
    const list = exceptions.slice();
    super(list, message);
    this.name = "ExceptionGroup";
    this.exceptions = list;
  }

  /**
   * The sub-group of the errors matching `predicate` (descending into nested groups),
   * or null when none match: Python's `ExceptionGroup.subgroup`.
   */
  subgroup(predicate: (error: unknown) => boolean): ExceptionGroup | null {
    const kept: unknown[] = [];
    for (const e of this.exceptions) {
      if (e instanceof ExceptionGroup) {
        const sub = e.subgroup(predicate);
        if (sub !== null) kept.push(sub);
      } else if (predicate(e)) {
        kept.push(e);
      }
    }
    if (kept.length === 0) return null;
    if (kept.length === this.exceptions.length && kept.every((e, i) => e === this.exceptions[i])) return this;
    return new ExceptionGroup(this.message, kept);
  }
}

/** Formats any thrown value for a one-line message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
