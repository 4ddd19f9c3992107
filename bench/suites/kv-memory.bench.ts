/**
 * Memory under hostile clients, the demo's server beside a real redis-server:
 *
 * (a) a slow subscriber: it subscribes and never reads, while a publisher sends 1 MiB
 *     messages, one after the other, up to 200. Reported: after how many messages the
 *     subscriber was dropped (PUBLISH answers 0 from then on) and the server's peak RSS.
 *     Target for ours: dropped, with RSS under 150 MB.
 * (b) partial bulks: 10 clients each send a SET whose 40 MiB value stops 1 byte short,
 *     then close. Reported: the server's memory before, with the 10 partial values
 *     buffered, and after they closed — for ours `heapUsed + arrayBuffers` after a full GC
 *     (what the process still holds), for redis-server INFO's `used_memory` — and RSS.
 *     Target for ours: after within 20% of before.
 *
 *   node --expose-gc --import tsx suites/kv-memory.bench.ts
 *
 * Our server runs as kv-server/server.ts with --expose-gc and answers "mem" on its stdin.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0) {
  console.log("kv-memory: skipped — needs redis-server: apt-get update && apt-get install -y redis-server");
  process.exit(process.env.CI ? 1 : 0);
}

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
  lines: Interface;
  /** heapUsed + arrayBuffers after a GC (ours) or INFO used_memory (redis), in bytes. */
  used(): Promise<number>;
  connections(): Promise<number>;
}

function start(name: string, command: string, args: string[], ready: RegExp, port: number, ours: boolean): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [ours ? "pipe" : "ignore", "pipe", "inherit"] });
    children.add(child);
    const stdout = child.stdout;
    if (stdout === null) throw new Error("no stdout pipe");
    const lines = createInterface({ input: stdout });
    const onExit = (code: number | null): void => reject(new Error(`${name} exited (${code}) before it was ready`));
    child.once("exit", onExit);
    const onLine = (line: string): void => {
      if (!ready.test(line)) return;
      child.off("exit", onExit);
      lines.off("line", onLine);
      const mem = async (): Promise<{ heapUsed: number; arrayBuffers: number; connections: number }> => {
        const answer = new Promise<string>((res) => {
          const take = (l: string): void => {
            if (!l.startsWith("mem ")) return;
            lines.off("line", take);
            res(l.slice(4));
          };
          lines.on("line", take);
        });
        child.stdin?.write("mem\n");
        return JSON.parse(await answer) as { heapUsed: number; arrayBuffers: number; connections: number };
      };
      resolve({
        name,
        child,
        port,
        lines,
        used: ours ? async () => ((m) => m.heapUsed + m.arrayBuffers)(await mem()) : async () => Number(/used_memory:(\d+)/.exec(await info(port, "memory"))?.[1]),
        connections: ours ? async () => (await mem()).connections : async () => Number(/connected_clients:(\d+)/.exec(await info(port, "clients"))?.[1]),
      });
    };
    lines.on("line", onLine);
  });
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGKILL");
  await exited;
  children.delete(server.child);
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]) * 1024;
}

