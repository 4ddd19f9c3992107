/**
 * The contracts of @loop/core in one place: what a coroutine is, what the loop calls and
 * is called with, and what plugins implement (pollers, executors, instruments,
 * transports, protocols, network and process drivers).
 *
 * A leaf: it runs no code and imports nothing but the leaves it names types from
 * (`datagram.ts`, `signal-driver.ts`, `missing.ts`), which import nothing. The classes
 * name each other in their public signatures (`future.getLoop()`, `loop.createFuture()`,
 * `task.parentGroup()`), so each class a lower module must name is described here by an
 * interface, as asyncio's `events.AbstractEventLoop` is what its futures and tasks refer
 * to: `AbstractEventLoop`, `AbstractFuture`, `AbstractTask`, `AbstractHandle`,
 * `AbstractTimerHandle`, `AbstractTaskGroup` and the `contextvars` trio. Each carries every
 * public member of its class (the class `implements` it, so the two cannot drift apart),
 * plus the `@internal` members the lower modules use. Modules depend on these interfaces,
 * never on a class above them, so the import graph of `src/` has no cycle:
 * `test/module-graph.test.ts` keeps it so (see docs/design.md, "Module layering").
 */
import type { DatagramOptions, DatagramProtocol, DatagramTransport } from "./datagram.js";
import type { MISSING } from "./missing.js";
import type { SignalDriver } from "./signal-driver.js";

// ---------------------------------------------------------------------------------
// Coroutines
// ---------------------------------------------------------------------------------

/**
 * A coroutine: the generator object a `function*` returns. It yields Futures to wait on
 * them (through `yield*`) or `undefined` to give the loop one turn, and returns `T`.
 */
export type Coroutine<T> = Generator<AbstractFuture<unknown> | undefined, T, unknown>;

/** Anything a coroutine can `yield*` for a `T`: a Future, a Task, a coroutine. */
export interface Awaitable<T> {
  /** What `yield*` calls: yields the futures to wait on, returns the `T`. */
  [Symbol.iterator](): Iterator<AbstractFuture<unknown> | undefined, T, unknown>;
}

/** What `ensureFuture` and the combinators accept. */
export type AwaitableLike<T> = Awaitable<T> | PromiseLike<T>;

/** The `T` of an `Awaitable<T>`, `Coroutine<T>` or `PromiseLike<T>`. */
export type AwaitedOf<A> =
  A extends Awaitable<infer T> ? T : A extends PromiseLike<infer T> ? T : never;

// ---------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------

/** Options of `createTask`. */
export interface TaskOptions {
  /** Defaults to `Task-<n>`, as in asyncio. */
  name?: string;
  /** The context the task runs in; defaults to a copy of the current one. */
  context?: AbstractContext;
}

/**
 * Where a task is in its life (`task.state()`):
 * - `"ready"`: its next step is in the loop's ready queue and will not be handed an
 *   outcome: a new task, or one that gave the loop a turn with a bare `yield` (or yielded
 *   something wrong, whose error the step throws in);
 * - `"running"`: its step is executing now (it is `currentTask()`);
 * - `"waiting"`: suspended on a future that is still pending (`waitingOn()` returns it);
 * - `"woken"`: the future it waited on is done, and the step that takes its outcome (or
 *   its cancellation) is in the ready queue;
 * - `"done"`: finished with a result, an error or cancelled.
 */
export type TaskState = "ready" | "running" | "waiting" | "woken" | "done";

// ---------------------------------------------------------------------------------
// The core classes, as the modules below them see them
// ---------------------------------------------------------------------------------

/**
 * The event loop as futures, tasks, handles and plugins see it: every public member of
 * `EventLoop`, which implements it (asyncio's `AbstractEventLoop`). `future.getLoop()`,
 * the exception handler, the task factory, `LoopDriver.loop` and the drivers get one.
 * See `EventLoop` for each member's details.
 */
