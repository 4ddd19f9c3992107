import type { Context } from "./context.js";
import { describeError } from "./errors.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";

/** What the ready queue holds: a Handle, or a Task whose next step is due. */
export interface Runnable {
  /** @internal `loop` is the loop running it. */ _run(loop: EventLoop): void;
}

/** A function the loop calls with the arguments it was scheduled with (`callSoon(cb, ...args)`). */
// Callbacks take whatever arguments they were scheduled with; `any` lets every function fit.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callback = (...args: any[]) => unknown;

const NO_ARGS: unknown[] = [];

/**
 * Where each handle was scheduled, in debug mode only. A side table rather than a field:
 * a field would cost every handle a word outside debug mode, and a burst of a million
 * callbacks keeps a million handles alive at once.
 */
const sourceErrors = new WeakMap<Handle, Error>();

/**
 * A callback scheduled with `callSoon` (asyncio.Handle). Cancelling it before it runs
 * keeps it from running; cancelling it afterwards does nothing.
 *
 * Two kinds share this class's interface, because they are kept differently: a
 * `CallbackHandle` waits in the ready queue (or the timer heap) and runs from there; an
 * `InlineHandle` is only a receipt for a bare function that waits in the queue by itself.
 */
export abstract class Handle {
  // Cancellation is the dropped callback, so that no handle pays a field for it.
  /** @internal null once cancelled. */ _callback: Callback | null;

  /** @internal */
  constructor(callback: Callback) {
    this._callback = callback;
  }

  /** @internal */
  get _cancelled(): boolean {
    return this._callback === null;
  }

  set _cancelled(cancelled: boolean) {
    if (cancelled) this._dropCallback();
  }

  /** @internal Where it was scheduled, in debug mode only: captured at once, formatted when read. */
  get _sourceError(): Error | undefined {
    return sourceErrors.get(this);
  }

  set _sourceError(error: Error | undefined) {
    if (error === undefined) sourceErrors.delete(this);
    else sourceErrors.set(this, error);
  }

  /** @internal The stack of `_sourceError`, formatted on first read. */
  get _sourceStack(): string | undefined {
    return this._sourceError?.stack;
  }

  /** Cancels the callback: it will not run. Cancelling twice, or after it ran, does nothing. */
  cancel(): void {
    this._dropCallback();
  }

  /** @internal Drops what the callback holds on to, as asyncio does, so a cancelled timer frees it at once. */
  _dropCallback(): void {
    this._callback = null;
  }

  /** True once `cancel()` was called. */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** @internal A short description for diagnostics: the callback's name. */
  _describe(): string {
    const cb = this._callback;
    const name = cb === null ? "<cancelled>" : cb.name !== "" ? `${cb.name}()` : "<anonymous>()";
    return this._sourceStack === undefined ? name : `${name} created at ${firstFrame(this._sourceStack)}`;
  }

  /** `<Handle name()>`, `<TimerHandle name() cancelled>`, … for diagnostics. */
  toString(): string {
    const kind = this instanceof TimerHandle ? "TimerHandle" : "Handle";
    return `<${kind} ${this._describe()}${this._cancelled ? " cancelled" : ""}>`;
  }
}

/**
 * A handle that holds its callback, arguments and context and runs from the ready queue:
 * a `callSoon` with arguments, in a non-empty context or in debug mode, and every timer.
 */
export class CallbackHandle extends Handle implements Runnable {
  // Two fields on top of the callback and no more: a burst of such callbacks keeps every
  // handle alive until it runs, and the garbage collector's cost is proportional to their
  // bytes. The loop is not kept (it passes itself to `_run`).
  /** @internal */ _args: unknown[];
  /** @internal */ _context: Context | null;

  /** @internal */
  constructor(callback: Callback, args: unknown[], context: Context | null) {
    super(callback);
    this._args = args.length === 0 ? NO_ARGS : args;
    this._context = context;
  }

  /** @internal */
  override _dropCallback(): void {
    this._callback = null;
    this._args = NO_ARGS;
  }

  /** @internal Runs the callback in its context; an error goes to the loop's exception handler. */
  _run(loop: EventLoop): void {
    const callback = this._callback;
    if (callback === null) return;
    const args = this._args;
    const instrument = loop._instrument;
    if (instrument !== null) instrument.callbackStart(this);
    const savedContext = current.context;
    current.context = this._context;
    try {
      if (args.length === 0) callback();
      else callback(...args);
    } catch (error) {
      reportCallbackError(loop, this, error);
    } finally {
      current.context = savedContext;
    }
    if (instrument !== null) instrument.callbackEnd(this);
  }
}

/** Hands an error thrown by a callback to the loop's exception handler, with asyncio's keys. */
export function reportCallbackError(loop: EventLoop, handle: Handle, error: unknown): void {
  loop.callExceptionHandler({
    message: `Exception in callback ${handle._describe()}: ${describeError(error)}`,
    exception: error,
    handle,
  });
}

