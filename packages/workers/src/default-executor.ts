import { getRunningLoop, type EventLoop, type Executor } from "@loop/core";
import { WorkerPoolExecutor, type WorkerPoolOptions } from "./worker-pool-executor.js";

/**
 * The running loop's default executor — what `runInWorker`, `toThread` and
 * `runInExecutor(null, …)` use — created on first use as a `WorkerPoolExecutor` with
 * `opts` (asyncio creates its default `ThreadPoolExecutor` the same way). `run()` shuts
 * it down, waiting for its threads to exit, before it closes the loop
 * (asyncio's `shutdown_default_executor`).
 *
 * Pass `opts` before the first job to size it; once it exists, `opts` is refused. An
 * executor of your own can take its place with `loop.setDefaultExecutor(executor)`.
 * @example
 * await run(function* () {
 *   defaultExecutor({ maxThreads: 4 });
 *   const digests = yield* gather(files.map((f) => runInWorker(hashModule, "sha", f)));
 * });
 */
export function defaultExecutor(opts?: WorkerPoolOptions): Executor {
  let loop: EventLoop;
  try {
    loop = getRunningLoop();
  } catch {
    throw new Error("defaultExecutor() must be called inside a running event loop (in a coroutine under run(…)): each loop has its own");
  }
  const existing = loop.getDefaultExecutor();
  if (existing !== null && opts !== undefined) {
    throw new Error(
      "defaultExecutor(opts): this loop's default executor exists already; size it before its first job, or replace it with loop.setDefaultExecutor(new WorkerPoolExecutor(opts))",
    );
  }
  return existing ?? create(loop, opts);
}

/** @internal The default executor of `loop`, created on first use. */
export function defaultExecutorOf(loop: EventLoop): Executor {
  return loop.getDefaultExecutor() ?? create(loop, undefined);
}

function create(loop: EventLoop, opts: WorkerPoolOptions | undefined): Executor {
  const executor = new WorkerPoolExecutor(opts);
  loop.setDefaultExecutor(executor);
  return executor;
}
