import { snapshotContext, type Context } from "./context.js";

import { CancelledError, InvalidStateError, describeError } from "./errors.js";
import { captureError, firstFrame, stackText } from "./stack-frames.js";
import { current } from "./state.js";
import type { AbstractEventLoop, AbstractFuture, DoneWaiter } from "./types.js";

// The four states. A future that failed keeps the error apart from a result, because
// JavaScript can throw anything, undefined included.
const PENDING = 0;
const RESOLVED = 1;
const FAILED = 2;
const CANCELLED = 3;

type DoneCallback<T> = (future: Future<T>) => void;
type Entry = DoneCallback<never> | DoneWaiter;

interface UnretrievedReport {
  loop: AbstractEventLoop;
  message: string;
  exception: unknown;
}

/**
 * Reports errors that nobody retrieved once their future is garbage-collected, as
 * asyncio's `Future.__del__` does. Only failed futures are registered, so futures that
 * succeed cost nothing here.
 */
const unretrieved: FinalizationRegistry<UnretrievedReport> | null =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<UnretrievedReport>((report) => {
        report.loop.callExceptionHandler({ message: report.message, exception: report.exception });
      })
    : null;

interface DroppedReport {
  /** Weak, so that a report never keeps a dropped loop (and its tasks) alive. */
  loop: WeakRef<AbstractEventLoop> | null;
  /** The future's class name. */
  kind: string;
  /** Where it was created, formatted only if the report is made. */
  source: Error;
}

/**
 * Debug mode only: reports futures garbage-collected while still pending (asyncio reports
 * "Task was destroyed but it is pending!" from `Task.__del__`). Futures register at
 * creation and unregister when they complete; tasks unregister at once, because the loop
 * holds pending tasks strongly and `EventLoop.close` reports those left pending.
 */
const droppedPending: FinalizationRegistry<DroppedReport> | null =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<DroppedReport>((report) => {
        const loop = report.loop?.deref();
        if (loop === undefined) return;
        const stack = stackText(report.source);
        const where = stack === undefined ? "" : ` created at ${firstFrame(report.source)}`;
        loop.debugLogger.warn(`${report.kind} was destroyed but it is pending!${where}`, { creationStack: stack });
      })
    : null;

/** @internal Stops watching `future` for the dropped-while-pending report. */
// Stryker disable next-line BlockStatement: only spares the registry an entry that cannot report: a pending task is held by its loop, so it is collected only with the loop, and a report finds no loop then
export function forgetPending(future: Future<unknown>): void {
  droppedPending?.unregister(future);
}

/**
 * A value that will exist later (asyncio.Future). Coroutines wait on it with `yield*`,
 * async code with `await`. Done callbacks run through the loop's `callSoon`, in the
 * order they were added.
 * Invariants:
 * - `_state` leaves PENDING once, for RESOLVED, FAILED or CANCELLED, and never changes
 *   again. `_value` is the result when RESOLVED, the error when FAILED, undefined
 *   otherwise; `_cancelMessage` is the message of the cancellation when CANCELLED.
 * - The done callbacks are `_callback`: null for none, the entry itself for one (most
 *   futures have exactly one), an array of them in registration order for more. They
 *   exist only while PENDING: the transition to done empties it and hands every entry
 *   over in order, a function through `callSoon`, a `DoneWaiter`
 *   (a task, a Promise adapter) by calling its `_wake` at once. A done future holds no
 *   callbacks, and one added later is scheduled at once.
 * - `_logTraceback` is true only while FAILED with the error not yet retrieved and
 *   registered for the "exception was never retrieved" report; `result()`,
 *   `exception()` and a Promise adapter clear it.
 * - `_source` is set only in debug mode, at creation. A future created in debug mode is
 *   watched for "destroyed while pending" until it is done; a task is not (the loop holds
 *   pending tasks, and reports those left at close).
 * @example
 * const fut = loop.createFuture<number>();
 * loop.callLater(10, () => fut.setResult(42));
 * const answer = yield* fut; // 42
 */
