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

/** A class of errors to match by (`instanceof`), as in an `except*` clause. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor, whatever its parameters
export type ErrorClass<E = unknown> = abstract new (...args: any[]) => E;

/**
 * What `split` and `subgroup` match: an error class, a list of classes, or a predicate
 * called with each error, nested groups included (Python's `condition`).
 */
export type ErrorMatcher<E> = ErrorClass | readonly ErrorClass[] | ((error: E | ExceptionGroup<E>) => boolean);

/**
 * The program was interrupted by a signal, Python's `KeyboardInterrupt`: `run()` rejects
 * with it after a SIGINT (Ctrl-C) cancelled the main task and every `finally` ran.
 * `signal` says which signal it was ("SIGINT", or another one `run`'s `handleSignals`
 * lists). Left uncaught, the process ends as one killed by that signal (status 130 for
 * SIGINT); caught, the program goes on.
 */
export class KeyboardInterrupt extends Error {
  /** The name of the signal that interrupted the program, such as "SIGINT". */
  readonly signal: string;

  constructor(signal = "SIGINT", message?: string) {
    super(message ?? `interrupted by ${signal}`);
    this.name = "KeyboardInterrupt";
    this.signal = signal;
  }
}

/**
 * Several errors raised together, as Python's ExceptionGroup: a task group that had
 * failing children raises one of these with every child error in `exceptions`. It is an
 * `AggregateError`, so `errors` holds the same array.
 *
 * Its `message` says how many errors it holds and what the first one is
 * ("unhandled errors in a TaskGroup (2 sub-errors; first: TypeError: bad input)"), and its
 * `stack` lists every sub-error's stack once, indented, the way Python's traceback prints a
 * group; `console.error(group)` prints that stack alone.
 * @example
 * try {
 *   yield* taskGroup(function* (tg) {
 *     tg.createTask(fetchOne("a", 100));
 *     tg.createTask(fetchOne("b", 200));
 *   });
 * } catch (error) {
 *   if (!(error instanceof ExceptionGroup)) throw error;
 *   const [timeouts, rest] = error.split(TimeoutError);
 *   if (rest !== null) throw rest;
 * }
 */
export class ExceptionGroup<E = unknown> extends AggregateError {
  /** The message given to the constructor, without the count (Python's `message`). */
  private readonly _groupMessage: string;

  constructor(message: string, exceptions: readonly (E | ExceptionGroup<E>)[]) {
    if (typeof message !== "string") {
      throw new TypeError("ExceptionGroup(message, exceptions): message must be a string");
    }
    if (!Array.isArray(exceptions) || exceptions.length === 0) {
      throw new TypeError("ExceptionGroup(message, exceptions): exceptions must be a non-empty array");
    }
    const list = exceptions.slice();
    super(list, summary(message, list));
    this.name = "ExceptionGroup";
    this._groupMessage = message;
    Object.defineProperty(this, "_groupMessage", { enumerable: false });
    if (typeof this.stack === "string") this.stack += subErrorStacks(list);
  }

  /** The errors of the group, nested groups as they are (Python's `exceptions`, a tuple). */
  get exceptions(): readonly (E | ExceptionGroup<E>)[] {
    return this.errors as readonly (E | ExceptionGroup<E>)[];
  }

  /**
   * A group like this one holding `exceptions`: what `split` and `subgroup` build their
   * parts with (Python's `derive`). It keeps the message and the `cause`; a subclass
   * overrides it to keep its own class.
   */
  derive<F>(exceptions: readonly (F | ExceptionGroup<F>)[]): ExceptionGroup<F> {
    const group = new ExceptionGroup<F>(this._groupMessage, exceptions);
    if (this.cause !== undefined) group.cause = this.cause;
    return group;
  }

  /**
   * The part of the group that matches, or null when nothing does (Python 3.11's
   * `ExceptionGroup.subgroup`): a class (or list of classes) matches by `instanceof`, a
   * predicate is asked about each error and each nested group. The group's shape is
   * kept: nested groups stay nested, each part keeps its message and cause, and a group
   * that matches as a whole is returned as it is.
   */
  subgroup<M extends E>(predicate: (error: E | ExceptionGroup<E>) => error is M): ExceptionGroup<M> | null;
  /** The part of the group for which `predicate` is true, or null (Python's `subgroup` with a callable). */
  subgroup(predicate: (error: E | ExceptionGroup<E>) => boolean): ExceptionGroup<E> | null;
  /** The errors of the group that are instances of `matcher` (a class or a list of classes), or null (Python's `subgroup`). */
  subgroup<M>(matcher: ErrorClass<M> | readonly ErrorClass<M>[]): ExceptionGroup<M> | null;
  subgroup(matcher: ErrorMatcher<E>): ExceptionGroup<unknown> | null {
    return splitGroup(this, toPredicate("subgroup", matcher), false)[0];
  }

