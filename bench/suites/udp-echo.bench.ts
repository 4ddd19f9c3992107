/**
 * UDP echo on loopback: 20 clients, 1 KiB datagrams, each client waiting for its echo, load
 * from a separate process (udp-echo/load.ts), each server in its own process
 * (udp-echo/server.ts, server.py) so that its CPU time per datagram can be read. Compares
 * @loop/net's DatagramProtocol endpoint and openDatagramSocket with raw node:dgram, and
 * CPython 3.11 asyncio's DatagramProtocol on its own loop and on uvloop (Debian's
 * python3-uvloop, with /usr/bin/python3).
 *
 *   UDP_ECHO_SECONDS=5 UDP_ECHO_ROUNDS=3 node --import tsx suites/udp-echo.bench.ts
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineProcess } from "../lib/line-process.ts";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "udp-echo");
const seconds = Number(process.env.UDP_ECHO_SECONDS ?? 5);
const rounds = Number(process.env.UDP_ECHO_ROUNDS ?? 3);
const clients = 20;
const datagramBytes = 1024;
const python = "/usr/bin/python3";

const hasPython = spawnSync(python, ["--version"]).status === 0;
const hasUvloop = hasPython && spawnSync(python, ["-c", "import uvloop"]).status === 0;

interface Variant {
  name: string;
  command: string[];
}

const node = (variant: string): string[] => [process.execPath, "--import", "tsx", join(here, "server.ts"), variant];
const variants: Variant[] = [
  { name: "node:dgram 'message' callbacks", command: node("node-dgram") },
  { name: "@loop/net DatagramProtocol", command: node("loop-protocol") },
  { name: "@loop/net openDatagramSocket", command: node("loop-socket") },
];
if (hasPython) variants.push({ name: "CPython asyncio DatagramProtocol", command: [python, join(here, "server.py")] });
if (hasUvloop) variants.push({ name: "uvloop DatagramProtocol", command: [python, join(here, "server.py"), "uvloop"] });

/** A server or load process of this suite, started in its folder. */
class Proc extends LineProcess {
  constructor(command: string[]) {
    super(command, here);
  }
}

const load = (port: string, secs: number): Proc => new Proc([process.execPath, "--import", "tsx", join(here, "load.ts"), port, String(clients), String(datagramBytes), String(secs)]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Running {
  variant: Variant;
  server: Proc;
  port: string;
  rps: number[];
  cpu: number[];
  user: number[];
  resends: number;
}

async function round(running: Running): Promise<void> {
  const { server, port } = running;
  server.send("start");
  await server.line();
  const { requests, resends } = JSON.parse(await load(port, seconds).line()) as { requests: number; resends: number };
  server.send("report");
  const { cpuUs, userUs } = JSON.parse(await server.line()) as { cpuUs: number; userUs: number };
  running.rps.push(requests / seconds);
  running.cpu.push(cpuUs / requests);
  running.user.push(userUs / requests);
  running.resends += resends;
}

// Every server runs for the whole benchmark and the rounds take them in turn, so that the
// load of a shared machine, which changes over time, falls on all of them alike.
const servers: Running[] = [];
for (const variant of variants) {
  const server = new Proc(variant.command);
  servers.push({ variant, server, port: (await server.line()).trim(), rps: [], cpu: [], user: [], resends: 0 });
}
for (const running of servers) await load(running.port, 1).line(); // warm-up: JIT, socket buffers
for (let i = 0; i < rounds; i++) for (const running of servers) await round(running);
for (const running of servers) await running.server.end();

const baseline = servers[0] as Running;
console.log(`udp-echo: ${clients} clients, ${datagramBytes} B datagrams, ${seconds} s × ${rounds} rounds (median), Node ${process.version}${hasUvloop ? "" : "; uvloop not installed"}`);
console.table(
  servers.map((r) => ({
    server: r.variant.name,
    "requests/s": Math.round(median(r.rps)),
    "server CPU µs/datagram": median(r.cpu).toFixed(2),
    "× node:dgram": (median(r.cpu) / median(baseline.cpu)).toFixed(2),
    "user-space µs/datagram": median(r.user).toFixed(2),
    "user × node:dgram": (median(r.user) / median(baseline.user)).toFixed(2),
    resends: r.resends,
  })),
);
