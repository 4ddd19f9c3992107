/**
 * `@loop/core` — asyncio's event loop, futures, tasks and structured concurrency for
 * TypeScript. The public surface is listed here, name by name; `test/surface.test.ts`
 * pins it.
 */
export { EventLoop, getRunningLoop } from "./loop.js";
export type { EventLoopOptions } from "./loop.js";
export { Handle, TimerHandle } from "./handle.js";
export { Future } from "./future.js";
export { Task, currentTask } from "./task.js";
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
export { CancelledError, InvalidStateError, TimeoutError, ExceptionGroup, KeyboardInterrupt } from "./errors.js";
export { DefaultPoller } from "./poller.js";
export { coroutineFrame, creationFrames, describeWait, stackFrames, suspensionFrames, userFrame } from "./diagnostics.js";
export type { StackSource } from "./diagnostics.js";
export { registerLibraryModule } from "./stack-frames.js";
export type { StackFrame } from "./stack-frames.js";
export type { SignalDriver, SignalListener } from "./signal-driver.js";
export { isCoroutine } from "./coroutine.js";
// The contracts: what coroutines are, what the loop calls, what plugins implement.
export type {
  AbstractContext,
  AbstractContextVar,
  AbstractEventLoop,
  AbstractFuture,
  AbstractHandle,
  AbstractTask,
  AbstractTaskGroup,
  AbstractTimerHandle,
  AbstractToken,
  Awaitable,
  AwaitableLike,
  AwaitedOf,
  BaseProtocol,
  BaseTransport,
  Callback,
  ConnectOptions,
  Coroutine,
  DebugLogger,
  ErrorContext,
  ExceptionHandler,
  Executor,
  ExecutorJob,
  ExecutorJobInfo,
  ExecutorSignal,
  Instrument,
  ListenOptions,
  LoopDriver,
  NetDriver,
  Poller,
  ProcessDriver,
  ProcessHandle,
  ProcessProtocols,
  ProcessStdio,
  Protocol,
  ReadTransport,
  ServerHandle,
  SpawnOptions,
  StartTlsOptions,
  TaskFactory,
  TaskOptions,
  TaskOrder,
  TaskState,
  Transport,
  WriteTransport,
} from "./types.js";
export type { DatagramAddress, DatagramOptions, DatagramProtocol, DatagramTransport } from "./datagram.js";
// Streams of values and the Promise boundary (issue 15).
export { subscribe, each } from "./stream.js";
export type { Stream, Subscription } from "./stream.js";
export { map, filter, take, fromIterable } from "./stream-ops.js";
export { mapConcurrent } from "./map-concurrent.js";
export type { MapConcurrentOptions } from "./map-concurrent.js";
export { produce } from "./produce.js";
export type { ProduceOptions } from "./produce.js";
export { fromAsyncIterable } from "./from-async-iterable.js";
export { toAsyncIterable } from "./to-async-iterable.js";
export { fromEvent } from "./from-event.js";
export type { EventSource, FromEventOptions, OverflowPolicy } from "./from-event.js";
export { call } from "./call.js";
export { exitStack, ExitStack, defer, resource, use } from "./resource.js";
export type { Cleanup, Resource } from "./resource.js";
