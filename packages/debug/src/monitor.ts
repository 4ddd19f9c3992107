import { getRunningLoop, type AbstractHandle, type AbstractTask, type EventLoop, type ExecutorJobInfo, type Instrument } from "@loop/core";
import { formatPrometheus } from "./prometheus.js";

/** Options of `LoopMonitor`. */
export interface LoopMonitorOptions {
  /** How many recent iterations the lag percentiles cover (default 1000). */
  window?: number;
  /** How many of the slowest callbacks and task steps to keep (default 10). */
  slowest?: number;
  /** The clock, in ms (default `performance.now`); tests pass a fake one. */
  clock?: () => number;
}

/** One of the slowest callbacks or task steps seen. */
export interface SlowCallback {
  /** A plain callback or one step of a task. */
  kind: "callback" | "task step";
  /** The task's name, or the callback's description. */
  name: string;
  /** How long it ran, in ms. */
  durationMs: number;
  /** the clock reading when it ended (ms). */
  at: number;
}

/** What `LoopMonitor.snapshot()` returns: plain data, ready for JSON. */
export interface MonitorSnapshot {
  /** Iterations seen since `start()`. */
  iterations: number;
  /**
   * Iteration lag over the recent window, in ms: how much longer than its requested wait
   * an iteration took — the time spent running callbacks plus how late the poller woke
   * the loop. A callback that blocks for 200 ms makes a 200 ms lag.
   */
  lagMs: { p50: number; p99: number; max: number };
  /** The largest lag since `start()`. */
  lagMaxEverMs: number;
  /** Callbacks and task steps queued for the next iteration, and the most seen in the window. */
  readyQueue: { depth: number; max: number };
  /** Callbacks and task steps run per second, over the last second or so. */
  callbacksPerSecond: number;
  /** Callbacks and task steps run since `start()`. */
  callbacksTotal: number;
  /** Tasks not done yet. */
  liveTasks: number;
  /** Timers scheduled and not yet due. */
  pendingTimers: number;
  /** Jobs reported by executors (`@loop/workers`), and the time they spent off the loop. */
  workers: { jobs: number; busyMs: number; errors: number; cancelled: number };
  /** The slowest callbacks and task steps of the window, slowest first. */
  slowest: SlowCallback[];
}

const defaultClock: () => number = () => performance.now();
const RATE_BUCKET_MS = 100;
const RATE_BUCKETS = 10;

/**
 * Loop metrics from instrument hooks: iteration lag (p50/p99/max), ready-queue depth,
 * callbacks per second, live tasks, pending timers, time spent in worker threads, and the
 * slowest callbacks. Costs nothing until `start()`; then a few clock reads per callback.
 * @example
 * const monitor = new LoopMonitor(loop).start();
 * // …
 * console.log(monitor.snapshot().lagMs.p99);
 * console.log(monitor.prometheus());
 */
export class LoopMonitor {
  /** The loop it measures. */
  readonly loop: EventLoop;
  private readonly _lag: Float64Array;
  private readonly _depth: Float64Array;
  private _samples = 0;
  /** Ready-queue depths taken: one per iteration, the first included (it has no lag yet). */
  private _depthSamples = 0;
  private _lagMaxEver = 0;
  private _iterations = 0;
  private _turnStart = -1;
  private _requestedWait: number | null = 0;
  private _callbacks = 0;
  private readonly _rate = new Float64Array(RATE_BUCKETS);
  private _rateBucket = 0;
  private _started = false;
  private _callbackStart = 0;
  private _stepStart = 0;
  private readonly _slowest: SlowCallback[] = [];
  private readonly _slowestLimit: number;
  private _workerJobs = 0;
  private _workerBusy = 0;
  private _workerErrors = 0;
  private _workerCancelled = 0;
  private readonly _instrument: Instrument;
  private readonly _clock: () => number;

