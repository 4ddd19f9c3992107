/**
 * Streams of values and the Promise boundary, side by side in one process:
 *
 * (a) 1,000,000 numbers from a producer to a consumer's `for` loop: @loop `each` over a
 *     Queue-backed stream (`Queue(100)`, one producer task), @loop `each` over a `produce`
 *     stream (a generator-backed producer; rendezvous, one task switch per value, and with
 *     a buffer of 100), Effection
 *     4's `each` over a `createChannel`, and Node's `for await` over an async generator.
 *     Target: @loop's Queue stream at least 2x the async generator's items per CPU second.
 * (b) a 1 GiB in-memory `Readable` (64 KiB chunks, one buffer pushed again and again)
 *     consumed with `each(fromAsyncIterable(r))` against `for await (const chunk of r)`, and
 *     a 256 MiB file through `fs.createReadStream` (not 1 GiB: this machine is shared by
 *     several engineers, and the per-chunk cost, not the size, is what differs).
 *     Target: at least 0.9x the throughput.
 * (c) `yield* call(() => Promise.resolve(1))` round trip against a bare
 *     `await Promise.resolve(1)` in an async function (and `yield* ensureFuture(...)`, the
 *     path `call` takes). Target: at most 4x. Its rounds are interleaved (every variant
 *     once per round, 9 rounds after 2 warm-up ones; STREAMS_BENCH_ROUNDS=n for more),
 *     except `call((signal) => …)`, measured apart afterwards.
 *
 *   pnpm --filter @loop/bench bench -- streams
 *   cd bench && STREAMS_BENCH=c node --expose-gc --import tsx suites/streams.bench.ts   (one part: a, b or c)
 *
 * Costs are CPU time (user + system) per operation, medians of several rounds.
 */
import { call, createTask, each, ensureFuture, fromAsyncIterable, produce, run, type Coroutine } from "@loop/core";
import { Queue } from "@loop/sync";
import { createChannel, each as effectionEach, run as effectionRun, spawn as effectionSpawn, type Operation } from "effection";
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { cpuSince, measure, printTable, summarize, type Sample } from "../lib/report.ts";

const ITEMS = 1_000_000;
const EXPECTED_SUM = (ITEMS * (ITEMS - 1)) / 2;
const CHUNK = 64 * 1024;
const READABLE_BYTES = 1024 * 1024 * 1024;
const FILE_BYTES = 256 * 1024 * 1024;
const CALLS = 200_000;

function check(sum: number): void {
  if (sum !== EXPECTED_SUM) throw new Error(`lost or duplicated items: sum ${sum}, expected ${EXPECTED_SUM}`);
}

// (a) ns per item.
async function loopQueueStream(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    const queue = new Queue<number>(100);
    createTask(
      (function* (): Coroutine<void> {
        for (let i = 0; i < ITEMS; i++) yield* queue.put(i);
        queue.shutdown();
      })(),
    );
    let sum = 0;
    for (const n of yield* each(queue.stream())) {
      sum += n;
      yield* each.next();
    }
    check(sum);
  });
  return cpuSince(t0) / ITEMS;
}

async function loopProduce(buffer: number): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    const numbers = produce<number>(
      function* (send) {
        for (let i = 0; i < ITEMS; i++) yield* send(i);
      },
      { buffer },
    );
    let sum = 0;
    for (const n of yield* each(numbers)) {
      sum += n;
      yield* each.next();
    }
    check(sum);
  });
  return cpuSince(t0) / ITEMS;
}

async function effectionChannel(): Promise<number> {
  const t0 = process.cpuUsage();
  await effectionRun(function* (): Operation<void> {
    const channel = createChannel<number, void>();
    const subscription = yield* channel;
    yield* effectionSpawn(function* (): Operation<void> {
      for (let i = 0; i < ITEMS; i++) yield* channel.send(i);
      yield* channel.close();
    });
    let sum = 0;
    // each() over the subscription already open, so that no value is sent before it exists.
    for (const n of yield* effectionEach({ *[Symbol.iterator]() { return subscription; } })) {
      sum += n;
      yield* effectionEach.next();
    }
    check(sum);
  });
  return cpuSince(t0) / ITEMS;
}

