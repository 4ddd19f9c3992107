/**
 * @loop/workers against running the work on the loop and against piscina used directly,
 * in one process:
 *
 *   pnpm --filter @loop/bench bench -- workers
 *
 * (a) eight CPU-bound jobs (~50 ms of SHA-256 hashing each): wall time on the loop, with
 *     runInWorker on a pool of 2 threads, and with piscina directly;
 * (b) the loop's lag while those jobs run, measured by a ticker task that sleeps 5 ms at
 *     a time and records how late it wakes;
 * (c) a trivial job's round trip (yield* runInWorker / toThread, one after the other),
 *     against `await pool.run()` on piscina: on the very piscina pool our executor runs
 *     (the reference), and on a second pool configured the same way. Two identical
 *     piscina pools in one process differ by up to 10% in round trip, persistently (the
 *     threads land on different cores, sleep differently); comparing on the same threads
 *     removes that bias from the ratio.
 * CPython asyncio runs (a) with run_in_executor on a ProcessPoolExecutor and (c) on a
 * ThreadPoolExecutor through python3 when present (uvloop is not installable here).
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { createTask, gather, run, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";
import { WorkerPoolExecutor, moduleFunction, runInExecutor } from "@loop/workers";
import { Piscina } from "piscina";
import { printTable, runPython, summarize, type Sample } from "../lib/report.ts";

const JOBS = 8;
const THREADS = 2;
const JOB_MS = 50;
const ROUND_TRIPS = 500;
const ROUNDS = 7;
/** (c) is short per round, so it runs many rounds: pairs of neighbouring rounds see the same machine. */
const ROUND_TRIP_ROUNDS = 41;

const jobsModule = new URL("./workers-jobs.mjs", import.meta.url);
const { sha } = (await import(jobsModule.href)) as { sha: (text: string, blocks: number) => string };
const pythonScript = fileURLToPath(new URL("../python/workers_peers.py", import.meta.url));

/** Hash blocks that take about JOB_MS on this machine, from the fastest of a few tries (the least disturbed). */
function calibrate(): number {
  const probe = 200;
  for (let i = 0; i < 3; i++) sha("warm-up", probe);
  let fastest = Infinity;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    sha("calibrate", probe);
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return Math.round((probe * JOB_MS) / fastest);
}

const blocks = calibrate();
const shaJob = moduleFunction<typeof sha>(jobsModule, "sha");
const incJob = moduleFunction<(x: number) => number>(jobsModule, "inc");

// One pool for @loop and one for piscina, same shape, threads started and warm before timing.
const ours = new WorkerPoolExecutor({ maxThreads: THREADS, minThreads: THREADS });
const oursNiced = new WorkerPoolExecutor({ maxThreads: THREADS, minThreads: THREADS, niceIncrement: 10 });
const peer = new Piscina({ filename: jobsModule.href, minThreads: THREADS, maxThreads: THREADS, recordTiming: false });
const peerDefaults = new Piscina({ filename: jobsModule.href, minThreads: THREADS, maxThreads: THREADS });
// The piscina pool inside `ours` (a private field, reached into here only): running the
// jobs module on it directly compares the two ways of calling on the same threads. The
// module is named by path, as piscina keeps its default filename: a file: URL would cost
// piscina a URL parse per run that the other contenders do not pay.
const oursInner = (ours as unknown as { _pool: Piscina })._pool;
const jobsPath = fileURLToPath(jobsModule);

/** A ticker that wakes every 5 ms and records how late each wake-up is, until stopped. */
function* ticker(lags: number[], stop: { done: boolean }): Coroutine<void> {
  let expected = performance.now() + 5;
  while (!stop.done) {
    yield* sleep(5);
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 5;
  }
}

interface BatchResult {
  wallMs: number;
  lags: number[];
}

/**
 * CPU time of the whole process (loop and worker threads) per wall-clock ms during the
 * batches: how many cores the work actually got. Robust to a busy machine in a way wall
 * times are not: with two threads it can reach 2, when the machine has two cores to give.
 */
const parallelism: Record<string, number[]> = {};
function recordParallelism(name: string, cpu: NodeJS.CpuUsage, wallMs: number): void {
  const used = process.cpuUsage(cpu);
  (parallelism[name] ??= []).push((used.user + used.system) / 1000 / wallMs);
}

