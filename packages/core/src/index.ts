/**
 * `@loop/core` — asyncio's event loop, futures, tasks and structured concurrency for
 * TypeScript. The public surface is listed here, name by name; `test/surface.test.ts`
 * pins it.
 */
export { EventLoop, getRunningLoop } from "./loop.js";
export type { DebugLogger, ErrorContext, EventLoopOptions, ExceptionHandler, TaskFactory, TaskOrder } from "./loop.js";
export { Handle, TimerHandle } from "./handle.js";
export type { Callback } from "./handle.js";
export { Future } from "./future.js";
export { Task, currentTask } from "./task.js";
export type { TaskOptions } from "./task.js";
export { run } from "./run.js";
export type { RunOptions } from "./run.js";
export { createTask, allTasks } from "./create-task.js";
export { ensureFuture } from "./ensure-future.js";
export { taskSignal } from "./signal.js";
export type { TaskAbortSignal } from "./signal.js";
export { gather, GatheringFuture } from "./gather.js";
export type { GatherOptions } from "./gather.js";
export { wait, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED } from "./wait.js";
export type { ReturnWhen, WaitOptions, WaitResult } from "./wait.js";
export { asCompleted } from "./as-completed.js";
export { shield } from "./shield.js";
export { taskGroup, TaskGroup } from "./task-group.js";
export { Context, ContextVar, Token, copyContext } from "./context.js";
export { CancelledError, InvalidStateError, TimeoutError, ExceptionGroup } from "./errors.js";
export { DefaultPoller } from "./poller.js";
export type { Poller, PollerHost } from "./poller.js";
export type { ExecutorJobInfo, Instrument } from "./instrument.js";
export type { Executor, ExecutorJob, ExecutorSignal } from "./executor.js";
export { isCoroutine } from "./coroutine.js";
export type { Awaitable, AwaitableLike, AwaitedOf, Coroutine } from "./coroutine.js";
export type {
  BaseProtocol,
  BaseTransport,
  ConnectOptions,
  ListenOptions,
  NetDriver,
  Protocol,
  ReadTransport,
  ServerHandle,
  StartTlsOptions,
  Transport,
  WriteTransport,
} from "./transports.js";
