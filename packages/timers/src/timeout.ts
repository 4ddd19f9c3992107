import {
  CancelledError,
  TimeoutError,
  currentTask,
  getRunningLoop,
  isCoroutine,
  type Coroutine,
  type EventLoop,
  type Handle,
  type Task,
} from "@loop/core";
import { checkOptionalDelay, checkOptionalTime } from "./check.js";

// The life of a scope, CPython's `timeouts._State`.
const CREATED = 0;
const ENTERED = 1; // "active"
const EXPIRING = 2; // the deadline passed and the task was cancelled; the scope has not exited yet
const EXPIRED = 3;
const EXITED = 4; // "finished"
const STATE_NAMES = ["created", "active", "expiring", "expired", "finished"] as const;

/**
 * The scope of a `timeout`/`timeoutAt` body (asyncio.Timeout): its deadline, which the
 * body may move or remove while it runs, and whether it expired.
 */
export class Timeout {
  private _state = CREATED;
  private _when: number | null;
  private _handle: Handle | null = null;
  private _task: Task<unknown> | null = null;
  private _loop: EventLoop | null = null;
  /** `task.cancelling()` on entry: expiry is ours only if no other cancellation arrived since. */
  private _cancelling = 0;
  /** How the deadline was set, for the TimeoutError's message. */
  private _origin: string;

  /** @internal Made by `timeout` and `timeoutAt`. */
  constructor(whenMs: number | null, origin = `timeoutAt(${whenMs})`) {
    this._when = whenMs;
    this._origin = origin;
  }

  /** The deadline as a loop time in ms, or null when the scope has none. */
  when(): number | null {
    return this._when;
  }

  /**
   * Moves the deadline to the loop time `whenMs` (a time already passed expires the scope
   * on the next turn), or removes it with `null` (Infinity means the same).
   * @throws Error when the scope is not running its body any more.
   * @example
   * yield* timeout(1_000, function* (scope) {
   *   yield* handshake();
   *   scope.reschedule(getRunningLoop().time() + 30_000); // more time for the transfer
   *   yield* transfer();
   * });
   */
  reschedule(whenMs: number | null): void {
    const when = checkOptionalTime("Timeout.reschedule(whenMs)", "whenMs", whenMs);
    if (this._state !== ENTERED) {
      if (this._state === CREATED) throw new Error("Timeout has not been entered");
      throw new Error(`Cannot change state of ${STATE_NAMES[this._state]} Timeout: its body has ${this._state === EXITED ? "finished" : "expired"}`);
    }
    this._origin = `Timeout.reschedule(${when})`;
    this._schedule(when);
  }

  /** True once the deadline passed and the scope cancelled its body (asyncio's `expired()`). */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  /** `<Timeout [active] when=…>`, `<Timeout [expired]>`, … as asyncio's repr. */
  toString(): string {
    if (this._state === ENTERED) return `<Timeout [active] when=${this._when === null ? "null" : this._when}>`;
    return `<Timeout [${STATE_NAMES[this._state]}]>`;
  }

  /** @internal `Timeout.__aenter__`. */
  _enter(loop: EventLoop, task: Task<unknown>): void {
    this._state = ENTERED;
    this._loop = loop;
    this._task = task;
    this._cancelling = task.cancelling();
    this._schedule(this._when);
  }

  /**
   * @internal `Timeout.__aexit__` for a body that threw `error`: returns what the scope
   * throws. The cancellation the scope itself caused becomes a TimeoutError, unless
   * another cancellation was requested meanwhile — that one, and every cancellation from
   * elsewhere, passes through untouched.
   */
  _exitWithError(error: unknown): unknown {
    const state = this._state;
    this._exit();
    if (state === EXPIRING && (this._task as Task<unknown>).uncancel() <= this._cancelling && error instanceof CancelledError) {
      const timeoutError = new TimeoutError(`${this._origin} expired`);
      timeoutError.cause = error;
      return timeoutError;
    }
    return error;
  }

  /** @internal `Timeout.__aexit__` for a body that returned: an expiry it swallowed is withdrawn. */
  _exitWithResult(): void {
    const state = this._state;
    this._exit();
    if (state === EXPIRING) (this._task as Task<unknown>).uncancel();
  }

  /** @internal The body was abandoned without finishing (its generator was closed): just disarm. */
  _abandon(): void {
    if (this._state === ENTERED || this._state === EXPIRING) this._exit();
  }

  /** @internal The deadline passed: cancel the task, which turns into TimeoutError on exit. */
  _expire(): void {
    this._handle = null;
    if (this._state !== ENTERED) return;
    this._state = EXPIRING;
    (this._task as Task<unknown>).cancel();
  }

  private _exit(): void {
    if (this._handle !== null) {
      this._handle.cancel();
      this._handle = null;
    }
    this._state = this._state === EXPIRING ? EXPIRED : EXITED;
  }

