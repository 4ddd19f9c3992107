import { snapshotContext } from "./context.js";
import { isCoroutine, notACoroutineMessage } from "./coroutine.js";
import { ensureFuture } from "./ensure-future.js";
import { describeError } from "./errors.js";
import { Future } from "./future.js";
import { CallbackHandle, Handle, InlineHandle, TimerCallHandle, TimerHandle, reportCallbackError } from "./handle.js";
import { hostGlobals as host, printError, readEnv } from "./host-globals.js";
import { InstrumentSet, checkInstrument } from "./instrument.js";
import { DefaultPoller } from "./poller.js";
import { RingQueue } from "./ring-queue.js";
import { SignalHandlers } from "./signal-handlers.js";
import { captureError, firstFrame } from "./stack-frames.js";
import { current } from "./state.js";
import { TaskList } from "./task-list.js";
import { Task } from "./task.js";
import { TimerWheel } from "./timer-wheel.js";
import type { AbstractEventLoop, Awaitable, Callback, Coroutine, DebugLogger, ErrorContext, ExceptionHandler, Executor, ExecutorJobInfo, Instrument, LoopDriver, Poller, Runnable, TaskFactory, TaskOptions, TaskOrder } from "./types.js";

/** Options of `new EventLoop(opts)`: the poller it waits with and its debug mode. */
export interface EventLoopOptions {
  /** Defaults to the `DefaultPoller` (the host's own timers). */
  poller?: Poller;
  /** Debug mode; defaults to on when the environment has LOOP_DEBUG=1. */
  debug?: boolean;
}

/** What the ready queue holds (see `EventLoop._ready`). */
type Ready = Runnable | Callback | null;

/** Shared by every handle scheduled without extra arguments; never written to. */
const NO_ARGS: unknown[] = [];

// The pump (see `_resume`). While callbacks keep being ready, the loop runs turns back to
// back instead of going through the host for each: a host round trip costs more than a
// turn. The budget caps how long the host's own I/O and timers wait behind a busy loop.
// It covers everything the loop runs from one host callback: the turns of its batch and
// those of the batches that settled Promises start before the host gets control back
// (see `_promiseResumes`), so a chain of resolved Promises is bounded as a busy loop is.
const BATCH_BUDGET_MS = 2;
const BATCH_MAX_TURNS = 256;
// A batch resumed by a Promise reads the clock only every this many turns: a Promise round
// trip costs about as much as one reading, and the turn count bounds the chain anyway.
const PROMISE_CLOCK_TURNS = 8;

// Read once: Node's `globalThis.performance` is a getter, which costs half a reading more.
const hostPerformance = host.performance;

/**
 * The budgets are real time, whatever the poller's clock says: they bound how long the
 * host waits behind the loop, and a virtual clock jumps.
 */
function realTime(): number {
  return hostPerformance !== undefined ? hostPerformance.now() : Date.now();
}

/**
 * An event loop: asyncio's `BaseEventLoop`. It owns a ready queue of callbacks, a wheel of
 * timers and a poller, and runs turns of four phases (see `runOnce`) in batches (see
 * `_resume`, the pump).
 *
 * Invariants:
 * - At most one turn runs at a time on a thread: `current.loop === this` exactly while
 *   one of this loop's turns runs, and `runOnce` refuses to start inside it.
 * - While `_running`, either a batch is running (`_inBatch`), or the poller has a wait
 *   outstanding (`_waiting`) and will `resume()`. A callback queued from outside a turn
 *   then needs one `poller.wakeup()` per wait (`_wakeupSent`), none while a Promise's
 *   reaction is about to resume the loop itself (`_promiseResume`).
 * - `_armedWhen` is the earliest timer's deadline when the pump last handed the poller a
 *   wait that is still outstanding (the poller has not resumed the loop since), NaN otherwise.
 * - `_batchTurns` counts the turns run since the host last resumed the loop, and
 *   `_batchEnd` is that resume's real time plus the budget: batches resumed by settled
 *   Promises in between (`_promiseResumes`) add to them, never reset them.
 * - `_timers` keeps what each scheduled timer runs, never its handle; `timerCount` is `_timers.size`,
 *   the live ones (a cancel takes a timer out at once).
 * - Not `_running` and `_stopping`: the next `runForever` runs one turn and stops
 *   (asyncio's stop-before-run). `_closed` is final; a closed loop queues nothing.
 * @example
 * const loop = new EventLoop();
 * loop.callLater(10, () => loop.stop());
 * await loop.runForever();
 * loop.close();
 */
export class EventLoop implements AbstractEventLoop {
  /** Callbacks and task steps slower than this (ms) are reported in debug mode. */
  slowCallbackDuration = 100;
  /** Receives debug-mode reports (slow callbacks); console by default. */
  debugLogger: DebugLogger = consoleLogger;