/** Runs the eight jobs in one run(), with the ticker beside them. */
async function batch(kind: "loop" | "workers" | "niced"): Promise<BatchResult> {
  const lags: number[] = [];
  let wallMs = 0;
  await run(function* () {
    const stop = { done: false };
    const tick = createTask(ticker(lags, stop));
    yield* sleep(20); // the ticker settles into its rhythm
    lags.length = 0;
    const t0 = performance.now();
    const cpu = process.cpuUsage();
    if (kind === "loop") {
      // Each job is one task step that blocks the loop for JOB_MS.
      yield* gather(Array.from({ length: JOBS }, (_, i) => createTask(onLoop(`job ${i}`))));
    } else {
      const pool = kind === "niced" ? oursNiced : ours;
      yield* gather(Array.from({ length: JOBS }, (_, i) => runInExecutor(pool, shaJob, `job ${i}`, blocks)));
    }
    wallMs = performance.now() - t0;
    recordParallelism(kind === "loop" ? "on the loop" : kind === "niced" ? "runInWorker, niceIncrement 10" : "runInWorker", cpu, wallMs);
    stop.done = true;
    yield* tick;
  });
  return { wallMs, lags };
}

function* onLoop(text: string): Coroutine<string> {
  yield;
  return sha(text, blocks);
}

async function piscinaBatch(): Promise<number> {
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: JOBS }, (_, i) => peer.run({ text: `job ${i}`, blocks }, { name: "shaTask" })));
  const wallMs = performance.now() - t0;
  recordParallelism("piscina directly", cpu, wallMs);
  return wallMs;
}

/** µs per sequential round trip of a trivial job. */
async function ourRoundTrips(via: "module" | "function"): Promise<number> {
  const t0 = performance.now();
  await run(function* () {
    let x = 0;
    if (via === "module") for (let i = 0; i < ROUND_TRIPS; i++) x = yield* runInExecutor(ours, incJob, x);
    else for (let i = 0; i < ROUND_TRIPS; i++) x = yield* runInExecutor(ours, (n: number) => n + 1, x);
  });
  return ((performance.now() - t0) * 1000) / ROUND_TRIPS;
}

async function piscinaRoundTrips(pool: Piscina, filename?: string): Promise<number> {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < ROUND_TRIPS; i++) x = (await pool.run(x, { name: "inc", filename })) as number;
  return ((performance.now() - t0) * 1000) / ROUND_TRIPS;
}

/** The same, cancellable as ours are: each job gets an AbortSignal, as runInExecutor passes one. */
async function piscinaCancellableRoundTrips(pool: Piscina): Promise<number> {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < ROUND_TRIPS; i++) x = (await pool.run(x, { name: "inc", signal: new AbortController().signal })) as number;
  return ((performance.now() - t0) * 1000) / ROUND_TRIPS;
}

/**
 * Runs each contender once per round, interleaved (in reverse order every other round),
 * so that machine noise hits all alike.
 */
async function interleaved(contenders: Record<string, () => Promise<number>>, warmup = 2, rounds = ROUNDS): Promise<Sample[]> {
  const samples = Object.keys(contenders).map((name) => ({ name, values: [] as number[] }));
  for (let r = 0; r < warmup + rounds; r++) {
    const order = r % 2 === 0 ? samples : [...samples].reverse();
    for (const sample of order) {
      const value = await (contenders[sample.name] as () => Promise<number>)();
      if (r >= warmup) sample.values.push(value);
    }
  }
  return samples;
}

/**
 * The median over rounds of `sample / reference` measured in the same round: on a busy
 * machine, steadier than the ratio of the two medians.
 */
function pairedRatio(sample: Sample, reference: Sample): number {
  return summarize(sample.values.map((v, i) => v / (reference.values[i] as number))).median;
}

console.log(`machine: ${availableParallelism()} cores, node ${process.version}; one job = SHA-256 of ${blocks} blocks of 64 KiB (~${JOB_MS} ms)`);
const py = runPython(pythonScript, [String(JOBS), String(THREADS), String(JOB_MS)]);

