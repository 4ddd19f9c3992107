/**
 * One loop per worker thread, all on one port (SO_REUSEPORT through @loop/selector):
 * echo throughput of 1 and 2 threads against the single-loop server, 50 connections,
 * 1 KiB messages, load from the C generator (net-echo/load.c) in its own process. The
 * figure is requests per second; on a machine with fewer free cores than threads + 1
 * (the load generator takes about one core) it cannot scale, and the table says so.
 *
 *   NET_ECHO_SECONDS=5 NET_ECHO_ROUNDS=3 node --import tsx suites/net-echo-scaling.bench.ts
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "net-echo");
const seconds = Number(process.env.NET_ECHO_SECONDS ?? 5);
const rounds = Number(process.env.NET_ECHO_ROUNDS ?? 3);

const build = mkdtempSync(join(tmpdir(), "loop-net-echo-scaling-"));
const loadBinary = join(build, "load");
if (spawnSync("cc", ["-O2", "-o", loadBinary, join(here, "load.c")], { stdio: "inherit" }).status !== 0) {
  console.log("net-echo-scaling: needs a C compiler (cc) for the load generator; skipped");
  process.exit(0);
}

interface Variant {
  name: string;
  command: string[];
}
const node = [process.execPath, "--import", "tsx"];
const variants: Variant[] = [
  { name: "one loop (main thread)", command: [...node, join(here, "server.ts"), "loop-selector"] },
  { name: "1 worker thread, reusePort", command: [...node, join(here, "server-workers.ts"), "1"] },
  { name: "2 worker threads, reusePort", command: [...node, join(here, "server-workers.ts"), "2"] },
];

function lines(child: ReturnType<typeof spawn>): () => Promise<string> {
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else queue.push(line);
  });
  return () => {
    const queued = queue.shift();
    return queued !== undefined ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
  };
}

async function load(port: string, secs: number): Promise<number> {
  const child = spawn(loadBinary, [port, "50", "1024", String(secs)], { stdio: ["ignore", "pipe", "inherit"] });
  const { requests } = JSON.parse(await lines(child)()) as { requests: number };
  return requests;
}

const results: { name: string; rps: number[]; cpu: number[] }[] = [];
const servers = [];
for (const variant of variants) {
  const [file = "", ...args] = variant.command;
  const child = spawn(file, args, { cwd: here, stdio: ["pipe", "pipe", "inherit"] });
  const next = lines(child);
  const port = (await next()).trim();
  await load(port, 1);
  servers.push({ variant, child, next, port });
  results.push({ name: variant.name, rps: [], cpu: [] });
}
for (let round = 0; round < rounds; round++) {
  for (const [i, server] of servers.entries()) {
    server.child.stdin!.write("start\n");
    await server.next();
    const requests = await load(server.port, seconds);
    server.child.stdin!.write("report\n");
    const { cpuUs } = JSON.parse(await server.next()) as { cpuUs: number };
    results[i]!.rps.push(requests / seconds);
    results[i]!.cpu.push(cpuUs / requests);
  }
}
for (const server of servers) {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.stdin!.end();
  await exited;
}
rmSync(build, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const base = median(results[0]!.rps);
console.log(`net-echo-scaling: 50 connections, 1 KiB, ${seconds} s × ${rounds} rounds (median), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}, Node ${process.version}`);
console.table(
  results.map((r) => ({
    server: r.name,
    "requests/s": Math.round(median(r.rps)),
    "× one loop": (median(r.rps) / base).toFixed(2),
    "server CPU µs/request": median(r.cpu).toFixed(2),
  })),
);