export interface AbstractEventLoop {
  /** Callbacks and task steps slower than this (ms) are reported in debug mode. */
  slowCallbackDuration: number;
  /** Receives debug-mode reports (slow callbacks); console by default. */
  debugLogger: DebugLogger;
  /** The poller this loop waits with. */
  readonly poller: Poller;
  /** The loop's clock, in milliseconds (the poller's `time()`). */
  time(): number;
  /** One turn (asyncio's `_run_once`); returns how long the loop may then wait (null: until woken). */
  runOnce(): number | null;
  /** Runs `callback(...args)` on the next turn, in a copy of the current context, in scheduling order. */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): AbstractHandle;
  /** `callSoon` for code running outside the loop's callbacks: it also wakes the poller. */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): AbstractHandle;
  /** Runs `callback(...args)` after `delayMs` milliseconds. */
  callLater<A extends unknown[]>(delayMs: number, callback: (...args: A) => unknown, ...args: A): AbstractTimerHandle;
  /** Runs `callback(...args)` when `loop.time()` reaches `whenMs`. */
  callAt<A extends unknown[]>(whenMs: number, callback: (...args: A) => unknown, ...args: A): AbstractTimerHandle;
  /** Runs `callback(...args)` as a loop callback each time the process receives `signal`. */
  addSignalHandler<A extends unknown[]>(signal: string, callback: (...args: A) => unknown, ...args: A): void;
  /** Removes the handler for `signal`; returns whether there was one. */
  removeSignalHandler(signal: string): boolean;
  /** A new pending future bound to this loop (asyncio's `loop.create_future`). */
  createFuture<T>(): AbstractFuture<T>;
  /** Wraps a coroutine in a task scheduled on this loop; its first step runs next turn. */
  createTask<T>(coro: Coroutine<T>, opts?: TaskOptions): AbstractTask<T>;
  /** Makes `createTask` build its tasks with `factory`; null restores the default. */
  setTaskFactory(factory: TaskFactory | null): void;
  /** The task factory set with `setTaskFactory`, or null for the default. */
  getTaskFactory(): TaskFactory | null;
  /** Lets a test tool reorder the task steps due in one turn; null removes the hook. */
  setTaskOrder(order: TaskOrder | null): void;
  /** The pending tasks of this loop. */
  allTasks(): Set<AbstractTask<unknown>>;
  /** Runs turns until `stop()` is called; resolves then. */
  runForever(): Promise<void>;
  /** Runs the loop until `aw` is done; resolves or rejects with its outcome. */
  runUntilComplete<T>(aw: Coroutine<T> | Awaitable<T> | PromiseLike<T>): Promise<T>;
  /** Stops the loop after the current turn. */
  stop(): void;
  /** True while the loop runs (`runForever`, `runUntilComplete`). */
  isRunning(): boolean;
  /** True once `close()` was called. */
  isClosed(): boolean;
  /** Drops every pending callback and timer and closes the poller. */
  close(): void;
  /** Calls `callback` when the loop closes; returns a function that removes it. */
  addCloseCallback(callback: () => void): () => void;
  /** Counts one operation outside the loop that may still wake it. */
  refExternal(): void;
  /** Ends what `refExternal` counted. */
  unrefExternal(): void;
  /** The executor `runInExecutor(null, …)` uses (asyncio's default executor). */
  getDefaultExecutor(): Executor | null;
  /** Sets the default executor; null removes it. */
  setDefaultExecutor(executor: Executor | null): void;
  /** Shuts the default executor down and waits for it. */
  shutdownDefaultExecutor(): Promise<void>;
  /** Sets the handler of errors no one else handles; null restores the default. */
  setExceptionHandler(handler: ExceptionHandler | null): void;
  /** The handler set with `setExceptionHandler`, or null for the default. */
  getExceptionHandler(): ExceptionHandler | null;
  /** Hands `context` to the exception handler, or to `defaultExceptionHandler` when none is set. */
  callExceptionHandler(context: ErrorContext): void;
  /** Prints the context to stderr: the message, what failed, and the error's stack. */
  defaultExceptionHandler(context: ErrorContext): void;
  /** Whether debug mode is on. */
  getDebug(): boolean;
  /** Turns debug mode on or off. */
  setDebug(enabled: boolean): void;
  /** Adds hooks into the loop's work (see `Instrument`). */
  addInstrument(instrument: Instrument): void;
  /** For executors: reports a job that ran off the loop to the instruments (`Instrument.executorJob`). */
  reportExecutorJob(job: ExecutorJobInfo): void;
  /** Removes an instrument added with `addInstrument`. */
  removeInstrument(instrument: Instrument): void;
  /** How many turns (`runOnce` calls) this loop has run. */
  readonly turnCount: number;
  /** How many callbacks and task steps wait in the ready queue. */
  readonly readyCount: number;
  /** How many timers are scheduled and not cancelled. */
  readonly timerCount: number;
  /** @internal */ _debug: boolean;
  /** @internal The instruments behind one object with every hook present, or null. */
  _instrument: Required<Instrument> | null;
  /** @internal The pending tasks. */
  readonly _tasks: { add(task: AbstractTask<unknown>): void; delete(task: AbstractTask<unknown>): boolean };
  /** @internal Queues a runnable for the next turn. */
  _enqueue(runnable: Runnable | Callback): void;
  /** @internal Cancels the bare callback queued at `position`, if it is still queued. */
  _cancelInline(position: number, callback: Callback): void;
  /** @internal A Promise's reaction is about to deliver its outcome: true if it resumes the idle loop itself. */
  _promiseResumes(inReaction: boolean): boolean;
  /** @internal The Promise's outcome was delivered or dropped: one outside operation fewer; the promised resume runs. */
  _promiseSettled(resume: boolean): void;
}

/**
 * A future as the modules below `Future` see it: every public member of `Future`, which
 * implements it. See `Future` for each member's details.
 */
