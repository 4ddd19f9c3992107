/**
 * One loop per worker thread, all on one port (SO_REUSEPORT through @loop/selector):
 * echo throughput of 1 and 2 threads against the single-loop server, 50 connections,
 * 1 KiB messages, load from the C generator (net-echo/load.c) in its own process. All three
 * rows run the same echo loop (net-echo/echo-worker.mjs), on the main thread or in workers.
 * The figure is requests per second.
 *
 * A bare echo costs the server about as much CPU per request as it costs the load
 * generator, so on a machine with two cores the generator's own core is the limit and
 * nothing can scale. NET_ECHO_WORK=<n> (default 10) gives each request a CPU-bound handler
 * (n FNV-1a passes over its 1 KiB, a few tens of µs), as in a server that computes
 * something: then the server needs the cores, the generator needs a small share of one, and
 * the 1 → 2 thread scaling the pattern is for shows even on two cores. NET_ECHO_WORK=0
 * measures the bare echo.
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
const work = Number(process.env.NET_ECHO_WORK ?? 10);

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
  { name: "one loop (main thread)", command: [...node, join(here, "server-workers.ts"), "0"] },
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
  const child = spawn(file, args, { cwd: here, stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, NET_ECHO_WORK: String(work) } });
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
console.log(`net-echo-scaling: 50 connections, 1 KiB, NET_ECHO_WORK=${work}, ${seconds} s × ${rounds} rounds (median), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}, Node ${process.version}`);
console.table(
  results.map((r) => ({
    server: r.name,
    "requests/s": Math.round(median(r.rps)),
    "× one loop": (median(r.rps) / base).toFixed(2),
    "server CPU µs/request": median(r.cpu).toFixed(2),
  })),
);
