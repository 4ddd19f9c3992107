/**
 * @loop/core against its peers, in one process: the cost of a task switch, of a callback,
 * of a timer, of resuming through deep `yield*` chains, and the memory of a suspended task.
 *
 *   pnpm --filter @loop/bench bench -- core
 *
 * Peers: plain async/await (resumed by setImmediate, and by the microtask queue), Node's
 * own callback queues, Effection 4, and CPython asyncio through python3 when present.
 */
import { EventLoop, createTask, gather, getRunningLoop, run, type Coroutine, type Future } from "@loop/core";
import { sleep as effectionSleep, run as effectionRun, spawn as effectionSpawn, all as effectionAll, until, type Operation } from "effection";
import { fileURLToPath } from "node:url";
import { gcIfPossible, measure, printTable, runPython, type Sample } from "../lib/report.ts";
import { loopTimerRound, nodeTimerRound, timerDelays } from "../lib/timer-workload.ts";

const pythonScript = fileURLToPath(new URL("../python/core_peers.py", import.meta.url));
const TASKS = 100_000;
const YIELDS = 10;
const CALLBACKS = 1_000_000;
const TIMERS = 100_000;

// (a) 100,000 tasks that each yield to the loop 10 times, then gather: ns per yield.
async function tasksYielding(): Promise<Sample[]> {
  function* worker(): Coroutine<void> {
    for (let i = 0; i < YIELDS; i++) yield;
  }
  const ours = await measure("@loop tasks (yield)", async () => {
    const t0 = process.hrtime.bigint();
    await run(function* () {
      const tasks = [];
      for (let i = 0; i < TASKS; i++) tasks.push(createTask(worker()));
      yield* gather(tasks);
    });
    return Number(process.hrtime.bigint() - t0) / (TASKS * YIELDS);
  });
  const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const asyncImmediate = await measure("async/await + setImmediate", async () => {
    const t0 = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      for (let i = 0; i < YIELDS; i++) await immediate();
    };
    const all = [];
    for (let i = 0; i < TASKS; i++) all.push(worker());
    await Promise.all(all);
    return Number(process.hrtime.bigint() - t0) / (TASKS * YIELDS);
  });
  const asyncMicrotask = await measure("async/await + microtask", async () => {
    const t0 = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      for (let i = 0; i < YIELDS; i++) await null;
    };
    const all = [];
    for (let i = 0; i < TASKS; i++) all.push(worker());
    await Promise.all(all);
    return Number(process.hrtime.bigint() - t0) / (TASKS * YIELDS);
  });
  const effection = await measure(
    "effection 4 (sleep(0))",
    async () => {
      const t0 = process.hrtime.bigint();
      await effectionRun(function* () {
        function* worker(): Operation<void> {
          for (let i = 0; i < YIELDS; i++) yield* effectionSleep(0);
        }
        const ops: Operation<void>[] = [];
        for (let i = 0; i < TASKS / 10; i++) ops.push(worker());
        yield* effectionAll(ops);
      });
      return Number(process.hrtime.bigint() - t0) / ((TASKS / 10) * YIELDS);
    },
    { warmup: 1, rounds: 3 },
  );
  return [ours, asyncImmediate, asyncMicrotask, effection];
}

// (b) 1,000,000 callSoon callbacks: ns per callback.
async function callbacks(): Promise<Sample[]> {
  let count = 0;
  const tick = (): void => {
    count++;
  };
  const ours = await measure("@loop callSoon", async () => {
    const loop = new EventLoop();
    count = 0;
    const t0 = process.hrtime.bigint();
    loop.callSoon(() => {
      for (let i = 0; i < CALLBACKS; i++) loop.callSoon(tick);
      loop.callSoon(() => loop.callSoon(() => loop.stop()));
    });
    await loop.runForever();
    const ns = Number(process.hrtime.bigint() - t0) / CALLBACKS;
    loop.close();
    if (count !== CALLBACKS) throw new Error("lost callbacks");
    return ns;
  });
  const immediate = await measure("setImmediate", async () => {
    count = 0;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      for (let i = 0; i < CALLBACKS; i++) setImmediate(tick);
      setImmediate(() => setImmediate(resolve));
    });
    return Number(process.hrtime.bigint() - t0) / CALLBACKS;
  });
  const nextTick = await measure("process.nextTick", async () => {
    count = 0;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      for (let i = 0; i < CALLBACKS; i++) process.nextTick(tick);
      setImmediate(resolve);
    });
    return Number(process.hrtime.bigint() - t0) / CALLBACKS;
  });
  const microtask = await measure("queueMicrotask", async () => {
    count = 0;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      for (let i = 0; i < CALLBACKS; i++) queueMicrotask(tick);
      setImmediate(resolve);
    });
    return Number(process.hrtime.bigint() - t0) / CALLBACKS;
  });
  return [ours, immediate, nextTick, microtask];
}

// (c) 100,000 timers with random delays of 0–100 ms, half of them cancelled: CPU ns per
// timer operation, where the operations are the 100,000 schedules and 50,000 cancels
// (the 50,000 firings are part of the cost, not counted as operations).
const OPS = TIMERS + TIMERS / 2;

