/**
 * End to end with the real tools: the server runs in this process on 127.0.0.1 port 0,
 * and Debian's `redis-cli` / `redis-benchmark` (package `redis-tools`) talk to it as they
 * talk to Redis. No sleeps: every step waits for the tool's exit or for the output it is
 * expecting.
 *
 * Locally the tests are skipped (with the reason) when redis-cli is not installed; on CI
 * (`CI` set) a missing binary fails them, with the command that installs it.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ensureFuture, run } from "@loop/core";
import { startKvServer, type KvServer } from "../src/kv/server.js";

function installed(binary: string): boolean {
  try {
    execFileSync(binary, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const haveCli = installed("redis-cli");
const haveBenchmark = installed("redis-benchmark");
const onCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false";
const MISSING = "redis-cli/redis-benchmark not found: apt-get update && apt-get install -y redis-tools";

if (!haveCli && !onCi) console.warn(`kv-redis-cli tests skipped: ${MISSING}`);

/** On CI a missing tool is a failure; locally it skips. */
const e2e = haveCli || onCi ? describe : describe.skip;

/** Runs `body` against a fresh server on 127.0.0.1, port 0; shuts the server down after. */
function withServer(body: (port: number, server: KvServer) => Promise<void>): Promise<void> {
  if (!haveCli) return Promise.reject(new Error(MISSING));
  return run(function* () {
    const server = yield* startKvServer({ port: 0 });
    try {
      yield* ensureFuture(body(server.port, server));
    } finally {
      yield* server.shutdown();
    }
  });
}

