/**
 * Something that runs blocking work away from the loop (asyncio's `concurrent.futures`
 * executors). Core only shuts the default one down; `@loop/workers` provides worker-thread
 * executors and `runInExecutor`, which hands them jobs through `submit`.
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
