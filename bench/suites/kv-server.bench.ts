/**
 * The demo's key-value server against a real `redis-server`, both driven by the real
 * `redis-benchmark -q -c 50 -n 100000 -t get,set` (Debian's redis-tools), and against a
 * CPython asyncio server of the same design (kv-server/server.py) when python3 is there.
 * The target: at least half of redis-server's throughput. A bare `node:net`
 * server of the same design (kv-server/raw-node.ts) shows the floor any Node server
 * stands on, so that what @loop's layers cost can be told from what Node costs.
 *
 * Each server runs in its own process for the whole suite, and the rounds take them in
 * turn, so that a shared machine's changing load falls on all of them alike. Besides
 * requests/s (what the target is about, and what a saturated machine blurs), each
 * server's CPU time per request is read from /proc: the steadier figure.
 *
 *   node --import tsx suites/kv-server.bench.ts        (KV_ROUNDS=3 KV_REQUESTS=100000)
 *   KV_SERVERS=redis,selector node --import tsx suites/kv-server.bench.ts
 *
 * KV_SERVERS picks the servers to run (redis-server always runs: the ratios are to it):
 * `node` (the demo on Node's driver), `selector` (the demo on @loop/selector), `raw`
 * (node:net), `python` (CPython asyncio); all of them by default.
 *
 * The demo server (kv-server/server.ts: the server module alone, not the whole demo)
 * runs from its TypeScript sources through tsx, on the built @loop packages (dist/), as
 * every suite does. redis-server gets a free port picked by binding
 * port 0 first, `--save '' --appendonly no`; every server is stopped at the end.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const kvServer = join(here, "..", "kv-server", "server.ts");
const pythonServer = join(here, "..", "kv-server", "server.py");
const rawNodeServer = join(here, "..", "kv-server", "raw-node.ts");
const rounds = Number(process.env.KV_ROUNDS ?? 3);
const requests = Number(process.env.KV_REQUESTS ?? 100_000);
const clients = 50;
const picked = new Set((process.env.KV_SERVERS ?? "node,selector,raw,python").split(",").map((name) => name.trim()));
const unknown = [...picked].filter((name) => !["redis", "node", "selector", "raw", "python"].includes(name));
if (unknown.length > 0) throw new RangeError(`KV_SERVERS: unknown server(s) ${unknown.join(", ")}; pick from redis, node, selector, raw, python`);

const has = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: "ignore" }).status === 0;
if (!has("redis-benchmark", ["--version"]) || !has("redis-server", ["--version"])) {
  console.log("kv-server: skipped — needs redis-benchmark and redis-server: apt-get update && apt-get install -y redis-tools redis-server");
  process.exit(process.env.CI ? 1 : 0);
}
const hasPython = has("python3", ["--version"]);

/** A free TCP port: bind port 0, read the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
  /** Per round: requests/s of SET and GET, CPU µs per request. */
  set: number[];
  get: number[];
  cpu: number[];
  pipelined: number[];
  /** Per round: CPU µs per request under `-P 16`. */
  pipedCpu: number[];
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts a server and waits for the line that says it is ready. */
function start(name: string, command: string, args: string[], ready: RegExp, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    children.add(child);
    const stdout = child.stdout;
    if (stdout === null) throw new Error("no stdout pipe");
    const lines = createInterface({ input: stdout });
    const onExit = (code: number | null): void => reject(new Error(`${name} exited (${code}) before it was ready`));
    child.once("exit", onExit);
    lines.on("line", (line) => {
      if (!ready.test(line)) return;
      child.off("exit", onExit);
      lines.removeAllListeners("line");
      stdout.resume(); // keep draining its output
      resolve({ name, child, port, set: [], get: [], cpu: [], pipelined: [], pipedCpu: [] });
    });
  });
}

/** Stops a server with SIGTERM and waits for it to exit. */
async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
  children.delete(server.child);
}

/** User + system CPU time of a process so far, in µs (from /proc; NaN elsewhere). */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // Fields 14 and 15 (utime, stime), counted from the state field (3) here.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / 100) * 1e6; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** Runs redis-benchmark with `--csv` and returns requests/s per test. */
function benchmark(port: number, extra: string[]): Record<string, number> {
  const r = spawnSync("redis-benchmark", ["-p", String(port), "-c", String(clients), "-t", "get,set", "--csv", ...extra], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr}`);
  const rps: Record<string, number> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^"(\w+)","([\d.]+)"/.exec(line);
    if (m) rps[m[1]] = Number(m[2]);
  }
  if (!(rps["SET"] > 0 && rps["GET"] > 0)) throw new Error(`could not read redis-benchmark's output:\n${r.stdout}\n${r.stderr}`);
  return rps;
}