// The rounds of the two alternate (after a warm-up round of each): a round's cost depends
// on the heap the rounds before it left (how much they promoted, how large the young
// generation grew), so measuring all of one peer's rounds and then all of the other's gave
// the second peer the first one's heap, and Node's figure moved by up to 40% with the
// build of @loop that ran before it (bench/README.md). A full collection before each round
// is no fix: it shrinks the young generation, and both peers' rounds then cost about twice
// as much, mostly in collections.
async function timers(): Promise<Sample[]> {
  const ds = timerDelays(TIMERS);
  const ours: Sample = { name: "@loop callLater/cancel", values: [] };
  const node: Sample = { name: "setTimeout/clearTimeout", values: [] };
  for (let round = -1; round < 5; round++) {
    const a = (await loopTimerRound(ds)) / OPS;
    const b = (await nodeTimerRound(ds)) / OPS;
    if (round < 0) continue;
    ours.values.push(a);
    node.values.push(b);
  }
  return [ours, node];
}

// (d) Resuming a coroutine suspended 1 and 50 levels deep in `yield*` delegation: ns per resume.
async function deepResume(): Promise<Sample[]> {
  const RESUMES = 200_000;
  function* leaf(n: number): Coroutine<void> {
    for (let i = 0; i < n; i++) yield;
  }
  function* chain(depth: number, n: number): Coroutine<void> {
    if (depth <= 1) yield* leaf(n);
    else yield* chain(depth - 1, n);
  }
  const out: Sample[] = [];
  for (const depth of [1, 50]) {
    out.push(
      await measure(`@loop resume at depth ${depth}`, async () => {
        const t0 = process.hrtime.bigint();
        await run(chain(depth, RESUMES));
        return Number(process.hrtime.bigint() - t0) / RESUMES;
      }, { warmup: 1, rounds: 5 }),
    );
  }
  async function asyncLeaf(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await null;
  }
  async function asyncChain(depth: number, n: number): Promise<void> {
    if (depth <= 1) await asyncLeaf(n);
    else await asyncChain(depth - 1, n);
  }
  for (const depth of [1, 50]) {
    out.push(
      await measure(`async/await microtask at depth ${depth}`, async () => {
        const t0 = process.hrtime.bigint();
        await asyncChain(depth, RESUMES);
        return Number(process.hrtime.bigint() - t0) / RESUMES;
      }, { warmup: 1, rounds: 5 }),
    );
  }
  return out;
}

// (e) Heap bytes per task suspended on one shared future.
async function memory(): Promise<Sample[]> {
  const N = 100_000;
  const ours = await measure("@loop task blocked on a future", async () => {
    let bytes = 0;
    await run(function* () {
      const loop = getRunningLoop();
      const gate: Future<void> = loop.createFuture<void>();
      function* blocked(): Coroutine<void> {
        yield* gate;
      }
      gcIfPossible();
      const before = process.memoryUsage().heapUsed;
      const tasks = [];
      for (let i = 0; i < N; i++) tasks.push(createTask(blocked()));
      yield; // every task takes its first step and suspends on the gate
      yield;
      gcIfPossible();
      bytes = (process.memoryUsage().heapUsed - before) / N;
      gate.setResult();
      yield* gather(tasks);
    });
    return bytes;
  }, { warmup: 1, rounds: 3 });
  const asyncFn = await measure("async function awaiting one promise", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const blocked = async (): Promise<void> => {
      await gate;
    };
    gcIfPossible();
    const before = process.memoryUsage().heapUsed;
    const all = [];
    for (let i = 0; i < N; i++) all.push(blocked());
    gcIfPossible();
    const bytes = (process.memoryUsage().heapUsed - before) / N;
    release();
    await Promise.all(all);
    return bytes;
  }, { warmup: 1, rounds: 3 });
  const effection = await measure("effection 4 task blocked on a signal", async () => {
    let bytes = 0;
    await effectionRun(function* () {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      function* blocked(): Operation<void> {
        yield* until(gate);
      }
      gcIfPossible();
      const before = process.memoryUsage().heapUsed;
      const tasks = [];
      for (let i = 0; i < N / 10; i++) tasks.push(yield* effectionSpawn(blocked));
      yield* effectionSleep(1);
      gcIfPossible();
      bytes = (process.memoryUsage().heapUsed - before) / (N / 10);
      release();
      for (const t of tasks) yield* t;
    });
    return bytes;
  }, { warmup: 1, rounds: 3 });
  return [ours, asyncFn, effection];
}

function addPython(samples: Sample[], py: Record<string, number[]> | null, key: string, name: string): void {
  const values = py?.[key];
  if (values && values.length > 0) samples.push({ name, values });
}

// CORE_SECTIONS=c runs only section (c), and so on; all five by default.
const sections = process.env["CORE_SECTIONS"] ?? "abcde";
const py = runPython(pythonScript);
if (sections.includes("a")) {
  const a = await tasksYielding();
  addPython(a, py, "yield_ns", "CPython asyncio (sleep(0))");
  printTable("(a) 100,000 tasks × 10 yields, then gather", "ns per yield", a, "@loop tasks (yield)");
}
if (sections.includes("b")) {
  const b = await callbacks();
  addPython(b, py, "call_soon_ns", "CPython asyncio call_soon");
  printTable("(b) 1,000,000 callbacks", "ns per callback", b, "@loop callSoon");
}
if (sections.includes("c")) {
  const c = await timers();
  addPython(c, py, "timer_cpu_ns", "CPython asyncio call_later/cancel");
  printTable("(c) 100,000 timers (0-100 ms), half cancelled", "CPU ns per timer operation", c, "@loop callLater/cancel");
}
if (sections.includes("d")) {
  const d = await deepResume();
  printTable("(d) resume through yield* chains", "ns per resume", d, "@loop resume at depth 1");
}
if (sections.includes("e")) {
  const e = await memory();
  addPython(e, py, "task_bytes", "CPython asyncio task (tracemalloc)");
  printTable("(e) 100,000 tasks suspended on one future", "heap bytes per task", e, "@loop task blocked on a future");
}
