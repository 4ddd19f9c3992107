/**
 * @loop/process against node:child_process used directly and CPython's asyncio and
 * uvloop, in one run:
 *
 *   pnpm --filter @loop/bench bench -- process
 *   PROCESS_BENCH=spawn pnpm --filter @loop/bench bench -- process    (only (a))
 *   PROCESS_BENCH=pipe pnpm --filter @loop/bench bench -- process     (only (b))
 *
 * @loop/process runs twice: on the default poller, where it uses `node:child_process`
 * ("Node driver"), and on `SelectorPoller`, whose `processes` driver spawns with
 * posix_spawn from the addon and carries the pipes on its epoll set ("selector").
 *
 * (a) spawn throughput: 500 runs of /bin/true, at most 8 at once (8 workers taking the
 *     next run until none is left), every stream on /dev/null: `createSubprocessExec` +
 *     `wait()`; `child_process.spawn` awaited through a Promise of its 'exit'; asyncio's
 *     `create_subprocess_exec` + `wait()` on the default loop and on uvloop
 *     (/usr/bin/python3 with Debian's python3-uvloop). Spawns per second.
 * (b) pipe throughput: 256 MiB through `cat`, stdin written in 64 KiB chunks with
 *     backpressure and stdout read as it comes: `stdin.write` + `drain()` and
 *     `stdout.read(64 KiB)`; Node streams piping a Readable into `child.stdin` and counting
 *     `child.stdout`'s 'data'; asyncio/uvloop as ours. MiB per second.
 * Rounds rotate over the contenders so that a busy machine hurts them alike; each spawn
 * round of a CPython peer is a process of its own (with a warm-up round) taken in turn
 * with ours, the pipe rounds of the peers run after ours.
 */
import { spawn, spawnSync } from "node:child_process";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createTask, run, type Coroutine, type Poller } from "@loop/core";
import type { StreamReader, StreamWriter } from "@loop/net";
import { DEVNULL, PIPE, createSubprocessExec } from "@loop/process";
import { SelectorPoller } from "@loop/selector";
import { summarize } from "../lib/report.ts";

const SPAWNS = 500;
const CONCURRENCY = 8;
const PIPE_MIB = 256;
const ROUNDS = 7;
const PIPE_ROUNDS = 11;
const CHUNK = 64 * 1024;
const python = "/usr/bin/python3";
const pythonScript = fileURLToPath(new URL("../python/process_peers.py", import.meta.url));
const part = process.env.PROCESS_BENCH ?? "all";
if (!["all", "spawn", "pipe"].includes(part)) throw new Error(`PROCESS_BENCH must be spawn, pipe or unset, got ${part}`);

const OURS_NODE = "@loop/process (Node driver)";
const OURS_SELECTOR = "@loop/process (selector)";
/** The poller of each of our rows: a new one per round, as a program would make one per run(). */
const pollers: Record<string, () => Poller | undefined> = {
  [OURS_NODE]: () => undefined,
  [OURS_SELECTOR]: () => {
    const poller = new SelectorPoller();
    if (poller.processes === undefined) throw new Error("SelectorPoller offers no processes here (not Linux 5.4+, or the addon is not built)");
    return poller;
  },
};

/** The parent's CPU time (µs) per spawn of each round, by contender: fork(2) is charged to the parent. */
const spawnCpu: Record<string, number[]> = {};

async function oursSpawn(name: string): Promise<number> {
  let left = SPAWNS;
  const poller = (pollers[name] as () => Poller | undefined)();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run(function* () {
    function* worker(): Coroutine<void> {
      while (left > 0) {
        left--;
        const child = yield* createSubprocessExec("/bin/true", [], { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL });
        yield* child.wait();
      }
    }
    const workers = Array.from({ length: CONCURRENCY }, () => createTask(worker()));
    for (const w of workers) yield* w;
  }, { poller });
  add(spawnCpu, name, cpuSince(cpu) / SPAWNS);
  return SPAWNS / ((performance.now() - t0) / 1000);
}

