import type { Context } from "./context.js";
import { describeError } from "./errors.js";
import { firstFrame, stackText } from "./stack-frames.js";
import { current } from "./state.js";
import { locate, type TimerBlock } from "./timer-wheel.js";
import type { AbstractEventLoop, AbstractHandle, AbstractTimerHandle, Callback, Runnable } from "./types.js";

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
 * `CallbackHandle` waits in the ready queue (or the timer wheel) and runs from there; an
 * `InlineHandle` is only a receipt for a bare function that waits in the queue by itself.
 */
export abstract class Handle implements AbstractHandle {
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

  /** @internal Where it was scheduled, in debug mode only: captured at once, formatted when read. */
  get _sourceError(): Error | undefined {
    return sourceErrors.get(this);
  }

  set _sourceError(error: Error) {
    sourceErrors.set(this, error);
  }

  /** @internal The stack of `_sourceError`, formatted on first read. */
  get _sourceStack(): string | undefined {
    const error = this._sourceError;
    return error === undefined ? undefined : stackText(error);
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
    const source = this._sourceError;
    return source === undefined ? name : `${name} created at ${firstFrame(source)}`;
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
    // Stryker disable next-line ConditionalExpression: an empty args array calls back with the same (no) arguments as NO_ARGS; sharing NO_ARGS only lets the empty one go
    this._args = args.length === 0 ? NO_ARGS : args;
    this._context = context;
  }

  /** @internal */
  override _dropCallback(): void {
    this._callback = null;
    this._args = NO_ARGS;
  }

  /** @internal Runs the callback in its context; an error goes to the loop's exception handler. */
  _run(loop: AbstractEventLoop): void {
    const callback = this._callback;
    if (callback === null) return;
    invoke(loop, this, callback, this._args, this._context);
  }
}

/** Runs a handle's callback in `context`; an error goes to the loop's exception handler. */
function invoke(loop: AbstractEventLoop, handle: Handle, callback: Callback, args: unknown[], context: Context | null): void {
  const instrument = loop._instrument;
  if (instrument !== null) instrument.callbackStart(handle);
  const savedContext = current.context;
  current.context = context;
  try {
    if (args.length === 0) callback();
    else callback(...args);
  } catch (error) {
    reportCallbackError(loop, handle, error);
  } finally {
    current.context = savedContext;
  }
  if (instrument !== null) instrument.callbackEnd(handle);
}

/** Hands an error thrown by a callback to the loop's exception handler, with asyncio's keys. */
export function reportCallbackError(loop: AbstractEventLoop, handle: Handle, error: unknown): void {
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
  /** @internal */ readonly _loop: AbstractEventLoop;
  /** @internal The callback's absolute position in the ready queue. */ readonly _position: number;

  /** @internal */
  constructor(callback: Callback, loop: AbstractEventLoop, position: number) {
    this._callback = callback;
    this._loop = loop;
    this._position = position;
  }

  cancel(): void {
    const callback = this._callback;
    // Stryker disable next-line ConditionalExpression: a second cancel would ask _cancelInline for a null callback, which no queued position holds (a cancelled one is null, and set to null again)
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
 *
 * The handle is only a receipt: the loop's timer wheel keeps what the timer runs and its
 * deadline (see `TimerBlock`), never the handle, so a handle the caller drops is garbage
 * at once however long its timer waits, and firing a timer touches no handle. The handle
 * knows its block and position there, which give its deadline (`when()`) and let
 * `cancel()` take the timer out in O(1), before it is due or after it was moved to the
 * ready queue. A timer with arguments or a context, or scheduled in debug mode or under an
 * instrument, is a `TimerCallHandle`, which the wheel keeps and runs as itself.
 */
export class TimerHandle extends Handle implements AbstractTimerHandle {
  // Declared, not initialised: the constructor sets them in one order, so that every
  // timer shares one hidden class.
  /** @internal The wheel's block that holds the timer; null until scheduled. */ declare _block: TimerBlock | null;
  /** @internal The position in `_block` (see `locate` for blocks that compaction moved on). */ declare _pos: number;

  /** @internal Scheduled by `TimerWheel.push`, which tells it where. */
  constructor(callback: Callback) {
    super(callback);
    this._block = null;
    this._pos = 0;
  }

  /** The loop time (ms) at which the callback is due. */
  when(): number {
    const block = this._block;
    // Stryker disable next-line ConditionalExpression: _block is null only inside callLater/callAt, between this constructor and the wheel's push; no caller holds such a handle
    return block === null ? NaN : (block._whens[this._pos] as number);
  }

  /** Cancels the callback and takes the timer out of the loop's timers (or its ready queue) at once. */
  override cancel(): void {
    // Stryker disable next-line ConditionalExpression: _block is null only inside callLater/callAt, between this constructor and the wheel's push; no caller holds such a handle
    if (this._block !== null) {
      const block = locate(this);
      // Null for the blocks of no wheel (compaction moves a timer, never such a block).
      if (block._wheel !== null) block._wheel.cancel(block, this._pos);
    }
    super.cancel();
  }
}

/**
 * A timer with arguments, scheduled in a non-empty context, in debug mode or under an
 * instrument: the wheel keeps this handle and the ready queue runs it, so that the
 * callback runs with its arguments in its context, and the instrument, a debug report or
 * the exception handler sees the handle `callLater` returned. Most timers are none of
 * these, and do not pay its two fields.
 *
 * @internal
 */
export class TimerCallHandle extends TimerHandle implements Runnable {
  /** @internal */ _args: unknown[];
  /** @internal */ _context: Context | null;

  /** @internal */
  constructor(callback: Callback, args: unknown[], context: Context | null) {
    super(callback);
    this._args = args;
    this._context = context;
  }

  /** @internal Drops the callback, its arguments and context, as asyncio does, so a cancelled timer frees them at once. */
  override _dropCallback(): void {
    this._callback = null;
    this._args = NO_ARGS;
    this._context = null;
  }

  /** @internal Runs the callback in its context; an error goes to the loop's exception handler. */
  _run(loop: AbstractEventLoop): void {
    const callback = this._callback;
    // Stryker disable next-line ConditionalExpression: cancel() takes the timer out of the wheel or, once due, the ready queue, so a cancelled TimerCallHandle is never run (pinned by "a timer cancelled by a timer due at the same time")
    if (callback !== null) invoke(loop, this, callback, this._args, this._context);
  }
}