  constructor(loop?: EventLoop, opts?: LoopMonitorOptions) {
    this.loop = loop ?? getRunningLoop();
    this._clock = opts?.clock ?? defaultClock;
    if (typeof this._clock !== "function") throw new TypeError("LoopMonitor(loop, { clock }): clock must be a function returning milliseconds");
    const window = opts?.window ?? 1000;
    const slowest = opts?.slowest ?? 10;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`LoopMonitor(loop, { window }): window must be an integer ≥ 1, got ${window}`);
    if (!Number.isInteger(slowest) || slowest < 0) throw new RangeError(`LoopMonitor(loop, { slowest }): slowest must be an integer ≥ 0, got ${slowest}`);
    this._lag = new Float64Array(window);
    this._depth = new Float64Array(window);
    this._slowestLimit = slowest;
    // The hooks live on one object with every method, bound once: one monomorphic call per hook site.
    this._instrument = {
      beforePoll: (timeout) => this._beforePoll(timeout),
      afterPoll: () => this._afterPoll(),
      callbackStart: () => {
        this._callbackStart = this._clock();
      },
      callbackEnd: (handle) => this._callbackEnd(handle),
      taskStepStart: () => {
        this._stepStart = this._clock();
      },
      taskStepEnd: (task) => this._taskStepEnd(task),
      executorJob: (job) => this._executorJob(job),
    };
  }

  /** Adds the monitor's hooks to the loop. */
  start(): this {
    if (!this._started) {
      this._started = true;
      this._turnStart = -1;
      this.loop.addInstrument(this._instrument);
    }
    return this;
  }

  /** Removes the hooks; the numbers gathered so far stay readable. */
  stop(): void {
    if (!this._started) return;
    this._started = false;
    this.loop.removeInstrument(this._instrument);
  }

  /** The metrics now. */
  snapshot(): MonitorSnapshot {
    const count = Math.min(this._samples, this._lag.length);
    const lags = Array.from(this._lag.subarray(0, count)).sort((a, b) => a - b);
    let depthMax = 0;
    const depths = Math.min(this._depthSamples, this._depth.length);
    for (let i = 0; i < depths; i++) depthMax = Math.max(depthMax, this._depth[i] as number);
    this._advanceRate(this._clock());
    let recent = 0;
    for (let i = 0; i < RATE_BUCKETS; i++) recent += this._rate[i] as number;
    return {
      iterations: this._iterations,
      lagMs: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.length === 0 ? 0 : (lags[lags.length - 1] as number) },
      lagMaxEverMs: this._lagMaxEver,
      readyQueue: { depth: this.loop.readyCount, max: depthMax },
      callbacksPerSecond: (recent * 1000) / (RATE_BUCKET_MS * RATE_BUCKETS),
      callbacksTotal: this._callbacks,
      liveTasks: this.loop.allTasks().size,
      pendingTimers: this.loop.timerCount,
      workers: { jobs: this._workerJobs, busyMs: this._workerBusy, errors: this._workerErrors, cancelled: this._workerCancelled },
      slowest: this._slowest.map((s) => ({ ...s })),
    };
  }

  /** The metrics in Prometheus' text exposition format (version 0.0.4). */
  prometheus(): string {
    return formatPrometheus(this.snapshot());
  }

  private _beforePoll(timeout: number | null): void {
    this._requestedWait = timeout;
    this._depth[this._depthSamples % this._depth.length] = this.loop.readyCount;
    this._depthSamples++;
  }

  private _afterPoll(): void {
    const t = this._clock();
    if (this._turnStart >= 0) {
      // A wait "until woken" (null) has no deadline to be late for: only the busy part counts.
      const wait = this._requestedWait;
      const lag = wait === null ? 0 : Math.max(0, t - this._turnStart - wait);
      this._lag[this._samples % this._lag.length] = lag;
      this._samples++;
      if (lag > this._lagMaxEver) this._lagMaxEver = lag;
    }
    this._turnStart = t;
    this._iterations++;
  }

  private _callbackEnd(handle: AbstractHandle): void {
    const t = this._clock();
    this._count(t);
    const took = t - this._callbackStart;
    if (this._isSlowest(took)) this._keepSlow({ kind: "callback", name: handleName(handle), durationMs: took, at: t });
  }

  private _taskStepEnd(task: AbstractTask<unknown>): void {
    const t = this._clock();
    this._count(t);
    const took = t - this._stepStart;
    if (this._isSlowest(took)) this._keepSlow({ kind: "task step", name: task.name, durationMs: took, at: t });
  }

  private _executorJob(job: ExecutorJobInfo): void {
    this._workerJobs++;
    this._workerBusy += job.durationMs;
    if (job.outcome === "error") this._workerErrors++;
    else if (job.outcome === "cancelled") this._workerCancelled++;
  }

  private _count(t: number): void {
    this._callbacks++;
    this._advanceRate(t);
    this._rate[this._rateBucket % RATE_BUCKETS]++;
  }

  /** Moves the rate window to the bucket of time `t`, zeroing the buckets skipped. */
  private _advanceRate(t: number): void {
    const bucket = Math.floor(t / RATE_BUCKET_MS);
    if (bucket === this._rateBucket) return;
    const skipped = Math.min(bucket - this._rateBucket, RATE_BUCKETS);
    for (let i = 1; i <= skipped; i++) this._rate[(this._rateBucket + i) % RATE_BUCKETS] = 0;
    this._rateBucket = bucket;
  }

  private _isSlowest(took: number): boolean {
    const list = this._slowest;
    if (this._slowestLimit === 0) return false;
    return list.length < this._slowestLimit || took > (list[list.length - 1] as SlowCallback).durationMs;
  }

  private _keepSlow(entry: SlowCallback): void {
    const list = this._slowest;
    let i = list.length;
    while (i > 0 && (list[i - 1] as SlowCallback).durationMs < entry.durationMs) i--;
    list.splice(i, 0, entry);
    if (list.length > this._slowestLimit) list.length = this._slowestLimit;
  }
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

/** "name()" for a callback handle, without the "created at" that debug mode adds. */
export function handleName(handle: AbstractHandle): string {
  const text = String(handle);
  const match = /^<\w+ (.*?)(?: created at .*?)?(?: cancelled)?>$/s.exec(text);
  return match === null ? text : (match[1] as string);
}
