import { pbkdf2Sync } from "node:crypto";
import { createTask, gather, getRunningLoop, run, type Coroutine } from "@loop/core";
import { LoopMonitor } from "@loop/debug";
import { sleep } from "@loop/timers";
import { defaultExecutor, runInWorker } from "@loop/workers";
import type { Scenario } from "../scenario.js";

const JOBS = 4;
const THREADS = 2;
const TICK_MS = 10;
/** PBKDF2 iterations for about 80 ms of hashing, measured at start. */
const TARGET_JOB_MS = 80;

/** One hashing job: key stretching with PBKDF2-SHA256, the kind of work a login does. */
type Pbkdf2 = (password: string, salt: string, iterations: number, keylen: number, digest: string) => Uint8Array;

/** A ticker that should wake every TICK_MS; it records how late each wake-up is. */
class Ticker {
  readonly lateness: number[] = [];
  /** When the pending wake-up is due. */
  due = Infinity;

  *run(): Coroutine<void> {
    for (;;) {
      this.due = performance.now() + TICK_MS;
      yield* sleep(TICK_MS);
      this.lateness.push(Math.max(0, performance.now() - this.due));
    }
  }

  /** Counts the wake-up still pending when the ticker is stopped, if it is overdue. */
  stop(task: { cancel(): boolean }): void {
    const late = performance.now() - this.due;
    if (late > 0) this.lateness.push(late);
    task.cancel();
  }
}

/** A task that hashes on the loop itself: one step that blocks every other task. */
function* hashOnLoop(password: string, iterations: number): Coroutine<string> {
  yield* sleep(0);
  // eslint-disable-next-line @loop/no-blocking-in-coroutine -- this task hashes on the loop on purpose, to compare with the same job on a worker
  return Buffer.from(pbkdf2Sync(password, "salt", iterations, 32, "sha256")).toString("hex");
}

/** The same job on a worker thread: `pbkdf2Sync` of `node:crypto`, run where the loop is not. */
function* hashInWorker(password: string, iterations: number): Coroutine<string> {
  const key = yield* runInWorker<Pbkdf2>("node:crypto", "pbkdf2Sync", password, "salt", iterations, 32, "sha256");
  return Buffer.from(key).toString("hex");
}

export interface PhaseResult {
  wallMs: number;
  ticks: number;
  maxLateMs: number;
  digests: string[];
}

function* phase(print: (line: string) => void, job: (password: string) => Coroutine<string>, label: string): Coroutine<PhaseResult> {
  const ticker = new Ticker();
  const tick = createTask(ticker.run(), { name: "ticker" });
  yield* sleep(3 * TICK_MS);
  const lateness = ticker.lateness;
  lateness.length = 0;
  const start = performance.now();
  const digests = yield* gather(Array.from({ length: JOBS }, (_, i) => createTask(job(`password ${i}`), { name: `${label}-${i + 1}` })));
  const wallMs = performance.now() - start;
  ticker.stop(tick);
  const maxLateMs = Math.max(0, ...lateness);
  const expected = Math.floor(wallMs / TICK_MS);
  print(`  ${JOBS} jobs took ${wallMs.toFixed(0)} ms; the ${TICK_MS} ms ticker woke ${lateness.length} times (${expected} due), late by up to ${maxLateMs.toFixed(1)} ms`);
  print(`  ticker: ${rhythm(lateness)}`);
  return { wallMs, ticks: lateness.length, maxLateMs, digests };
}

/** One character per tick: on time, a little late, very late. */
function rhythm(lateness: readonly number[]): string {
  return lateness.map((ms) => (ms < 5 ? "·" : ms < TICK_MS * 2 ? "-" : "X")).join("") || "(no tick at all)";
}

export interface WorkersTourResult {
  onLoop: PhaseResult;
  inWorkers: PhaseResult;
  slowStepReports: string[];
}

/**
 * The same hashing jobs twice, with a ticker beside them: first on the loop, where each
 * job blocks it (the ticker stalls, and debug mode names the slow step), then with
 * `runInWorker`, on worker threads (the ticker keeps its rhythm). Needs a loop in debug
 * mode for the slow-step report.
 */
export function* workersTour(print: (line: string) => void): Coroutine<WorkersTourResult> {
  const loop = getRunningLoop();
  const slowStepReports: string[] = [];
  const defaultLogger = loop.debugLogger;
  loop.slowCallbackDuration = TARGET_JOB_MS / 2;
  loop.debugLogger = { warn: (message) => void slowStepReports.push(message) };

  const iterations = calibrate();
  print(`one job: PBKDF2-SHA256 with ${iterations} iterations (about ${TARGET_JOB_MS} ms of hashing)`);

  print(`\n${JOBS} jobs on the loop:`);
  const onLoop = yield* phase(print, (password) => hashOnLoop(password, iterations), "hash-on-loop");
  if (loop.getDebug()) {
    print("  debug mode names the slow steps:");
    for (const report of slowStepReports.filter((r) => r.includes("hash-on-loop"))) print(`    ${report.split("\n")[0]}`);
  }

  // Start the threads first, so that the timing below is the hashing, not thread start-up.
  defaultExecutor({ maxThreads: THREADS, minThreads: THREADS });
  yield* gather(Array.from({ length: THREADS }, () => runInWorker("node:crypto", "randomUUID")));

  print(`\nthe same ${JOBS} jobs with runInWorker("node:crypto", "pbkdf2Sync", …) on ${THREADS} worker threads:`);
  const monitor = new LoopMonitor(loop).start();
  const inWorkers = yield* phase(print, (password) => hashInWorker(password, iterations), "hash-in-worker");
  monitor.stop();
  const { workers } = monitor.snapshot();
  print(`  @loop/debug's LoopMonitor counted ${workers.jobs} worker jobs, ${workers.busyMs.toFixed(0)} ms of work off the loop`);
  const same = onLoop.digests.every((digest, i) => digest === inWorkers.digests[i]);
  print(`  same digests: ${same ? "yes" : "NO"}; slow steps reported this time: ${slowStepReports.filter((r) => r.includes("hash-in-worker")).length}`);

  loop.debugLogger = defaultLogger;
  return { onLoop, inWorkers, slowStepReports };
}

/** Iterations for TARGET_JOB_MS, from the fastest of a few probes (the others met a busy machine). */
function calibrate(): number {
  const probe = 10_000;
  let fastest = Infinity;
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    pbkdf2Sync("calibrate", "salt", probe, 32, "sha256");
    fastest = Math.min(fastest, performance.now() - start);
  }
  return Math.max(1000, Math.round((probe * TARGET_JOB_MS) / Math.max(0.1, fastest)));
}

export const workersScenario: Scenario = {
  name: "workers",
  description: "hashing on the loop stalls a ticker (debug mode names the step); with runInWorker it keeps its rhythm",
  async run() {
    await run(() => workersTour((line) => console.log(line)), { debug: true });
  },
};