/**
 * The handle of a callback that waits in the ready queue by itself — scheduled with no
 * arguments, in an empty context, outside debug mode and with no instrument attached,
 * which is most `callSoon`s. The queue holds the bare function, not this handle, so a
 * burst of such callbacks keeps one queue slot each alive instead of an object each, and
 * a handle the caller drops is never stored anywhere. Cancelling it clears the queue slot
 * at the position the callback was given.
 *
 * It is a Handle through its prototype chain rather than `extends`: when `callSoon` is
 * inlined into a caller that ignores the result, V8's escape analysis removes the
 * allocation altogether, but only for an object made by a base constructor — it does not
 * see through a derived constructor's `super()`. Measured on 1,000,000 `callSoon`s, the
 * prototype link instead of `extends` takes a third off the cost per callback.
 */
// The interface gives the class Handle's members, which the prototype link supplies at run time.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface InlineHandle extends Handle {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class InlineHandle {
  /** @internal null once cancelled. */ _callback: Callback | null;
  /** @internal */ readonly _loop: EventLoop;
  /** @internal The callback's absolute position in the ready queue. */ readonly _position: number;

  /** @internal */
  constructor(callback: Callback, loop: EventLoop, position: number) {
    this._callback = callback;
    this._loop = loop;
    this._position = position;
  }

  cancel(): void {
    const callback = this._callback;
    if (callback === null) return;
    this._loop._cancelInline(this._position, callback);
    this._callback = null;
  }
}
Object.setPrototypeOf(InlineHandle.prototype, Handle.prototype);

/**
 * A callback scheduled for a time (asyncio.TimerHandle). Timer handles are ordered by
 * deadline, then by the order in which they were scheduled, so that equal deadlines
 * fire first-scheduled first.
 */
export class TimerHandle extends CallbackHandle {
  /** @internal */ _when: number;
  /** @internal Scheduling order, the tie-break between equal deadlines. */ _sequence: number;
  /** @internal True while the handle sits in the loop's timer heap. */ _scheduled = true;
  /** @internal Told of the cancellation while the handle sits in its heap. */ _loop: EventLoop;

  /** @internal */
  constructor(when: number, sequence: number, callback: Callback, args: unknown[], loop: EventLoop, context: Context | null) {
    super(callback, args, context);
    this._loop = loop;
    this._when = when;
    this._sequence = sequence;
  }

  /** The loop time (ms) at which the callback is due. */
  when(): number {
    return this._when;
  }

  /** Cancels the timer: the callback will not run, and the loop drops the timer from its heap later. */
  override cancel(): void {
    if (!this._cancelled && this._scheduled) this._loop._timerHandleCancelled();
    super.cancel();
  }
}

/**
 * A stack trace of the caller, for debug mode only. Formatting it is most of debug mode's
 * cost, so the depth is chosen per use: a creation site is found within a few frames, but a
 * suspension site sits under every `yield*` of the coroutine chain (two frames each) above
 * `Task._run`, which V8's default of 10 frames often cuts off.
 */
export function captureStack(limit = 16): string | undefined {
  return captureError(limit).stack;
}

/**
 * `captureStack` without the formatting, which V8 does on the first read of `.stack`:
 * for stacks that are kept in case someone asks (handles, suspension sites).
 */
export function captureError(limit = 16): Error {
  const E = Error as { stackTraceLimit?: number };
  const saved = E.stackTraceLimit;
  E.stackTraceLimit = limit;
  const error = new Error();
  E.stackTraceLimit = saved;
  return error;
}

/**
 * The coroutine a task runs, read from a stack captured inside one of its steps: the
 * outermost generator frame, the one `Task._run` resumed. Returns "name (file:line:col)",
 * i.e. the coroutine and the line it is at; undefined if the stack does not show it.
 */
export function coroutineFrame(stack: string): string | undefined {
  const lines = stack.split("\n");
  for (let i = 1; i < lines.length; i++) {
    if (!(lines[i] as string).includes("Task._run")) continue;
    // Above Task._run: "at main.next (<anonymous>)", then "at main (file:…)".
    for (let j = i - 1; j >= 1; j--) {
      const line = (lines[j] as string).trim();
      if (!line.includes("(<anonymous>)") && !line.startsWith("at Generator.")) return line.replace(/^at /, "");
    }
    return undefined;
  }
  return undefined;
}

// Frames inside @loop itself (sources in the monorepo, or an installed package) and the
// engine's generator trampolines: a diagnostic points past them, at the user's code.
const LIBRARY_FRAME = /\/packages\/(?:core|timers|sync|net|debug|testing|workers)\/(?:src|dist)\/|@loop\/|\(<anonymous>\)|\(node:/;

/** The first stack frame below the Error line outside @loop itself, trimmed: "fn (file:line:col)". */
export function firstFrame(stack: string): string {
  const lines = stack.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line !== "" && !LIBRARY_FRAME.test(line)) return line.replace(/^at /, "");
  }
  return (lines[1] ?? "").trim().replace(/^at /, "");
}
