/**
 * TCP echo on loopback: 50 connections, 1 KiB messages, each client waiting for its echo,
 * load from a separate process (net-echo/load.c, compiled here with `cc`; net-echo/load.ts
 * where there is no C compiler), server in its own process (net-echo/server.ts,
 * server.py, server.c) so that its CPU time per request can be read — the figure that
 * stays reliable when the load generator saturates the machine. Compares @loop/net
 * streams and protocols (createServer) on Node's driver and on @loop/selector's raw
 * sockets with raw node:net ('data' callbacks and `for await`), CPython asyncio streams,
 * uvloop streams and protocols (Debian's python3-uvloop under /usr/bin/python3) and a C
 * epoll server. Then 1,000 mostly idle connections: memory per connection on the server.
 *
 * The selector rows run twice: on its default readiness backend (epoll on Linux) and on the
 * portable one, a libuv uv_poll_t per descriptor (LOOP_SELECTOR_BACKEND=uv_poll).
 * NET_ECHO_ONLY=selector,uvloop (substrings of the row names) runs those rows only, beside
 * the two node:net rows the ratios need.
 *
 *   NET_ECHO_SECONDS=5 NET_ECHO_ROUNDS=3 node --import tsx suites/net-echo.bench.ts
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineProcess } from "../lib/line-process.ts";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "net-echo");
const seconds = Number(process.env.NET_ECHO_SECONDS ?? 5);
const rounds = Number(process.env.NET_ECHO_ROUNDS ?? 3);
const connections = 50;
const messageBytes = 1024;
const idleConnections = 1000;

interface Variant {
  name: string;
  command: string[];
  /** Added to the server's environment. */
  env?: Record<string, string>;
}

const hasPython = spawnSync("python3", ["--version"]).status === 0;
// uvloop from Debian (python3-uvloop) lives in the system Python, not in a pyenv one.
const uvloopPython = ["/usr/bin/python3", "python3"].find((python) => spawnSync(python, ["-c", "import uvloop"]).status === 0);
const hasUvloop = uvloopPython !== undefined;

/** The C load generator and C server, compiled for this run (none where there is no `cc`). */
process.stderr.setMaxListeners(64); // every server pipes its stderr here
const cBuild = mkdtempSync(join(tmpdir(), "loop-net-echo-"));
const compiled = (source: string, out: string): string | null =>
  spawnSync("cc", ["-O2", "-o", join(cBuild, out), join(here, source)], { stdio: "inherit" }).status === 0 ? join(cBuild, out) : null;
const cLoad = compiled("load.c", "load");
const cServer = compiled("server.c", "server");
const hasSelector = spawnSync(process.execPath, ["--input-type=module", "-e", "const m = await import('@loop/selector'); process.exit(m.selectorAvailable() ? 0 : 1)"], { cwd: here }).status === 0;