  private _schedule(when: number | null): void {
    this._when = when;
    if (this._handle !== null) this._handle.cancel();
    if (when === null) {
      this._handle = null;
      return;
    }
    const loop = this._loop as EventLoop;
    // CPython's reschedule: a deadline already reached expires on the next turn, not at once,
    // so a body that never suspends finishes before the timeout can fire.
    this._handle = when <= loop.time() ? loop.callSoon(expire, this) : loop.callAt(when, expire, this);
  }
}

function expire(scope: Timeout): void {
  scope._expire();
}

/**
 * What the type checker says of a `timeout`/`timeoutAt` body that is not a `function*`
 * (an arrow returning a Future or a Promise, say): the words of the TypeError thrown at
 * run time, instead of a mismatch deep inside the Generator type.
 */
export type BodyMustBeAFunctionStar = typeof NOT_A_FUNCTION_STAR;

const NOT_A_FUNCTION_STAR = "body must be a function* (it returned no coroutine): write `function* (scope) { ... }`";

/** A body that is not a `function*` is refused: the type error quotes the runtime one. */
export function timeout(ms: number | null, body: BodyMustBeAFunctionStar): Coroutine<never>;
/**
 * Runs `body` with a deadline `ms` milliseconds from now (asyncio.timeout). When the
 * deadline passes, the task is cancelled where it waits; the scope turns that
 * cancellation into a `TimeoutError` on its way out. A cancellation from elsewhere passes
 * through untouched, and of nested scopes expiring in the same turn only the outermost
 * raises `TimeoutError` (the inner ones let the `CancelledError` through). `null` (or
 * Infinity) sets no deadline; the body can set one later with `scope.reschedule`.
 * @throws RangeError for a negative or NaN `ms`, TypeError if `body` is not a function.
 * @example
 * try {
 *   const page = yield* timeout(5_000, function* () {
 *     return yield* fetchPage(url);
 *   });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log("too slow");
 *   else throw error;
 * }
 */
export function timeout<T>(ms: number | null, body: (scope: Timeout) => Coroutine<T>): Coroutine<T>;
export function timeout<T>(ms: number | null, body: ((scope: Timeout) => Coroutine<T>) | BodyMustBeAFunctionStar): Coroutine<T> {
  const delay = checkOptionalDelay("timeout(ms, body)", "ms", ms);
  checkBody("timeout(ms, body)", body);
  return runScope(delay, false, body as (scope: Timeout) => Coroutine<T>);
}

/** A body that is not a `function*` is refused: the type error quotes the runtime one. */
export function timeoutAt(whenMs: number | null, body: BodyMustBeAFunctionStar): Coroutine<never>;
/**
 * `timeout` with the deadline given as a loop time (`loop.time()` + ms) instead of a delay
 * (asyncio.timeout_at). A time already passed expires the scope at its first suspension.
 * @example
 * const deadline = getRunningLoop().time() + 10_000;
 * yield* timeoutAt(deadline, function* () { yield* stepOne(); });
 * yield* timeoutAt(deadline, function* () { yield* stepTwo(); }); // the same deadline for both
 */
export function timeoutAt<T>(whenMs: number | null, body: (scope: Timeout) => Coroutine<T>): Coroutine<T>;
export function timeoutAt<T>(whenMs: number | null, body: ((scope: Timeout) => Coroutine<T>) | BodyMustBeAFunctionStar): Coroutine<T> {
  const when = checkOptionalTime("timeoutAt(whenMs, body)", "whenMs", whenMs);
  checkBody("timeoutAt(whenMs, body)", body);
  return runScope(when, true, body as (scope: Timeout) => Coroutine<T>);
}

function* runScope<T>(deadline: number | null, absolute: boolean, body: (scope: Timeout) => Coroutine<T>): Coroutine<T> {
  const loop = getRunningLoop();
  const task = currentTask();
  if (task === null) throw new Error("timeout() must be used inside a task (a coroutine the loop runs)");
  const scope = absolute || deadline === null ? new Timeout(deadline) : new Timeout(loop.time() + deadline, `timeout(${deadline})`);
  scope._enter(loop, task);
  let result: T;
  let exited = false;
  try {
    const coro = body(scope);
    if (!isCoroutine(coro)) {
      throw new TypeError(`${absolute ? "timeoutAt(whenMs, body)" : "timeout(ms, body)"}: ${NOT_A_FUNCTION_STAR}`);
    }
    result = yield* coro;
    exited = true;
  } catch (error) {
    // Stryker disable next-line BooleanLiteral: _exitWithError below moves the scope out of ENTERED/EXPIRING, so the _abandon() in finally would do nothing anyway
    exited = true;
    throw scope._exitWithError(error);
  } finally {
    // Only when the generator is closed from outside (generator.return()) mid-body.
    if (!exited) scope._abandon();
  }
  scope._exitWithResult();
  return result;
}

function checkBody(where: string, body: unknown): void {
  if (typeof body !== "function") {
    throw new TypeError(`${where}: body must be a function* (scope) => Coroutine, got ${body === null ? "null" : typeof body}`);
  }
}
