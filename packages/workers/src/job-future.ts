import { performance } from "node:perf_hooks";
import { CancelledError, Future, type EventLoop, type ExecutorJob, type ExecutorJobInfo, type ExecutorSignal } from "@loop/core";

/**
 * The Future of one executor job. It is also the job's abort signal: cancelling the
 * Future (which is what cancelling the task waiting on it does) aborts the job
 * synchronously, and a job costs no AbortController. `aborted`, `reason`,
 * `addEventListener` and `removeEventListener` are the `ExecutorSignal` the executor
 * listens to; everyone else sees a Future.
 *
 * The outcome arrives from the executor's promise, outside any loop turn (`settle`),
 * and is set on the Future right there: JavaScript has one thread, so setting it is
 * safe, and the Future schedules its done callbacks (the waiting task's wake-up) on the
 * loop and wakes it. There is no window between "the job finished" and "the Future is
 * done" in which a cancel could discard a finished job's result: once the outcome
 * arrived, `cancel()` returns false. Each job is reported to the loop's instruments
 * exactly once: when it is cancelled, or when its outcome arrives.
 */
export class JobFuture<T> extends Future<T> implements ExecutorSignal {
  aborted = false;
  reason: unknown = undefined;
  readonly job: ExecutorJob;
  /** The executor's promise settled: the job is over, there is nothing left to abort. */
  private _settled = false;
  private _reported = false;
  private _listener: (() => void) | null = null;
  private _moreListeners: (() => void)[] | null = null;
  private readonly _submittedAt: number;

  constructor(loop: EventLoop, job: ExecutorJob) {
    super(loop);
    this.job = job;
    this._submittedAt = performance.now();
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.report("cancelled");
    if (!this._settled) this._abort(new CancelledError(msg));
    return true;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (this._listener === null) this._listener = listener;
    else (this._moreListeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this._listener === listener) this._listener = null;
    else if (this._moreListeners !== null) this._moreListeners = this._moreListeners.filter((l) => l !== listener);
  }

  /** The executor refused the job at the call: nothing ran, nothing is reported. */
  discard(): void {
    this._settled = true;
    this._reported = true;
    super.cancel();
  }

  /** Marks the job over; false if it already was. */
  markSettled(): boolean {
    if (this._settled) return false;
    this._settled = true;
    return true;
  }

  report(outcome: ExecutorJobInfo["outcome"]): void {
    if (this._reported) return;
    this._reported = true;
    // What the executor measured (queue wait excluded), or the time since submission.
    const durationMs = this.job.runTimeMs ?? performance.now() - this._submittedAt;
    this.getLoop().reportExecutorJob({ name: this.job.name, durationMs, outcome });
  }

  private _abort(reason: CancelledError): void {
    this.aborted = true;
    this.reason = reason;
    const first = this._listener;
    const more = this._moreListeners;
    this._listener = null;
    this._moreListeners = null;
    if (first !== null) first();
    if (more !== null) for (const listener of more) listener();
  }
}

/**
 * The executor's promise settled, outside any loop turn: stop counting the job as
 * outside work and settle the Future. (Handing the outcome over with
 * `callSoonThreadsafe` instead would cost a loop iteration per job and open a window
 * where a finished job could be cancelled.)
 */
export function settle<T>(future: JobFuture<T>, ok: boolean, value: unknown): void {
  if (!future.markSettled()) return;
  // The Future may be kept long after the job; its arguments need not be.
  const job = future.job as { args: readonly unknown[]; transfer: readonly unknown[] };
  job.args = NO_ARGS;
  job.transfer = NO_ARGS;
  const loop = future.getLoop();
  loop.unrefExternal();
  if (future.done() || loop.isClosed()) return; // cancelled first: reported then
  if (ok) {
    future.report("ok");
    future.setResult(value as T);
  } else if (value instanceof CancelledError) {
    // The executor dropped the job (a shutdown with cancelFutures): asyncio cancels the future.
    future.cancel(value.message);
  } else {
    future.report("error");
    future.setException(value);
  }
}

const NO_ARGS: readonly unknown[] = Object.freeze([]);