  /**
   * @internal The ready queue. A task step or a handle is queued as itself; a callback with
   * no arguments and no context is queued as the bare function (see `InlineHandle`); a
   * cancelled bare function leaves null in its slot.
   */
  readonly _ready = new RingQueue<Ready>();
  /** @internal */ readonly _timers = new TimerWheel(this._ready);
  /** @internal */ readonly _tasks = new TaskList();
  /** @internal */ _instrument: InstrumentSet | null = null;
  /** @internal */ _debug: boolean;

  private readonly _poller: Poller;
  private readonly _driver: LoopDriver;
  private _attached = false;
  private _inBatch = false;
  private _resumeDuringBatch = false;
  private _waiting = false;
  private _wakeupSent = false;
  private _batchTurns = 0;
  private _batchEnd = 0;
  private _nextClockTurn = 0;
  /** A Promise's reaction is delivering its outcome and resumes the loop next (`_promiseResumes`). */
  private _promiseResume = false;
  /** The deadline of the poller's outstanding wait (Infinity: `wait(null)`); NaN when none or unknown. */
  private _armedWhen = NaN;
  private _turns = 0;
  private _running = false;
  private _stopping = false;
  private _closed = false;
  private _onStopped: (() => void) | null = null;
  private _externalRefs = 0;
  private _exceptionHandler: ExceptionHandler | null = null;
  private _taskFactory: TaskFactory | null = null;
  private _defaultExecutor: Executor | null = null;
  private _closeCallbacks: (() => void)[] = [];
  private _taskOrder: TaskOrder | null = null;
  /** True while `callSoon` may queue bare functions: not closed, not in debug mode, no instrument. */
  private _inlineCallbacks = false;
  /** @internal Made by the first `addSignalHandler`. */ _signalHandlers: SignalHandlers | null = null;

  constructor(opts?: EventLoopOptions) {
    const poller = opts?.poller ?? new DefaultPoller();
    if (typeof poller !== "object" || poller === null || typeof poller.wait !== "function" || typeof poller.wakeup !== "function") {
      throw new TypeError("new EventLoop({ poller }): poller must implement the Poller interface (attach, time, wait, wakeup, close)");
    }
    this._poller = poller;
    this._debug = opts?.debug ?? isDebugEnv();
    this._updateInlineCallbacks();
    this._driver = {
      loop: this,
      resume: () => this._resume(true),
      externalPending: () => this._externalRefs,
    };
  }

  /** The poller this loop waits with. */
  get poller(): Poller {
    return this._poller;
  }

  /** The loop's clock, in milliseconds (the poller's `time()`). */
  time(): number {
    return this._poller.time();
  }

  // ---------------------------------------------------------------------------------
  // The turn
  // ---------------------------------------------------------------------------------

  /**
   * One turn of the loop, asyncio's `_run_once`, in the order of docs/design.md ("The turn"):
   *
   * 1. drop cancelled timers: nothing left to do, a timer leaves the wheel when it is cancelled;
   * 2. poll: the poller has just waited for at most the timeout the previous turn returned
   *    — 0 when callbacks were ready, the time to the earliest timer, or until woken — and
   *    the I/O callbacks that arrived meanwhile are queued;
   * 3. move every timer that is due to the ready queue, in deadline order;
   * 4. run exactly the callbacks that were ready when this phase began; what they
   *    schedule runs next turn.
   *
   * Returns how long the loop may now wait, in ms: 0 when callbacks are ready, the time to
   * the earliest timer, or null when only outside work can wake it. The pump (`_resume`)
   * calls this; user code and pollers normally do not.
   */
  runOnce(): number | null {
    if (current.loop === this) {
      throw new Error("runOnce() was called from inside this loop's own turn: turns do not nest; schedule the work with callSoon instead");
    }
    const saved = current.loop;
    current.loop = this;
    this._turns++;
    try {
      this._pollDone();
      this._moveDueTimers();
      this._runReadyCallbacks();
    } finally {
      current.loop = saved;
    }
    return this._nextTimeout();
  }

