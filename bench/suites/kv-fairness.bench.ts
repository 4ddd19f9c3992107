/**
 * Fairness under pipelining: 50 clients each pipeline 5,000 `INCR`s, wait for the 5,000
 * replies, and start again, for as long as the run lasts; meanwhile a probe connects a new
 * client every 100 ms and times how long its first `PING` takes, connect included. The
 * question is the event loop's first promise: that busy peers cannot starve a newcomer,
 * nor one another.
 *
 * Reported per server: the probe's first-reply latency (p50, p99, max) and, for the 50
 * pipelining clients, how many 5,000-command batches each completed (fewest, most, and
 * most/fewest: 1.00 is perfectly even). Targets for the demo's server: p99 under 250 ms,
 * most/fewest within 2×. Peers in the same run: a real redis-server, the CPython asyncio
 * server of the same design as ours (kv-server/server.py), and a bare node:net server
 * (kv-server/raw-node.ts).
 *
 *   node --import tsx suites/kv-fairness.bench.ts     (FAIR_SECONDS=5 FAIR_CLIENTS=50)
 *
 * The load runs in this process (cheap: the requests are one prebuilt buffer, replies are
 * only counted); each server runs in its own process. redis-server comes from Debian's
 * redis-server package (`.ci/run` installs it).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.FAIR_SECONDS ?? 5);
const clients = Number(process.env.FAIR_CLIENTS ?? 50);
const pipeline = 5_000;
const probeEveryMs = 100;
const probeGiveUpMs = 15_000;

if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0) {
  console.log("kv-fairness: skipped — needs redis-server: apt-get update && apt-get install -y redis-server");
  process.exit(process.env.CI ? 1 : 0);
}
const hasPython = spawnSync("python3", ["--version"], { stdio: "ignore" }).status === 0;

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

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

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
      stdout.resume();
      resolve({ name, child, port });
    });
  });
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGKILL");
  await exited;
  children.delete(server.child);
}

function command(...words: string[]): Buffer {
  return Buffer.from(`*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`);
}

const PING = command("PING");

/** One pipelining client: sends `pipeline` INCRs, counts the replies (one "\n" each), repeats. */
class Pipeliner {
  batches = 0;
  private pending = 0;
  private readonly socket: Socket;
  private readonly request: Buffer;
  private counting = false;

  constructor(port: number, index: number) {
    this.request = Buffer.concat(Array.from({ length: pipeline }, () => command("INCR", `fair:${index}`)));
    this.socket = connect(port, "127.0.0.1", () => this.send());
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => {
      let at = chunk.indexOf(10);
      while (at !== -1) {
        if (--this.pending === 0) {
          if (this.counting) this.batches++;
          this.send();
        }
        at = chunk.indexOf(10, at + 1);
      }
    });
    this.socket.on("error", () => {});
  }

  startCounting(): void {
    this.counting = true;
  }

  private send(): void {
    this.pending = pipeline;
    this.socket.write(this.request);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A new connection's first PING: ms from connect() to the reply. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(port, "127.0.0.1", () => socket.write(PING));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(probeGiveUpMs);
    }, probeGiveUpMs);
    socket.once("data", () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
      socket.destroy();
    });
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(probeGiveUpMs);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Result {
  server: string;
  "probe p50 ms": number;
  "probe p99 ms": number;
  "probe max ms": number;
  "batches fewest": number;
  "batches most": number;
  "most/fewest": string;
}

async function measure(server: Server): Promise<Result> {
  const load = Array.from({ length: clients }, (_, i) => new Pipeliner(server.port, i));
  await sleep(1000); // connected, JIT warm
  for (const client of load) client.startCounting();
  const latencies: Promise<number>[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    latencies.push(probe(server.port));
    await sleep(probeEveryMs);
  }
  const batches = load.map((c) => c.batches);
  const times = await Promise.all(latencies);
  for (const client of load) client.close();
  const fewest = Math.min(...batches);
  const most = Math.max(...batches);
  return {
    server: server.name,
    "probe p50 ms": Math.round(percentile(times, 50)),
    "probe p99 ms": Math.round(percentile(times, 99)),
    "probe max ms": Math.round(Math.max(...times)),
    "batches fewest": fewest,
    "batches most": most,
    "most/fewest": fewest === 0 ? "∞" : (most / fewest).toFixed(2),
  };
}

const results: Result[] = [];
const only = process.env.FAIR_ONLY;
const specs: [string, () => Promise<Server>][] = [
  [
    "redis-server",
    async () => {
      const port = await freePort();
      return start("redis-server", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], /Ready to accept connections/, port);
    },
  ],
  [
    "@loop kv-server (demo)",
    async () => {
      const port = await freePort();
      return start("@loop kv-server (demo)", process.execPath, ["--import", "tsx", join(here, "..", "kv-server", "server.ts"), String(port)], /^listening/, port);
    },
  ],
  [
    "raw node:net 'data'",
    async () => {
      const port = await freePort();
      return start("raw node:net 'data'", process.execPath, ["--import", "tsx", join(here, "..", "kv-server", "raw-node.ts"), String(port)], /^listening/, port);
    },
  ],
];
if (hasPython) {
  specs.push([
    "CPython asyncio (same design)",
    async () => {
      const port = await freePort();
      return start("CPython asyncio (same design)", "python3", [join(here, "..", "kv-server", "server.py"), String(port)], /^listening/, port);
    },
  ]);
}
for (const [name, launch] of specs) {
  if (only !== undefined && !name.includes(only)) continue;
  const server = await launch();
  try {
    results.push(await measure(server));
  } finally {
    await stop(server);
  }
}

console.log(
  `kv-fairness: ${clients} clients pipelining ${pipeline} INCRs each + a probe connecting every ${probeEveryMs} ms, ${seconds} s per server; Node ${process.version}`,
);
console.table(results);
const ours = results.find((r) => r.server.startsWith("@loop"));
if (ours !== undefined) {
  const fair = ours["batches fewest"] > 0 && ours["batches most"] / ours["batches fewest"] <= 2;
  console.log(`@loop kv-server: probe p99 ${ours["probe p99 ms"]} ms (target < 250: ${ours["probe p99 ms"] < 250 ? "met" : "NOT met"}); most/fewest ${ours["most/fewest"]} (target ≤ 2: ${fair ? "met" : "NOT met"})`);
}