export interface AbstractFuture<T> extends Awaitable<T>, PromiseLike<T> {
  /** What this future stands for, shown by task dumps and deadlock reports. */
  label: string | undefined;
  /** `yield* future` suspends the coroutine until the future is done, then gives its result. */
  [Symbol.iterator](): Iterator<AbstractFuture<unknown> | undefined, T, unknown>;
  /** Where this future was created: a stack trace kept in debug mode only. */
  creationStack(): string | undefined;
  /** The loop the future belongs to: its callbacks run there. */
  getLoop(): AbstractEventLoop;
  /** True once the future has a result, an error or was cancelled. */
  done(): boolean;
  /** True if the future was cancelled. */
  cancelled(): boolean;
  /** The result; throws while pending, when cancelled, or the future's error. */
  result(): T;
  /** The error the future failed with; null if it succeeded. */
  exception(): unknown;
  /** Completes the future with `value` and schedules its done callbacks. */
  setResult(value: T): void;
  /** Fails the future with `error` and schedules its done callbacks. */
  setException(error: unknown): void;
  /** Cancels the future and schedules its callbacks; false if it was already done. */
  cancel(msg?: string): boolean;
  /** Adds a callback run with the future once it is done, through `callSoon`. */
  addDoneCallback(callback: (future: AbstractFuture<T>) => void): void;
  /** Removes every registration of `callback`; returns how many there were. */
  removeDoneCallback(callback: (future: AbstractFuture<T>) => void): number;
  /** Lets async code `await` the future. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  /** `<Future pending>`, `<Future finished result=…>`, … as asyncio's repr. */
  toString(): string;
  /** @internal Where the future was created, in debug mode only. */
  readonly _sourceStack: string | undefined;
}

/**
 * A task as the modules below `Task` see it (an instrument, a task factory, the exception
 * handler's context): every public member of `Task`, which implements it. See `Task`.
 */
export interface AbstractTask<T> extends AbstractFuture<T> {
  /** The task's name: the one given to `createTask`, else `Task-<n>`. */
  name: string;
  /** The task's name (asyncio's `get_name`). */
  getName(): string;
  /** Renames the task (asyncio's `set_name`). */
  setName(value: string): void;
  /** The coroutine the task runs (asyncio's `get_coro`). */
  getCoro(): Coroutine<T>;
  /** The context the task runs in (asyncio's `get_context`). */
  getContext(): AbstractContext;
  /** Where the coroutine is suspended, in debug mode only. */
  suspensionStack(): string | undefined;
  /** The task group this task was started in (`tg.createTask`), or null. */
  parentGroup(): AbstractTaskGroup | null;
  /** The future this task is suspended on while that future is pending, else null. */
  waitingOn(): AbstractFuture<unknown> | null;
  /** Where the task is in its life (see `TaskState`). */
  state(): TaskState;
  /** Asks the task to stop: the coroutine gets a `CancelledError(msg)` where it waits. */
  cancel(msg?: string): boolean;
  /** How many cancellation requests are pending (asyncio's `Task.cancelling`). */
  cancelling(): number;
  /** Withdraws one cancellation request and returns how many remain (asyncio's `Task.uncancel`). */
  uncancel(): number;
  /** Not available on a task: throws. */
  setResult(value: T): never;
  /** Not available on a task: throws. */
  setException(error: unknown): never;
  /** @internal The task's context; null: the empty context, materialized on the first `ContextVar.set`. */
  _context: AbstractContext | null;
  /** @internal Debug mode: where the coroutine last yielded a future. */
  _suspendError: Error | undefined;
}

/** A task group as a task sees it (`task.parentGroup()`): every public member of `TaskGroup`. */
export interface AbstractTaskGroup {
  /** Starts a task in this group. */
  createTask<T>(coro: Coroutine<T>, opts?: TaskOptions): AbstractTask<T>;
  /** The task whose body opened the group. */
  parentTask(): AbstractTask<unknown>;
  /** The group's tasks that are not done yet. */
  tasks(): ReadonlySet<AbstractTask<unknown>>;
}

/** A scheduled callback as the loop's hooks see it: every public member of `Handle`. */
export interface AbstractHandle {
  /** Cancels the callback; it will not run. */
  cancel(): void;
  /** True once `cancel()` was called. */
  cancelled(): boolean;
  /** `<Handle …>`, for diagnostics. */
  toString(): string;
  /** @internal The callback and where it was scheduled, for reports. */
  _describe(): string;
}

/** A callback scheduled for a time: every public member of `TimerHandle`. */
export interface AbstractTimerHandle extends AbstractHandle {
  /** The loop time (ms) at which the callback is due. */
  when(): number;
}

/**
 * A `contextvars` context as the modules below `Context` see it (`task.getContext()`,
 * `TaskOptions.context`): every public member of `Context`, which implements it.
 */