async function nodeAsyncGenerator(): Promise<number> {
  const t0 = process.cpuUsage();
  async function* numbers(): AsyncGenerator<number> {
    for (let i = 0; i < ITEMS; i++) yield i;
  }
  let sum = 0;
  for await (const n of numbers()) sum += n;
  check(sum);
  return cpuSince(t0) / ITEMS;
}

// (b) ns per MiB.
const block = Buffer.alloc(CHUNK, 7);
function bigReadable(): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= READABLE_BYTES) {
        this.push(null);
        return;
      }
      sent += CHUNK;
      this.push(block);
    },
  });
}

const MIB = READABLE_BYTES / (1024 * 1024);
const FILE_MIB = FILE_BYTES / (1024 * 1024);

async function loopReadable(): Promise<number> {
  const t0 = process.cpuUsage();
  const total = await run(function* () {
    let total = 0;
    for (const chunk of yield* each(fromAsyncIterable<Buffer>(bigReadable()))) {
      total += chunk.length;
      yield* each.next();
    }
    return total;
  });
  if (total !== READABLE_BYTES) throw new Error(`read ${total} bytes`);
  return cpuSince(t0) / MIB;
}

async function nodeReadable(): Promise<number> {
  const t0 = process.cpuUsage();
  let total = 0;
  for await (const chunk of bigReadable()) total += (chunk as Buffer).length;
  if (total !== READABLE_BYTES) throw new Error(`read ${total} bytes`);
  return cpuSince(t0) / MIB;
}

// (b) again, from a file: chunks arrive from libuv's thread pool, so most pulls wait.
const file = join(mkdtempSync(join(tmpdir(), "loop-streams-bench-")), "big.bin");

function writeBigFile(): void {
  const fd = openSync(file, "w");
  for (let written = 0; written < FILE_BYTES; written += CHUNK) writeSync(fd, block);
  closeSync(fd);
}

async function loopFile(): Promise<number> {
  const t0 = process.cpuUsage();
  const total = await run(function* () {
    let total = 0;
    for (const chunk of yield* each(fromAsyncIterable<Buffer>(createReadStream(file, { highWaterMark: CHUNK })))) {
      total += chunk.length;
      yield* each.next();
    }
    return total;
  });
  if (total !== FILE_BYTES) throw new Error(`read ${total} bytes`);
  return cpuSince(t0) / FILE_MIB;
}

async function nodeFile(): Promise<number> {
  const t0 = process.cpuUsage();
  let total = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) total += (chunk as Buffer).length;
  if (total !== FILE_BYTES) throw new Error(`read ${total} bytes`);
  return cpuSince(t0) / FILE_MIB;
}

// (c) ns per round trip.
async function loopCall(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += yield* call(() => Promise.resolve(1));
    if (sum !== CALLS) throw new Error("lost results");
  });
  return cpuSince(t0) / CALLS;
}

async function loopCallWithSignal(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    let sum = 0;
    // A fn that names its signal gets an AbortController of its own.
    for (let i = 0; i < CALLS; i++) sum += yield* call((signal) => Promise.resolve(signal.aborted ? 0 : 1));
    if (sum !== CALLS) throw new Error("lost results");
  });
  return cpuSince(t0) / CALLS;
}

async function loopEnsureFuture(): Promise<number> {
  const t0 = process.cpuUsage();
  await run(function* () {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += yield* ensureFuture(Promise.resolve(1));
    if (sum !== CALLS) throw new Error("lost results");
  });
  return cpuSince(t0) / CALLS;
}

async function bareAwait(): Promise<number> {
  const t0 = process.cpuUsage();
  let sum = 0;
  for (let i = 0; i < CALLS; i++) sum += await Promise.resolve(1);
  if (sum !== CALLS) throw new Error("lost results");
  return cpuSince(t0) / CALLS;
}

function throughput(title: string, samples: Sample[], perSecond: (median: number) => string): void {
  console.log(`\n${title} (per CPU second, from the medians; higher is better)`);
  for (const s of samples) console.log(`  ${s.name.padEnd(48)} ${perSecond(summarize(s.values).median)}`);
}