// (a) + (b)
const lagOnLoop: number[] = [];
const lagInWorkers: number[] = [];
const lagInNicedWorkers: number[] = [];
const lagSamples: Record<string, number[]> = {
  "jobs on the loop": lagOnLoop,
  "jobs in workers": lagInWorkers,
  "jobs in workers, niceIncrement 10": lagInNicedWorkers,
};
const a = await interleaved({
  "8 jobs on the loop": async () => {
    const r = await batch("loop");
    lagOnLoop.push(...r.lags);
    return r.wallMs;
  },
  "8 jobs, runInWorker (2 threads)": async () => {
    const r = await batch("workers");
    lagInWorkers.push(...r.lags);
    return r.wallMs;
  },
  "8 jobs, runInWorker (2 threads, niceIncrement 10)": async () => {
    const r = await batch("niced");
    lagInNicedWorkers.push(...r.lags);
    return r.wallMs;
  },
  "8 jobs, piscina directly (2 threads)": piscinaBatch,
});
if (py?.["cpu_loop_ms"]) a.push({ name: "CPython: 8 jobs on the loop", values: py["cpu_loop_ms"] });
if (py?.["cpu_process_pool_ms"]) a.push({ name: "CPython: run_in_executor, ProcessPool(2)", values: py["cpu_process_pool_ms"] });
printTable(`(a) ${JOBS} CPU-bound jobs of ~${JOB_MS} ms`, "ms wall time", a, "8 jobs on the loop");
const [onLoopSample, inWorkersSample] = a as [Sample, Sample];
const speedup = summarize(onLoopSample.values).median / summarize(inWorkersSample.values).median;
const bestSpeedup = Math.min(...onLoopSample.values) / Math.min(...inWorkersSample.values);
console.log(
  `speed-up of runInWorker over the loop: ${speedup.toFixed(2)}x (median wall times), ${bestSpeedup.toFixed(2)}x (best of each), ` +
    `${(1 / pairedRatio(inWorkersSample, onLoopSample)).toFixed(2)}x (median of same-round ratios)`,
);

console.log(`cores used (process CPU ms per wall ms, median): ${Object.entries(parallelism).map(([name, v]) => `${name} ${summarize(v).median.toFixed(2)}`).join(", ")}`);

console.log("\n### (b) loop lag while the jobs run (ms a 5 ms ticker wakes late; lower is better)");
console.table(
  Object.entries(lagSamples).map(([where, lags]) => {
    const sorted = [...lags].sort((x, y) => x - y);
    const at = (p: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN) * 100) / 100;
    return { where, ticks: sorted.length, median: at(50), p99: at(99), max: at(100) };
  }),
);

// (c)
const c = await interleaved(
  {
    "piscina run() on our executor's own threads": () => piscinaRoundTrips(oursInner, jobsPath),
    "@loop runInExecutor(pool, module export)": () => ourRoundTrips("module"),
    "@loop runInExecutor(pool, function)": () => ourRoundTrips("function"),
    "piscina run(), a second pool (same options)": () => piscinaRoundTrips(peer),
    "piscina run(), a third pool (default options)": () => piscinaRoundTrips(peerDefaults),
    "piscina run() with an AbortSignal (cancellable, like ours)": () => piscinaCancellableRoundTrips(peer),
  },
  3,
  ROUND_TRIP_ROUNDS,
);
if (py?.["round_trip_thread_us"]) c.push({ name: "CPython: run_in_executor, ThreadPool", values: py["round_trip_thread_us"] });
printTable(`(c) trivial job round trip, ${ROUND_TRIPS} in a row`, "µs per job", c, "piscina run() on our executor's own threads");
const [samePoolSample, moduleSample, functionSample, secondPoolSample, , cancellableSample] = c as [Sample, Sample, Sample, Sample, Sample, Sample];
const paired = (reference: Sample): string =>
  `module export ${pairedRatio(moduleSample, reference).toFixed(2)}x, function ${pairedRatio(functionSample, reference).toFixed(2)}x`;
console.log(`paired ratios (median over rounds of ours / piscina in the same round), on the same threads: ${paired(samePoolSample)}`);
console.log(
  `  for scale, the second pool against the first: ${pairedRatio(secondPoolSample, samePoolSample).toFixed(2)}x; ` +
    `ours against the second pool: ${paired(secondPoolSample)}`,
);
console.log(`  against piscina with an AbortSignal (the same capability as ours), on the second pool: ${paired(cancellableSample)}`);

await ours.shutdown();
await oursNiced.shutdown();
await peer.close();
await peerDefaults.close();