export interface AbstractContext extends Iterable<[AbstractContextVar<unknown>, unknown]> {
  /** A new context with the same values. */
  copy(): AbstractContext;
  /** Calls `fn(...args)` with this context current and returns what it returns. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R;
  /** The value `variable` has in this context, or undefined. */
  get<T>(variable: AbstractContextVar<T>): T | undefined;
  /** True if `variable` has a value in this context. */
  has(variable: AbstractContextVar<unknown>): boolean;
  /** How many variables have a value in this context. */
  readonly size: number;
  /** The variables that have a value in this context. */
  keys(): IterableIterator<AbstractContextVar<unknown>>;
  /** Their values. */
  values(): IterableIterator<unknown>;
  /** `[variable, value]` pairs. */
  entries(): IterableIterator<[AbstractContextVar<unknown>, unknown]>;
  /** `[variable, value]` pairs, as `entries()`. */
  [Symbol.iterator](): IterableIterator<[AbstractContextVar<unknown>, unknown]>;
}

/** A context variable: every public member of `ContextVar`, which implements it. */
export interface AbstractContextVar<T> {
  /** The name given to the constructor, for diagnostics. */
  readonly name: string;
  /** The value in the current context; else `fallback`, else the default; else throws. */
  get(fallback?: T): T;
  /** Sets the value in the current context; the token undoes it with `reset`. */
  set(value: T): AbstractToken<T>;
  /** Restores the value from before the `set` that made `token`. */
  reset(token: AbstractToken<T>): void;
  /** `<ContextVar name="…">`, for diagnostics. */
  toString(): string;
}

/** What `ContextVar.set` returns: every public member of `Token`, which implements it. */
export interface AbstractToken<T> {
  /** The variable whose `set` returned this token. */
  readonly variable: AbstractContextVar<T>;
  /** The value before that `set`, or `Token.MISSING` when it had none. */
  readonly oldValue: T | typeof MISSING;
}

// ---------------------------------------------------------------------------------
// Callbacks and what the loop runs
// ---------------------------------------------------------------------------------

/** A function the loop calls with the arguments it was scheduled with (`callSoon(cb, ...args)`). */
// Callbacks take whatever arguments they were scheduled with; `any` lets every function fit.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callback = (...args: any[]) => unknown;

/** What the ready queue holds: a Handle, or a Task whose next step is due. */
export interface Runnable {
  /** @internal `loop` is the loop running it. */ _run(loop: AbstractEventLoop): void;
}

/**
 * A done-callback entry that is not a user function: the loop's own waiters (a task
 * waiting on the future, a Promise adapter). `_wake` is called synchronously at completion
 * and must only queue work, never run user code. Only its member is internal: `Task` and
 * `GatheringFuture` implement it, so the published types keep the (empty) interface.
 */
export interface DoneWaiter {
  /** @internal */
  _wake(future: AbstractFuture<unknown>): void;
}

// ---------------------------------------------------------------------------------
// The loop's hooks: exception handler, task factory and order, debug logger
// ---------------------------------------------------------------------------------

/** What the exception handler receives: asyncio's context dict, with its keys. */
export interface ErrorContext {
  /** What happened, in one line. */
  message: string;
  /** The error, when there is one. */
  exception?: unknown;
  /** The future (or task) the error belongs to. */
  future?: AbstractFuture<unknown>;
  /** The task that was running. */
  task?: AbstractTask<unknown>;
  /** The callback that threw. */
  handle?: AbstractHandle;
  /** More details, as the reporter sees fit. */
  [key: string]: unknown;
}

/**
 * Receives the errors no one else handles (asyncio's exception handler; see
 * `EventLoop.setExceptionHandler`).
 */
export type ExceptionHandler = (loop: AbstractEventLoop, context: ErrorContext) => void;

/** Makes the tasks of a loop in place of `new Task` (see `EventLoop.setTaskFactory`). */
export type TaskFactory = (loop: AbstractEventLoop, coro: Coroutine<unknown>, opts?: TaskOptions) => AbstractTask<unknown>;

/** Reorders, in place, the tasks whose steps run in one turn (see `EventLoop.setTaskOrder`). */
export type TaskOrder = (tasks: AbstractTask<unknown>[]) => void;

/** Where debug-mode reports go; `@loop/debug` can plug a structured logger in. */
export interface DebugLogger {
  /** Reports one debug-mode finding: a one-line message and structured details. */
  warn(message: string, details?: Record<string, unknown>): void;
}

// ---------------------------------------------------------------------------------
// Instrumentation
// ---------------------------------------------------------------------------------

/**
 * Hooks into what the loop does, for debuggers, tracers, metrics and test tools. Every
 * method is optional. With no instrument added, each hook site costs one null check.
 * Hooks run synchronously inside the loop: they must be quick and must not throw (an
 * error thrown by a hook is reported to the exception handler and otherwise ignored).
 */