const rounds = { warmup: 2, rounds: 5 };
const only = process.env.STREAMS_BENCH ?? "abc";
if (only.includes("a")) {
  const samples: Sample[] = [
    await measure("@loop each(queue.stream()), Queue(100)", loopQueueStream, rounds),
    await measure("@loop each(produce(...)), rendezvous", () => loopProduce(0), rounds),
    await measure("@loop each(produce(..., { buffer: 100 }))", () => loopProduce(100), rounds),
    await measure("effection 4 each(createChannel())", effectionChannel, rounds),
    await measure("node for await over an async generator", nodeAsyncGenerator, rounds),
  ];
  printTable(`(a) ${ITEMS.toLocaleString("en")} numbers from a producer to a for loop`, "CPU ns per item", samples, "node for await over an async generator");
  throughput("(a) items", samples, (ns) => `${(1e3 / ns).toFixed(2)} M items/s`);
}
if (only.includes("b")) {
  const samples: Sample[] = [
    await measure("@loop each(fromAsyncIterable(readable))", loopReadable, { warmup: 3, rounds: 11 }),
    await measure("node for await (const chunk of readable)", nodeReadable, { warmup: 3, rounds: 11 }),
  ];
  printTable(`(b) a ${MIB} MiB in-memory Readable in ${CHUNK / 1024} KiB chunks`, "CPU ns per MiB", samples, "node for await (const chunk of readable)");
  throughput("(b) bytes", samples, (ns) => `${((1e9 / ns) / 1024).toFixed(2)} GiB/s`);
  writeBigFile();
  try {
    const fileSamples: Sample[] = [
      await measure("@loop each(fromAsyncIterable(createReadStream))", loopFile, { warmup: 2, rounds: 9 }),
      await measure("node for await (const chunk of createReadStream)", nodeFile, { warmup: 2, rounds: 9 }),
    ];
    printTable(`(b) a ${FILE_MIB} MiB file through fs.createReadStream, ${CHUNK / 1024} KiB chunks`, "CPU ns per MiB", fileSamples, "node for await (const chunk of createReadStream)");
    throughput("(b) file bytes", fileSamples, (ns) => `${((1e9 / ns) / 1024).toFixed(2)} GiB/s`);
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}
if (only.includes("c")) {
  // Round by round, each variant once per round, so that a change in the machine's load
  // hits every row alike; besides the medians, the ratio to the bare await is taken within
  // each round. The variant that makes an AbortController runs apart, afterwards: its
  // garbage (an AbortSignal is an EventTarget with a Map) slows whatever runs next.
  const variants: [string, () => Promise<number>][] = [
    ["@loop yield* call(() => Promise.resolve(1))", loopCall],
    ["@loop yield* ensureFuture(Promise.resolve(1))", loopEnsureFuture],
    ["async/await: await Promise.resolve(1)", bareAwait],
  ];
  const reference = "async/await: await Promise.resolve(1)";
  const samples: Sample[] = variants.map(([name]) => ({ name, values: [] }));
  const roundsC = Number(process.env.STREAMS_BENCH_ROUNDS ?? 9);
  for (let round = -2; round < roundsC; round++) {
    for (let v = 0; v < variants.length; v++) {
      const cost = await (variants[v] as [string, () => Promise<number>])[1]();
      if (round >= 0) (samples[v] as Sample).values.push(cost);
    }
  }
  samples.push(await measure("@loop yield* call((signal) => …), a signal made", loopCallWithSignal, rounds));
  printTable(`(c) ${CALLS.toLocaleString("en")} Promise round trips`, "CPU ns per round trip", samples, reference);
  const ref = samples.find((s) => s.name === reference) as Sample;
  console.log("\n(c) same-round ratio to the bare await: median of the rounds (min–max)");
  for (const s of samples.slice(0, variants.length)) {
    if (s === ref) continue;
    const ratios = s.values.map((v, i) => v / (ref.values[i] as number)).sort((a, b) => a - b);
    console.log(`  ${s.name.padEnd(48)} ${summarize(ratios).median.toFixed(2)}x (${(ratios[0] as number).toFixed(2)}–${(ratios[ratios.length - 1] as number).toFixed(2)})`);
  }
}