const variants: Variant[] = [
  { name: "node:net 'data' callbacks", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "node-data"] },
  { name: "node:net for await", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "node-for-await"] },
  { name: "@loop/net streams", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop"] },
  { name: "@loop/net [protocol]", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop-protocol"] },
];
if (hasSelector) {
  variants.push({ name: "@loop/net streams on selector", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop-selector"] });
  variants.push({ name: "@loop/net [protocol] on selector", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop-selector-protocol"] });
  const uvPoll = { LOOP_SELECTOR_BACKEND: "uv_poll" };
  variants.push({ name: "@loop/net streams on selector (uv_poll)", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop-selector"], env: uvPoll });
  variants.push({ name: "@loop/net [protocol] on selector (uv_poll)", command: [process.execPath, "--expose-gc", "--import", "tsx", join(here, "server.ts"), "loop-selector-protocol"], env: uvPoll });
}
if (hasPython) variants.push({ name: "CPython asyncio streams", command: ["python3", join(here, "server.py")] });
if (uvloopPython !== undefined) {
  variants.push({ name: "uvloop streams", command: [uvloopPython, join(here, "server.py"), "uvloop"] });
  variants.push({ name: "uvloop [protocol]", command: [uvloopPython, join(here, "server.py"), "uvloop", "protocol"] });
}
if (cServer !== null) variants.push({ name: "C epoll server", command: [cServer] });
const only = process.env.NET_ECHO_ONLY?.split(",").filter((part) => part !== "");
if (only !== undefined && only.length > 0) {
  // The first two rows are the baselines of the ratios: always kept.
  const kept = variants.filter((variant, i) => i < 2 || only.some((part) => variant.name.includes(part)));
  variants.splice(0, variants.length, ...kept);
}

/** A server or load process of this suite, started in its folder. */
class Proc extends LineProcess {
  constructor(command: string[], env?: Record<string, string>) {
    super(command, here, env);
  }
}

const load = (args: string[]): Proc => new Proc([process.execPath, "--import", "tsx", join(here, "load.ts"), ...args]);
/** The echo load: the C generator when it compiled (it takes far less CPU than any server). */
const echoLoad = (port: string, secs: number): Proc =>
  cLoad !== null ? new Proc([cLoad, port, String(connections), String(messageBytes), String(secs)]) : load([port, "echo", String(connections), String(messageBytes), String(secs)]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Result {
  name: string;
  requestsPerSecond: number;
  cpuUsPerRequest: number;
  userUsPerRequest: number;
  bytesPerIdleConnection: number;
}

interface Running {
  variant: Variant;
  server: Proc;
  port: string;
  rps: number[];
  cpu: number[];
  user: number[];
}

async function echoRound(running: Running): Promise<void> {
  const { server, port } = running;
  server.send("start");
  await server.line();
  const generator = echoLoad(port, seconds);
  const { requests } = JSON.parse(await generator.line()) as { requests: number };
  server.send("report");
  const { cpuUs, userUs } = JSON.parse(await server.line()) as { cpuUs: number; userUs: number };
  running.rps.push(requests / seconds);
  running.cpu.push(cpuUs / requests);
  running.user.push(userUs / requests);
}

/** Server memory growth with 1,000 connections held open (each did one round trip). */
async function idleMemory(running: Running): Promise<number> {
  const { server, port, variant } = running;
  server.send("mem");
  const before = JSON.parse(await server.line()) as { rss: number; heapUsed: number; external: number };
  const idle = load([port, "idle", String(idleConnections)]);
  await idle.line();
  server.send("mem");
  const after = JSON.parse(await server.line()) as { rss: number; heapUsed: number; external: number };
  await idle.end();
  // Node: JS heap + buffers (what the library controls); CPython: RSS.
  const grown = variant.command[0] !== process.execPath ? after.rss - before.rss : after.heapUsed + after.external - (before.heapUsed + before.external);
  return grown / idleConnections;
}

// Every server runs for the whole benchmark and the rounds take them in turn, so that
// the load of a shared machine, which changes over time, falls on all of them alike.
const runningServers: Running[] = [];
for (const variant of variants) {
  const server = new Proc(variant.command, variant.env);
  const port = (await server.line()).trim();
  runningServers.push({ variant, server, port, rps: [], cpu: [], user: [] });
}
for (const running of runningServers) {
  // Warm-up: JIT, pools, the kernel's socket buffers.
  await echoLoad(running.port, 1).line();
}
for (let round = 0; round < rounds; round++) {
  for (const running of runningServers) await echoRound(running);
}
const results: Result[] = [];
for (const running of runningServers) {
  const bytes = await idleMemory(running);
  await running.server.end();
  results.push({ name: running.variant.name, requestsPerSecond: median(running.rps), cpuUsPerRequest: median(running.cpu), userUsPerRequest: median(running.user), bytesPerIdleConnection: bytes });
}
const [baseline, forAwait] = results as [Result, Result, ...Result[]];
rmSync(cBuild, { recursive: true, force: true });
const byName = (name: string): Result | undefined => results.find((r) => r.name === name);
const cFloor = byName("C epoll server");
const uvStreams = byName("uvloop streams");
const nodeDriver = byName("@loop/net streams");
console.log(
  `net-echo: ${connections} connections, ${messageBytes} B messages, ${seconds} s × ${rounds} rounds (median), Node ${process.version}, load from ${cLoad !== null ? "C" : "Node"}${hasUvloop ? "" : "; uvloop not installed"}${hasSelector ? "" : "; @loop/selector's addon not built"}`,
);
console.table(
  results.map((r) => ({
    server: r.name,
    "requests/s": Math.round(r.requestsPerSecond),
    "server CPU µs/request": r.cpuUsPerRequest.toFixed(2),
    "× node 'data'": (r.cpuUsPerRequest / baseline.cpuUsPerRequest).toFixed(2),
    "× node for await": (r.cpuUsPerRequest / forAwait.cpuUsPerRequest).toFixed(2),
    "user-space µs/request": r.userUsPerRequest.toFixed(2),
    "user × node 'data'": (r.userUsPerRequest / baseline.userUsPerRequest).toFixed(2),
    "× @loop streams (Node driver)": nodeDriver === undefined ? "" : (r.cpuUsPerRequest / nodeDriver.cpuUsPerRequest).toFixed(2),
    "× uvloop streams": uvStreams === undefined ? "" : (r.cpuUsPerRequest / uvStreams.cpuUsPerRequest).toFixed(2),
    "× C epoll": cFloor === undefined ? "" : (r.cpuUsPerRequest / cFloor.cpuUsPerRequest).toFixed(2),
    "KiB per idle connection": (r.bytesPerIdleConnection / 1024).toFixed(2),
  })),
);