export interface Instrument {
  /** A task was created (before its first step is scheduled). */
  taskCreated?(task: AbstractTask<unknown>): void;
  /** A step of the task begins: its coroutine is resumed. */
  taskStepStart?(task: AbstractTask<unknown>): void;
  /** The step ended: the coroutine yielded, returned or threw. */
  taskStepEnd?(task: AbstractTask<unknown>): void;
  /** The task is done (a result, an error or cancelled). */
  taskDone?(task: AbstractTask<unknown>): void;
  /** A plain callback is about to run. */
  callbackStart?(handle: AbstractHandle): void;
  /** It returned (or threw). */
  callbackEnd?(handle: AbstractHandle): void;
  /** The loop is about to wait; `timeoutMs` as handed to the poller (null: until woken). */
  beforePoll?(timeoutMs: number | null): void;
  /** The wait ended and a new turn begins. */
  afterPoll?(): void;
  /** An executor (e.g. `@loop/workers`) finished a job off the loop; see `EventLoop.reportExecutorJob`. */
  executorJob?(job: ExecutorJobInfo): void;
}

/** What an executor reports about one finished job. */
export interface ExecutorJobInfo {
  /** The job's name: the function or `module#export` it ran. */
  name: string;
  /** Wall-clock time the job spent running off the loop, in ms. */
  durationMs: number;
  /** How it ended. */
  outcome: "ok" | "error" | "cancelled";
}

// ---------------------------------------------------------------------------------
// Executors
// ---------------------------------------------------------------------------------

/**
 * Something that runs blocking work away from the loop (asyncio's `concurrent.futures`
 * executors). Core only shuts the default one down; `@loop/workers` provides worker-thread
 * executors and `runInExecutor`, which hands them jobs through `start` or `submit`.
 */
export interface Executor {
  /**
   * Starts `job` away from the loop; the promise settles with its outcome. Throws at once
   * when the executor is shut down. When `signal` aborts, the job is cancelled: dropped if
   * still queued, stopped if running. A job the executor drops without running it (a
   * shutdown with `cancelFutures`) rejects with a `CancelledError`. Optional for an
   * executor that is only ever shut down; `runInExecutor` needs it.
   */
  submit?(job: ExecutorJob, signal: ExecutorSignal): PromiseLike<unknown>;
  /**
   * `submit` without the promise, for executors that can report an outcome directly:
   * starts `job` and calls `settle(true, result)` or `settle(false, error)` exactly once,
   * from outside the loop's turns (a host callback or promise reaction), never from inside
   * `start` itself. Same rules as `submit` otherwise: throws at once when shut down, stops
   * the job when `signal` aborts, settles with a `CancelledError` for a job dropped unrun.
   * `runInExecutor` uses it in preference to `submit`: it saves a promise and a microtask
   * per job.
   */
  start?(job: ExecutorJob, signal: ExecutorSignal, settle: (ok: boolean, value: unknown) => void): void;
  /**
   * Stops accepting work; with `wait` (the default), resolves once running work is
   * finished. `cancelFutures` drops the jobs still queued (asyncio's `cancel_futures`).
   */
  shutdown(opts?: { wait?: boolean; cancelFutures?: boolean }): PromiseLike<void> | void;
}

/** One call for an executor to make: a function, or a module's export, with its arguments. */
export interface ExecutorJob {
  /** How labels and reports name the job: the function's name, or `file.js#export`. */
  readonly name: string;
  /** A self-contained function to call (worker executors send its source text), or null for a module job. */
  readonly fn: ((...args: never[]) => unknown) | null;
  /** The module (an absolute URL) and export to call, or null for a function job. */
  readonly module: { readonly url: string; readonly exportName: string } | null;
  /** The arguments to call it with. */
  readonly args: readonly unknown[];
  /** Objects to move rather than copy where the job crosses threads (ArrayBuffers, MessagePorts). */
  readonly transfer: readonly unknown[];
  /**
   * The executor sets this when it knows how long the job itself ran, queue wait
   * excluded; the time from submission to completion is reported otherwise.
   */
  runTimeMs: number | null;
}

/** The part of an `AbortSignal` an executor listens to; a real `AbortSignal` fits. */
export interface ExecutorSignal {
  /** True once the job is cancelled. */
  readonly aborted: boolean;
  /** Why: the `CancelledError`. */
  readonly reason: unknown;
  /** Calls `listener` once when the job is cancelled. */
  addEventListener(type: "abort", listener: () => void): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: "abort", listener: () => void): void;
}

// ---------------------------------------------------------------------------------
// Transports and protocols
// ---------------------------------------------------------------------------------

// asyncio's transports and protocols, as interfaces: the contract between the streams of
// `@loop/net` and whatever carries the bytes (a poller's `NetDriver`: Node sockets, the
// in-memory network of `@loop/testing`). Transports call protocol methods from loop
// callbacks, never re-entrantly from inside a transport method.