async function nodeSpawn(): Promise<number> {
  let left = SPAWNS;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await new Promise<void>((resolve, reject) => {
        const child = spawn("/bin/true", [], { stdio: "ignore" });
        child.once("error", reject);
        child.once("exit", () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  add(spawnCpu, "node:child_process", cpuSince(cpu) / SPAWNS);
  return SPAWNS / ((performance.now() - t0) / 1000);
}

const total = PIPE_MIB * 1024 * 1024;
const chunk = Buffer.alloc(CHUNK, "x");

/** The parent's CPU time (ms) of each pipe round, by contender: robust where wall time is not. */
const pipeCpu: Record<string, number[]> = { [OURS_NODE]: [], [OURS_SELECTOR]: [], "node streams": [] };

async function oursPipe(name: string): Promise<number> {
  const poller = (pollers[name] as () => Poller | undefined)();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const got = await run(function* () {
    const child = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE, stderr: DEVNULL });
    const writer = createTask(
      (function* () {
        const stdin = child.stdin as StreamWriter;
        for (let sent = 0; sent < total; sent += CHUNK) {
          stdin.write(chunk);
          yield* stdin.drain();
        }
        stdin.close();
      })(),
    );
    let received = 0;
    for (;;) {
      // Pipe-sized reads: a read(n) over several buffered chunks joins them (a copy).
      const data = yield* (child.stdout as StreamReader).read(CHUNK);
      if (data.byteLength === 0) break;
      received += data.byteLength;
    }
    yield* writer;
    yield* child.wait();
    return received;
  }, { poller });
  if (got !== total) throw new Error(`ours: ${got} bytes of ${total}`);
  recordCpu(name, cpu);
  return PIPE_MIB / ((performance.now() - t0) / 1000);
}

async function nodePipe(): Promise<number> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const child = spawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
  let received = 0;
  child.stdout.on("data", (data: Buffer) => {
    received += data.byteLength;
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += CHUNK) yield chunk;
    })(),
  ).pipe(child.stdin);
  await closed;
  if (received !== total) throw new Error(`node: ${received} bytes of ${total}`);
  recordCpu("node streams", cpu);
  return PIPE_MIB / ((performance.now() - t0) / 1000);
}

function add(rows: Record<string, number[]>, name: string, value: number): void {
  (rows[name] ??= []).push(value);
}

/** CPU time (user + system) of this process in µs since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function recordCpu(name: string, start: NodeJS.CpuUsage): void {
  add(pipeCpu, name, cpuSince(start) / 1000);
}

type PeerResult = { spawn: number[]; spawn_cpu: number[]; pipe: number[]; pipe_cpu: number[] };
const peerMissing = new Set<string>();

/** A run of the CPython peer (a warm-up round, then `rounds`); 0 spawns or 0 MiB skips that half. Null when it cannot run. */
function pythonPeer(loop: "asyncio" | "uvloop", spawns: number, mib: number, rounds: number): PeerResult | null {
  if (peerMissing.has(loop)) return null;
  const r = spawnSync(python, [pythonScript, loop, String(spawns), String(CONCURRENCY), String(mib), String(rounds)], { encoding: "utf8" });
  if (r.status !== 0) {
    peerMissing.add(loop);
    console.log(`(${loop} peer not run: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`);
    return null;
  }
  return JSON.parse(r.stdout) as PeerResult;
}

/** One spawn round of a CPython peer, in its own process, taken in turn with ours: the load of the moment hits all alike. */
function pythonSpawnRound(loop: "asyncio" | "uvloop"): void {
  const peer = pythonPeer(loop, SPAWNS, 0, 1);
  if (peer === null) return;
  add(spawnRows, `CPython ${loop}`, peer.spawn[0] as number);
  add(spawnCpu, `CPython ${loop}`, peer.spawn_cpu[0] as number);
}

