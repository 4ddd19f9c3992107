import type { Context } from "./context.js";
import { Context as ContextClass, snapshotContext } from "./context.js";

import { describeValue, isPromiseLike } from "./coroutine.js";
import { CancelledError } from "./errors.js";
import { Future, FutureState, forgetPending } from "./future.js";

import { hostGlobals, type AbortControllerLike } from "./host-globals.js";
import { firstFrame, stackReader, stackText } from "./stack-frames.js";
import { current } from "./state.js";
import type { AbstractEventLoop, AbstractFuture, AbstractTask, AbstractTaskGroup, Coroutine, DoneWaiter, Runnable, TaskOptions, TaskState } from "./types.js";

const { PENDING, CANCELLED } = FutureState;

let taskCounter = 0;

/**
 * A coroutine running on the loop (asyncio.Task). It advances one step per loop turn in
 * which it is ready: to the next `yield` of a Future (then it waits for that future) or
 * of `undefined` (then it is ready again next turn). Cancelling it throws a
 * `CancelledError` into the coroutine at the point where it waits.
 *
 * Invariants (asyncio's Task states them for `_fut_waiter` and `_must_cancel`):
 * - A pending task is in exactly one place: its step is running (`current.task` is this
 *   task), or it sits once in the loop's ready queue, or `_waitingOn` is a pending future
 *   whose waiters include this task. It is in `loop._tasks` until it is done, and never
 *   after.
 * - `_waitingOn` is set when a step ends by yielding a pending future and is cleared when
 *   the next step starts. The future wakes its waiters synchronously as it completes, so
 *   `_waitingOn` done means the task is queued (woken), and `_waitingOn` pending means
 *   it is not: `waitingOn()` and `state()` read it that way.
 * - `_mustCancel` is true only while a cancellation has nowhere else to go: the task was
 *   not waiting on a future that took it. The next step throws a `CancelledError` in and
 *   clears it; a step that suspends on a future passes it on to that future instead.
 * - `_cancelRequests` counts `cancel()` calls not withdrawn by `uncancel()`; it only goes
 *   back to 0 through `uncancel()`, and when it does `_mustCancel` is cleared.
 * - A done task never runs again: `_run` returns at once when the state is not PENDING.
 */
export class Task<T> extends Future<T> implements AbstractTask<T>, Runnable, DoneWaiter {
  /** @internal */ _coro: Coroutine<T>;
  /**
   * @internal The name given, or until one is, the task's number (`Task-<n>`): one field
   * for both, as every field of a task is paid by each suspended task.
   */
  _name: string | number;
  /** @internal null: the empty context, materialized on the first ContextVar.set */ _context: Context | null;
  /** @internal The future this task waits on (asyncio's `_fut_waiter`). */ _waitingOn: Future<unknown> | null = null;
  /** @internal `_cancelRequests` times two, plus one while `_mustCancel`: see their accessors. */ _cancelState = 0;
  /**
   * @internal What few tasks need (see `TaskExtras`), made on the first write: every field
   * of a task is paid by each of the (possibly hundreds of thousands of) suspended tasks.
   */
  _extras: TaskExtras | null = null;
  /** @internal The neighbours in the loop's list of pending tasks (see `TaskList`). */ _prevTask: Task<unknown> | null = null;
  /** @internal */ _nextTask: Task<unknown> | null = null;

  /** @internal Use `createTask` or `loop.createTask`. */
  constructor(coro: Coroutine<T>, loop: AbstractEventLoop, opts?: TaskOptions) {
    super(loop);
    this._coro = coro;
    const id = ++taskCounter;
    this._name = opts?.name === undefined ? id : String(opts.name);
    this._context = opts?.context === undefined ? snapshotContext() : (opts.context as Context);
    // The loop holds every pending task strongly (asyncio holds them weakly, so that a
    // task nobody references can vanish mid-flight); the task leaves the set when done.
    loop._tasks.add(this as Task<unknown>);
    // A pending task is held by the loop; EventLoop.close reports those left behind.
    // Stryker disable next-line ConditionalExpression: forgetPending only spares the registry an entry that cannot report (see forgetPending); outside debug mode there is none to spare
    if (loop._debug) forgetPending(this as Task<unknown>);
    loop._enqueue(this);
    const instrument = loop._instrument;
    if (instrument !== null) instrument.taskCreated(this as Task<unknown>);
  }

