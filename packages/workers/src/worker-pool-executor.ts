import { once } from "node:events";
import { availableParallelism } from "node:os";
import type { TransferListItem, Worker } from "node:worker_threads";
import { CancelledError, type Executor, type ExecutorJob, type ExecutorSignal } from "@loop/core";
import { Piscina } from "piscina";
import { functionSource } from "./function-source.js";
import { JobFuture } from "./job-future.js";
import { NO_ID, registryBuffer, sourceId } from "./job-registry.js";
import { moduleFunctionId } from "./module-function.js";
import { rebuildThrown, type ThrownRecord } from "./remote-error.js";

/** Options of a `WorkerPoolExecutor`. */
export interface WorkerPoolOptions {
  /** Most threads running jobs at once; default: the machine's available parallelism. */
  maxThreads?: number;
  /** Threads kept alive while idle (started at once); default 1, at most `maxThreads`. */
  minThreads?: number;
  /** How long a thread above `minThreads` may stay idle before it ends, in ms; default 1000. */
  idleTimeoutMs?: number;
  /**
   * Lowers the threads' OS priority by this much (0–19, like `nice`; default 0), so that
   * the loop's thread wins the CPU when the workers keep every core busy. Linux only,
   * where a thread's priority can be changed alone; ignored elsewhere.
   */
  niceIncrement?: number;
}

// The worker side: plain JavaScript shipped in the package, so that sources (tests) and
// dist/ both reach it at the same place.
const ENTRY = new URL("../worker/entry.mjs", import.meta.url).href;

const OK = 0;
/** What the worker entry answers: [0 | 1 (failed), value or error record, run time in ms]. */
type Reply = [status: number, value: unknown, runTimeMs: number];

/**
 * An executor that runs jobs on a pool of worker threads (asyncio's `ThreadPoolExecutor`,
 * for CPU-bound work too, since each worker has its own JavaScript thread). It is a thin
 * layer over [piscina](https://github.com/piscinajs/piscina): piscina queues the jobs,
 * starts and reuses the threads, and terminates the thread of a job whose signal aborts.
 *
 * Jobs are module exports or self-contained functions (see `ExecutorJob`). A job that
 * throws rejects with the worker's error rebuilt here; a job dropped by
 * `shutdown({ cancelFutures: true })` rejects with a `CancelledError`.
 * @example
 * const pool = new WorkerPoolExecutor({ maxThreads: 4 });
 * try {
 *   const digest = yield* runInExecutor(pool, sha, data);
 * } finally {
 *   yield* ensureFuture(pool.shutdown());
 * }
 */
export class WorkerPoolExecutor implements Executor {
  private readonly _pool: Piscina;
  private _shutdown = false;
  private _closing: Promise<void> | null = null;
  /** The Futures (`runInExecutor`'s jobs) of the jobs started here whose outcome has not arrived. */
  private readonly _live = new Set<JobFuture<unknown>>();