/** Runs a tool to completion; resolves with its stdout (stderr and the exit code attached on failure). */
function tool(binary: string, args: readonly string[], input?: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, { timeout: 20_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error !== null) {
        const hint = (error as { code?: unknown }).code === "ENOENT" ? `\n${MISSING}` : "";
        reject(new Error(`${binary} ${args.join(" ")} failed: ${error.message}\n${stderr}${hint}`));
      }
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

const cli = (port: number, ...args: string[]): Promise<string> => tool("redis-cli", ["-p", String(port), ...args]);

e2e("redis-cli against the kv server", () => {
  it("PING, ECHO, SET and GET", async () => {
    await withServer(async (port) => {
      expect(await cli(port, "PING")).toBe("PONG\n");
      expect(await cli(port, "ECHO", "hello, wörld")).toBe("hello, wörld\n");
      expect(await cli(port, "SET", "greeting", "hi there")).toBe("OK\n");
      expect(await cli(port, "GET", "greeting")).toBe("hi there\n");
      expect(await cli(port, "GET", "missing")).toBe("\n");
    });
  });

  it("SET with NX/XX/EX/PX, TTL, EXPIRE", async () => {
    await withServer(async (port) => {
      expect(await cli(port, "SET", "k", "v", "NX", "EX", "100")).toBe("OK\n");
      expect(await cli(port, "SET", "k", "w", "NX")).toBe("\n");
      expect(await cli(port, "TTL", "k")).toBe("100\n");
      expect(await cli(port, "SET", "k", "w", "XX", "PX", "500000")).toBe("OK\n");
      expect(await cli(port, "TTL", "k")).toBe("500\n");
      expect(await cli(port, "EXPIRE", "k", "42")).toBe("1\n");
      expect(await cli(port, "TTL", "k")).toBe("42\n");
      expect(await cli(port, "TTL", "nothing")).toBe("-2\n");
    });
  });

  it("INCR, DEL, EXISTS, MSET, MGET, KEYS", async () => {
    await withServer(async (port) => {
      for (const n of ["1", "2", "3"]) expect(await cli(port, "INCR", "visits")).toBe(`${n}\n`);
      expect(await cli(port, "MSET", "user:1", "ada", "user:2", "alan", "other", "x")).toBe("OK\n");
      expect(await cli(port, "MGET", "user:1", "nobody", "user:2")).toBe("ada\n\nalan\n");
      expect((await cli(port, "KEYS", "user:*")).split("\n").filter(Boolean).sort()).toEqual(["user:1", "user:2"]);
      expect(await cli(port, "EXISTS", "user:1", "user:2", "nobody")).toBe("2\n");
      expect(await cli(port, "DEL", "user:1", "nobody")).toBe("1\n");
      expect(await cli(port, "EXISTS", "user:1")).toBe("0\n");
    });
  });

  it("shows error replies as redis-cli shows Redis's", async () => {
    await withServer(async (port) => {
      expect(await cli(port, "NOSUCH", "arg")).toBe("ERR unknown command 'NOSUCH', with args beginning with: 'arg' \n\n");
      expect(await cli(port, "SET", "k", "v", "EX", "0")).toBe("ERR invalid expire time in 'set' command\n\n");
      await cli(port, "SET", "text", "abc");
      expect(await cli(port, "INCR", "text")).toBe("ERR value is not an integer or out of range\n\n");
    });
  });

  it("reads commands from stdin, one per line", async () => {
    await withServer(async (port) => {
      const out = await tool("redis-cli", ["-p", String(port)], 'SET "spaced key" "a\\tb"\nGET "spaced key"\nINCR n\n');
      expect(out).toBe("OK\na\tb\n1\n");
    });
  });

  it("-x sends stdin as the last argument, byte for byte", async () => {
    await withServer(async (port) => {
      const value = Buffer.from([0, 1, 2, 13, 10, 255, 254]);
      expect(await tool("redis-cli", ["-p", String(port), "-x", "SET", "blob"], value)).toBe("OK\n");
      expect(await cli(port, "EXISTS", "blob")).toBe("1\n");
      expect(await cli(port, "--no-raw", "GET", "blob")).toBe('"\\x00\\x01\\x02\\r\\n\\xff\\xfe"\n');
    });
  });

  it("--pipe mass insertion: 10,000 pipelined SETs, all answered", async () => {
    await withServer(async (port, server) => {
      const protocol = Array.from({ length: 10_000 }, (_, i) => {
        const key = `key:${i}`;
        const value = `value:${i}`;
        return `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
      }).join("");
      const out = await tool("redis-cli", ["-p", String(port), "--pipe"], protocol);
      expect(out).toContain("errors: 0, replies: 10000");
      expect(server.keyspace.size).toBe(10_000);
    });
  });

  it("SUBSCRIBE receives what PUBLISH sends", async () => {
    await withServer(async (port) => {
      const subscriber = spawn("redis-cli", ["-p", String(port), "SUBSCRIBE", "news"], { stdio: ["ignore", "pipe", "pipe"] });
      // One listener for the whole run: a stream in flowing mode drops data nobody listens to.
      let output = "";
      let onOutput = (): void => {};
      subscriber.stdout.on("data", (data: Buffer) => {
        output += data.toString();
        onOutput();
      });
      const waitFor = (expected: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            if (output.includes(expected)) resolve();
          };
          onOutput = check;
          subscriber.once("exit", (code) => reject(new Error(`redis-cli SUBSCRIBE exited (${code}) before printing ${JSON.stringify(expected)}; output: ${output}`)));
          check();
        });
      try {
        await waitFor("subscribe\nnews\n1\n");
        expect(await cli(port, "PUBLISH", "news", "hello subscribers")).toBe("1\n");
        await waitFor("message\nnews\nhello subscribers\n");
        expect(await cli(port, "PUBLISH", "elsewhere", "nobody")).toBe("0\n");
      } finally {
        const exited = new Promise((resolve) => subscriber.once("exit", resolve));
        subscriber.kill("SIGTERM");
        await exited;
      }
    });
  });
});

(haveBenchmark || onCi ? describe : describe.skip)("redis-benchmark against the kv server", () => {
  it("completes a small pipelined GET/SET run (it checks CONFIG GET first)", async () => {
    await withServer(async (port, server) => {
      const out = await tool("redis-benchmark", ["-p", String(port), "-q", "-n", "2000", "-c", "5", "-P", "4", "-t", "set,get"]);
      expect(out).not.toContain("WARNING");
      expect(out).toMatch(/SET: [\d.]+ requests per second/);
      expect(out).toMatch(/GET: [\d.]+ requests per second/);
      expect(server.stats.commandsProcessed).toBeGreaterThanOrEqual(4000);
      expect(server.stats.protocolErrors).toBe(0);
    });
  });
});