  /** The task's name: the one given to `createTask`, else `Task-<n>` as in asyncio. */
  get name(): string {
    const name = this._name;
    return typeof name === "string" ? name : `Task-${name}`;
  }

  set name(value: string) {
    this._name = String(value);
  }

  /** @internal A cancellation to throw in at the next step. */
  get _mustCancel(): boolean {
    return (this._cancelState & 1) !== 0;
  }

  set _mustCancel(on: boolean) {
    this._cancelState = on ? this._cancelState | 1 : this._cancelState & ~1;
  }

  /** @internal How many cancel() calls were not withdrawn by uncancel(). */
  get _cancelRequests(): number {
    return this._cancelState >> 1;
  }

  set _cancelRequests(count: number) {
    this._cancelState = (count << 1) | (this._cancelState & 1);
  }

  /** The task's name (asyncio's `get_name`). */
  getName(): string {
    return this.name;
  }

  /** Renames the task (asyncio's `set_name`); debug reports and task trees show the name. */
  setName(value: string): void {
    this._name = String(value);
  }

  /** The coroutine the task runs (asyncio's `get_coro`). */
  getCoro(): Coroutine<T> {
    return this._coro;
  }

  /**
   * The context the task runs in: a copy of the one current when it was created, or the
   * `context` given to `createTask` (asyncio's `get_context`).
   */
  getContext(): Context {
    let context = this._context;
    if (context === null) {
      context = this._context = new ContextClass();
      // Asked from its own step, at the top level: the step goes on in this context, so
      // that what it sets afterwards lands here.
      if (current.task === (this as Task<unknown>) && current.context === null) current.context = context;
    }
    return context;
  }

  /**
   * Where the coroutine is suspended: the stack captured when it last yielded a future, in
   * debug mode only (the frames of a suspended generator cannot be read otherwise).
   * Undefined outside debug mode, and while the task is running or ready.
   */
  suspensionStack(): string | undefined {
    return this._suspendStack;
  }

  /** @internal */
  get _suspendStack(): string | undefined {
    const error = this._suspendError;
    return error === undefined ? undefined : stackText(error);
  }

  /** @internal Debug mode: where the coroutine last yielded a future (formatted when read); cleared before each step. */
  get _suspendError(): Error | undefined {
    return this._extras?.suspendError;
  }

  set _suspendError(error: Error | undefined) {
    // Set in debug mode only, where the loop has counted the step (`_debugSteps`) first: the extras exist.
    this._ensureExtras().suspendError = error;
  }

  /** @internal Debug mode: steps run since debug mode was on (0: the coroutine never ran). */
  get _debugSteps(): number {
    return this._extras?.debugSteps ?? 0;
  }

  set _debugSteps(steps: number) {
    this._ensureExtras().debugSteps = steps;
  }

  /** @internal The group that started this task (set by TaskGroup.createTask). */
  get _group(): AbstractTaskGroup | null {
    return this._extras?.group ?? null;
  }

  set _group(group: AbstractTaskGroup | null) {
    this._ensureExtras().group = group;
  }

  /** @internal */
  _ensureExtras(): TaskExtras {
    if (this._extras === null) this._extras = new TaskExtras();
    return this._extras;
  }

  /** The task group this task was started in (`tg.createTask`), or null. */
  parentGroup(): AbstractTaskGroup | null {
    return this._group;
  }

  /**
   * The future this task is suspended on while that future is pending; null when the
   * task is running, ready, woken (the future is done and the step that takes its
   * outcome is queued) or done.
   */
  waitingOn(): Future<unknown> | null {
    const future = this._waitingOn;
    return future !== null && future._state === PENDING ? future : null;
  }