export class Future<T> implements AbstractFuture<T> {
  /** @internal */ _state: number = PENDING;
  /** @internal */ _value: unknown = undefined;
  /** @internal */ _loop: AbstractEventLoop;
  /**
   * @internal The done callbacks: one entry, or an array of them when there are more (most
   * futures have exactly one; one field rather than two, as each is paid by every pending future).
   */
  _callback: Entry | Entry[] | null = null;
  /** @internal */ _cancelMessage: string | undefined = undefined;
  // Stryker disable next-line BooleanLiteral: read only by _markRetrieved, which runs only once the future failed, and _fail sets it first (or, without a registry, there is nothing to unregister)
  /** @internal True while a failure is registered for the never-retrieved report. */ _logTraceback = false;
  /** @internal Where the future was created, in debug mode only: the captured Error, read on demand. */
  _source: Error | undefined = undefined;
  /**
   * What this future stands for, shown by task dumps and deadlock reports: the primitive
   * that made it sets it (`"sleep(100)"`, `"Queue.get"`, `"Lock.acquire"`, `"read from 127.0.0.1:6379"`).
   */
  label: string | undefined = undefined;

  constructor(loop?: AbstractEventLoop) {
    if (loop === undefined) {
      const running = current.loop;
      if (running === null) {
        throw new Error("new Future() outside a running event loop needs the loop: use loop.createFuture()");
      }
      loop = running;
    }
    this._loop = loop;
    if (loop._debug) this._trackPending(loop);
  }

  /**
   * Where this future was created: a stack trace kept in debug mode only (asyncio's
   * `_source_traceback`), undefined otherwise.
   */
  creationStack(): string | undefined {
    return this._sourceStack;
  }

  /** @internal The text of `_source`. */
  get _sourceStack(): string | undefined {
    const source = this._source;
    return source === undefined ? undefined : stackText(source);
  }

  private _trackPending(loop: AbstractEventLoop): void {
    const source = captureError();
    // Read at once: until V8 formats it, the stack holds the frames' receivers, this
    // future among them, and the report below would keep the future alive for ever.
    stackText(source);
    this._source = source;
    if (droppedPending === null) return;
    droppedPending.register(
      this,
      { loop: typeof WeakRef === "function" ? new WeakRef(loop) : null, kind: this.constructor.name, source },
      this,
    );
  }

  /** The loop the future belongs to: its callbacks run there. */
  getLoop(): AbstractEventLoop {
    return this._loop;
  }

  /** True once the future has a result, an error or was cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** True if the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws `InvalidStateError` while pending, a `CancelledError` if the future
   * was cancelled, and the future's error if it failed.
   */
  result(): T {
    switch (this._state) {
      case RESOLVED:
        return this._value as T;
      case FAILED:
        this._markRetrieved();
        throw this._value;
      case CANCELLED:
        throw this._makeCancelledError();
      default:
        throw new InvalidStateError("Result is not ready: the future is still pending (wait on it with yield* first)");
    }
  }

  /** The error the future failed with; null if it succeeded. Throws like `result()` when pending or cancelled. */
  exception(): unknown {
    switch (this._state) {
      case RESOLVED:
        return null;
      case FAILED:
        this._markRetrieved();
        return this._value;
      case CANCELLED:
        throw this._makeCancelledError();
      default:
        throw new InvalidStateError("Exception is not set: the future is still pending");
    }
  }

  /**
   * Completes the future with `value` and schedules its done callbacks.
   * @throws InvalidStateError when the future is already done.
   */
  setResult(value: T): void {
    if (this._state !== PENDING) throw new InvalidStateError(`setResult() on a future that is already ${this._stateName()}`);
    this._state = RESOLVED;
    this._value = value;
    this._scheduleCallbacks();
  }

  /**
   * Fails the future with `error` and schedules its done callbacks. An error nobody
   * retrieves (with `result()`, `exception()` or a `yield*`) is reported when the future is
   * garbage-collected, as asyncio's "exception was never retrieved".
   * @throws InvalidStateError when the future is already done.
   */
  setException(error: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError(`setException() on a future that is already ${this._stateName()}`);
    this._fail(error);
  }

