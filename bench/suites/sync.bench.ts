/**
 * @loop/sync against its peers, side by side in one process:
 *
 * (a) a bounded queue (maxsize 100) passing 1,000,000 items from one producer task to one
 *     consumer task: @loop/sync `Queue`, Effection 4 (a bounded queue built from two
 *     `createQueue`s, items and free places, since Effection's queues are unbounded), a
 *     plain promise-based bounded queue with async/await, and CPython asyncio.Queue;
 * (b) 10 rounds of 10,000 tasks contending for a `Semaphore(10)`, each holding its permit
 *     across one turn of the loop: @loop/sync `Semaphore` (with `withLock`, and with
 *     `acquire` and a `try/finally` release), async-mutex's
 *     `Semaphore.runExclusive`, and CPython asyncio.Semaphore.
 *
 *   pnpm --filter @loop/bench bench -- sync
 *
 * Costs are CPU time (user + system, all threads, so garbage collection counts) per
 * operation: on a shared machine wall time mostly measures the neighbours.
 * uvloop is not installable on this machine: the CPython numbers are the default loop's.
 */
import { createTask, gather, run, type Coroutine } from "@loop/core";
import { Queue, Semaphore } from "@loop/sync";
import { Semaphore as MutexSemaphore } from "async-mutex";
import { createQueue, run as effectionRun, spawn as effectionSpawn, type Operation } from "effection";
import { fileURLToPath } from "node:url";
import { cpuSince, measure, printTable, runPython, summarize, type Sample } from "../lib/report.ts";

const ITEMS = 1_000_000;
const MAXSIZE = 100;
const ROUNDS = 10;
const TASKS = 10_000;
const PERMITS = 10;
const EXPECTED_SUM = (ITEMS * (ITEMS - 1)) / 2;
const pythonScript = fileURLToPath(new URL("../python/sync_peers.py", import.meta.url));

function check(sum: number): void {
  if (sum !== EXPECTED_SUM) throw new Error(`lost or duplicated items: sum ${sum}, expected ${EXPECTED_SUM}`);
}

// (a) ns per item through a bounded queue.
async function loopQueue(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    const queue = new Queue<number>(MAXSIZE);
    function* producer(): Coroutine<void> {
      for (let i = 0; i < ITEMS; i++) yield* queue.put(i);
    }
    const task = createTask(producer());
    let sum = 0;
    for (let i = 0; i < ITEMS; i++) sum += yield* queue.get();
    yield* task;
    check(sum);
  });
  return cpuSince(t0) / ITEMS;
}

async function effectionQueue(): Promise<number> {
  const t0 = process.cpuUsage();
  await effectionRun(function* () {
    const items = createQueue<number, never>();
    const room = createQueue<void, never>();
    for (let i = 0; i < MAXSIZE; i++) room.add();
    yield* effectionSpawn(function* (): Operation<void> {
      for (let i = 0; i < ITEMS; i++) {
        yield* room.next();
        items.add(i);
      }
    });
    let sum = 0;
    for (let i = 0; i < ITEMS; i++) {
      const next = yield* items.next();
      sum += next.value as number;
      room.add();
    }
    check(sum);
  });
  return cpuSince(t0) / ITEMS;
}

/** The plain promise-based bounded queue people write by hand (about twenty lines). */
class PromiseQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private readonly getters: ((item: T) => void)[] = [];
  private readonly putters: (() => void)[] = [];
  constructor(private readonly maxsize: number) {}
  async put(item: T): Promise<void> {
    while (this.items.length - this.head >= this.maxsize) await new Promise<void>((resolve) => this.putters.push(resolve));
    const getter = this.getters.shift();
    if (getter !== undefined) getter(item);
    else this.items.push(item);
  }
  get(): Promise<T> {
    if (this.items.length > this.head) {
      const item = this.items[this.head++] as T;
      if (this.head > 1024) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.putters.shift()?.();
      return Promise.resolve(item);
    }
    return new Promise<T>((resolve) => this.getters.push(resolve));
  }
}

async function promiseQueue(): Promise<number> {
  const t0 = process.cpuUsage();
  const queue = new PromiseQueue<number>(MAXSIZE);
  const producer = (async () => {
    for (let i = 0; i < ITEMS; i++) await queue.put(i);
  })();
  let sum = 0;
  for (let i = 0; i < ITEMS; i++) sum += await queue.get();
  await producer;
  check(sum);
  return cpuSince(t0) / ITEMS;
}