  /**
   * Where the task is in its life: `"ready"`, `"running"`, `"waiting"`, `"woken"` or
   * `"done"` (see `TaskState`). A ready or woken task's next step is already queued.
   * @example
   * if (task.state() === "woken") task.cancel(); // cancelled between its wake-up and its step
   */
  state(): TaskState {
    if (this._state !== PENDING) return "done";
    if (current.task === (this as Task<unknown>)) return "running";
    const future = this._waitingOn;
    if (future === null) return "ready";
    return future._state === PENDING ? "waiting" : "woken";
  }

  /**
   * Asks the task to stop: the coroutine gets a `CancelledError(msg)` where it waits.
   * Returns false if the task is done. Each call counts one request (see `cancelling`).
   */
  override cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._cancelRequests++;
    const abort = this._extras?.abort;
    if (abort != null && !abort.signal.aborted) abort.abort(new CancelledError(msg));
    const waitingOn = this._waitingOn;
    // If the awaited future takes the cancellation, the task wakes with its CancelledError.
    // The waiter stays recorded: it may be a task that swallows the cancellation, and a
    // later cancel() must reach it again.
    if (waitingOn !== null && waitingOn.cancel(msg)) return true;
    this._mustCancel = true;
    this._cancelMessage = msg;
    return true;
  }

  /** How many cancellation requests are pending (asyncio's `Task.cancelling`). */
  cancelling(): number {
    return this._cancelRequests;
  }

  /**
   * Withdraws one cancellation request and returns how many remain (asyncio's
   * `Task.uncancel`). A coroutine that catches a `CancelledError` it caused itself (a
   * deadline of its own) and goes on calls it, so that a cancellation from outside is still
   * seen as one.
   * @example
   * const task = currentTask()!;
   * const deadline = getRunningLoop().callLater(100, () => task.cancel("deadline"));
   * try {
   *   yield* sleep(1_000);
   * } catch (error) {
   *   if (!(error instanceof CancelledError) || task.uncancel() > 0) throw error; // not only ours
   * } finally {
   *   deadline.cancel();
   * }
   */
  uncancel(): number {
    if (this._cancelRequests > 0) {
      this._cancelRequests--;
      if (this._cancelRequests === 0) {
        this._mustCancel = false;
        // The withdrawn cancellation must not outlive itself in taskSignal(): the next call
        // makes a live signal; whoever holds the old one keeps seeing it aborted.
        // A controller is aborted as soon as a cancel() is counted (here, or at its making),
        // so the one dropped here is always an aborted one.
        const extras = this._extras;
        if (extras !== null) extras.abort = null;
      }
    }
    return this._cancelRequests;
  }

  /**
   * Not available on a task: its result is what its coroutine returns.
   * @throws Error always.
   */
  override setResult(_value: T): never {
    throw new Error("Task does not support setResult(): a task's result is what its coroutine returns");
  }

  /**
   * Not available on a task: it fails when its coroutine throws.
   * @throws Error always.
   */
  override setException(_error: unknown): never {
    throw new Error("Task does not support setException(): a task fails when its coroutine throws");
  }

  /** `<Task pending name="…">`, `<Task cancelling …>`, `<Task finished …>`. */
  override toString(): string {
    const state = this._state === PENDING ? (this._cancelRequests > 0 ? "cancelling" : "pending") : this._stateName();
    return `<Task ${state} name=${JSON.stringify(this.name)}>`;
  }

  /** @internal The awaited future is done: run the next step next turn (asyncio's `__wakeup`). */
  _wake(_future: Future<unknown>): void {
    this._loop._enqueue(this);
  }

  /** @internal One step of the coroutine: asyncio's `Task.__step`. */
  _run(): void {
    if (this._state !== PENDING) return;
    const loop = this._loop;
    const wokenBy = this._waitingOn;
    this._waitingOn = null;
    let throwing = false;
    let error: unknown;
    if (this._mustCancel) {
      this._mustCancel = false;
      // A cancellation replaces whatever else this step would have thrown in (asyncio's
      // __step); but when the awaited future was itself cancelled, its CancelledError is
      // the one delivered (with the first cancel()'s message), as asyncio's __step keeps a
      // CancelledError it was woken with.
      if (this._extras !== null) this._extras.throwNext = NOTHING;
      throwing = true;
      error = wokenBy !== null && wokenBy.cancelled() ? wokenBy._makeCancelledError() : new CancelledError(this._cancelMessage);
    } else if (this._extras !== null && this._extras.throwNext !== NOTHING) {
      throwing = true;
      error = this._extras.throwNext;
      this._extras.throwNext = NOTHING;
    }
    const instrument = loop._instrument;
    if (instrument !== null) instrument.taskStepStart(this as Task<unknown>);
    const savedTask = current.task;
    const savedContext = current.context;
    current.task = this as Task<unknown>;
    current.context = this._context;
    let step: IteratorResult<AbstractFuture<unknown> | undefined, T>;
    try {
      step = throwing ? this._coro.throw(error) : this._coro.next(undefined);
    } catch (thrown) {
      current.task = savedTask;
      current.context = savedContext;
      this._finishWithError(thrown);
      if (instrument !== null) instrument.taskStepEnd(this as Task<unknown>);
      return;
    }
    // A context the step made (its first ContextVar.set, or getContext()) is already the
    // task's: both make it `_context` at once, and a step ends at its top level, where
    // `current.context` is that one (`Context.run` restores what it replaced).
    current.task = savedTask;
    current.context = savedContext;
    if (step.done === true) this._finishWithResult(step.value);
    else this._suspend(step.value);
    if (instrument !== null) instrument.taskStepEnd(this as Task<unknown>);
  }

  /** @internal */
  _describe(): string {
    const source = this._source;
    const where = source === undefined ? "" : ` created at ${firstFrame(source)}`;
    let coro = "";
    let at = "";
    const suspension = this._suspendError;
    if (suspension !== undefined) {
      // Debug mode: asyncio's `coro=<main() running at file:line>`, read from the suspension
      // stack (not found there when the coroutine sits deeper than the frames captured).
      const suspended = stackReader.coroutineFrame(suspension);
      // The frame is not engine code (coroutineFrame skips those), so it has a location.
      if (suspended !== undefined) coro = ` coro=<${suspended.functionName ?? "<anonymous>"}() running at ${suspended.location as string}>`;
      // The innermost user frame, when it is not the coroutine's own (a helper it delegates to).
      const inner = firstFrame(suspension);
      if (inner !== suspended?.text) at = ` suspended at ${inner}`;
    }
    return `${this.toString().slice(0, -1)}${coro}>${at}${where}`;
  }

  /** @internal */
  override _unretrievedMessage(): string {
    return `Task exception was never retrieved (task ${JSON.stringify(this.name)})`;
  }

  /** @internal The first waiter gets the very CancelledError the coroutine ended with. */
  override _makeCancelledError(): CancelledError {
    const extras = this._extras;
    if (extras !== null && extras.cancelledError !== null) {
      const saved = extras.cancelledError;
      extras.cancelledError = null;
      return saved;
    }
    return super._makeCancelledError();
  }

  /** @internal The AbortController behind `taskSignal()`, made on first use. */
  _abortController(): AbortControllerLike {
    const extras = this._ensureExtras();
    if (extras.abort === null) {
      const Controller = hostGlobals.AbortController;
      if (Controller === undefined) throw new Error("taskSignal() needs AbortController, which this JavaScript host lacks");
      extras.abort = new Controller();
      // Made for the running task (taskSignal()), so never for a done one.
      if (this._cancelRequests > 0) extras.abort.abort(new CancelledError(this._cancelMessage));
    }
    return extras.abort;
  }

  private _suspend(yielded: AbstractFuture<unknown> | undefined): void {
    const loop = this._loop;
    if (yielded === undefined) {
      // A bare `yield`: give the other ready callbacks this turn, run again next turn.
      loop._enqueue(this);
      return;
    }
    if (yielded instanceof Future) {
      if (yielded._loop !== loop) {
        this._ensureExtras().throwNext = new Error(`Task ${JSON.stringify(this.name)} waited on a Future attached to a different loop`);
        loop._enqueue(this);
        return;
      }
      if (yielded === (this as Future<unknown>)) {
        this._ensureExtras().throwNext = new Error(`Task ${JSON.stringify(this.name)} cannot wait on itself`);
        loop._enqueue(this);
        return;
      }
      this._waitingOn = yielded;
      yielded._addWaiter(this);
      // A cancel() that arrived while the task was running is passed to what it now waits on.
      if (this._mustCancel && yielded.cancel(this._cancelMessage)) this._mustCancel = false;
      return;
    }
    this._ensureExtras().throwNext = new TypeError(badYieldMessage(this.name, yielded));
    loop._enqueue(this);
  }

  private _finishWithResult(value: T): void {
    if (this._mustCancel) {
      // Cancelled after its last suspension: it ends cancelled, as in asyncio.
      // Stryker disable next-line BooleanLiteral: keeps the invariant only; a done task never reads _mustCancel (_run returns at once, and cancel() refuses)
      this._mustCancel = false;
      this._finish();
      super.cancel(this._cancelMessage);
      return;
    }
    this._finish();
    this._state = FutureState.RESOLVED;
    this._value = value;
    this._scheduleCallbacks();
  }

  private _finishWithError(error: unknown): void {
    this._finish();
    if (error instanceof CancelledError) {
      this._ensureExtras().cancelledError = error;
      this._cancelMessage = error.message === "" ? this._cancelMessage : error.message;
      this._state = CANCELLED;
      this._scheduleCallbacks();
      return;
    }
    this._fail(error);
  }

  private _finish(): void {
    const loop = this._loop;
    loop._tasks.delete(this as Task<unknown>);
    const instrument = loop._instrument;
    if (instrument !== null) instrument.taskDone(this as Task<unknown>);
  }
}