  /**
   * Cancels the future and schedules its callbacks; false if it was already done.
   * `msg` becomes the message of the `CancelledError` that waiters see.
   */
  cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._cancelMessage = msg;
    this._scheduleCallbacks();
    return true;
  }

  /** Adds a callback run with the future once it is done, through `callSoon` — even if it is done already. */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (typeof callback !== "function") throw new TypeError("addDoneCallback(callback): callback must be a function");
    if (this._state !== PENDING) {
      this._loop.callSoon(callback, this);
      return;
    }
    // As asyncio's add_done_callback: the callback runs in a copy of the context current
    // now, not in whatever context completes the future.
    const context = snapshotContext();
    this._addEntry(context === null ? (callback as DoneCallback<never>) : new ContextCallback(callback as DoneCallback<never>, context));
  }

  /** Removes every registration of `callback`; returns how many there were. */
  removeDoneCallback(callback: DoneCallback<T>): number {
    const entries = this._callback;
    if (entries === null) return 0;
    if (!Array.isArray(entries)) {
      if (!isEntryOf(entries, callback)) return 0;
      this._callback = null;
      return 1;
    }
    let kept = 0;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      if (!isEntryOf(entry, callback)) entries[kept++] = entry;
    }
    const removed = entries.length - kept;
    entries.length = kept;
    // Stryker disable next-line ConditionalExpression: an empty array and null both mean "no callbacks" to every reader (_addEntry, _scheduleCallbacks, removeDoneCallback); null only lets the array go
    if (kept === 0) this._callback = null;
    return removed;
  }

  /** Lets async code `await` the future. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return new Promise<T>((resolve, reject) => {
      this._addWaiter(new PromiseWaiter(resolve as (v: unknown) => void, reject));
    }).then(onFulfilled, onRejected);
  }

  /**
   * `yield* future` suspends the coroutine until the future is done, then gives its result.
   * The future is its own iterator — it keeps no per-wait state — so a wait allocates
   * nothing: the task is resumed only once the future is done (or with `throw`).
   */
  [Symbol.iterator](): Iterator<Future<unknown> | undefined, T, unknown> {
    return this as Iterator<Future<unknown> | undefined, T, unknown>;
  }

  /** @internal The iterator protocol behind `yield*`; not for direct use. */
  next(): IteratorResult<Future<unknown> | undefined, T> {
    if (this._state !== PENDING) return { done: true, value: this.result() };
    this._beforeWait();
    return { done: false, value: this as Future<unknown> };
  }

  /** @internal A task is about to wait on this pending future: refused outside a task; where, in debug mode. */
  _beforeWait(): void {
    if (current.task === null) {
      // Only a task can wait: outside one (a for-of loop, a deep-equality helper walking
      // into the future) nothing would ever resume the wait, so say so instead of looping.
      throw new InvalidStateError(
        "a pending future can only be waited on from a coroutine run by a task (yield* it there); outside the loop, await it",
      );
    }
    // Debug mode: the coroutine's frames are on the stack only now, while it yields, so
    // this is where "where is the task suspended" can be captured.
    if (this._loop._debug) current.task._suspendError = captureError(48);
  }

  /** @internal A cancellation thrown into the waiting coroutine surfaces at its `yield*`. */
  throw(error: unknown): never {
    throw error;
  }

  /** @internal */
  return(value?: T): IteratorResult<Future<unknown> | undefined, T> {
    return { done: true, value: value as T };
  }

  /** `<Future pending>`, `<Future finished result=…>`, … as asyncio's repr. */
  toString(): string {
    const name = this.constructor.name;
    switch (this._state) {
      case RESOLVED:
        return `<${name} finished result=${safeString(this._value)}>`;
      case FAILED:
        return `<${name} finished exception=${describeError(this._value)}>`;
      case CANCELLED:
        return `<${name} cancelled>`;
      default:
        return `<${name} pending>`;
    }
  }

  /** @internal Registers a loop-internal waiter; wakes it at once if the future is done. */
  _addWaiter(waiter: DoneWaiter): void {
    if (this._state !== PENDING) waiter._wake(this as Future<unknown>);
    else this._addEntry(waiter);
  }

  /** @internal */
  _fail(error: unknown): void {
    this._state = FAILED;
    this._value = error;
    if (unretrieved !== null) {
      this._logTraceback = true;
      // V8 formats an error's stack lazily and keeps every frame's receiver until then — a
      // failed task is the receiver of its own step — so the report, which holds the error,
      // would keep this future alive and never fire. Formatting the stack now lets go.
      if (error instanceof Error) void error.stack;
      unretrieved.register(this, { loop: this._loop, message: this._unretrievedMessage(), exception: error }, this);
    }
    this._scheduleCallbacks();
  }

  /** @internal The message of the never-retrieved report. */
  _unretrievedMessage(): string {
    return "Future exception was never retrieved";
  }

  /** @internal */
  _markRetrieved(): void {
    // Stryker disable next-line ConditionalExpression: unregistering a future that is not registered does nothing; the flag only saves the call
    if (this._logTraceback) {
      this._logTraceback = false;
      // Set only after registering, so the registry exists.
      (unretrieved as FinalizationRegistry<UnretrievedReport>).unregister(this);
    }
  }

  /** @internal The CancelledError a waiter sees: asyncio's `_make_cancelled_error`. */
  _makeCancelledError(): CancelledError {
    return new CancelledError(this._cancelMessage);
  }

  /** @internal */
  _stateName(): string {
    return ["pending", "finished", "finished", "cancelled"][this._state] as string;
  }

  private _addEntry(entry: Entry): void {
    const entries = this._callback;
    if (entries === null) this._callback = entry;
    else if (Array.isArray(entries)) entries.push(entry);
    else this._callback = [entries, entry];
  }

  /** @internal Runs at the transition to done: hands every callback to the loop, in registration order. */
  _scheduleCallbacks(): void {
    // Stryker disable next-line ConditionalExpression: unregistering a future that is not registered does nothing; outside debug mode the check only saves the call
    if (this._source !== undefined) droppedPending?.unregister(this);
    const entries = this._callback;
    this._callback = null;
    if (entries === null) return;
    if (!Array.isArray(entries)) this._invoke(entries);
    else for (let i = 0; i < entries.length; i++) this._invoke(entries[i] as Entry);
  }

  private _invoke(entry: Entry): void {
    if (typeof entry === "function") this._loop.callSoon(entry, this as unknown as Future<never>);
    else entry._wake(this as Future<unknown>);
  }
}