async function round(server: Server): Promise<void> {
  const pid = server.child.pid ?? -1;
  const before = cpuMicros(pid);
  const rps = benchmark(server.port, ["-n", String(requests)]);
  const used = cpuMicros(pid) - before;
  server.set.push(rps["SET"]);
  server.get.push(rps["GET"]);
  server.cpu.push(used / (2 * requests));
  const pipedBefore = cpuMicros(pid);
  const piped = benchmark(server.port, ["-n", String(requests * 4), "-P", "16"]);
  server.pipedCpu.push((cpuMicros(pid) - pipedBefore) / (2 * 4 * requests));
  server.pipelined.push((piped["SET"] + piped["GET"]) / 2);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const SELECTOR = "@loop kv-server (demo) on selector";
const servers: Server[] = [];
try {
  const redisPort = await freePort();
  servers.push(
    await start("redis-server", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], /Ready to accept connections/, redisPort),
  );
  if (picked.has("node")) {
    const kvPort = await freePort();
    servers.push(await start("@loop kv-server (demo)", process.execPath, ["--import", "tsx", kvServer, String(kvPort)], /^listening/, kvPort));
  }
  if (picked.has("selector")) {
    const selectorPort = await freePort();
    servers.push(await start(SELECTOR, process.execPath, ["--import", "tsx", kvServer, String(selectorPort), "selector"], /^listening/, selectorPort));
  }
  if (picked.has("raw")) {
    const rawPort = await freePort();
    servers.push(await start("raw node:net 'data' (the Node floor)", process.execPath, ["--import", "tsx", rawNodeServer, String(rawPort)], /^listening/, rawPort));
  }
  if (hasPython && picked.has("python")) {
    const pyPort = await freePort();
    servers.push(await start("CPython asyncio (same design)", "python3", [pythonServer, String(pyPort)], /^listening/, pyPort));
  }
  // Warm-up: JIT, pools, the kernel's socket buffers.
  for (const server of servers) benchmark(server.port, ["-n", String(Math.min(requests, 50_000))]);
  for (let i = 0; i < rounds; i++) for (const server of servers) await round(server);
} finally {
  for (const server of servers) await stop(server);
}

const redis = servers[0];
const summary = servers.map((s) => ({
  server: s.name,
  "SET req/s": Math.round(median(s.set)),
  "GET req/s": Math.round(median(s.get)),
  "× redis (SET, GET)": `${(median(s.set) / median(redis.set)).toFixed(2)}, ${(median(s.get) / median(redis.get)).toFixed(2)}`,
  "CPU µs/req": median(s.cpu).toFixed(2),
  "-P 16 req/s": Math.round(median(s.pipelined)),
  "-P 16 × redis": (median(s.pipelined) / median(redis.pipelined)).toFixed(2),
  "-P 16 CPU µs/req": median(s.pipedCpu).toFixed(2),
}));
console.log(
  `kv-server: redis-benchmark -q -c ${clients} -n ${requests} -t get,set (and -P 16 with ${requests * 4}), ` +
    `median of ${rounds} rounds; Node ${process.version}; ${spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").slice(0, 3).join(" ")}` +
    (hasPython ? "" : "; python3 not found, asyncio peer skipped") +
    "; uvloop is not installable here",
);
console.table(summary);
const ratioTo = (s: Server): number => Math.min(median(s.set) / median(redis.set), median(s.get) / median(redis.get));
const ours = servers.find((s) => s.name === "@loop kv-server (demo)");
if (ours !== undefined) {
  const ratio = ratioTo(ours);
  console.log(`kv-server throughput / redis-server: ${ratio.toFixed(2)} (target ≥ 0.50: ${ratio >= 0.5 ? "met" : "NOT met"})`);
}
const selector = servers.find((s) => s.name === SELECTOR);
if (selector !== undefined) {
  const piped = median(selector.pipelined) / median(redis.pipelined);
  const cpu = median(selector.pipedCpu) / median(redis.pipedCpu);
  console.log(
    `kv-server on selector, -P 16 throughput / redis-server: ${piped.toFixed(2)} (target ≥ 0.90: ${piped >= 0.9 ? "met" : "NOT met"}); ` +
      `without pipelining ${ratioTo(selector).toFixed(2)}, CPU per request under -P 16 ${cpu.toFixed(2)}× redis-server's`,
  );
}