function report(title: string, unit: string, rows: Record<string, number[]>, reference: string, better = "higher"): void {
  const ref = summarize(rows[reference] as number[]).median;
  console.log(`\n### ${title} (${unit}; ${better} is better; ratio = median / ${reference})`);
  console.table(
    Object.entries(rows).map(([name, values]) => {
      const { median, min, max } = summarize(values);
      return { name, median: Math.round(median), min: Math.round(min), max: Math.round(max), ratio: `${(median / ref).toFixed(2)}x` };
    }),
  );
}

const ours = [OURS_SELECTOR, OURS_NODE];
const spawnRows: Record<string, number[]> = { [OURS_SELECTOR]: [], [OURS_NODE]: [], "node:child_process": [] };
const pipeRows: Record<string, number[]> = { [OURS_SELECTOR]: [], [OURS_NODE]: [], "node streams": [] };

/** Runs one round of each contender, in an order that rotates with `round`: the first of a round may find the machine warmer. */
async function roundOf(round: number, contenders: (() => Promise<void>)[]): Promise<void> {
  for (let i = 0; i < contenders.length; i++) await (contenders[(round + i) % contenders.length] as () => Promise<void>)();
}

let rssAtSpawns = 0;
if (part !== "pipe") {
  // Spawn rounds first: fork(2) costs more the more memory the parent has mapped, and the
  // pipe rounds leave garbage behind. A warm-up round per contender first.
  for (const name of ours) await oursSpawn(name);
  await nodeSpawn();
  for (const name of Object.keys(spawnCpu)) spawnCpu[name] = [];
  const contenders = [
    ...ours.map((name) => async () => add(spawnRows, name, await oursSpawn(name))),
    async () => add(spawnRows, "node:child_process", await nodeSpawn()),
    async () => pythonSpawnRound("asyncio"),
    async () => pythonSpawnRound("uvloop"),
  ];
  for (let i = 0; i < ROUNDS; i++) await roundOf(i, contenders);
  rssAtSpawns = Math.round(process.memoryUsage().rss / 2 ** 20);
}
if (part !== "spawn") {
  // The first few pipe rounds of each contender run far slower (JIT, socket buffers growing).
  for (let i = 0; i < 4; i++) {
    for (const name of ours) await oursPipe(name);
    await nodePipe();
  }
  for (const name of Object.keys(pipeCpu)) pipeCpu[name] = [];
  const contenders = [
    ...ours.map((name) => async () => add(pipeRows, name, await oursPipe(name))),
    async () => add(pipeRows, "node streams", await nodePipe()),
  ];
  for (let i = 0; i < PIPE_ROUNDS; i++) await roundOf(i, contenders);
}
if (part !== "spawn") {
  for (const loop of ["asyncio", "uvloop"] as const) {
    const peer = pythonPeer(loop, 0, PIPE_MIB, 5);
    if (peer === null) continue;
    pipeRows[`CPython ${loop}`] = peer.pipe;
    pipeCpu[`CPython ${loop}`] = peer.pipe_cpu;
  }
}
console.log(`process: ${SPAWNS} spawns of /bin/true, ${CONCURRENCY} at once; ${PIPE_MIB} MiB through cat; ${ROUNDS} and ${PIPE_ROUNDS} rounds (median), Node ${process.version}, RSS ${rssAtSpawns} MiB during the spawns`);
if (part !== "pipe") {
  report("(a) spawn throughput", "spawns/s", spawnRows, "node:child_process");
  report("(a) the parent's CPU time per spawn", "µs", spawnCpu, "node:child_process", "lower");
}
if (part !== "spawn") {
  report("(b) pipe throughput", "MiB/s", pipeRows, "node streams");
  report(`(b) the parent's CPU time per ${PIPE_MIB} MiB`, "ms", pipeCpu, "node streams", "lower");
}