  /**
   * The pump: the poller's wait is over (or a settled Promise resumed an idle loop, see
   * `_promiseResumes`). Runs turns back to back while callbacks keep being ready, within the
   * batch budget, then hands the poller the next wait — or, when the poller can wait at
   * once (a virtual clock), goes on. libuv's `uv_run` loop, with the poll handed to the poller.
   */
  private _resume(fromHost: boolean): void {
    // The poller's wait is over, whatever happens next.
    if (fromHost) this._armedWhen = NaN;
    if (!this._running) return;
    if (this._inBatch) {
      // A resume while a batch runs (a poller resuming from inside a turn's callback):
      // the batch turns once more instead of nesting.
      this._resumeDuringBatch = true;
      return;
    }
    if (fromHost) {
      this._batchTurns = 0;
      this._batchEnd = realTime() + BATCH_BUDGET_MS;
      this._nextClockTurn = PROMISE_CLOCK_TURNS;
    }
    this._waiting = false;
    this._wakeupSent = false;
    this._inBatch = true;
    let timeout: number | null;
    try {
      for (;;) {
        this._resumeDuringBatch = false;
        timeout = this.runOnce();
        this._batchTurns++;
        if (this._stopping) break;
        if (this._resumeDuringBatch) timeout = 0;
        if (this._instrument !== null) this._instrument.beforePoll(timeout);
        // Going idle needs no look at the budget (nor at the clock): the host gets control back.
        if (timeout !== 0) {
          // A batch that a Promise started, ending with the same earliest timer as the one
          // before it and outside work still pending: the poller's wait for that deadline
          // stands, so it is not asked again (which would cost it a clock reading to find
          // the same deadline). With no outside work left it is asked: a virtual clock
          // waits for that before it jumps.
          const when = timeout === null ? Infinity : this._timers.nextDeadline();
          if (when === this._armedWhen && this._externalRefs > 0) {
            this._waiting = true;
            return;
          }
          this._armedWhen = NaN;
          if (this._poller.wait(timeout) !== true) {
            this._armedWhen = when;
            this._waiting = true;
            return;
          }
        }
        if (this._batchTurns >= BATCH_MAX_TURNS || realTime() >= this._batchEnd) {
          this._batchTurns = BATCH_MAX_TURNS;
          break;
        }
      }
    } finally {
      this._inBatch = false;
    }
    if (this._stopping) {
      this._finishRunning();
      return;
    }
    // Out of budget: wait (for at most `timeout`) through the host, so that its own I/O
    // runs. A poller that waited already (returned true) is asked to resume soon instead.
    this._waiting = true;
    this._armedWhen = NaN;
    if (timeout === 0) {
      if (this._poller.wait(0) === true) this._wakeup();
    } else {
      this._wakeup();
    }
  }

  /**
   * Something was queued, or a timer added, from outside a turn: the poller's wait must end
   * (or get shorter). Once per wait; the poller coalesces nothing itself.
   */
  private _wakeup(): void {
    if (!this._waiting || this._wakeupSent || this._promiseResume) return;
    this._wakeupSent = true;
    this._poller.wakeup();
  }

  /**
   * The reaction of a Promise adopted with `ensureFuture` (or `call`) is about to set its
   * Future's outcome, which queues the waiting task's step. Returns true when the idle loop
   * is to resume right there, inside the reaction, instead of through the poller (a host
   * round trip is most of the price of awaiting a Promise from a coroutine); the wake-up
   * that the delivery would send the poller is then held back until `_promiseSettled`.
   * The budget of the batch the host last started still holds (`_batchTurns`, `_batchEnd`),
   * so that a chain of resolved Promises goes through the poller once it is spent and the
   * host's I/O runs. A thenable that calls back from inside `then` is not a reaction: no
   * batch runs inside someone else's code. Socket and worker events do not come here: they
   * arrive one per host callback, and batching them into one turn is worth more than
   * starting each turn early.
   * @internal
   */
  _promiseResumes(inReaction: boolean): boolean {
    if (!inReaction || !this._waiting || current.loop !== null) return false;
    if (this._batchTurns < BATCH_MAX_TURNS && this._batchTurns >= this._nextClockTurn) {
      this._nextClockTurn = this._batchTurns + PROMISE_CLOCK_TURNS;
      if (realTime() >= this._batchEnd) this._batchTurns = BATCH_MAX_TURNS;
    }
    if (this._batchTurns >= BATCH_MAX_TURNS) return false;
    this._promiseResume = true;
    return true;
  }

  /**
   * The Promise's outcome was delivered (or dropped): one outside operation fewer (as
   * `unrefExternal`), and the batch `_promiseResumes` promised runs now.
   * @internal
   */
  _promiseSettled(resume: boolean): void {
    if (this._externalRefs > 0) this._externalRefs--;
    if (resume) {
      this._promiseResume = false;
      if (this._waiting) this._resume(false);
      return;
    }
    // Nothing runs here; a virtual clock may have been held back by this operation.
    if (this._externalRefs === 0) this._wakeup();
  }

  /** Phase 2, second half: the wait is over. */
  private _pollDone(): void {
    if (this._instrument !== null) this._instrument.afterPoll();
  }

  /**
   * After phase 4: how long the next wait may be. (Phase 2 of the next turn, first half: the
   * pump tells the instruments — `beforePoll` — and hands it to the poller.)
   */
  private _nextTimeout(): number | null {
    let timeout: number | null;
    if (this._ready.length > 0) {
      timeout = 0;
    } else {
      const when = this._timers.nextDeadline();
      // A timer at Infinity never fires: to the poller that is no timeout at all.
      timeout = when === Infinity ? null : Math.max(0, when - this.time());
    }
    return timeout;
  }

