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
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void): void;
  removeEventListener(type: "abort", listener: () => void): void;
}