const NOTHING: unique symbol = Symbol("nothing");

// A task's step resumes its coroutine from this module: the coroutine's frame sits just
// inside this module's frame on any stack captured during a step.
stackReader.setCoroutineRunner(import.meta.url);

/**
 * The rarely used state of a task, kept apart so that the common task (one that is never
 * cancelled through a signal, never yields a wrong value, runs outside a group and debug
 * mode) does not carry it: that keeps a suspended task as small as a suspended async function.
 */
class TaskExtras {
  /** An error other than cancellation to throw in at the next step (a bad yield). */
  throwNext: unknown = NOTHING;
  /** The CancelledError the coroutine ended with, handed to the first waiter. */
  cancelledError: CancelledError | null = null;
  /** The AbortController behind `taskSignal()`. */
  abort: AbortControllerLike | null = null;
  suspendError: Error | undefined = undefined;
  debugSteps = 0;
  group: AbstractTaskGroup | null = null;
}

function badYieldMessage(name: string, value: unknown): string {
  const prefix = `Task ${JSON.stringify(name)} yielded`;
  if (isPromiseLike(value)) {
    return `${prefix} a Promise. Coroutines wait on Futures: adopt the Promise with \`yield* ensureFuture(promise)\``;
  }
  if (typeof value === "object" && value !== null && typeof (value as { next?: unknown }).next === "function") {
    return `${prefix} a generator object. Delegate to it with \`yield* coro()\` instead of \`yield coro()\``;
  }
  return `${prefix} ${describeValue(value)}. A coroutine waits with \`yield* future\` (a Future, a Task or a coroutine) or gives the loop one turn with a bare \`yield\``;
}

/**
 * The task running right now, or null outside a task (asyncio.current_task).
 * @example
 * function* work(): Coroutine<void> { console.log(currentTask()?.name); }
 */
export function currentTask(): Task<unknown> | null {
  return current.task as Task<unknown> | null;
}

/** @internal Used by `taskSignal`. */
export function requireCurrentTask(where: string): Task<unknown> {
  const task = current.task as Task<unknown> | null;
  if (task === null) throw new Error(`${where} must be called from inside a task (a coroutine run by the loop)`);
  return task;
}