/** What every transport does (asyncio's `BaseTransport`). */
export interface BaseTransport {
  /** Closes after the buffered data is sent; the protocol's `connectionLost(null)` follows. */
  close(): void;
  /** True once `close()` or `abort()` was called or the connection was lost. */
  isClosing(): boolean;
  /** Transport details: "peername", "sockname", "socket", "sslcontext", "peercert", … */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined;
  /** Hands the connection to another protocol (as `startTls` does). */
  setProtocol(protocol: BaseProtocol): void;
  /** The protocol the transport calls. */
  getProtocol(): BaseProtocol;
}

/** The read side of a transport (asyncio's `ReadTransport`). */
export interface ReadTransport extends BaseTransport {
  /** False while reading is paused. */
  isReading(): boolean;
  /** Stops calling `dataReceived` until `resumeReading` (flow control towards the peer). */
  pauseReading(): void;
  /** Calls `dataReceived` again after `pauseReading`. */
  resumeReading(): void;
}

/** The write side of a transport (asyncio's `WriteTransport`). */
export interface WriteTransport extends BaseTransport {
  /** Buffers the bytes and sends them as soon as possible; never blocks. */
  write(data: Uint8Array): void;
  /** Writes each buffer in turn, as `write` does. */
  writelines(list: Iterable<Uint8Array>): void;
  /** Closes the write side after the buffered data (a TCP half-close); reading goes on. */
  writeEof(): void;
  /** False where a half-close is impossible (TLS). */
  canWriteEof(): boolean;
  /** Closes at once, dropping buffered data. */
  abort(): void;
  /** Bytes buffered and not yet handed to the operating system. */
  getWriteBufferSize(): number;
  /** The water marks `setWriteBufferLimits` set. */
  getWriteBufferLimits(): { low: number; high: number };
  /** Past `high` buffered bytes the protocol's `pauseWriting` is called; below `low`, `resumeWriting`. */
  setWriteBufferLimits(high?: number, low?: number): void;
}

/** A bidirectional stream transport (asyncio's `Transport`). */
export interface Transport extends ReadTransport, WriteTransport {}

/** What a transport calls (asyncio's `BaseProtocol`); always from a loop callback. */
export interface BaseProtocol {
  /** The connection is up; keep `transport` to write to it. */
  connectionMade(transport: BaseTransport): void;
  /** `error` is null on a regular close (EOF or close()). */
  connectionLost(error: Error | null): void;
  /** The transport's buffer went over its high-water mark: stop writing (what `drain()` waits on). */
  pauseWriting(): void;
  /** The buffer went under its low-water mark: writing may go on. */
  resumeWriting(): void;
}

/**
 * A stream protocol. asyncio's `BufferedProtocol` is not part of this contract: Node
 * hands each read over as a fresh Buffer already, so a protocol-supplied buffer would add
 * a copy instead of saving one.
 */
export interface Protocol extends BaseProtocol {
  /** Bytes arrived. The buffer is the protocol's to keep. */
  dataReceived(data: Uint8Array): void;
  /** Return true to keep the transport half-open for writing; otherwise it closes. */
  eofReceived(): boolean | void;
}

/** Where `NetDriver.connect` connects. */
export interface ConnectOptions {
  /** The host name or address to connect to. */
  host?: string;
  /** The TCP port. */
  port?: number;
  /** A Unix socket path instead of host/port. */
  path?: string;
  /** TLS: true, or options for the driver's TLS layer (Node: `tls.connect` options). */
  tls?: boolean | Record<string, unknown>;
  /** Server name for TLS SNI and certificate checks. */
  serverHostname?: string;
}

/** Options of `NetDriver.startTls`: the driver's TLS options plus which side this is. */
export interface StartTlsOptions {
  /** True on the accepting side (the TLS server); false or absent on the connecting side. */
  server?: boolean;
  /** Server name for TLS SNI and certificate checks (connecting side). */
  serverHostname?: string;
  /** Driver-specific TLS settings (Node: `tls.connect` / `TLSSocket` options: ca, key, cert, …). */
  [option: string]: unknown;
}

/** What `NetDriver.listen` listens on. */
export interface ListenOptions {
  /** The address to listen on; absent: every interface. */
  host?: string;
  /** The TCP port; 0 picks a free one. */
  port?: number;
  /** A Unix socket path instead of host/port. */
  path?: string;
  /** The length of the queue of pending connections. */
  backlog?: number;
  /** TLS server options for the driver's TLS layer (Node: `tls.createServer` options). */
  tls?: Record<string, unknown>;
  /** SO_REUSEPORT: listeners on the same port share its connections; a driver that cannot set it rejects. */
  reusePort?: boolean;
}

/** A listening socket, as a driver sees it. */
export interface ServerHandle {
  /** Node's AddressInfo for TCP, the path for Unix sockets. */
  address(): { address: string; family: string; port: number } | string | null;
  /** Stops accepting; existing connections go on. */
  close(): void;
  /** The transports of the connections this listener accepted that are still open. */
  readonly transports: ReadonlySet<Transport>;
}