// (b) ns per acquisition: 10 rounds of 10,000 tasks, Semaphore(10), one turn inside.
async function loopSemaphore(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    const semaphore = new Semaphore(PERMITS);
    function* inside(): Coroutine<void> {
      yield;
    }
    function* worker(): Coroutine<void> {
      yield* semaphore.withLock(inside);
    }
    for (let r = 0; r < ROUNDS; r++) {
      const tasks = [];
      for (let i = 0; i < TASKS; i++) tasks.push(createTask(worker()));
      yield* gather(tasks);
    }
  });
  return cpuSince(t0) / (ROUNDS * TASKS);
}

async function loopSemaphorePlain(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    const semaphore = new Semaphore(PERMITS);
    function* worker(): Coroutine<void> {
      yield* semaphore.acquire();
      try {
        yield;
      } finally {
        semaphore.release();
      }
    }
    for (let r = 0; r < ROUNDS; r++) {
      const tasks = [];
      for (let i = 0; i < TASKS; i++) tasks.push(createTask(worker()));
      yield* gather(tasks);
    }
  });
  return cpuSince(t0) / (ROUNDS * TASKS);
}

async function asyncMutexSemaphore(): Promise<number> {
  const t0 = process.cpuUsage();
  const semaphore = new MutexSemaphore(PERMITS);
  const inside = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  for (let r = 0; r < ROUNDS; r++) {
    const all = [];
    for (let i = 0; i < TASKS; i++) all.push(semaphore.runExclusive(inside));
    await Promise.all(all);
  }
  return cpuSince(t0) / (ROUNDS * TASKS);
}

async function asyncMutexSemaphoreMicrotask(): Promise<number> {
  const t0 = process.cpuUsage();
  const semaphore = new MutexSemaphore(PERMITS);
  const inside = async (): Promise<void> => {
    await null;
  };
  for (let r = 0; r < ROUNDS; r++) {
    const all = [];
    for (let i = 0; i < TASKS; i++) all.push(semaphore.runExclusive(inside));
    await Promise.all(all);
  }
  return cpuSince(t0) / (ROUNDS * TASKS);
}

function throughput(title: string, unit: string, samples: Sample[]): void {
  console.log(`\n${title} (per CPU second, from the medians; higher is better)`);
  for (const s of samples) {
    const perSecond = 1e9 / summarize(s.values).median;
    console.log(`  ${s.name.padEnd(44)} ${(perSecond / (unit === "items" ? 1e6 : 1e3)).toFixed(2)} ${unit === "items" ? "M" : "k"} ${unit}/s`);
  }
}

const rounds = { warmup: 2, rounds: 7 };
const queueSamples: Sample[] = [
  await measure("@loop/sync Queue", loopQueue, rounds),
  await measure("effection 4 (two createQueue)", effectionQueue, rounds),
  await measure("promise queue (async/await)", promiseQueue, rounds),
];
const semaphoreSamples: Sample[] = [
  await measure("@loop/sync Semaphore.withLock", loopSemaphore, rounds),
  await measure("@loop/sync acquire/try/finally release", loopSemaphorePlain, rounds),
  await measure("async-mutex runExclusive (setImmediate turn)", asyncMutexSemaphore, rounds),
  await measure("async-mutex runExclusive (microtask turn)", asyncMutexSemaphoreMicrotask, rounds),
];
const python = runPython(pythonScript, ["3"]);
if (python !== null) {
  queueSamples.push({ name: "CPython asyncio.Queue", values: python.queue ?? [] });
  semaphoreSamples.push({ name: "CPython asyncio.Semaphore", values: python.semaphore ?? [] });
}
printTable(`Bounded queue (maxsize ${MAXSIZE}), ${ITEMS.toLocaleString("en")} items, 1 producer -> 1 consumer`, "CPU ns per item", queueSamples, "@loop/sync Queue");
throughput("Queue throughput", "items", queueSamples);
printTable(`${ROUNDS} rounds of ${TASKS.toLocaleString("en")} tasks on Semaphore(${PERMITS})`, "CPU ns per acquisition", semaphoreSamples, "@loop/sync Semaphore.withLock");
throughput("Semaphore throughput", "acquisitions", semaphoreSamples);