function command(...words: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${words.length}\r\n`)];
  for (const w of words) {
    const b = typeof w === "string" ? Buffer.from(w) : w;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** A connection that sends one command at a time and resolves with the raw reply text. */
class Connection {
  private readonly socket: Socket;
  private pending = "";
  private waiter: ((reply: string) => void) | null = null;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.ready = new Promise((resolve) => this.socket.once("connect", () => resolve()));
    this.socket.on("error", () => {});
    this.socket.setEncoding("latin1");
    this.socket.on("data", (text: string) => {
      this.pending += text;
      this.flush();
    });
  }

  private flush(): void {
    const end = this.replyEnd();
    if (end < 0 || this.waiter === null) return;
    const reply = this.pending.slice(0, end);
    this.pending = this.pending.slice(end);
    const waiter = this.waiter;
    this.waiter = null;
    waiter(reply);
  }

  /** The end of the first complete reply (simple, integer, error, or bulk), or -1. */
  private replyEnd(): number {
    const eol = this.pending.indexOf("\r\n");
    if (eol < 0) return -1;
    if (this.pending[0] !== "$") return eol + 2;
    const length = Number(this.pending.slice(1, eol));
    if (length < 0) return eol + 2;
    const end = eol + 2 + length + 2;
    return this.pending.length >= end ? end : -1;
  }

  send(bytes: Buffer): Promise<string> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.socket.write(bytes);
      this.flush();
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  pause(): void {
    this.socket.pause();
  }

  close(): void {
    this.socket.destroy();
  }
}

async function info(port: number, section: string): Promise<string> {
  const c = new Connection(port);
  await c.ready;
  const reply = await c.send(command("INFO", section));
  c.close();
  return reply;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface SlowResult {
  server: string;
  "delivered before drop": string;
  "RSS before MB": number;
  "peak RSS MB": number;
}

async function slowSubscriber(server: Server): Promise<SlowResult> {
  const pid = server.child.pid ?? -1;
  const rssBefore = rss(pid);
  const subscriber = new Connection(server.port);
  await subscriber.ready;
  await subscriber.send(command("SUBSCRIBE", "news"));
  subscriber.pause();
  const publisher = new Connection(server.port);
  await publisher.ready;
  const message = Buffer.alloc(MiB, 120);
  const publish = command("PUBLISH", "news", message);
  let peak = rss(pid);
  let delivered = 0;
  let dropped = false;
  for (let i = 0; i < 200; i++) {
    const reply = await publisher.send(publish);
    peak = Math.max(peak, rss(pid));
    if (reply.startsWith(":1")) delivered++;
    else {
      dropped = true;
      break;
    }
  }
  for (let i = 0; i < 5; i++) {
    await sleep(100);
    peak = Math.max(peak, rss(pid));
  }
  subscriber.close();
  publisher.close();
  return {
    server: server.name,
    "delivered before drop": dropped ? String(delivered) : `${delivered} (never dropped)`,
    "RSS before MB": Math.round(rssBefore / MiB),
    "peak RSS MB": Math.round(peak / MiB),
  };
}

interface PartialResult {
  server: string;
  "used before MB": number;
  "used with partials MB": number;
  "used after close MB": number;
  "after / before": string;
  "peak RSS MB": number;
  "RSS after MB": number;
}

async function partialBulks(server: Server): Promise<PartialResult> {
  const pid = server.child.pid ?? -1;
  const baseline = await server.connections();
  const before = await server.used();
  const size = 40 * MiB;
  const clients = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const c = new Connection(server.port);
      await c.ready;
      const key = `partial:${i}`;
      await c.write(Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${size}\r\n`));
      await c.write(Buffer.alloc(size - 1, 97));
      return c;
    }),
  );
  // Every byte was handed to the kernel; the server has read them once its memory stops
  // growing for a second.
  let holding = await server.used();
  let peakRss = rss(pid);
  for (let still = 0; still < 5; ) {
    await sleep(200);
    const now = await server.used();
    peakRss = Math.max(peakRss, rss(pid));
    still = now - holding < MiB ? still + 1 : 0;
    holding = Math.max(holding, now);
  }

  for (const c of clients) c.close();
  for (let i = 0; i < 100 && (await server.connections()) > baseline; i++) await sleep(50);
  const after = await server.used();
  return {
    server: server.name,
    "used before MB": +(before / MiB).toFixed(1),
    "used with partials MB": +(holding / MiB).toFixed(1),
    "used after close MB": +(after / MiB).toFixed(1),
    "after / before": (after / before).toFixed(2),
    "peak RSS MB": Math.round(peakRss / MiB),
    "RSS after MB": Math.round(rss(pid) / MiB),
  };
}

const slow: SlowResult[] = [];
const partial: PartialResult[] = [];
const launches: [string, (port: number) => Promise<Server>][] = [
  ["redis-server", (port) => start("redis-server", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], /Ready to accept connections/, port, false)],
  [
    "@loop kv-server (demo)",
    (port) => start("@loop kv-server (demo)", process.execPath, ["--expose-gc", "--import", "tsx", join(here, "..", "kv-server", "server.ts"), String(port)], /^listening/, port, true),
  ],
];
for (const [, launch] of launches) {
  // A fresh server for each scenario, so that neither sees the other's leftovers.
  let server = await launch(await freePort());
  try {
    slow.push(await slowSubscriber(server));
  } finally {
    await stop(server);
  }
  server = await launch(await freePort());
  try {
    partial.push(await partialBulks(server));
  } finally {
    await stop(server);
  }
}

console.log(`kv-memory: (a) a subscriber that never reads, 1 MiB messages; Node ${process.version}`);
console.table(slow);
console.log("kv-memory: (b) 10 clients send a 40 MiB SET value 1 byte short, then close (ours: heapUsed + arrayBuffers after GC; redis: INFO used_memory)");
console.table(partial);
const ours = { slow: slow.find((r) => r.server.startsWith("@loop")), partial: partial.find((r) => r.server.startsWith("@loop")) };
if (ours.slow !== undefined && ours.partial !== undefined) {
  const droppedOk = !ours.slow["delivered before drop"].includes("never") && ours.slow["peak RSS MB"] < 150;
  const ratio = ours.partial["used after close MB"] / ours.partial["used before MB"];
  console.log(
    `@loop kv-server: slow subscriber dropped with peak RSS ${ours.slow["peak RSS MB"]} MB (target < 150: ${droppedOk ? "met" : "NOT met"}); ` +
      `memory after the partial bulks closed ${ratio.toFixed(2)}× before (target within 20%: ${Math.abs(ratio - 1) <= 0.2 ? "met" : "NOT met"})`,
  );
}