/**
 * A poller's network: it opens transports for the streams layer. All callbacks into the
 * protocol happen inside the loop (the driver uses `callSoonThreadsafe` or equivalent),
 * never re-entrantly from inside a transport method.
 *
 * Failures reject the returned futures with errors that carry Node's `code`
 * (`ECONNREFUSED`, `ENOTFOUND`, `EADDRINUSE`, …) and the `address`/`port` (or `path`)
 * concerned, whatever the driver. Cancelling a pending future abandons the operation and
 * releases everything it opened.
 */
export interface NetDriver {
  /** Connects; the future resolves with the transport once `connectionMade` was called. */
  connect(loop: AbstractEventLoop, protocolFactory: () => Protocol, options: ConnectOptions): AbstractFuture<Transport>;
  /** Listens; each accepted connection gets a new protocol from the factory. */
  listen(loop: AbstractEventLoop, protocolFactory: () => Protocol, options: ListenOptions): AbstractFuture<ServerHandle>;
  /**
   * Upgrades an open transport to TLS (asyncio's `loop.start_tls`): the old transport
   * stops delivering to `protocol` and is replaced by the returned one, which carries the
   * same connection encrypted and delivers to `protocol` from then on.
   */
  startTls?(loop: AbstractEventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): AbstractFuture<Transport>;
  /**
   * Opens a datagram endpoint (asyncio's `create_datagram_endpoint`): binds and, with
   * `remoteAddr`, connects; the future resolves with the transport once the protocol's
   * `connectionMade` was called. Optional: a driver without it carries no UDP.
   */
  datagram?(loop: AbstractEventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): AbstractFuture<DatagramTransport>;
}

// ---------------------------------------------------------------------------------
// Pollers (see CONTRIBUTING.md, "Writing a poller")
// ---------------------------------------------------------------------------------

/**
 * What the loop gives its poller: the way back in. The loop owns the pump — running turns
 * in batches within a time budget, one more turn after a wake-up, never a nested turn —
 * so a poller only ever says "the wait you asked for is over".
 */
export interface LoopDriver {
  /** The loop this poller serves. */
  readonly loop: AbstractEventLoop;
  /**
   * The wait asked for by the last `poller.wait()` is over: it expired, I/O arrived, or
   * `wakeup()` was called. The loop runs a batch of turns and then calls `wait()` again
   * (unless it stopped). Call it from a host callback, never synchronously inside `wait()`
   * or `wakeup()`; a call the loop does not need (a stale timer, a second wake-up) is harmless.
   */
  resume(): void;
  /**
   * How many operations outside the loop (Promises adopted with `ensureFuture`, worker
   * jobs, open sockets: anything counted with `loop.refExternal()`) may still wake it.
   * A virtual-time poller only advances its clock when this is 0.
   */
  externalPending(): number;
}

/**
 * The plug-in through which the loop meets the outside world: its clock, its wait, its
 * wake-up and its optional capabilities (a network). See CONTRIBUTING.md ("Writing a
 * poller") for the contract in prose and `@loop/testing`'s conformance kit for the tests
 * a poller must pass.
 * @example
 * // A poller that waits with the host's timers, like the default one, minus the batching
 * // details: see CONTRIBUTING.md for the whole contract.
 * class TimeoutPoller implements Poller {
 *   readonly name = "timeout";
 *   private driver: LoopDriver | null = null;
 *   private timer: ReturnType<typeof setTimeout> | undefined;
 *   attach(driver: LoopDriver) { this.driver = driver; }
 *   time() { return performance.now(); }
 *   wait(ms: number | null) {
 *     clearTimeout(this.timer);
 *     if (ms !== null) this.timer = setTimeout(() => this.driver?.resume(), ms);
 *   }
 *   wakeup() { this.wait(0); }
 *   close() { clearTimeout(this.timer); }
 * }
 */
export interface Poller {
  /** A short name for diagnostics. */
  readonly name: string;
  /** Called once, when the loop first runs with this poller. */
  attach(driver: LoopDriver): void;
  /** The loop's clock in milliseconds: monotonic, never going back. */
  time(): number;
  /**
   * Waits for at most `timeoutMs` ms of this poller's clock, then calls `driver.resume()`;
   * sooner on I/O or `wakeup()`. `0` lets the host run its own callbacks once first;
   * `null` waits for I/O or `wakeup()` only. A new call replaces the previous wait. The
   * loop calls `wait(null)` once more when it stops, so that nothing is left armed.
   *
   * A poller whose wait can be over at once — a simulated clock that jumps to the timer —
   * may return `true` instead of calling `resume()` later: the loop then goes on with its
   * batch without a round trip through the host.
   */
  wait(timeoutMs: number | null): boolean | void;
  /**
   * Ends the pending wait soon: `driver.resume()` from a host callback. The loop calls it
   * only between its turns, once per wait, when a callback was queued or a timer added
   * from outside (a Promise reaction, a socket event, another thread's message).
   */
  wakeup(): void;
  /** Releases the poller's resources: no `resume()` follows, no host timer is left. */
  close(): void;
  /** Transports for TCP/Unix/TLS, when this poller can carry them. */
  readonly net?: NetDriver;
  /** The process's signals, for `loop.addSignalHandler` and `run()`'s Ctrl-C handling, when this poller can deliver them. */
  readonly signals?: SignalDriver;
  /** Child processes for `@loop/process`, when this poller starts them itself (a fake, a sandbox). */
  readonly processes?: ProcessDriver;
}