  /**
   * The group split in two, `[match, rest]`, each null when empty (Python 3.11's
   * `ExceptionGroup.split`): `match` is what `subgroup(matcher)` gives, `rest` the other
   * errors, in the same nesting and with the same messages and cause.
   * @example
   * const [cancelled, others] = group.split(CancelledError);
   */
  split<M extends E>(predicate: (error: E | ExceptionGroup<E>) => error is M): [match: ExceptionGroup<M> | null, rest: ExceptionGroup<E> | null];
  /** The group split by `predicate` into `[match, rest]`, each null when empty (Python's `split` with a callable). */
  split(predicate: (error: E | ExceptionGroup<E>) => boolean): [match: ExceptionGroup<E> | null, rest: ExceptionGroup<E> | null];
  /** The group split into the instances of `matcher` (a class or a list of classes) and the rest, each null when empty (Python's `split`). */
  split<M>(matcher: ErrorClass<M> | readonly ErrorClass<M>[]): [match: ExceptionGroup<M> | null, rest: ExceptionGroup<E> | null];
  split(matcher: ErrorMatcher<E>): [match: ExceptionGroup<unknown> | null, rest: ExceptionGroup<E> | null] {
    return splitGroup(this, toPredicate("split", matcher), true);
  }

  /** Node's `util.inspect` (and so `console.error`): the stack, which lists every sub-error once. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return typeof this.stack === "string" ? this.stack : `${this.name}: ${this.message}`;
  }
}

/** "message (2 sub-errors; first: TypeError: bad input)", the first line of the first one only. */
function summary(message: string, list: readonly unknown[]): string {
  const count = list.length === 1 ? "1 sub-error" : `${list.length} sub-errors`;
  let first = describeError(list[0]);
  const newline = first.indexOf("\n");
  if (newline >= 0) first = first.slice(0, newline);
  if (first.length > 200) first = `${first.slice(0, 199)}…`;
  return `${message} (${count}; first: ${first})`;
}

/** Each sub-error's stack, numbered and indented under the group's, as Python's traceback prints a group. */
function subErrorStacks(list: readonly unknown[]): string {
  let out = "";
  for (let i = 0; i < list.length; i++) {
    const error = list[i];
    const text = error instanceof Error && typeof error.stack === "string" ? error.stack : describeError(error);
    out += `\n  [${i + 1}/${list.length}] ${text.split("\n").join("\n    ")}`;
  }
  return out;
}

function toPredicate<E>(method: string, matcher: ErrorMatcher<E>): (error: unknown) => boolean {
  if (Array.isArray(matcher)) {
    const classes = matcher as readonly unknown[];
    for (const c of classes) checkClass(method, c);
    return (error) => classes.some((c) => error instanceof (c as ErrorClass));
  }
  if (typeof matcher !== "function") {
    throw new TypeError(`ExceptionGroup.${method}(matcher): matcher must be an error class, a list of classes, or a predicate (error) => boolean`);
  }
  if (isClass(matcher)) return (error) => error instanceof (matcher as ErrorClass);
  return matcher as (error: unknown) => boolean;
}

/** A class rather than a predicate: `class` syntax, or a constructor whose instances are errors. */
function isClass(fn: object): boolean {
  const prototype = (fn as { prototype?: unknown }).prototype;
  if (prototype === undefined) return false; // arrow functions and methods
  return fn === Error || prototype instanceof Error || Function.prototype.toString.call(fn).startsWith("class");
}

function checkClass(method: string, c: unknown): void {
  if (typeof c !== "function" || !isClass(c)) {
    throw new TypeError(`ExceptionGroup.${method}([classes]): every entry of the list must be an error class, got ${describeError(c)}`);
  }
}

/** CPython's exceptiongroup_split_recursive: a matching group is taken whole; otherwise its parts are sorted. */
function splitGroup<E>(
  group: ExceptionGroup<E>,
  matches: (error: unknown) => boolean,
  wantRest: boolean,
): [match: ExceptionGroup<E> | null, rest: ExceptionGroup<E> | null] {
  if (matches(group)) return [group, null];
  const matched: (E | ExceptionGroup<E>)[] = [];
  const rest: (E | ExceptionGroup<E>)[] = [];
  for (const error of group.exceptions) {
    if (error instanceof ExceptionGroup) {
      const [m, r] = splitGroup(error as ExceptionGroup<E>, matches, wantRest);
      if (m !== null) matched.push(m);
      if (r !== null) rest.push(r);
    } else if (matches(error)) {
      matched.push(error);
    } else if (wantRest) {
      rest.push(error);
    }
  }
  return [part(group, matched), wantRest ? part(group, rest) : null];
}

function part<E>(group: ExceptionGroup<E>, list: (E | ExceptionGroup<E>)[]): ExceptionGroup<E> | null {
  if (list.length === 0) return null;
  const all = group.exceptions;
  if (list.length === all.length && list.every((e, i) => e === all[i])) return group;
  return group.derive(list);
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