  constructor(opts?: WorkerPoolOptions) {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("new WorkerPoolExecutor(opts): opts must be an object like { maxThreads }");
    }
    const maxThreads = checkCount("maxThreads", opts?.maxThreads, availableParallelism(), 1);
    const minThreads = Math.min(checkCount("minThreads", opts?.minThreads, 1, 0), maxThreads);
    const idleTimeoutMs = opts?.idleTimeoutMs ?? 1000;
    if (typeof idleTimeoutMs !== "number" || !(idleTimeoutMs >= 0)) {
      throw new RangeError(`new WorkerPoolExecutor({ idleTimeoutMs }): idleTimeoutMs must be a number of milliseconds >= 0, got ${String(idleTimeoutMs)}`);
    }
    const niceIncrement = opts?.niceIncrement ?? 0;
    if (typeof niceIncrement !== "number" || !Number.isInteger(niceIncrement) || niceIncrement < 0 || niceIncrement > 19) {
      throw new RangeError(`new WorkerPoolExecutor({ niceIncrement }): niceIncrement must be an integer from 0 to 19, got ${String(niceIncrement)}`);
    }
    this._pool = new Piscina({
      filename: ENTRY,
      workerData: { "@loop/workers": { niceIncrement, registry: registryBuffer() } },
      minThreads,
      maxThreads,
      idleTimeout: idleTimeoutMs,
      // runInExecutor reports each job's run time itself; piscina's histograms would be
      // a second bookkeeping per job that nobody reads.
      recordTiming: false,
    });
    // piscina emits 'error' for a worker that fails while running no job; an EventEmitter
    // with no listener would turn it into an uncaught exception.
    this._pool.on("error", (error: unknown) => {
      console.error("[@loop/workers] a worker thread failed outside any job:", error);
    });
  }

  /** Most threads running jobs at once. */
  get maxThreads(): number {
    return this._pool.maxThreads;
  }

  /** The worker threads alive now (starting, idle or busy). */
  get threads(): readonly Worker[] {
    return this._pool.threads;
  }

  /** Jobs waiting for a free thread. */
  get queueSize(): number {
    return this._pool.queueSize;
  }

  /** True once `shutdown()` was called. */
  get isShutdown(): boolean {
    return this._shutdown;
  }

  /** Runs `job` on a worker thread; the promise settles with its outcome (see `Executor.submit`). */
  submit(job: ExecutorJob, signal: ExecutorSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.start(job, signal, (ok, value) => (ok ? resolve(value) : reject(value)));
    });
  }

  /**
   * Runs `job` on a worker thread and calls `settle` with its outcome from the reaction
   * to piscina's promise (see `Executor.start`): what `runInExecutor` uses.
   */
  start(job: ExecutorJob, signal: ExecutorSignal, settle: (ok: boolean, value: unknown) => void): void {
    if (this._shutdown) throw new Error(`WorkerPoolExecutor: cannot run ${job.name} after shutdown()`);
    const module = job.module;
    let task: unknown[];
    if (module !== null) {
      // A module job not described by our moduleFunction() has no id here: named in full.
      const id = moduleFunctionId(module);
      task = id !== undefined && id !== NO_ID ? [id, job.args] : [module.url, module.exportName, null, job.args];
    } else {
      const source = functionSource(job.fn as object);
      const id = sourceId(source);
      task = id !== NO_ID ? [id, job.args] : [null, null, source, job.args];
    }
    const transferList = job.transfer.length === 0 ? undefined : (job.transfer as TransferListItem[]);
    const future = signal instanceof JobFuture ? (signal as JobFuture<unknown>) : null;
    (this._pool.run(task, { signal, transferList }) as Promise<Reply>).then(
      (reply) => {
        if (future !== null) this._live.delete(future);
        job.runTimeMs = reply[2];
        if (reply[0] === OK) settle(true, reply[1]);
        else settle(false, rebuildThrown(reply[1] as ThrownRecord));
      },
      (error: unknown) => {
        if (future !== null) this._live.delete(future);
        settle(false, this._explain(job, signal, error));
      },
    );
    if (future !== null) this._live.add(future);
  }

  /**
   * Stops accepting jobs. With `wait` (the default) it resolves once the running and
   * queued jobs are finished and every thread has exited; without, threads end in the
   * background once their jobs are done. `cancelFutures` drops the queued jobs (they
   * reject with `CancelledError`). Jobs posted from a loop that is no longer running
   * (the default executor at `run()`'s end) are cancelled instead of waited for.
   */
  async shutdown(opts?: { wait?: boolean; cancelFutures?: boolean }): Promise<void> {
    this._shutdown = true;
    const threads = [...this._pool.threads];
    // A job whose loop has stopped (run() shuts its default executor down once every task
    // is done) has nobody left to take its outcome: it is cancelled, its thread stopped,
    // rather than waited for. Jobs of a running loop are waited for, as in asyncio.
    for (const future of this._live) {
      if (!future.getLoop().isRunning()) future.cancel("the event loop stopped: run() cancels the jobs nobody awaits");
    }
    this._closing ??= this._pool.close({ force: opts?.cancelFutures === true }).catch((error: unknown) => {
      console.error("[@loop/workers] WorkerPoolExecutor shutdown failed:", error);
    });
    if (opts?.wait !== false) {
      await this._closing;
      // The thread of a cancelled job is terminated, which finishes on its own time: wait
      // until every thread has exited, so that a finished shutdown leaves none running.
      await Promise.all(threads.filter((thread) => thread.threadId !== -1).map((thread) => once(thread, "exit")));
    }
  }

  /** What a rejection from piscina means for the job's owner. */
  private _explain(job: ExecutorJob, signal: ExecutorSignal, error: unknown): unknown {
    if (signal.aborted) return signal.reason instanceof CancelledError ? signal.reason : new CancelledError(`${job.name} was cancelled`);
    const name = error instanceof Error ? error.name : "";
    const message = error instanceof Error ? error.message : String(error);
    if (this._shutdown && (name === "AbortError" || message === "Terminating worker thread")) {
      return new CancelledError(`${job.name} was dropped: the executor was shut down before it ran`);
    }
    if (name === "DataCloneError") {
      const side = canClone(job.args) ? "its result cannot be sent back from" : "an argument cannot be sent to";
      return new TypeError(
        `${job.name}: ${side} the worker thread (${message}); only data crosses threads: plain objects, arrays, strings, numbers, typed arrays, Maps, Sets, Dates…`,
        { cause: error },
      );
    }
    if (!(error instanceof Error)) {
      // What a worker's uncaught error becomes when Node cannot serialize it (a DOMException).
      return new Error(`${job.name}: the worker thread died while running the job or sending back its result`, { cause: error });
    }
    return new Error(`${job.name}: the worker thread stopped while running the job: ${message}`, { cause: error });
  }
}

function canClone(args: readonly unknown[]): boolean {
  try {
    structuredClone(args);
    return true;
  } catch {
    return false;
  }
}

function checkCount(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`new WorkerPoolExecutor({ ${name} }): ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`new WorkerPoolExecutor({ ${name} }): ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
