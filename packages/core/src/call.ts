import type { Coroutine } from "./types.js";
import { isPromiseLike } from "./coroutine.js";
import { adoptPromise } from "./ensure-future.js";
import { CancelledError } from "./errors.js";
import { FutureState, type Future } from "./future.js";
import { hostGlobals as host, type AbortControllerLike } from "./host-globals.js";
import type { TaskAbortSignal } from "./signal.js";
import { current } from "./state.js";

const { PENDING, RESOLVED } = FutureState;

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
  return new CallOperation(fn) as unknown as Coroutine<T>;
}

/**
 * What `call(fn)` returns: a coroutine written out by hand, one object and no generator
 * frame, as a Promise round trip costs little more than a generator resumption. The first
 * `next()` runs `fn` and waits on the adopted Future. The object is also its own iterator
 * result (`done`, `value`), so that a round trip allocates no result objects: whoever reads
 * a result (`yield*`, a task's step) reads it before the next `next()`.
 */
class CallOperation<T> {
  /** The iterator result: false until fn's outcome is taken, or the coroutine closed. */
  done = false;
  /** The iterator result: the Future to wait on, then the outcome. */
  value: unknown = undefined;
  private _future: Future<T> | null = null;
  private _controller: AbortControllerLike | null = null;

  constructor(private readonly _fn: (signal: TaskAbortSignal) => PromiseLike<T>) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): this {
    if (this.done) {
      // Returned, thrown or finished: as a generator, nothing more.
      this.value = undefined;
      return this;
    }
    const future = this._future ?? this._start();
    if (future._state === PENDING) {
      future._beforeWait();
      this.value = future;
      return this;
    }
    this.done = true;
    // Stryker disable next-line ConditionalExpression,BlockStatement: for a RESOLVED future the result() below gives the same _value; this branch only spares the try
    if (future._state === RESOLVED) {
      this.value = future._value;
      return this;
    }
    try {
      this.value = future.result();
    } catch (error) {
      // The task's cancel() cancelled the Future it waits on: the error surfaces here.
      this.value = undefined;
      this._abortOn(error);
      throw error;
    }
    return this;
  }

  throw(error: unknown): never {
    this.done = true;
    this.value = undefined;
    this._abortOn(error);
    throw error;
  }

  return(value: T): this {
    this.done = true;
    this.value = value;
    return this;
  }

  /** Cancelled at the `yield*`: the signal tells fn, whose late outcome the Future drops. */
  private _abortOn(error: unknown): void {
    if (error instanceof CancelledError && this._controller !== null) this._controller.abort(error);
  }

  private _start(): Future<T> {
    const loop = current.loop;
    if (loop === null) throw new Error("no running event loop: call(fn) runs inside a coroutine, run by the loop");
    const fn = this._fn;
    // An AbortSignal costs microseconds on Node; a fn that names no parameter cannot use
    // one, so it shares a signal that never aborts. Others get one each: sharing a live signal
    // between calls would pile up listeners, since fetch (undici) leaves one per request on it.
    let signal: TaskAbortSignal;
    if (fn.length === 0) {
      signal = quietSignal();
    } else {
      this._controller = newController();
      signal = this._controller.signal as TaskAbortSignal;
    }
    const promise = fn(signal);
    if (!isPromiseLike(promise)) {
      throw new TypeError("call(fn): fn must return a Promise (or any thenable); for a plain value, no call() is needed");
    }
    return (this._future = adoptPromise(promise, loop));
  }
}

function newController(): AbortControllerLike {
  const Controller = host.AbortController;
  if (Controller === undefined) throw new Error("call(fn) needs AbortController, which this JavaScript host lacks");
  return new Controller();
}

/** The signal given to a fn that declares no parameter: it never aborts. */
let quiet: TaskAbortSignal | null = null;

function quietSignal(): TaskAbortSignal {
  return (quiet ??= newController().signal as TaskAbortSignal);
}