/** A done callback added while a context was current: scheduled in (a copy of) that context. */
class ContextCallback implements DoneWaiter {
  constructor(
    readonly _callback: DoneCallback<never>,
    private readonly _context: Context,
  ) {}

  _wake(future: Future<unknown>): void {
    this._context.run(scheduleDoneCallback, future, this._callback);
  }
}

function scheduleDoneCallback(future: Future<unknown>, callback: DoneCallback<never>): void {
  future._loop.callSoon(callback, future as unknown as Future<never>);
}

function isEntryOf(entry: Entry, callback: unknown): boolean {
  return entry === callback || (entry instanceof ContextCallback && entry._callback === callback);
}

class PromiseWaiter implements DoneWaiter {
  constructor(
    private readonly _resolve: (value: unknown) => void,
    private readonly _reject: (reason: unknown) => void,
  ) {}

  _wake(future: Future<unknown>): void {
    switch (future._state) {
      case RESOLVED:
        this._resolve(future._value);
        break;
      case FAILED:
        future._markRetrieved();
        this._reject(future._value);
        break;
      default:
        this._reject(future._makeCancelledError());
    }
  }
}

function safeString(value: unknown): string {
  try {
    const s = typeof value === "string" ? JSON.stringify(value) : String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return "<unprintable>";
  }
}

export const FutureState = { PENDING, RESOLVED, FAILED, CANCELLED } as const;
