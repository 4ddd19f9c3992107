/**
 * The kv-server stop of the tour: its self-check, and the long-lived mode's graceful
 * shutdown on SIGINT/SIGTERM in a real child process.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { kvServer } from "../src/scenarios/kv-server.js";

const demoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("kv-server scenario in the tour", () => {
  it("starts on a free port, checks itself with real connections, prints what it saw and shuts down", async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
    try {
      await kvServer.run([]);
    } finally {
      log.mockRestore();
    }
    const text = lines.join("\n");
    expect(text).toMatch(/kv-server listening on 127\.0\.0\.1:\d+/);
    expect(text).toMatch(/GET greeting +-> "hello"/);
    expect(text).toMatch(/GET session \(60 ms later\) +-> \(nil\)/);
    expect(text).toMatch(/100 replies in order, last = \(integer\) 100/);
    expect(text).toMatch(/the subscriber receives +-> \["message", "news", "the loop is up"\]/);
    expect(text).toMatch(/slow subscriber .* dropped after \d+ publishes/);
    expect(text).toMatch(/-ERR Protocol error: invalid bulk length/);
    expect(text).toMatch(/graceful shutdown in [\d.]+ ms; 5 connections/);
  }, 20_000);

  it("rejects a bad --port at once", () => {
    expect(() => kvServer.run(["--port", "99999"])).toThrow(RangeError);
    expect(() => kvServer.run(["--port"])).toThrow(RangeError);
    expect(() => kvServer.run(["--poller", "epoll"])).toThrow(/--poller must be "default" or "selector"/);
  });

  it("--poller selector runs the same self-check on @loop/selector's raw sockets", async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
    try {
      await kvServer.run(["--poller", "selector"]);
    } finally {
      log.mockRestore();
    }
    const text = lines.join("\n");
    expect(text).toMatch(/100 replies in order, last = \(integer\) 100/);
    expect(text).toMatch(/graceful shutdown in [\d.]+ ms; 5 connections/);
  }, 20_000);
});

/** Runs the demo's kv-server (long-lived: `--port 0` by default) in a child process; resolves with its port once it listens. */
function startChild(extra: readonly string[] = ["--port", "0"]): { child: ReturnType<typeof spawn>; port: Promise<number>; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--conditions=@loop/source", "--import", "tsx", "src/main.ts", "kv-server", ...extra], {
    cwd: demoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (data: Buffer) => {
      output += data.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on("data", (data: Buffer) => void (output += data.toString()));
    child.once("exit", () => reject(new Error(`the server exited before listening:\n${output}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, port, output: () => output, exit };
}

/** One request on a raw socket; resolves with the reply bytes. */
function ask(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once("error", reject);
  });
}

describe("kv-server --port: a long-lived server", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("serves until %s, then shuts down gracefully and exits 0", async (signal) => {
    const server = startChild();
    try {
      const port = await server.port;
      expect(await ask(port, "SET k v\r\n")).toBe("+OK\r\n");
      expect(await ask(port, "GET k\r\n")).toBe("$1\r\nv\r\n");
      server.child.kill(signal);
      expect(await server.exit).toBe(0);
      expect(server.output()).toContain(`${signal}: shutting down`);
      expect(server.output()).toMatch(/kv-server stopped in \d+ ms/);
    } finally {
      server.child.kill("SIGKILL");
    }
  }, 30_000);

  it("--inspect serves the live inspector beside the server, whose task tree shows the server's tasks", async () => {
    const server = startChild(["--inspect"]);
    try {
      await server.port;
      const url = /live inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(server.output())?.[1];
      expect(url).toBeDefined();
      const response = await fetch(`${url}api/tasks`);
      const { text } = (await response.json()) as { text: string };
      expect(text).toContain("kv expiry sweep");
      expect(text).toContain("kv-server: waiting for SIGINT/SIGTERM");
      server.child.kill("SIGTERM");
      expect(await server.exit).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
    }
  }, 30_000);
});