  /** Phase 3. Equal deadlines leave the wheel in scheduling order. */
  private _moveDueTimers(): void {
    // No timer, no clock: reading it costs about as much as a whole Promise round trip.
    if (this._timers.size > 0) this._timers.popDue(this.time());
  }

  /** Phase 4. */
  private _runReadyCallbacks(): void {
    const ready = this._ready;
    let count = ready.length;
    if (this._taskOrder !== null) this._reorderTasks(count);
    if (this._debug) {
      this._runReadyCallbacksTimed(count);
      return;
    }
    while (count-- > 0) {
      const item = ready.shift();
      if (typeof item === "function") this._runInline(item);
      else if (item !== null) item._run(this);
    }
  }

  /**
   * Runs a callback that was queued as a bare function: no arguments, the empty context.
   * With an instrument attached since it was queued, it goes through a Handle so that the
   * instrument sees one.
   */
  private _runInline(callback: Callback): void {
    if (this._instrument !== null) {
      new CallbackHandle(callback, NO_ARGS, null)._run(this);
      return;
    }
    const savedContext = current.context;
    current.context = null;
    try {
      callback();
    } catch (error) {
      // The handle callSoon returned was not kept (that is the point of queueing the bare
      // function), so the exception handler gets a new Handle for the same callback.
      reportCallbackError(this, new CallbackHandle(callback, NO_ARGS, null), error);
    } finally {
      current.context = savedContext;
    }
  }

  /** @internal Cancels the bare callback queued at `position` (`InlineHandle.cancel`), if it is still queued. */
  _cancelInline(position: number, callback: Callback): void {
    const ready = this._ready;
    const offset = position - ready.headPosition;
    if (offset >= 0 && offset < ready.length && ready.peek(offset) === callback) ready.set(offset, null);
  }

  /**
   * Hands the task steps among the first `count` ready entries to the task-order hook and
   * puts them back, in the order it chose, into the slots tasks held: plain callbacks keep
   * their places, so `callSoon` order (which asyncio guarantees) is untouched.
   */
  private _reorderTasks(count: number): void {
    const ready = this._ready;
    const tasks: Task<unknown>[] = [];
    const slots: number[] = [];
    for (let i = 0; i < count; i++) {
      const runnable = ready.peek(i);
      if (runnable instanceof Task) {
        tasks.push(runnable);
        slots.push(i);
      }
    }
    if (tasks.length < 2) return;
    try {
      (this._taskOrder as TaskOrder)(tasks);
      if (tasks.length !== slots.length) throw new Error("the task-order hook must reorder the array in place, not add or remove tasks");
    } catch (error) {
      this.callExceptionHandler({ message: `Exception in the task-order hook: ${describeError(error)}`, exception: error });
      return;
    }
    for (let i = 0; i < slots.length; i++) ready.set(slots[i] as number, tasks[i] as Task<unknown>);
  }

  /**
   * Phase 4 in debug mode: each callback is timed and the slow ones are reported, in one
   * line naming the task, its coroutine and the line it is now suspended at, and where it
   * was created (asyncio's "Executing <Task …> took 0.200 seconds").
   */
  private _runReadyCallbacksTimed(count: number): void {
    const ready = this._ready;
    while (count-- > 0) {
      const item = ready.shift();
      if (item === null) continue;
      // A bare callback queued before debug mode was switched on is timed as a Handle.
      const runnable = typeof item === "function" ? new CallbackHandle(item, NO_ARGS, null) : item;
      const task = runnable instanceof Task ? (runnable as Task<unknown>) : null;
      if (task !== null) {
        task._debugSteps++;
        task._suspendError = undefined;
      }
      const start = this.time();
      runnable._run(this);
      const took = this.time() - start;
      if (took >= this.slowCallbackDuration) {
        const what = task !== null ? task._describe() : runnable instanceof Handle ? runnable._describe() : String(runnable);
        this.debugLogger.warn(`Executing ${what} took ${took.toFixed(1)} ms`, {
          durationMs: took,
          runnable,
          task: task ?? undefined,
          creationStack: task !== null ? task._sourceStack : runnable instanceof Handle ? runnable._sourceStack : undefined,
          suspensionStack: task?._suspendStack,
        });
      }
    }
  }

  // ---------------------------------------------------------------------------------
  // Scheduling callbacks
  // ---------------------------------------------------------------------------------

  /**
   * Runs `callback(...args)` on the next turn, in a copy of the current context (as
   * asyncio's call_soon, so values the callback sets do not leak back). Callbacks run in
   * the order they were scheduled.
   * @example
   * loop.callSoon((who) => console.log(`hello ${who}`), "world");
   */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle;
  callSoon(callback: Callback): Handle {
    // The common case, kept small enough for V8 to inline into the caller: no arguments,
    // the empty context, and nothing that needs a Handle in the queue (debug mode, an
    // instrument, a closed loop). The queue holds the function itself (see InlineHandle).
    if (arguments.length === 1 && current.context === null && this._inlineCallbacks && typeof callback === "function") {
      const handle = new InlineHandle(callback, this, this._ready.tailPosition);
      this._enqueue(callback);
      return handle;
    }
    // eslint-disable-next-line prefer-rest-params
    return this._scheduleHandle(callback, arguments);
  }

