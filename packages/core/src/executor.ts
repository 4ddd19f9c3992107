/**
 * Something that runs blocking work away from the loop (asyncio's `concurrent.futures`
 * executors). Core only knows how to shut one down; `@loop/workers` provides worker-thread
 * executors and `runInExecutor`.
 */
export interface Executor {
  /** Stops accepting work; with `wait`, resolves once running work is finished. */
  shutdown(opts?: { wait?: boolean }): PromiseLike<void> | void;
}