// ---------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------

// The contract between `@loop/process` and whatever starts child processes: asyncio's
// `SubprocessTransport` and `SubprocessProtocol`, cut along the same lines as the network
// contract above. A poller may carry one (`poller.processes`, e.g. the scripted fake
// processes of `@loop/testing`); otherwise `@loop/process` uses Node's
// `node:child_process`. Core starts no process itself.

/**
 * What one of the child's standard streams is connected to: a new pipe to the parent,
 * the parent's own stream, the null device, an open file descriptor of the parent, or
 * (stderr only) whatever stdout goes to.
 */
export type ProcessStdio = "pipe" | "inherit" | "devnull" | "stdout" | number;

/** What `ProcessDriver.spawn` starts: already checked by `@loop/process`. */
export interface SpawnOptions {
  /** The program: a path, or a name looked up on the PATH (of `env`, when given). */
  program: string;
  /** The arguments after the program's name. */
  args: readonly string[];
  /** Where the child's stdin comes from. */
  stdin: Exclude<ProcessStdio, "stdout">;
  /** Where the child's stdout goes. */
  stdout: Exclude<ProcessStdio, "stdout">;
  /** Where the child's stderr goes; "stdout" sends it wherever stdout goes. */
  stderr: ProcessStdio;
  /** The child's working directory; the parent's when absent. */
  cwd?: string;
  /** The child's whole environment; the parent's when absent. */
  env?: Readonly<Record<string, string>>;
  /** Start the child in a new session (`setsid`), so that it has its own process group. */
  startNewSession: boolean;
}

/**
 * The protocols a spawned child reports to (asyncio's `SubprocessProtocol`, split per
 * pipe). Each pipe's `connectionMade` is called before `spawn`'s future resolves; every
 * later call comes from a loop callback, never re-entrantly from a handle method.
 */
export interface ProcessProtocols {
  /** Hears of the stdin pipe (pauseWriting/resumeWriting for backpressure, connectionLost). */
  stdin?: BaseProtocol;
  /** Receives stdout's bytes, its end (`eofReceived`), then `connectionLost`. */
  stdout?: Protocol;
  /** Receives stderr's bytes, its end (`eofReceived`), then `connectionLost`. */
  stderr?: Protocol;
  /**
   * The child ended: its exit status, or minus the number of the signal that killed it.
   * Called once, after the child was reaped; the pipes may still hold unread bytes.
   */
  processExited(returncode: number): void;
}

/**
 * A started child (asyncio's `SubprocessTransport`). Invariant: `returncode` is null
 * until `processExited` has been called, and the number given to it from then on.
 */
export interface ProcessHandle {
  /** The child's process id (asyncio's `get_pid`). */
  readonly pid: number;
  /** The exit status, minus the signal's number when a signal killed it; null while the child runs (asyncio's `get_returncode`). */
  readonly returncode: number | null;
  /** The parent's end of the child's stdin pipe, or null when stdin is not a pipe. */
  readonly stdin: WriteTransport | null;
  /** The parent's end of the child's stdout pipe, or null when stdout is not a pipe. */
  readonly stdout: ReadTransport | null;
  /** The parent's end of the child's stderr pipe, or null when stderr is not a pipe. */
  readonly stderr: ReadTransport | null;
  /**
   * Sends a signal (a name such as "SIGTERM", or a number). Does nothing once the child
   * has exited, so that a reused pid is never signalled. Throws a `RangeError` for a
   * signal the host does not know.
   */
  sendSignal(signal: string | number): void;
  /** Kills the child (SIGKILL) if it still runs and closes the pipes; the child is still reaped. */
  close(): void;
}

/**
 * A poller's way to start child processes. Failures to start reject the future with an
 * `Error` whose `code` is the OS's (`ENOENT`, `EACCES`) and whose message names the
 * program. Cancelling the pending future kills and reaps a child that was started anyway.
 */
export interface ProcessDriver {
  /**
   * Starts a child as `options` say, reporting to `protocols`; the future resolves to its
   * handle once it runs and every pipe's `connectionMade` was called (asyncio's
   * `loop.subprocess_exec` underneath).
   */
  spawn(loop: AbstractEventLoop, options: SpawnOptions, protocols: ProcessProtocols): AbstractFuture<ProcessHandle>;
}