  /** `callSoon` in general: the callback goes into the queue inside a Handle. */
  private _scheduleHandle(callback: Callback, argv: IArguments): Handle {
    this._checkClosed();
    checkCallback("callSoon", callback);
    const count = argv.length;
    let args = NO_ARGS;
    if (count > 1) {
      args = new Array(count - 1);
      for (let i = 1; i < count; i++) args[i - 1] = argv[i];
    }
    const handle = new CallbackHandle(callback, args, snapshotContext());
    if (this._debug) handle._sourceError = captureError();
    this._enqueue(handle);
    return handle;
  }

  /**
   * `callSoon` for code running outside the loop's callbacks (a Promise reaction, a Node
   * event, a worker message): it also wakes the poller, so an idle loop turns at once.
   */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    const handle = this.callSoon(callback, ...args);
    if (current.loop !== this) this._wakeup();
    return handle;
  }

  /** Runs `callback(...args)` after `delayMs` milliseconds. */
  callLater<A extends unknown[]>(delayMs: number, callback: (...args: A) => unknown, ...args: A): TimerHandle;
  callLater(delayMs: number, callback: Callback): TimerHandle {
    if (typeof delayMs !== "number") throw new TypeError(`callLater(delayMs, ...): delayMs must be a number of milliseconds, got ${typeof delayMs}`);
    if (Number.isNaN(delayMs)) throw new RangeError("callLater(delayMs, ...): delayMs is NaN");
    let args = NO_ARGS;
    const count = arguments.length;
    if (count > 2) {
      args = new Array(count - 2);
      // eslint-disable-next-line prefer-rest-params
      for (let i = 2; i < count; i++) args[i - 2] = arguments[i];
    }
    return this._addTimer(this.time() + delayMs, callback, args, "callLater");
  }

  /** Runs `callback(...args)` when `loop.time()` reaches `whenMs`. */
  callAt<A extends unknown[]>(whenMs: number, callback: (...args: A) => unknown, ...args: A): TimerHandle;
  callAt(whenMs: number, callback: Callback): TimerHandle {
    if (typeof whenMs !== "number") throw new TypeError(`callAt(whenMs, ...): whenMs must be a loop time in milliseconds, got ${typeof whenMs}`);
    if (Number.isNaN(whenMs)) throw new RangeError("callAt(whenMs, ...): whenMs is NaN");
    let args = NO_ARGS;
    const count = arguments.length;
    if (count > 2) {
      args = new Array(count - 2);
      // eslint-disable-next-line prefer-rest-params
      for (let i = 2; i < count; i++) args[i - 2] = arguments[i];
    }
    return this._addTimer(whenMs, callback, args, "callAt");
  }

  private _addTimer(whenMs: number, callback: Callback, args: unknown[], where: string): TimerHandle {
    this._checkClosed();
    checkCallback(where, callback);
    const context = snapshotContext();
    let handle: TimerHandle;
    if (args.length === 0 && context === null && this._inlineCallbacks) {
      // The wheel keeps the bare callback and the handle is only a receipt (see TimerHandle).
      handle = new TimerHandle(callback);
      this._timers.push(callback, whenMs, handle);
    } else {
      const call = new TimerCallHandle(callback, args, context);
      if (this._debug) call._sourceError = captureError();
      this._timers.push(call, whenMs, call);
      handle = call;
    }
    // A timer earlier than the poller's current wait must shorten it.
    if (current.loop !== this) this._wakeup();
    return handle;
  }

  /** @internal Queues a runnable for the next turn; wakes the poller when called from outside a turn. */
  _enqueue(runnable: Runnable | Callback): void {
    this._ready.push(runnable);
    if (this._waiting && current.loop !== this) this._wakeup();
  }

  // ---------------------------------------------------------------------------------
  // Signals (asyncio's unix_events), through the poller's `signals` capability
  // ---------------------------------------------------------------------------------

  /**
   * Runs `callback(...args)` as a loop callback each time the process receives `signal`
   * ("SIGINT", "SIGTERM", …), never inside the host's own signal listener. Adding a
   * handler for a signal that has one replaces it; a handler for SIGINT also replaces
   * `run()`'s Ctrl-C handling while it is added. Handlers are removed when the loop closes.
   * @throws TypeError/RangeError for a bad signal name (SIGKILL and SIGSTOP cannot be caught),
   *   Error when the loop's poller has no `signals` capability.
   * @example
   * loop.addSignalHandler("SIGTERM", () => stopping.set());
   */
  addSignalHandler<A extends unknown[]>(signal: string, callback: (...args: A) => unknown, ...args: A): void {
    (this._signalHandlers ??= new SignalHandlers(this)).add(signal, callback, args);
  }

  /** Removes the handler for `signal`; returns whether there was one (asyncio's `remove_signal_handler`). */
  removeSignalHandler(signal: string): boolean {
    return (this._signalHandlers ??= new SignalHandlers(this)).remove(signal);
  }

  // ---------------------------------------------------------------------------------
  // Futures and tasks
  // ---------------------------------------------------------------------------------

  /** A new pending `Future` bound to this loop (asyncio's `loop.create_future`). */
  createFuture<T>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Wraps a coroutine in a Task scheduled on this loop; its first step runs next turn.
   * @example
   * const task = loop.createTask(worker(), { name: "worker" });
   */
  createTask<T>(coro: Coroutine<T>, opts?: TaskOptions): Task<T> {
    this._checkClosed();
    if (!isCoroutine(coro)) throw new TypeError(notACoroutineMessage("createTask(coro)", coro));
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("createTask(coro, opts): opts must be an object like { name, context }");
    }
    const factory = this._taskFactory;
    // A task a factory makes is made on this loop too: in debug mode it has its creation stack already.
    return factory === null ? new Task<T>(coro, this, opts) : (factory(this, coro as Coroutine<unknown>, opts) as Task<T>);
  }

  /**
   * Makes `createTask` build its tasks with `factory` instead of `new Task`; null restores
   * the default (asyncio's `loop.set_task_factory`).
   * @example
   * loop.setTaskFactory((loop, coro, opts) => new Task(coro, loop, opts));
   */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") {
      throw new TypeError("setTaskFactory(factory): factory must be a function (loop, coro, opts) => Task, or null");
    }
    this._taskFactory = factory;
  }

  /** The task factory set with `setTaskFactory`, or null for the default (asyncio's `loop.get_task_factory`). */
  getTaskFactory(): TaskFactory | null {
    return this._taskFactory;
  }

  /**
   * A hook for test tools that explore schedules (`@loop/testing`'s `seed`). At the start of
   * each turn's phase 4, when two or more task steps are due, `order` gets those tasks in
   * queue order and may reorder the array in place; they then run in that order, in the
   * slots tasks held. Plain callbacks (`callSoon`, timers, done callbacks) never move, so
   * their first-in first-out order, which asyncio guarantees, holds; what changes is only
   * which ready task steps first, which asyncio leaves unspecified. `null` removes the hook;
   * unused, it costs one null check per turn.
   * @example
   * loop.setTaskOrder((tasks) => tasks.reverse());
   */
  setTaskOrder(order: TaskOrder | null): void {
    if (order !== null && typeof order !== "function") {
      throw new TypeError("setTaskOrder(order): order must be a function (tasks) => void that reorders the array in place, or null");
    }
    this._taskOrder = order;
  }

  /** The pending tasks of this loop. */
  allTasks(): Set<Task<unknown>> {
    return new Set(this._tasks);
  }

  // ---------------------------------------------------------------------------------
  // Running and stopping
  // ---------------------------------------------------------------------------------

  /** Runs turns until `stop()` is called; resolves then. */
  runForever(): Promise<void> {
    try {
      this._checkClosed();
      this._checkCanRun();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve) => {
      // A poller that throws from attach or schedule rejects this run and leaves the loop
      // as it found it: not running, so that it can be closed or run again.
      if (!this._attached) {
        this._poller.attach(this._driver);
        this._attached = true;
      }
      this._running = true;
      this._onStopped = resolve;
      this._waiting = true;
      this._wakeupSent = false;
      this._armedWhen = NaN;
      // Until the host's first resume, a settled Promise wakes the loop through the poller.
      this._batchTurns = BATCH_MAX_TURNS;
      try {
        if (this._poller.wait(0) === true) this._wakeup();
      } catch (error) {
        this._running = false;
        this._waiting = false;
        this._onStopped = null;
        throw error;
      }
    });
  }

  /**
   * Runs until `aw` is done and resolves with its result (or rejects with its error).
   * A coroutine is wrapped in a task.
   */
  async runUntilComplete<T>(aw: Coroutine<T> | Awaitable<T> | PromiseLike<T>): Promise<T> {
    this._checkClosed();
    this._checkCanRun();
    const future = ensureFuture<T>(aw, this);
    const stop = (): void => this.stop();
    future.addDoneCallback(stop);
    try {
      await this.runForever();
    } finally {
      future.removeDoneCallback(stop);
    }
    if (!future.done()) throw new Error("Event loop stopped before the awaited future completed");
    return future.result();
  }

  /**
   * Stops the loop after the current turn. Called while the loop is not running, it makes
   * the next `runForever` run one turn and stop, as in asyncio.
   */
  stop(): void {
    this._stopping = true;
    if (current.loop !== this) this._wakeup();
  }

  /** True while the loop runs (`runForever`, `runUntilComplete`); asyncio's `loop.is_running`. */
  isRunning(): boolean {
    return this._running;
  }

  /** True once `close()` was called (asyncio's `loop.is_closed`). */
  isClosed(): boolean {
    return this._closed;
  }

  /** Drops every pending callback and timer and closes the poller. A running loop cannot be closed. */
  close(): void {
    if (this._running) throw new Error("Cannot close a running event loop: stop() it and wait for runForever() to resolve first");
    if (this._closed) return;
    this._closed = true;
    this._updateInlineCallbacks();
    if (this._debug) this._reportPendingTasks();
    this._ready.clear();
    this._timers.clear();
    this._poller.close();
    const executor = this._defaultExecutor;
    this._defaultExecutor = null;
    if (executor !== null) void executor.shutdown({ wait: false });
    const onClose = this._closeCallbacks;
    this._closeCallbacks = [];
    for (const callback of onClose) {
      try {
        callback();
      } catch (error) {
        this.callExceptionHandler({ message: "Exception in a close callback", exception: error });
      }
    }
  }

  /**
   * Runs `callback` once, when the loop closes: how owners of outside resources (the
   * socket driver of `@loop/net`) release what user code left open, so that a closed
   * loop does not keep the process alive. Returns a function that unregisters it.
   */
  addCloseCallback(callback: () => void): () => void {
    checkCallback("addCloseCallback", callback);
    this._checkClosed();
    this._closeCallbacks.push(callback);
    return () => {
      const at = this._closeCallbacks.indexOf(callback);
      if (at !== -1) this._closeCallbacks.splice(at, 1);
    };
  }

  /**
   * Debug mode, at close: the tasks still pending are dropped with the loop (asyncio's
   * "Task was destroyed but it is pending!"); one whose coroutine never ran a step is said so.
   */
  private _reportPendingTasks(): void {
    for (const task of this._tasks) {
      const neverRan = task._debugSteps === 0 ? " (its coroutine never ran)" : "";
      this.debugLogger.warn(`Task was destroyed but it is pending!${neverRan} ${task._describe()}`, {
        task,
        creationStack: task._sourceStack,
        suspensionStack: task._suspendStack,
      });
    }
  }

  private _finishRunning(): void {
    this._stopping = false;
    this._running = false;
    this._waiting = false;
    // Nothing is left armed: a stopped loop holds no host timer (it may run again later).
    this._armedWhen = NaN;
    this._poller.wait(null);
    const resolve = this._onStopped;
    this._onStopped = null;
    resolve?.();
  }

  private _checkClosed(): void {
    if (this._closed) throw new Error("Event loop is closed");
  }

  private _checkCanRun(): void {
    if (this._running) throw new Error("This event loop is already running");
    if (current.loop !== null) {
      throw new Error("Cannot run an event loop from inside another loop's callback: inside a coroutine, yield* the work (or createTask it) instead");
    }
  }

  // ---------------------------------------------------------------------------------
  // Outside work, executors
  // ---------------------------------------------------------------------------------

  /**
   * Counts one operation outside the loop that will wake it later (a Promise, a worker
   * job, a socket). Virtual-time pollers do not jump the clock while any is counted.
   * Pair each call with `unrefExternal()`.
   */
  refExternal(): void {
    this._externalRefs++;
  }

  /**
   * Ends one operation counted with `refExternal()`. When the last one ends, the poller is
   * woken (from outside a turn): a virtual-time poller waiting for outside work may then
   * advance its clock, even if the operation ended without scheduling a callback.
   */
  unrefExternal(): void {
    if (this._externalRefs > 0 && --this._externalRefs === 0 && current.loop !== this) this._wakeup();
  }

  /** The executor `runInExecutor(null, …)` uses (asyncio's default executor). */
  getDefaultExecutor(): Executor | null {
    return this._defaultExecutor;
  }

  /**
   * Sets the executor `runInExecutor(null, …)` uses; null goes back to none (asyncio's
   * `loop.set_default_executor`); `shutdownDefaultExecutor` shuts it down.
   */
  setDefaultExecutor(executor: Executor | null): void {
    if (executor !== null && (typeof executor !== "object" || typeof executor.shutdown !== "function")) {
      throw new TypeError("setDefaultExecutor(executor): executor must have a shutdown() method, or be null");
    }
    this._defaultExecutor = executor;
  }

  /** Shuts the default executor down and waits for it (asyncio's `shutdown_default_executor`). */
  async shutdownDefaultExecutor(): Promise<void> {
    const executor = this._defaultExecutor;
    this._defaultExecutor = null;
    if (executor !== null) await executor.shutdown({ wait: true });
  }

  // ---------------------------------------------------------------------------------
  // Errors, debug, instruments
  // ---------------------------------------------------------------------------------

  /**
   * Sets the function given the errors no one else handles (a callback that threw, a task
   * whose error was never retrieved); null restores `defaultExceptionHandler` (asyncio's
   * `loop.set_exception_handler`).
   * @example
   * loop.setExceptionHandler((loop, context) => {
   *   console.error("unhandled:", context.message, context.exception);
   * });
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError("setExceptionHandler(handler): handler must be a function (loop, context) => void, or null");
    }
    this._exceptionHandler = handler;
  }

  /** The handler set with `setExceptionHandler`, or null for the default (asyncio's `loop.get_exception_handler`). */
  getExceptionHandler(): ExceptionHandler | null {
    return this._exceptionHandler;
  }

  /** Hands `context` to the exception handler, or to `defaultExceptionHandler` when none is set. */
  callExceptionHandler(context: ErrorContext): void {
    const handler = this._exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (error) {
        printError("[@loop] Exception in default exception handler", error);
      }
      return;
    }
    try {
      handler(this, context);
    } catch (error) {
      try {
        this.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception: error, context });
      } catch (inner) {
        printError("[@loop] Exception in default exception handler", inner);
      }
    }
  }

  /** Prints the context to stderr: the message, what failed, and the error's stack. */
  defaultExceptionHandler(context: ErrorContext): void {
    let line = `[@loop] ${context.message}`;
    if (context.task !== undefined) line += ` (task ${JSON.stringify(context.task.name)})`;
    else if (context.handle !== undefined) line += ` (callback ${context.handle._describe()})`;
    else if (context.future !== undefined) line += ` (future ${String(context.future)})`;
    const source = context.task?._sourceStack ?? context.future?._sourceStack;
    if (source !== undefined) line += `\n  created at ${firstFrame(source)}`;
    const error = context.exception;
    if (error instanceof Error && typeof error.stack === "string") line += `\n${error.stack}`;
    else if (error !== undefined) line += `\n${describeError(error)}`;
    printError(line);
  }

  /** Whether debug mode is on (asyncio's `loop.get_debug`). */
  getDebug(): boolean {
    return this._debug;
  }

  /**
   * Turns debug mode on or off (asyncio's `loop.set_debug`): in debug mode the loop records
   * where each callback and task was created, for the messages about them, and reports the
   * tasks still pending when it closes.
   */
  setDebug(enabled: boolean): void {
    this._debug = Boolean(enabled);
    this._updateInlineCallbacks();
  }

  private _updateInlineCallbacks(): void {
    this._inlineCallbacks = !this._closed && !this._debug && this._instrument === null;
  }

  /** Adds hooks into the loop's work (see `Instrument`); they run synchronously, in order of addition. */
  addInstrument(instrument: Instrument): void {
    checkInstrument(instrument);
    if (this._instrument === null) {
      this._instrument = new InstrumentSet((error, hook) =>
        this.callExceptionHandler({ message: `Exception in instrument hook ${hook}: ${describeError(error)}`, exception: error }),
      );
    }
    this._instrument.list.push(instrument);
    this._updateInlineCallbacks();
  }

  /**
   * For executors: reports a job that ran off the loop to the instruments
   * (`Instrument.executorJob`), so that monitors can count time spent in worker threads.
   */
  reportExecutorJob(job: ExecutorJobInfo): void {
    if (this._instrument !== null) this._instrument.executorJob(job);
  }

  /** Removes an instrument added with `addInstrument`; does nothing when it is not there. */
  removeInstrument(instrument: Instrument): void {
    const set = this._instrument;
    if (set === null) return;
    const index = set.list.indexOf(instrument);
    if (index >= 0) set.list.splice(index, 1);
    if (set.list.length === 0) this._instrument = null;
    this._updateInlineCallbacks();
  }

  /** How many turns (`runOnce` calls) this loop has run: what scheduling tests count. */
  get turnCount(): number {
    return this._turns;
  }

  /** How many callbacks and task steps wait in the ready queue (for metrics). */
  get readyCount(): number {
    return this._ready.length;
  }

  /** How many timers are scheduled and not cancelled. */
  get timerCount(): number {
    return this._timers.size;
  }
}

/**
 * The loop running the current callback (asyncio.get_running_loop).
 * @throws Error("no running event loop") outside the loop's callbacks.
 */
export function getRunningLoop(): EventLoop {
  const loop = current.loop as EventLoop | null;
  if (loop === null) throw new Error("no running event loop");
  return loop;
}

function checkCallback(where: string, callback: unknown): void {
  if (typeof callback !== "function") {
    throw new TypeError(`${where}(…, callback): callback must be a function, got ${callback === null ? "null" : typeof callback}`);
  }
}

function isDebugEnv(): boolean {
  const value = readEnv("LOOP_DEBUG");
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

const consoleLogger: DebugLogger = {
  warn(message: string): void {
    printError(`[@loop debug] ${message}`);
  },
};
