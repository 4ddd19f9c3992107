/**
 * The contracts of @loop/core in one place: what a coroutine is, what the loop calls and
 * is called with, and what plugins implement (executors, instruments, transports,
 * protocols, network drivers). It runs no code and imports nothing at run time. It names
 * the core classes its contracts mention (`EventLoop`, `Future`, `Task`, `Handle`,
 * `Context`) by type only: those classes name each other in their public signatures
 * (`future.getLoop()`, `loop.createFuture()`), so the type-level references among them
 * and this file form a circle that only interfaces for the classes themselves would break.
 *
 * The poller contract (`Poller`, `LoopDriver`) is in `poller.ts`.
 */
import type { Context } from "./context.js";
import type { DatagramOptions, DatagramProtocol, DatagramTransport } from "./datagram.js";
import type { Future } from "./future.js";
import type { Handle } from "./handle.js";
import type { EventLoop } from "./loop.js";
import type { Task } from "./task.js";

// ---------------------------------------------------------------------------------
// Coroutines
// ---------------------------------------------------------------------------------

/**
 * A coroutine: the generator object a `function*` returns. It yields Futures to wait on
 * them (through `yield*`) or `undefined` to give the loop one turn, and returns `T`.
 */
export type Coroutine<T> = Generator<Future<unknown> | undefined, T, unknown>;

/** Anything a coroutine can `yield*` for a `T`: a Future, a Task, a coroutine. */
export interface Awaitable<T> {
  /** What `yield*` calls: yields the futures to wait on, returns the `T`. */
  [Symbol.iterator](): Iterator<Future<unknown> | undefined, T, unknown>;
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
  context?: Context;
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
// Callbacks and what the loop runs
// ---------------------------------------------------------------------------------

/** A function the loop calls with the arguments it was scheduled with (`callSoon(cb, ...args)`). */
// Callbacks take whatever arguments they were scheduled with; `any` lets every function fit.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callback = (...args: any[]) => unknown;

/** What the ready queue holds: a Handle, or a Task whose next step is due. */
export interface Runnable {
  /** @internal `loop` is the loop running it. */ _run(loop: EventLoop): void;
}

/**
 * A done-callback entry that is not a user function: the loop's own waiters (a task
 * waiting on the future, a Promise adapter). `_wake` is called synchronously at completion
 * and must only queue work, never run user code. Only its member is internal: `Task` and
 * `GatheringFuture` implement it, so the published types keep the (empty) interface.
 */
export interface DoneWaiter {
  /** @internal */
  _wake(future: Future<unknown>): void;
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
  future?: Future<unknown>;
  /** The task that was running. */
  task?: Task<unknown>;
  /** The callback that threw. */
  handle?: Handle;
  /** More details, as the reporter sees fit. */
  [key: string]: unknown;
}

/**
 * Receives the errors no one else handles (asyncio's exception handler; see
 * `EventLoop.setExceptionHandler`).
 */
export type ExceptionHandler = (loop: EventLoop, context: ErrorContext) => void;

/** Makes the tasks of a loop in place of `new Task` (see `EventLoop.setTaskFactory`). */
export type TaskFactory = (loop: EventLoop, coro: Coroutine<unknown>, opts?: TaskOptions) => Task<unknown>;

/** Reorders, in place, the tasks whose steps run in one turn (see `EventLoop.setTaskOrder`). */
export type TaskOrder = (tasks: Task<unknown>[]) => void;

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
  taskCreated?(task: Task<unknown>): void;
  /** A step of the task begins: its coroutine is resumed. */
  taskStepStart?(task: Task<unknown>): void;
  /** The step ended: the coroutine yielded, returned or threw. */
  taskStepEnd?(task: Task<unknown>): void;
  /** The task is done (a result, an error or cancelled). */
  taskDone?(task: Task<unknown>): void;
  /** A plain callback is about to run. */
  callbackStart?(handle: Handle): void;
  /** It returned (or threw). */
  callbackEnd?(handle: Handle): void;
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
  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport>;
  /** Listens; each accepted connection gets a new protocol from the factory. */
  listen(loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle>;
  /**
   * Upgrades an open transport to TLS (asyncio's `loop.start_tls`): the old transport
   * stops delivering to `protocol` and is replaced by the returned one, which carries the
   * same connection encrypted and delivers to `protocol` from then on.
   */
  startTls?(loop: EventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): Future<Transport>;
  /**
   * Opens a datagram endpoint (asyncio's `create_datagram_endpoint`): binds and, with
   * `remoteAddr`, connects; the future resolves with the transport once the protocol's
   * `connectionMade` was called. Optional: a driver without it carries no UDP.
   */
  datagram?(loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport>;
}
